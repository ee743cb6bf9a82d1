package campaign_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/schema"
)

var deps *servers.Set

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &deps)) }

func newStore(t *testing.T) *campaign.Store {
	t.Helper()
	env := servertest.Fresh(t, deps)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool := servertest.Postgres(t, env, 4)
	if err := schema.Migrate(ctx, pool); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return campaign.NewStore(pool)
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if ids, err := s.IDs(ctx); err != nil || len(ids) != 0 {
		t.Fatalf("IDs of an empty store = %v, %v; want none", ids, err)
	}
	a, b := sale(), rain()
	for _, c := range []*campaign.Campaign{&a, &b} {
		if err := s.Create(ctx, c); err != nil {
			t.Fatalf("Create %s: %v", c.ID, err)
		}
	}
	got, err := s.Get(ctx, a.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.ID != a.ID || got.Kind != a.Kind || got.Title != a.Title || got.PerUserLimit != a.PerUserLimit ||
		!got.StartsAt.Equal(a.StartsAt) || !got.EndsAt.Equal(a.EndsAt) || got.PaymentWindow != a.PaymentWindow ||
		got.Captcha != a.Captcha || !slices.Equal(got.Items, a.Items) {
		t.Errorf("Get = %+v; want %+v", got, a)
	}
	if got, err := s.Get(ctx, b.ID); err != nil || got.Budget != b.Budget || got.Packets != b.Packets {
		t.Errorf("Get rain = %+v, %v; want budget %d, packets %d", got, err, b.Budget, b.Packets)
	}
	if ids, err := s.IDs(ctx); err != nil || !slices.Equal(ids, []string{a.ID, b.ID}) {
		t.Errorf("IDs = %v, %v; want %v, oldest first", ids, err, []string{a.ID, b.ID})
	}
}

func TestStoreCreateDuplicate(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	first := sale()
	if err := s.Create(ctx, &first); err != nil {
		t.Fatalf("Create: %v", err)
	}
	again := sale()
	again.Title = "again"
	again.Items = []campaign.Item{{SKU: "other", Stock: 1}}
	if err := s.Create(ctx, &again); !errors.Is(err, campaign.ErrExists) {
		t.Errorf("second Create = %v; want ErrExists", err)
	}
	got, err := s.Get(ctx, first.ID)
	if err != nil || got.Title != first.Title || len(got.Items) != len(first.Items) {
		t.Errorf("after a duplicate Create, Get = %+v, %v; want the first campaign unchanged", got, err)
	}
	if ids, _ := s.IDs(ctx); len(ids) != 1 {
		t.Errorf("IDs = %v; want one campaign", ids)
	}
}

func TestStoreGetUnknown(t *testing.T) {
	if _, err := newStore(t).Get(context.Background(), "nope"); !errors.Is(err, campaign.ErrNotFound) {
		t.Errorf("Get(unknown) = %v; want ErrNotFound", err)
	}
}
