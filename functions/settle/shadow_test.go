package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/fn/fntest"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/pending"
	"github.com/surgekit/surge/shared/plane"
	"github.com/surgekit/surge/shared/receipt"
)

// newPlanes is settle served on both planes as main serves it, over one
// database and key space, with a fixture per plane to arrange and inspect
// that plane's state.
func newPlanes(t *testing.T) (*httptest.Server, plane.Each[*fixture]) {
	t.Helper()
	env := servertest.Fresh(t, deps)
	rdb := servertest.Redis(t, env, 0)
	pools, err := plane.Postgres(context.Background(), env.DatabaseURL, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plane.Close(pools) })
	signer, err := receipt.NewSigner(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	var fxs plane.Each[*fixture]
	fns, err := plane.Build(func(p plane.Plane) (*Function, error) {
		keys := p.Keys(keyspace.New(env.KeyPrefix))
		fxs[p] = &fixture{rdb: rdb, pool: pools[p], keys: keys, signer: signer, shadow: p == plane.Shadow,
			claims: claim.NewStore(rdb, keys), pending: pending.NewStore(rdb, keys)}
		return New(Config{Plane: p, Redis: rdb, Postgres: pools[p], Keys: keys, Verifier: receipt.NewVerifier(signer.Public())})
	})
	if err != nil {
		t.Fatal(err)
	}
	f := plane.NewEvents(fns)
	if err := f.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Stop(context.Background()) })
	for _, fx := range fxs {
		fx.createCampaign(t)
	}
	return fntest.Serve(t, f), fxs
}

// TestSettlesOnItsPlane: a shadow win settles into the shadow schema and
// clears the shadow keys only; a shadow receipt posted as a real event, or
// a real one marked shadow, is poison and changes nothing on either plane.
func TestSettlesOnItsPlane(t *testing.T) {
	srv, fxs := newPlanes(t)
	real, shadow := fxs[plane.Real], fxs[plane.Shadow]
	post := func(e event.Event) (int, *event.Event) {
		t.Helper()
		return fntest.Reply(t, fntest.Request(t, srv.URL, e))
	}

	realWin := real.win(t, "alice", 1, 1)
	shadowWin := shadow.win(t, "alice", 1, 1)
	unmarked := shadowWin.Clone()
	plane.Mark(&unmarked, plane.Real)
	if status, _ := post(unmarked); status != http.StatusBadRequest {
		t.Errorf("shadow receipt on the real plane: status %d; want 400", status)
	}
	marked := realWin.Clone()
	plane.Mark(&marked, plane.Shadow)
	if status, _ := post(marked); status != http.StatusBadRequest {
		t.Errorf("real receipt on the shadow plane: status %d; want 400", status)
	}
	real.assertUntouched(t, "alice")
	shadow.assertUntouched(t, "alice")

	plane.Mark(&shadowWin, plane.Shadow)
	status, reply := post(shadowWin)
	if p, _ := plane.Of(*reply); status != http.StatusOK || p != plane.Shadow {
		t.Fatalf("shadow win: status %d, reply on the %v plane; want 200 on the shadow plane", status, p)
	}
	if r, err := shadow.claims.Get(context.Background(), "double11.c-alice"); err != nil || r.State != claim.Settled || shadow.orders(t) != 1 {
		t.Errorf("shadow plane: claim %+v (%v), %d orders; want settled, 1", r, err, shadow.orders(t))
	}
	real.assertUntouched(t, "alice")
}
