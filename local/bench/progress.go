package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/auth"
	"github.com/surgekit/surge/shared/connect"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/ledger"
	"github.com/surgekit/surge/shared/plane"
	"github.com/surgekit/surge/shared/stock"
)

// progress reads how far a sale's claims have gone: units decided
// (reserved in Redis: configured stock minus what remains) and units
// settled (orders in PostgreSQL). Without Redis it reads what remains from
// the public stock endpoint; without PostgreSQL nothing is settled to read.
// A shadow run reads the shadow plane: its keys, its schema, and the stock
// endpoint as a shadow user.
type progress struct {
	rdb    *redis.Client // nil: the public stock endpoint
	keys   keyspace.Space
	pool   *pgxpool.Pool // nil: settled is not measured
	ledger *ledger.Reader
	public string // the gateway's base URL
	bearer string // of the public reads: a shadow user's on a shadow run
	http   *http.Client
}

// sample is one reading of a campaign's progress.
type sample struct {
	at               time.Time
	decided, settled int
}

func openProgress(ctx context.Context, cfg Config) (*progress, error) {
	pl := plane.Real
	if cfg.Shadow {
		pl = plane.Shadow
	}
	p := &progress{keys: pl.Keys(keyspace.New(cfg.KeyPrefix)), public: cfg.Gateway, http: &http.Client{Timeout: 10 * time.Second}}
	if cfg.Shadow {
		tok, err := auth.Sign([]byte(cfg.JWTSecret), auth.Caller{User: "bench-progress", Shadow: true}, 24*time.Hour)
		if err != nil {
			return nil, fmt.Errorf("progress: %w", err)
		}
		p.bearer = tok
	}
	if cfg.RedisURL != "" {
		rdb, err := connect.Redis(ctx, cfg.RedisURL, 2)
		if err != nil {
			return nil, fmt.Errorf("progress: %w", err)
		}
		p.rdb = rdb
	}
	if cfg.DatabaseURL != "" {
		pool, err := connect.PostgresIn(ctx, cfg.DatabaseURL, pl.Schema(), 2)
		if err != nil {
			p.close()
			return nil, fmt.Errorf("progress: %w", err)
		}
		p.pool, p.ledger = pool, ledger.NewReader(pool)
	}
	return p, nil
}

func (p *progress) close() {
	if p.rdb != nil {
		_ = p.rdb.Close()
	}
	if p.pool != nil {
		p.pool.Close()
	}
}

// settles says whether settled units can be read (PostgreSQL is reachable).
func (p *progress) settles() bool { return p.ledger != nil }

// read samples campaign id, one SKU of stock units.
func (p *progress) read(ctx context.Context, id, sku string, units int) (sample, error) {
	s := sample{at: time.Now()}
	left, err := p.remaining(ctx, id, sku)
	if err != nil {
		return s, err
	}
	s.decided = units - left
	if p.ledger != nil {
		settled, err := p.ledger.SettledUnits(ctx, id)
		if err != nil {
			return s, fmt.Errorf("progress: %w", err)
		}
		s.settled = settled[sku]
	}
	return s, nil
}

func (p *progress) remaining(ctx context.Context, id, sku string) (int, error) {
	if p.rdb == nil {
		return p.publicRemaining(ctx, id, sku)
	}
	left, _, err := stock.Remaining(ctx, p.rdb, p.keys.Campaign(id), []string{sku})
	if err != nil {
		return 0, fmt.Errorf("progress: %w", err)
	}
	return left[sku], nil
}

// publicRemaining is GET /v1/campaigns/{id}/stock (cached up to a second).
func (p *progress) publicRemaining(ctx context.Context, id, sku string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.public+"/v1/campaigns/"+id+"/stock", nil)
	if err != nil {
		return 0, err
	}
	if p.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+p.bearer)
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("progress: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("progress: stock of %s: status %d", id, resp.StatusCode)
	}
	var v struct {
		Items []struct {
			SKU       string `json:"sku"`
			Remaining int    `json:"remaining"`
		} `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return 0, fmt.Errorf("progress: stock of %s: %w", id, err)
	}
	for _, it := range v.Items {
		if it.SKU == sku {
			return it.Remaining, nil
		}
	}
	return 0, fmt.Errorf("progress: stock of %s has no sku %s", id, sku)
}
