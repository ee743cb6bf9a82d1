package crowd

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"sync"
	"time"
)

// check proves the invariants through the public API: every accepted
// claim final, no oversell, exactly as many winners as stock and demand
// allow, no user over the limit (in the claims and in the user's orders,
// which merge PostgreSQL and the pending tokens in Redis), and the stock
// endpoint showing what is left.
func (r *runner) check(ctx context.Context) []Check {
	c := r.cfg.Campaign
	unfinished, winners := 0, 0
	wins := make(map[int]int)   // user → winning claims
	clicks := make(map[int]int) // user → accepted clicks
	for _, k := range r.clicks {
		if k.accepted.IsZero() {
			continue
		}
		clicks[k.user]++
		if !k.final() {
			unfinished++
		}
		if k.state == "reserved" || k.state == "settled" || k.state == "released" {
			wins[k.user]++
			winners++
		}
	}
	demand := 0
	for _, n := range clicks {
		demand += min(n, c.Limit)
	}
	want := min(c.Stock, demand)
	over := 0
	for _, n := range wins {
		if n > c.Limit {
			over++
		}
	}
	return []Check{
		{Name: "every claim final", OK: unfinished == 0,
			Detail: fmt.Sprintf("%d of %d accepted claims not settled/rejected/released", unfinished, len(r.clicks))},
		{Name: "no oversell", OK: winners <= c.Stock, Detail: fmt.Sprintf("%d winners, stock %d", winners, c.Stock)},
		{Name: "winners = min(stock, demand)", OK: winners == want,
			Detail: fmt.Sprintf("%d winners, want min(stock %d, demand %d) = %d", winners, c.Stock, demand, want)},
		{Name: "per-user limit (claims)", OK: over == 0, Detail: fmt.Sprintf("%d users over the limit %d", over, c.Limit)},
		r.checkOrders(ctx, wins),
		r.checkStock(ctx, winners),
	}
}

// checkWorkers read the winners' orders at once: each read is a
// PostgreSQL query, so a few dozen, not one per poller.
const checkWorkers = 32

// checkOrders asks GET /v1/orders of every winner: at most Limit orders of
// the campaign, each listed once and settled.
func (r *runner) checkOrders(ctx context.Context, wins map[int]int) Check {
	ch := Check{Name: "per-user limit and settled (orders)", OK: true}
	var (
		mu  sync.Mutex
		bad []string
	)
	parallel(checkWorkers, maps.Keys(wins), func(u int) {
		if msg := r.userOrders(ctx, u, wins[u]); msg != "" {
			mu.Lock()
			bad = append(bad, msg)
			mu.Unlock()
		}
	})
	ch.Detail = fmt.Sprintf("%d winners' orders read", len(wins))
	if len(bad) > 0 {
		ch.OK = false
		ch.Detail = fmt.Sprintf("%d of %d winners wrong, e.g. %s", len(bad), len(wins), strings.Join(bad[:min(3, len(bad))], "; "))
	}
	return ch
}

func (r *runner) userOrders(ctx context.Context, u, won int) string {
	var l orderList
	if err := r.api.call(ctx, http.StatusOK, http.MethodGet, "/v1/orders", r.tokens[u], nil, &l); err != nil {
		return fmt.Sprintf("%s: %v", r.users[u], err)
	}
	seen := make(map[string]int)
	settled := 0
	for _, o := range l.Orders {
		if o.CampaignID != r.cfg.Campaign.ID {
			continue
		}
		seen[o.OrderNo]++
		if o.State == "settled" {
			settled++
		}
	}
	switch {
	case len(seen) > r.cfg.Campaign.Limit:
		return fmt.Sprintf("%s has %d orders, limit %d", r.users[u], len(seen), r.cfg.Campaign.Limit)
	case len(seen) != won:
		return fmt.Sprintf("%s has %d orders, won %d claims", r.users[u], len(seen), won)
	}
	for no, n := range seen {
		if n != 1 {
			return fmt.Sprintf("%s: order %s listed %d times", r.users[u], no, n)
		}
	}
	if settled != len(seen) {
		return fmt.Sprintf("%s: %d of %d orders settled", r.users[u], settled, len(seen))
	}
	return ""
}

// checkStock reads the stock endpoint until it shows stock − winners (it
// is cached for about a second) or 5s pass.
func (r *runner) checkStock(ctx context.Context, winners int) Check {
	c := r.cfg.Campaign
	want := c.Stock - winners
	ch := Check{Name: "stock endpoint = stock - winners"}
	bearer := "" // a public read; a shadow one is a shadow user's
	if c.Shadow {
		bearer = r.tokens[0]
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		var v stockView
		err := r.api.call(ctx, http.StatusOK, http.MethodGet, "/v1/campaigns/"+c.ID+"/stock", bearer, nil, &v)
		got := -1
		for _, it := range v.Items {
			if it.SKU == c.SKU {
				got = it.Remaining
			}
		}
		ch.OK = err == nil && got == want
		ch.Detail = fmt.Sprintf("remaining %d, want %d - %d = %d (state %q)", got, c.Stock, winners, want, v.State)
		if err != nil {
			ch.Detail = err.Error()
		}
		if ch.OK || time.Now().After(deadline) || ctx.Err() != nil {
			return ch
		}
		sleep(ctx, 250*time.Millisecond)
	}
}
