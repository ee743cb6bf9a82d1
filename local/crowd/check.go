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
// which merge PostgreSQL and the pending tokens in Redis; a rain's in the
// user's wallet, which also adds up to the budget once every packet is
// issued), and the stock endpoint showing what is left.
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
		if k.won() {
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
	checks := []Check{
		{Name: "every claim final", OK: unfinished == 0,
			Detail: fmt.Sprintf("%d of %d accepted claims not settled/rejected/released", unfinished, len(r.clicks))},
		{Name: "no oversell", OK: winners <= c.Stock, Detail: fmt.Sprintf("%d winners, stock %d", winners, c.Stock)},
		{Name: "winners = min(stock, demand)", OK: winners == want,
			Detail: fmt.Sprintf("%d winners, want min(stock %d, demand %d) = %d", winners, c.Stock, demand, want)},
		{Name: "per-user limit (claims)", OK: over == 0, Detail: fmt.Sprintf("%d users over the limit %d", over, c.Limit)},
	}
	if c.rain() {
		wallets, money := r.checkWallets(ctx, wins, winners)
		checks = append(checks, wallets, money)
	} else {
		checks = append(checks, r.checkOrders(ctx, wins))
	}
	return append(checks, r.checkStock(ctx, winners))
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

// walletView is GET /v1/wallet.
type walletView struct {
	Entries []struct {
		OrderNo    string `json:"order_no"`
		State      string `json:"state"`
		CampaignID string `json:"campaign_id"`
		Amount     int64  `json:"amount"`
	} `json:"entries"`
}

// checkWallets asks GET /v1/wallet of every winner of a rain: as many of
// the rain's packets as the user won, each listed once and settled; and
// the money in them all at most the budget, all of it once every packet
// is won.
func (r *runner) checkWallets(ctx context.Context, wins map[int]int, winners int) (wallets, money Check) {
	c := r.cfg.Campaign
	var (
		mu     sync.Mutex
		bad    []string
		issued int64
	)
	parallel(checkWorkers, maps.Keys(wins), func(u int) {
		got, msg := r.userWallet(ctx, u, wins[u])
		mu.Lock()
		defer mu.Unlock()
		issued += got
		if msg != "" {
			bad = append(bad, msg)
		}
	})
	wallets = Check{Name: "per-user limit and settled (wallets)", OK: len(bad) == 0, Detail: fmt.Sprintf("%d winners' wallets read", len(wins))}
	if len(bad) > 0 {
		wallets.Detail = fmt.Sprintf("%d of %d winners wrong, e.g. %s", len(bad), len(wins), strings.Join(bad[:min(3, len(bad))], "; "))
	}
	want := "at most"
	money = Check{Name: "money issued within the budget", OK: issued <= c.Budget}
	if winners == c.Stock {
		want, money.Name, money.OK = "exactly", "money issued = budget", issued == c.Budget
	}
	money.Detail = fmt.Sprintf("%d cents in %d packets, want %s the budget %d", issued, winners, want, c.Budget)
	return wallets, money
}

// userWallet reads winner u's wallet: the money in the rain's packets,
// and what is wrong with them ("" when nothing).
func (r *runner) userWallet(ctx context.Context, u, won int) (int64, string) {
	var w walletView
	if err := r.api.call(ctx, http.StatusOK, http.MethodGet, "/v1/wallet", r.tokens[u], nil, &w); err != nil {
		return 0, fmt.Sprintf("%s: %v", r.users[u], err)
	}
	seen := make(map[string]bool)
	var money int64
	for _, e := range w.Entries {
		if e.CampaignID != r.cfg.Campaign.ID {
			continue
		}
		switch {
		case seen[e.OrderNo]:
			return money, fmt.Sprintf("%s: packet %s listed twice", r.users[u], e.OrderNo)
		case e.State != "settled":
			return money, fmt.Sprintf("%s: packet %s %s, want settled", r.users[u], e.OrderNo, e.State)
		}
		seen[e.OrderNo] = true
		money += e.Amount
	}
	if len(seen) != won || len(seen) > r.cfg.Campaign.Limit {
		return money, fmt.Sprintf("%s holds %d packets, won %d claims, limit %d", r.users[u], len(seen), won, r.cfg.Campaign.Limit)
	}
	return money, ""
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
			if it.SKU == c.lot() {
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
