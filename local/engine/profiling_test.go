package engine_test

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/surgekit/surge/local/engine"
	"github.com/surgekit/surge/local/profiling"
)

func TestProfilingServesPprof(t *testing.T) {
	e, _, _ := suite.Start(t, engine.Config{Profiling: true})
	targets := e.Targets()
	want := append([]string{"broker", "gateway"}, engine.Functions()...)
	if got := slices.Sorted(maps.Keys(targets)); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Errorf("Targets = %v; want the broker, the gateway and every function", got)
	}
	pids := e.PIDs()
	for _, name := range want {
		if pid := pids[name]; pid <= 0 || syscall.Kill(pid, 0) != nil {
			t.Errorf("PIDs[%s] = %d; want a live process", name, pid)
		}
	}

	s := profiling.Start(context.Background(), &http.Client{},
		map[string]string{"broker": targets["broker"], "prededuct": targets["prededuct"], "gateway": targets["gateway"]}, time.Second)
	profiles, err := s.Stop() // after the first window
	if err != nil {
		t.Fatalf("profile the broker and prededuct: %v", err)
	}
	for _, name := range []string{"broker", "prededuct", "gateway"} {
		p := profiles[name]
		if p == nil {
			t.Errorf("no profile of %s", name)
			continue
		}
		if d := time.Duration(p.DurationNanos); d < time.Second/2 {
			t.Errorf("profile of %s lasts %v; want one 1s window", name, d)
		}
	}
}
