package engine_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/keyspace"
)

// from is c dialling from the client IP src, on connections of its own.
func (c *client) from(src netip.Addr) *client {
	d := &net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: src.AsSlice()}}
	return &client{base: c.base, admin: c.admin, secret: c.secret, http: &http.Client{
		Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 4},
	}}
}

// stored is one claim record in Redis.
type stored struct{ state, user string }

// claimRecords reads every claim record of a campaign in Redis, by claim
// id, tombstones (state refused) included.
func (s *stack) claimRecords(t *testing.T, campaignID string) map[string]stored {
	t.Helper()
	ctx := context.Background()
	rdb := s.redis(t)
	prefix := keyspace.New(s.env.KeyPrefix).Campaign(campaignID).Claim("")
	got := map[string]stored{}
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		id := strings.TrimPrefix(iter.Val(), prefix)
		v, err := rdb.HMGet(ctx, iter.Val(), claim.FieldState, claim.FieldUser).Result()
		if err != nil {
			t.Fatalf("claim %s: %v", id, err)
		}
		state, _ := v[0].(string)
		user, _ := v[1].(string)
		got[id] = stored{state, user}
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// byState counts records by state.
func byState(records map[string]stored) map[string]int {
	n := map[string]int{}
	for _, r := range records {
		n[r.state]++
	}
	return n
}

// awaitClaimsFinal waits until no claim of campaignID in Redis is pending
// or reserved, and returns the records then.
func (s *stack) awaitClaimsFinal(t *testing.T, campaignID string, within time.Duration) map[string]stored {
	t.Helper()
	for deadline := time.Now().Add(within); ; time.Sleep(200 * time.Millisecond) {
		records := s.claimRecords(t, campaignID)
		n := byState(records)
		if n[claim.Pending] == 0 && n[claim.Reserved] == 0 {
			return records
		}
		if time.Now().After(deadline) {
			t.Fatalf("claims of %s not final after %v: %v", campaignID, within, n)
		}
	}
}

// assertWithinLimit checks that no user holds more than limit units of
// the campaign, in Redis (held) or in PostgreSQL (orders), and returns the
// units held in Redis by user.
func (s *stack) assertWithinLimit(t *testing.T, campaignID string, limit int) map[string]int {
	t.Helper()
	ctx := context.Background()
	held := map[string]int{}
	h, err := s.redis(t).HGetAll(ctx, keyspace.New(s.env.KeyPrefix).Campaign(campaignID).Held()).Result()
	if err != nil {
		t.Fatal(err)
	}
	for user, v := range h {
		var n int
		if _, err := fmt.Sscan(v, &n); err != nil || n > limit {
			t.Errorf("Redis: %s holds %q units of %s; want at most %d", user, v, campaignID, limit)
		}
		held[user] = n
	}
	conn, err := pgx.Connect(ctx, s.env.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT user_id, sum(qty) FROM orders WHERE campaign_id = $1 GROUP BY user_id HAVING sum(qty) > $2`, campaignID, limit)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var user string
		var units int
		if err := rows.Scan(&user, &units); err != nil {
			t.Fatal(err)
		}
		t.Errorf("PostgreSQL: %s has %d units of %s in orders; want at most %d", user, units, campaignID, limit)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return held
}
