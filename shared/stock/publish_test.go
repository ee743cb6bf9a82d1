package stock_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/stock"
)

// TestDecisionsArePublished: the pre-deduct script publishes each decision
// it records on the campaign's claim events channel, and nothing when it
// answers a claim it decided already.
func TestDecisionsArePublished(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := sale("pub", 1, campaign.Item{SKU: "phone", Stock: 1, Price: 100})
	f.warm(t, c, nil)
	ps := f.rdb.Subscribe(ctx, f.keys.Campaign(c.ID).ClaimEvents())
	defer ps.Close()
	if _, err := ps.ReceiveTimeout(ctx, 5*time.Second); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	open := start.Add(time.Minute)
	win, lose := req(c.ID, "win", "alice", "phone", 1, open), req(c.ID, "lose", "bob", "phone", 1, open)
	steps := []struct {
		r    stock.Request
		want claim.Event
	}{
		{win, claim.Event{ClaimID: win.ClaimID, State: claim.Reserved}},
		{lose, claim.Event{ClaimID: lose.ClaimID, State: claim.Rejected}},
	}
	for _, s := range steps {
		if d := f.deduct(t, s.r); d.State != s.want.State {
			t.Fatalf("%s decided %+v, want %s", s.r.ClaimID, d, s.want.State)
		}
		if got := receiveEvent(ctx, t, ps, time.Second); got != s.want {
			t.Fatalf("published %+v, want %+v", got, s.want)
		}
	}
	if d := f.deduct(t, lose); d.Reason != events.ReasonSoldOut {
		t.Fatalf("redecided %+v, want sold_out again", d)
	}
	if got := receiveEvent(ctx, t, ps, 300*time.Millisecond); got != (claim.Event{}) {
		t.Fatalf("a claim decided already published %+v", got)
	}
}

// receiveEvent is the next claim event on ps, or none after wait.
func receiveEvent(ctx context.Context, t *testing.T, ps *redis.PubSub, wait time.Duration) claim.Event {
	t.Helper()
	msg, err := ps.ReceiveTimeout(ctx, wait)
	if err != nil {
		return claim.Event{}
	}
	m, ok := msg.(*redis.Message)
	if !ok {
		t.Fatalf("pubsub sent %v, want a message", msg)
	}
	e, ok := claim.ParseEvent(m.Payload)
	if !ok {
		t.Fatalf("message %q is not a claim event", m.Payload)
	}
	return e
}
