package profiling_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surgekit/surge/local/profiling"
)

const burnName = "github.com/surgekit/surge/local/profiling_test.burn"

// burn spins on one core until stop is set.
//
//go:noinline
func burn(stop *atomic.Bool) uint64 {
	x := uint64(1)
	for !stop.Load() {
		for range 1 << 16 {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	return x
}

// burning starts a server that serves net/http/pprof while a goroutine
// burns CPU in burn, both until t ends. Every profile request that reaches
// the server is announced on the returned channel.
func burning(t *testing.T) (base string, windows <-chan struct{}) {
	t.Helper()
	started := make(chan struct{}, 16)
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", func(w http.ResponseWriter, r *http.Request) {
		select {
		case started <- struct{}{}:
		default:
		}
		pprof.Profile(w, r)
	})
	srv := httptest.NewServer(mux)
	var stop atomic.Bool
	done := make(chan struct{})
	go func() { defer close(done); burn(&stop) }() // exits once stop is set
	t.Cleanup(func() { stop.Store(true); <-done; srv.Close() })
	return srv.URL, started
}

func wait(t *testing.T, windows <-chan struct{}) {
	t.Helper()
	select {
	case <-windows:
	case <-time.After(10 * time.Second):
		t.Fatal("no profile request reached the server")
	}
}

func TestStopKeepsTheInFlightWindow(t *testing.T) {
	base, windows := burning(t)
	s := profiling.Start(context.Background(), &http.Client{}, map[string]string{"burner": base}, time.Second)
	wait(t, windows)
	wait(t, windows) // the first window is done, the second in flight
	began := time.Now()
	got, err := s.Stop()
	if err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if waited := time.Since(began); waited < 500*time.Millisecond {
		t.Errorf("Stop returned after %v; want it to wait for the window in flight", waited)
	}
	p := got["burner"]
	if p == nil {
		t.Fatal("no profile of burner")
	}
	if d := time.Duration(p.DurationNanos); d < 1900*time.Millisecond {
		t.Errorf("merged profile lasts %v; want both 1s windows (2s)", d)
	}
}

func TestTopNamesTheBurningFunction(t *testing.T) {
	base, windows := burning(t)
	s := profiling.Start(context.Background(), &http.Client{}, map[string]string{"burner": base}, time.Second)
	wait(t, windows)
	got, err := s.Stop()
	if err != nil {
		t.Fatalf("Stop: %v", err)
	}
	top := profiling.Top(got["burner"], 5)
	if len(top) == 0 {
		t.Fatalf("Top of %v of samples is empty", profiling.Total(got["burner"]))
	}
	if top[0].Func != burnName || top[0].FlatShare < 0.5 {
		t.Errorf("Top[0] = %s with %.0f%% flat; want %s with over half the CPU (top: %+v)",
			top[0].Func, 100*top[0].FlatShare, burnName, top)
	}
}

func TestUnreachableTargetKeepsTheOthers(t *testing.T) {
	base, windows := burning(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	s := profiling.Start(context.Background(), &http.Client{},
		map[string]string{"burner": base, "down": down}, time.Second)
	wait(t, windows)
	got, err := s.Stop()
	if err == nil || !strings.Contains(err.Error(), "profile down") {
		t.Errorf("Stop error = %v; want one naming the unreachable target", err)
	}
	if got["burner"] == nil {
		t.Error("no profile of burner beside the unreachable target")
	}
	if _, ok := got["down"]; ok {
		t.Error("a profile of the unreachable target")
	}
}

func TestStopAfterContextEnds(t *testing.T) {
	base, windows := burning(t)
	ctx, cancel := context.WithCancel(context.Background())
	s := profiling.Start(ctx, &http.Client{}, map[string]string{"burner": base}, time.Second)
	wait(t, windows)
	cancel()
	got, err := s.Stop()
	if err != nil {
		t.Errorf("Stop after cancel = %v; want nil", err)
	}
	if len(got) != 0 {
		t.Errorf("Stop after cancel kept %d profiles; want none (the window was cut)", len(got))
	}
}
