// Package soldout keeps, inside each serving instance, which SKUs have no
// unit left, so that the flood of clicks after a sale is over is answered
// at once, without a Redis write, a claim record or the broker (seed 004:
// 本地缓存, 分层过滤).
//
// The flag is set only by the pre-deduct script's own decision that
// nothing remains (it publishes "<campaign> <sku> 0" on keyspace.SoldOut
// when it takes the last unit or finds none): never a false sold-out. It
// is cleared by an announcement that units came back (a released
// reservation) and, should that message be lost, by a periodic read of the
// stock, so a stale flag lasts at most about one Refresh interval.
package soldout

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/keyspace"
)

// DefaultRefresh is how often flagged SKUs are read back from Redis.
const DefaultRefresh = time.Second

// Board is one instance's view of the sold-out SKUs. Run keeps it current.
type Board struct {
	rdb     redis.UniversalClient
	keys    keyspace.Space
	refresh time.Duration

	listening atomic.Bool
	mu        sync.RWMutex
	gone      map[item]struct{}
}

type item struct{ campaign, sku string }

// New returns an empty board over rdb; refresh <= 0 means DefaultRefresh.
func New(rdb redis.UniversalClient, keys keyspace.Space, refresh time.Duration) *Board {
	if refresh <= 0 {
		refresh = DefaultRefresh
	}
	return &Board{rdb: rdb, keys: keys, refresh: refresh, gone: make(map[item]struct{})}
}

// Listening reports whether Run's subscription is confirmed: from then on
// no announcement is missed but across a reconnect.
func (b *Board) Listening() bool { return b.listening.Load() }

// SoldOut reports whether campaign's sku is known to have no unit left.
func (b *Board) SoldOut(campaign, sku string) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	_, ok := b.gone[item{campaign, sku}]
	return ok
}

// Run subscribes to the announcements and rereads the flagged SKUs every
// refresh interval, until ctx ends. go-redis resubscribes by itself after
// a lost connection; what was announced meanwhile is caught by the reread.
// A subscription that cannot be made is tried again every interval.
func (b *Board) Run(ctx context.Context) {
	for ctx.Err() == nil {
		if err := b.listen(ctx); err == nil {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(b.refresh):
		}
	}
}

// listen is Run on one subscription.
func (b *Board) listen(ctx context.Context) error {
	sub := b.rdb.Subscribe(ctx, b.keys.SoldOut())
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil { // the subscription's confirmation
		return fmt.Errorf("sold-out board: subscribe: %w", err)
	}
	b.listening.Store(true)
	defer b.listening.Store(false)
	msgs := sub.Channel()
	tick := time.NewTicker(b.refresh)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case m, ok := <-msgs:
			if !ok {
				return errors.New("sold-out board: subscription closed")
			}
			b.apply(m.Payload)
		case <-tick.C:
			b.reread(ctx)
		}
	}
}

// Announce publishes campaign's sku remaining units: 0 flags it sold out
// on every instance, more clears the flag (units came back).
func Announce(ctx context.Context, rdb redis.UniversalClient, keys keyspace.Space, campaign, sku string, remaining int) error {
	msg := campaign + " " + sku + " " + strconv.Itoa(remaining)
	if err := rdb.Publish(ctx, keys.SoldOut(), msg).Err(); err != nil {
		return fmt.Errorf("announce stock of %s/%s: %w", campaign, sku, err)
	}
	return nil
}

// apply takes one "<campaign> <sku> <remaining>" announcement; anything
// else is ignored.
func (b *Board) apply(msg string) {
	f := strings.Fields(msg)
	if len(f) != 3 {
		return
	}
	n, err := strconv.Atoi(f[2])
	if err != nil {
		return
	}
	b.set(item{f[0], f[1]}, n <= 0)
}

func (b *Board) set(it item, gone bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if gone {
		b.gone[it] = struct{}{}
	} else {
		delete(b.gone, it)
	}
}

// reread clears the flag of every SKU whose stock is back above zero. A
// missing stock key keeps its flag: Redis fails closed. Errors keep the
// flags as they are until the next tick.
func (b *Board) reread(ctx context.Context) {
	flagged := b.flagged()
	if len(flagged) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, b.refresh)
	defer cancel()
	cmds := make([]*redis.StringCmd, len(flagged))
	_, _ = b.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, it := range flagged {
			cmds[i] = p.Get(ctx, b.keys.Campaign(it.campaign).Stock(it.sku))
		}
		return nil
	})
	for i, c := range cmds {
		if n, err := c.Int(); err == nil && n > 0 {
			b.set(flagged[i], false)
		}
	}
}

func (b *Board) flagged() []item {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]item, 0, len(b.gone))
	for it := range b.gone {
		out = append(out, it)
	}
	return out
}
