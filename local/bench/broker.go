package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/surgekit/surge/local/broker"
)

// BrokerSample is every trigger's delivery state at one moment of the
// crowd run, read from the local broker's GET /debug/triggers.
type BrokerSample struct {
	T        float64               `json:"t"` // seconds since the crowd began
	Triggers []broker.TriggerStats `json:"triggers"`
}

// Stall is a span in which a trigger had events waiting and delivered none.
type Stall struct {
	Trigger string  `json:"trigger"`
	From    float64 `json:"from"` // seconds since the crowd began
	To      float64 `json:"to"`
	Backlog uint64  `json:"backlog"` // the most events waiting (pending + unacknowledged) during it
	Busy    int64   `json:"busy"`    // deliveries in hand at its start: all workers busy is a slow subscriber, none a stalled consumer
}

// stallMin is the shortest span reported as a stall.
const stallMin = 3 * time.Second

// watchBroker samples url every interval until the returned stop is called;
// stop returns the samples.
func watchBroker(ctx context.Context, url string, interval time.Duration) (stop func() []BrokerSample) {
	ctx, cancel := context.WithCancel(ctx)
	var (
		wg      sync.WaitGroup
		samples []BrokerSample
	)
	begin := time.Now()
	wg.Go(func() { // exits when stop cancels ctx
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			if st, err := triggerStats(ctx, url); err == nil {
				samples = append(samples, BrokerSample{T: time.Since(begin).Seconds(), Triggers: st})
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	return func() []BrokerSample { cancel(); wg.Wait(); return samples }
}

func triggerStats(ctx context.Context, url string) ([]broker.TriggerStats, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: status %d", url, resp.StatusCode)
	}
	var st []broker.TriggerStats
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// stalls finds, per trigger, the spans of at least stallMin in which its
// delivery count did not move while events waited.
func stalls(samples []BrokerSample) []Stall {
	var out []Stall
	open := make(map[string]*Stall)
	last := make(map[string]uint64)
	closeStall := func(name string) {
		if s := open[name]; s != nil && s.To-s.From >= stallMin.Seconds() {
			out = append(out, *s)
		}
		delete(open, name)
	}
	for _, sm := range samples {
		for _, tr := range sm.Triggers {
			backlog := tr.Pending + uint64(tr.AckPending)
			moved := tr.Delivered != last[tr.Trigger]
			last[tr.Trigger] = tr.Delivered
			switch s := open[tr.Trigger]; {
			case moved || backlog == 0:
				closeStall(tr.Trigger)
			case s == nil:
				open[tr.Trigger] = &Stall{Trigger: tr.Trigger, From: sm.T, To: sm.T, Backlog: backlog, Busy: tr.Busy}
			default:
				s.To, s.Backlog = sm.T, max(s.Backlog, backlog)
			}
		}
	}
	for name := range open {
		closeStall(name)
	}
	return out
}
