package engine_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/surgekit/surge/local/browser"
	"github.com/surgekit/surge/local/crowd"
	"github.com/surgekit/surge/local/engine"
)

// The operator's dashboard in a real Chromium, through the gateway: the
// login with the admin token, the campaign picked, and during a crowd the
// clicks and wins counters on the page move, frame after frame of the
// events stream (read twice, the second larger), the clicks per second and
// the decision latency show, and so does the broker's backlog per stage;
// the frames came steadily. A screenshot of it is saved.
func TestDashboardShowsTheSale(t *testing.T) {
	const stock, users = 5000, 600
	e, env, secrets := suite.Start(t, engine.Config{Env: []string{"SURGE_LIMIT_IP_PER_SEC=0"}}) // every user is on loopback
	s := &stack{Engine: e, api: newClient(e.URL(), secrets.AdminToken, secrets.JWTSecret), env: env}
	s.api.openSale(t, sale{ID: "watched", SKU: "cup", Stock: stock, Limit: 1})

	tab := browser.NewWith(t, browser.Options{Width: 1280, Height: 900})
	tab, cancel := context.WithTimeout(tab, 5*time.Minute)
	defer cancel()
	if err := chromedp.Do(tab,
		chromedp.Navigate(e.URL()+"/dashboard"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), secrets.AdminToken),
		chromedp.Click(chromedp.ID("submit")),
		chromedp.WaitVisible(chromedp.ID("campaign")),
	); err != nil {
		t.Fatalf("log in: %v", err)
	}
	if _, err := chromedp.Run(tab, chromedp.Poll[bool](
		`[...document.querySelectorAll("#campaign option")].some(o => o.value === "watched")`)); err != nil {
		t.Fatalf("the picker never listed the campaign: %v", err)
	}
	if err := chromedp.Do(tab, chromedp.SetValue(chromedp.ID("campaign"), "watched")); err != nil {
		t.Fatalf("pick the campaign: %v", err)
	}
	if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](`document.getElementById("campaign").dispatchEvent(new Event("change"))`)); err != nil {
		t.Fatalf("pick the campaign: %v", err)
	}
	if _, err := chromedp.Run(tab, chromedp.Poll[bool](`document.getElementById("status").className === "live"`)); err != nil {
		t.Fatalf("no frame of the campaign shown: %v", err)
	}

	var run crowd.Result
	var runErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		run, runErr = crowd.Run(ctx, crowd.Config{
			BaseURL: e.URL(), AdminToken: secrets.AdminToken, Opened: true, JWTSecret: secrets.JWTSecret,
			Campaign: crowd.Campaign{ID: "watched", SKU: "cup", Stock: stock, Limit: 1},
			Users:    users, Rate: 30, Concurrency: 32, Pollers: 128, RetryOn5xx: true, Timeout: 2 * time.Minute,
		})
	})
	first := counters(t, tab, 0, 0)
	second := counters(t, tab, first[0], first[1])
	t.Logf("dashboard: %d clicks and %d wins, then %d clicks and %d wins", first[0], first[1], second[0], second[1])
	if _, err := chromedp.Run(tab, chromedp.Poll[bool](
		`Number(document.getElementById("rate-clicks").textContent) > 0 && Number(document.getElementById("dec-p50").textContent) > 0`,
		chromedp.WithPollingInterval(200*time.Millisecond), chromedp.WithPollingTimeout(60*time.Second))); err != nil {
		t.Errorf("the dashboard never showed clicks per second and a decision latency during the crowd: %v", err)
	}
	if _, err := chromedp.Run(tab, chromedp.Poll[bool](`document.getElementById("backlog").textContent.includes("prededuct")`,
		chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		backlog, _ := chromedp.Run(tab, chromedp.Text(chromedp.ID("backlog")))
		t.Errorf("backlog panel %q; want the broker's triggers (prededuct among them): %v", backlog, err)
	}
	counters(t, tab, users/2, 0) // half the crowd in: the charts have a minute's shape
	browser.Screenshot(t, tab, "dashboard")
	seen, err := chromedp.Run(tab, chromedp.Evaluate[struct {
		Frames int     `json:"frames"`
		MaxGap float64 `json:"maxGap"`
	}](`window.surgeDashboard`))
	if err != nil {
		t.Fatal(err)
	}
	// A frame a second; a stream that stopped (even one the browser
	// reconnects to every StreamFor) leaves a far longer gap.
	t.Logf("the page got %d frames, at most %.0f ms apart", seen.Frames, seen.MaxGap)
	if seen.Frames < 5 || seen.MaxGap > 15000 {
		t.Errorf("the page got %d frames, at most %.0f ms apart; want a steady stream, a frame a second", seen.Frames, seen.MaxGap)
	}
	wg.Wait()
	if runErr != nil {
		t.Fatal(runErr)
	}
	if bad := run.Failed(); len(bad) > 0 {
		t.Errorf("crowd invariants failed: %+v", bad)
	}
}

// counters waits until the page's clicks and wins counters are both above
// clicks and wins, and returns them.
func counters(t *testing.T, tab context.Context, clicks, wins int) [2]int {
	t.Helper()
	expr := fmt.Sprintf(`(() => {
		const n = id => Number(document.getElementById(id).textContent.replace(/,/g, ""));
		const c = n("clicks"), w = n("wins");
		return c > %d && w > %d ? [c, w] : false;
	})()`, clicks, wins)
	got, err := chromedp.Run(tab, chromedp.Poll[[2]int](expr,
		chromedp.WithPollingInterval(200*time.Millisecond), chromedp.WithPollingTimeout(90*time.Second)))
	if err != nil {
		status, _ := chromedp.Run(tab, chromedp.Text(chromedp.ID("status")))
		shown, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.getElementById("clicks").textContent + " clicks, " + document.getElementById("wins").textContent + " wins"`))
		browser.Screenshot(t, tab, "dashboard-stuck")
		t.Fatalf("the dashboard shows %s (status %q); want more than %d clicks and %d wins: %v", shown, strings.TrimSpace(status), clicks, wins, err)
	}
	return got
}
