package bench

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/surgekit/surge/local/browser"
)

// dashboardSettle is how long the dashboard shows the crowd's campaign
// after its first click before the screenshot: long enough for its per-second charts to draw
// several seconds of the crowd.
const dashboardSettle = 8 * time.Second

// shootDashboard saves a screenshot of the operator's dashboard watching
// campaign id to Config.DashboardShot, in the background, while the crowd
// that creates the campaign runs; the returned wait blocks until it is
// written or failed. A failure is said on the log and fails nothing: the
// screenshot is an illustration, not a figure. With no DashboardShot it
// does nothing.
func (r *runner) shootDashboard(ctx context.Context, id string) (wait func()) {
	if r.cfg.DashboardShot == "" {
		return func() {}
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := r.dashboardShot(ctx, id); err != nil {
			r.logf("crowd    no dashboard screenshot: %v", err)
			return
		}
		r.logf("crowd    dashboard screenshot in %s", r.cfg.DashboardShot)
	})
	return wg.Wait
}

func (r *runner) dashboardShot(ctx context.Context, id string) error {
	dir, err := os.MkdirTemp(r.cfg.Dir, "chromium-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	tab, stop, err := browser.Start(browser.Options{Width: 1280, Height: 900}, dir, log)
	if err != nil {
		return err
	}
	defer stop()
	tab, cancel := context.WithTimeout(tab, 3*time.Minute)
	defer cancel()
	if err := chromedp.Do(tab,
		chromedp.Navigate(r.cfg.Gateway+"/dashboard"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), r.cfg.AdminToken),
		chromedp.Click(chromedp.ID("submit")),
		chromedp.WaitVisible(chromedp.ID("campaign")),
	); err != nil {
		return fmt.Errorf("log in: %w", err)
	}
	if err := r.awaitCampaign(ctx, id); err != nil {
		return err
	}
	if err := chromedp.Do(tab, chromedp.Navigate(r.cfg.Gateway+"/dashboard?campaign="+id)); err != nil {
		return err
	}
	if _, err := chromedp.Run(tab, chromedp.Poll[bool](`document.getElementById("status").className === "live"`)); err != nil {
		return fmt.Errorf("no frame of %s shown: %w", id, err)
	}
	if _, err := chromedp.Run(tab, chromedp.Poll[bool](`parseInt(document.getElementById("clicks").textContent.replace(/\D/g, "")) > 0`,
		chromedp.WithPollingInterval(200*time.Millisecond))); err != nil {
		return fmt.Errorf("the dashboard never counted a click of %s: %w", id, err)
	}
	select {
	case <-time.After(dashboardSettle):
	case <-ctx.Done():
		return ctx.Err()
	}
	png, err := browser.Capture(tab)
	if err != nil {
		return err
	}
	return os.WriteFile(r.cfg.DashboardShot, png, 0o644)
}

// awaitCampaign waits until the crowd has created campaign id (its static
// view answers 200), for at most a minute.
func (r *runner) awaitCampaign(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.cfg.Gateway+"/v1/campaigns/"+id, nil)
		if err != nil {
			return err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("campaign %s never created: %w", id, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
