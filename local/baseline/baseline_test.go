package baseline_test

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/local/baseline"
	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
)

var deps *servers.Set

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &deps)) }

// tiny is a run small enough for a unit test.
func tiny(t *testing.T) baseline.Target {
	env := servertest.Fresh(t, deps)
	return baseline.Target{Ops: 300, Concurrency: 8, Batch: 16, InsertBatch: 50, Stock: 100,
		RedisURL: env.RedisURL, KeyPrefix: env.KeyPrefix, DatabaseURL: env.DatabaseURL, Dir: t.TempDir()}
}

func TestEveryBaselineMeasures(t *testing.T) {
	for _, b := range baseline.All() {
		t.Run(b.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			f, err := b.Run(ctx, tiny(t))
			if err != nil {
				t.Fatalf("%s: %v", b.Name, err)
			}
			if f.Name != b.Name || f.Ops != 300 || f.Errors != 0 || f.PerSecond <= 0 {
				t.Errorf("%s = %+v; want its name, 300 ops, no error and a positive rate", b.Name, f)
			}
			if l := f.Latency; l.P50 <= 0 || l.P50 > l.P90 || l.P90 > l.P99 || l.P99 > l.Max {
				t.Errorf("%s latency = %+v; want 0 < p50 <= p90 <= p99 <= max", b.Name, l)
			}
			t.Logf("%s: %.0f %s/s, p50 %v p99 %v", f.Name, f.PerSecond, f.Unit, f.Latency.P50, f.Latency.P99)
		})
	}
}

func TestStageCountsStatuses(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Ce-Id") == "poison-3" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	srv := newServer(t, h)
	mk := func(i int) event.Event {
		e := event.New()
		e.SetID("poison-" + string(rune('0'+i%10)))
		e.SetSource("/test")
		e.SetType("dev.surge.test.v1")
		return e
	}
	f, err := baseline.Stage(context.Background(), srv, mk, 20, 4)
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	if f.Ops != 18 || f.Errors != 2 || f.Statuses[202] != 18 || f.Statuses[400] != 2 {
		t.Errorf("Stage = ops %d, errors %d, statuses %v; want 18, 2, {202:18 400:2}", f.Ops, f.Errors, f.Statuses)
	}
}

func TestStageFailsWhenNothingSucceeds(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	mk := func(int) event.Event {
		e := event.New()
		e.SetID("x")
		e.SetSource("/test")
		e.SetType("dev.surge.test.v1")
		return e
	}
	if _, err := baseline.Stage(context.Background(), srv, mk, 5, 2); err == nil {
		t.Error("Stage against a function answering 503 succeeded; want an error")
	}
}

func TestStageRepliesKeepsEachReply(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("Ce-Id")
		if id == "e-1" { // done, no reply
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.Header().Set("Ce-Specversion", "1.0")
		w.Header().Set("Ce-Id", id+"/reply")
		w.Header().Set("Ce-Source", "/test")
		w.Header().Set("Ce-Type", "dev.surge.test.reply.v1")
		w.WriteHeader(http.StatusOK)
	}))
	mk := func(i int) event.Event {
		e := event.New()
		e.SetID("e-" + string(rune('0'+i)))
		e.SetSource("/test")
		e.SetType("dev.surge.test.v1")
		return e
	}
	f, replies, err := baseline.StageReplies(context.Background(), baseline.Client(2), srv, mk, 4, 2)
	if err != nil || f.Ops != 4 {
		t.Fatalf("StageReplies = %d ops, %v; want 4 ops", f.Ops, err)
	}
	for i, want := range []string{"e-0/reply", "", "e-2/reply", "e-3/reply"} {
		got := ""
		if replies[i] != nil {
			got = replies[i].ID()
		}
		if got != want {
			t.Errorf("reply %d = %q; want %q", i, got, want)
		}
	}
}
