package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/deadletter"
	"github.com/surgekit/surge/shared/eventsig"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/ledger"
	"github.com/surgekit/surge/shared/payment"
	"github.com/surgekit/surge/shared/plane"
	"github.com/surgekit/surge/shared/schema"
)

// Config is what the reconcile function needs; zero fields get defaults.
type Config struct {
	Plane    plane.Plane // whose state Keys and Postgres are; its reports go under its object prefix
	Redis    redis.UniversalClient
	Postgres *pgxpool.Pool
	S3       objectStore
	Bucket   string
	Keys     keyspace.Space
	Log      *slog.Logger
	// EventKey (SURGE_EVENT_KEY) tells a dead claim.requested that captcha
	// signed, whose claim is finalised, from one posted by anyone else.
	EventKey *eventsig.Key
	Sink     publisher // the broker (K_SINK), where alerts, order.released are published
	// Settle is settle's own address (SURGE_SETTLE_URL): the release
	// driver settles a due claim still reserved through it. Nil leaves
	// such a claim to the chain.
	Settle publisher
	// RepairThreshold (SURGE_ALERT_REPAIR_THRESHOLD): a campaign's pass
	// with more repairs than this raises an alert; 0 by default.
	RepairThreshold int
	Timeout         time.Duration    // deadline of one call to a server, 2s by default
	PassTimeout     time.Duration    // deadline of a whole pass, 1m by default
	Now             func() time.Time // time.Now by default
	// RebuildQuiet (SURGE_REBUILD_QUIET): before rebuilding a campaign
	// from PostgreSQL, the pass waits until its order count has not moved
	// for this long (the broker has drained); 5s by default.
	RebuildQuiet time.Duration
	// RepairGrace (SURGE_REPAIR_GRACE): a claim reserved longer than this
	// without its order in PostgreSQL is stuck, and a pass repairs it;
	// 30s by default.
	RepairGrace time.Duration
	// RepairEvery (SURGE_REPAIR_EVERY) is the near-real-time pass over
	// the live campaigns, 5s by default; negative turns it off (the
	// PingSource's full pass and POST …/reconcile still repair).
	RepairEvery time.Duration
	// ReleaseEvery is the release driver's tick (SURGE_RELEASE_EVERY),
	// 1s by default; negative turns the driver off.
	ReleaseEvery time.Duration
}

func (c *Config) defaults() error {
	if c.Redis == nil || c.Postgres == nil || c.S3 == nil || c.Bucket == "" || c.Log == nil || c.EventKey == nil || c.Sink == nil {
		return errors.New("reconcile: Redis, Postgres, S3, Bucket, Log, EventKey and Sink are required")
	}
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Second
	}
	if c.PassTimeout <= 0 {
		c.PassTimeout = time.Minute
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.RebuildQuiet <= 0 {
		c.RebuildQuiet = 5 * time.Second
	}
	if c.RepairGrace <= 0 {
		c.RepairGrace = 30 * time.Second
	}
	if c.RepairEvery == 0 {
		c.RepairEvery = 5 * time.Second
	}
	if c.ReleaseEvery == 0 {
		c.ReleaseEvery = time.Second
	}
	return nil
}

// Function proves, per campaign, that Redis and PostgreSQL agree, writes
// a report to S3 on every ping, and stores the dead letters the broker
// posts to it (at /dead-letters). It reports; it does not repair.
type Function struct {
	cfg       Config
	campaigns *campaign.Store
	ledger    *ledger.Reader
	claims    *claim.Store
	letters   *deadletter.Store
	closer    *payment.Closer // releases, and settles a claim stuck reserved
	releases  *loop           // the release driver, once started
	repairs   *loop           // the live repair pass, once started
}

// New returns the reconcile function; Start migrates and makes the bucket.
func New(cfg Config) (*Function, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	return &Function{cfg: cfg, campaigns: campaign.NewStore(cfg.Postgres),
		ledger: ledger.NewReader(cfg.Postgres), claims: claim.NewStore(cfg.Redis, cfg.Keys),
		letters: deadletter.NewStore(cfg.Postgres),
		closer: payment.New(payment.Config{Redis: cfg.Redis, Keys: cfg.Keys, Orders: ledger.NewPayments(cfg.Postgres),
			Plane: cfg.Plane, Settle: cfg.Settle, Announce: cfg.Sink, EventKey: cfg.EventKey})}, nil
}

// Start applies the schema migrations, creates the report bucket if it is
// missing and starts the release driver (Stop ends it).
func (f *Function) Start(ctx context.Context, _ map[string]string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*f.cfg.Timeout)
	defer cancel()
	if err := schema.Migrate(ctx, f.cfg.Postgres); err != nil {
		return err
	}
	if err := ensureBucket(ctx, f.cfg.S3, f.cfg.Bucket); err != nil {
		return err
	}
	f.startLoops()
	return nil
}

// Ready answers true while Redis and PostgreSQL answer.
func (f *Function) Ready(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	if err := f.cfg.Redis.Ping(ctx).Err(); err != nil {
		return false, fmt.Errorf("redis: %w", err)
	}
	if err := f.cfg.Postgres.Ping(ctx); err != nil {
		return false, fmt.Errorf("postgres: %w", err)
	}
	return true, nil
}

// Handle stores a dead letter (an event carrying knativeerrorcode) and
// answers 202, logs an alert (the alerts Trigger) and answers 202, or runs
// a pass on a ping, raises its alerts and replies with its report.
func (f *Function) Handle(ctx context.Context, e event.Event) (*event.Event, error) {
	if deadletter.Is(e) {
		return nil, f.deadLetter(ctx, e)
	}
	if e.Type() == events.TypeAlertRaised {
		return nil, f.logAlert(e)
	}
	if e.Type() != events.TypePing {
		return nil, fmt.Errorf("%w: type %q, want %q, %q or a dead letter", events.ErrInvalid, e.Type(), events.TypePing, events.TypeAlertRaised)
	}
	report, err := f.pass(ctx, e)
	if err != nil {
		return nil, err
	}
	f.logReport(report)
	if err := f.raisePass(ctx, report); err != nil {
		return nil, err
	}
	reply := events.ReconcileReport(e.ID()+"/report", report.summary(), report.FinishedAt)
	return &reply, nil
}
