package engine_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/surgekit/surge/local/browser"
	"github.com/surgekit/surge/local/engine"
	"github.com/surgekit/surge/shared/captcha"
)

const (
	// storeLead is how far ahead the sale starts: time to warm it up,
	// start a browser and show the countdown on a busy machine.
	storeLead = 25 * time.Second
	// storeMinAge is the captcha's SURGE_CAPTCHA_MIN_AGE in this test: an
	// answer sooner than that is refused, as from a bot.
	storeMinAge = time.Second
	// storeWait bounds each thing the page must show.
	storeWait = 90 * time.Second
)

// TestStorefrontWinsInABrowser: a buyer opens the storefront page the
// gateway serves, in a real headless Chromium, before a captcha sale
// starts. The page shows the countdown; at the start it leases a
// challenge and shows its image; the test reads the image's answer from
// the challenge bank (the operator's access, as a load tool's), types it
// as the buyer would, clicks Buy, and the page must show the win, then
// the order, the same as GET /v1/orders gives the buyer; Pay on the page
// pays it. Screenshots of the countdown, the typed answer, the win, the
// order and the payment go to the test's artifact directory (kept under
// -outputdir with -artifacts).
func TestStorefrontWinsInABrowser(t *testing.T) {
	s := startEngineWith(t, engine.Config{Env: []string{"SURGE_CAPTCHA_MIN_AGE=" + storeMinAge.String()}})
	const id, sku, user = "store-teapot", "teapot", "ada"
	startsAt := time.Now().UTC().Add(storeLead).Truncate(time.Second)
	s.api.must(t, http.StatusCreated, http.MethodPost, "/v1/campaigns", s.api.admin, map[string]any{
		"id": id, "kind": "sale", "title": "The blue teapot",
		"items":          []map[string]any{{"sku": sku, "stock": 3, "price": 12900}},
		"per_user_limit": 1, "starts_at": startsAt, "ends_at": startsAt.Add(time.Hour),
		"payment_window": "10m", "captcha": true,
	}, nil)
	s.api.must(t, http.StatusOK, http.MethodPost, "/v1/campaigns/"+id+"/warmup", s.api.admin, nil, nil)

	ctx := browser.New(t)
	page := s.URL() + "/?campaign=" + id + "#token=" + s.api.token(t, user)
	if err := chromedp.Do(ctx, chromedp.Navigate(page)); err != nil {
		t.Fatalf("open %s: %v", page, err)
	}

	countdown := waitFor[string](t, ctx, "the countdown to the start",
		`document.body.dataset.phase === "upcoming" && document.querySelector("#countdown[data-until=start]")?.textContent`)
	if time.Until(startsAt) < 2*time.Second {
		t.Fatalf("the sale starts in %v: warm-up and the browser took the whole lead of %v; the countdown was not seen before it", time.Until(startsAt), storeLead)
	}
	t.Logf("countdown: %q, %v before the start", countdown, time.Until(startsAt).Round(time.Second))
	browser.Screenshot(t, ctx, "countdown")

	src := waitFor[string](t, ctx, "the captcha image once the sale opens",
		`document.body.dataset.phase === "open" && (() => { const i = document.getElementById("captcha"); return i.complete && i.naturalWidth > 0 && i.src; })()`)
	shown := time.Now()
	answer := s.answerOf(t, id, src)
	time.Sleep(time.Until(shown.Add(storeMinAge + 500*time.Millisecond))) // a person's pace, past the minimum age
	if err := chromedp.Do(ctx, chromedp.SendKeys("#answer", answer)); err != nil {
		t.Fatalf("type the answer: %v", err)
	}
	browser.Screenshot(t, ctx, "answer")
	if err := chromedp.Do(ctx, chromedp.Click("#grab")); err != nil {
		t.Fatalf("click %s: %v", "#grab", err)
	}

	won := waitFor[string](t, ctx, "the win",
		`!document.getElementById("result").hidden && document.getElementById("outcome").dataset.outcome === "won" && document.getElementById("outcome").textContent`)
	t.Logf("outcome: %q", won)
	browser.Screenshot(t, ctx, "win")

	shownOrder := waitFor[string](t, ctx, "the order in the buyer's orders",
		`document.querySelector("#orders tbody tr[data-order]")?.dataset.order`)
	orders := s.api.orders(t, user)
	if len(orders) != 1 || orders[shownOrder] == nil {
		t.Fatalf("the page shows order %q; GET /v1/orders has %v", shownOrder, orders)
	}
	browser.Screenshot(t, ctx, "order")

	if err := chromedp.Do(ctx, chromedp.Click(`#orders tbody tr[data-order] button`)); err != nil {
		t.Fatalf("click Pay: %v", err)
	}
	waitFor[bool](t, ctx, "the order paid", `document.querySelector("#orders tbody tr[data-order]")?.dataset.state === "paid"`)
	if got := s.api.orders(t, user)[shownOrder]; len(got) != 1 || got[0] != "paid" {
		t.Fatalf("after Pay, GET /v1/orders has order %s %v; want paid", shownOrder, got)
	}
	browser.Screenshot(t, ctx, "paid")
}

// answerOf is the answer to the challenge whose image is at imageURL, from
// the campaign's bank (admin).
func (s *stack) answerOf(t *testing.T, campaignID, imageURL string) string {
	t.Helper()
	var bank struct {
		Answers map[string]string `json:"answers"`
	}
	s.api.must(t, http.StatusOK, http.MethodGet, "/v1/campaigns/"+campaignID+"/challenge-bank", s.api.admin, nil, &bank)
	answer, ok := bank.Answers[captcha.EntryOf(imageURL)]
	if !ok {
		t.Fatalf("the image %s is no entry of the bank (%d entries)", imageURL, len(bank.Answers))
	}
	return answer
}

// waitFor polls expr in the page until it is truthy and returns its value;
// after storeWait it fails t with what the page says, and a screenshot.
func waitFor[T any](t *testing.T, ctx context.Context, what, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, storeWait+10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Poll[T](expr,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(storeWait)))
	if err != nil {
		browser.Screenshot(t, ctx, "failed "+what)
		t.Fatalf("the page did not show %s within %v: %v; it says %s", what, storeWait, err, pageSays(ctx))
	}
	return v
}

// pageSays is the page's phase, outcome and notice, for a failure message.
func pageSays(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`({
		phase: document.body.dataset.phase,
		countdown: document.getElementById("countdown").textContent,
		outcome: document.getElementById("outcome").textContent,
		claim: document.getElementById("claim-detail").textContent,
		notice: document.getElementById("notice").textContent,
	})`))
	if err != nil {
		return "nothing readable (" + err.Error() + ")"
	}
	return fmt.Sprintf("%q", got)
}
