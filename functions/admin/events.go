package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/surgekit/surge/shared/campaign"
)

// dashboardEvents: GET /dashboard/events?campaign=<id> (session) →
// server-sent events, one Frame of the campaign a second (event "frame"),
// or an event "failure" with the error when a frame could not be read;
// 404 for an unknown campaign. A stream ends after StreamFor (the browser's
// EventSource reconnects after the retry it was given), so that a
// draining instance is not held by its dashboards.
func (f *Function) dashboardEvents(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), f.d.Timeout)
	c, err := f.campaign(ctx, r.URL.Query().Get("campaign"))
	cancel()
	if err != nil {
		f.fail(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprintf(w, "retry: %d\n\n", f.d.FrameEvery.Milliseconds()); err != nil {
		return
	}
	stream, stop := context.WithTimeout(r.Context(), f.d.StreamFor)
	defer stop()
	tick := time.NewTicker(f.d.FrameEvery)
	defer tick.Stop()
	for {
		if err := f.sendFrame(stream, w, c); err != nil || rc.Flush() != nil {
			return
		}
		select {
		case <-stream.Done():
			return
		case <-tick.C:
		}
	}
}

// sendFrame writes one event of campaign c; only a failed write ends
// the stream.
func (f *Function) sendFrame(ctx context.Context, w http.ResponseWriter, c *campaign.Campaign) error {
	ctx, cancel := context.WithTimeout(ctx, f.d.Timeout)
	defer cancel()
	name, data := "frame", any(nil)
	if fr, err := f.frame(ctx, c); err != nil {
		f.d.Log.Warn("dashboard frame", "campaign_id", c.ID, "error", err.Error())
		name, data = "failure", map[string]string{"error": "frame unavailable: " + err.Error()}
	} else {
		data = fr
	}
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, b)
	return err
}
