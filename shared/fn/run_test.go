package fn_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/fn"
)

func TestListenAddress(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"LISTEN_ADDRESS first", map[string]string{"LISTEN_ADDRESS": "127.0.0.1:9000", "PORT": "9001"}, "127.0.0.1:9000"},
		{"then PORT", map[string]string{"PORT": "9001"}, ":9001"},
		{"then 8080", map[string]string{}, ":8080"},
	}
	for _, tt := range tests {
		getenv := func(k string) string { return tt.env[k] }
		if got := fn.ListenAddress(getenv); got != tt.want {
			t.Errorf("%s: ListenAddress = %q; want %q", tt.name, got, tt.want)
		}
	}
}

// slow is an HTTP function whose requests block until release is closed,
// with Start and Stop hooks that record their calls.
type slow struct {
	entered chan struct{}
	release chan struct{}
	started atomic.Value // the LISTEN_ADDRESS Start saw
	stopped atomic.Bool
}

func (s *slow) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.entered <- struct{}{}
	<-s.release
	w.WriteHeader(http.StatusOK)
}

func (s *slow) Start(_ context.Context, env map[string]string) error {
	s.started.Store(env["LISTEN_ADDRESS"])
	return nil
}

func (s *slow) Stop(context.Context) error {
	s.stopped.Store(true)
	return nil
}

func freeAddress(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestRunDrainsAndStops(t *testing.T) {
	addr := freeAddress(t)
	t.Setenv("LISTEN_ADDRESS", addr)
	f := &slow{entered: make(chan struct{}, 1), release: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- fn.Run(ctx, discard, f) }()
	waitReady(t, "http://"+addr)
	if got := f.started.Load(); got != addr {
		t.Errorf("Start saw LISTEN_ADDRESS %v; want %q", got, addr)
	}

	inFlight := make(chan int, 1)
	go func() {
		resp, err := http.Post("http://"+addr+"/slow", "text/plain", nil)
		if err != nil {
			inFlight <- -1
			return
		}
		resp.Body.Close()
		inFlight <- resp.StatusCode
	}()
	select {
	case <-f.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the slow request never reached the function")
	}
	cancel()
	select {
	case err := <-ran:
		t.Fatalf("Run returned %v with a request in flight; want it to wait", err)
	case <-time.After(200 * time.Millisecond):
	}
	if f.stopped.Load() {
		t.Error("Stop called before the in-flight request finished")
	}
	close(f.release)
	select {
	case got := <-inFlight:
		if got != http.StatusOK {
			t.Errorf("in-flight request status = %d; want 200", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the in-flight request never completed")
	}
	select {
	case err := <-ran:
		if err != nil {
			t.Errorf("Run = %v; want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the drain")
	}
	if !f.stopped.Load() {
		t.Error("Stop not called after the drain")
	}
	if _, err := http.Get("http://" + addr + "/health/liveness"); err == nil {
		t.Error("still serving after Run returned")
	}
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/health/readiness")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s never became ready", base)
}

func TestSinkSend(t *testing.T) {
	tests := []struct {
		status  int
		wantErr bool
	}{
		{http.StatusAccepted, false},
		{http.StatusOK, false},
		{http.StatusInternalServerError, true},
		{http.StatusBadRequest, true},
	}
	for _, tt := range tests {
		var gotID atomic.Value
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			gotID.Store(r.Header.Get("Ce-Id"))
			w.WriteHeader(tt.status)
		}))
		s, err := fn.NewSink(srv.URL)
		if err != nil {
			t.Fatalf("NewSink: %v", err)
		}
		err = s.Send(context.Background(), input())
		srv.Close()
		if (err != nil) != tt.wantErr {
			t.Errorf("receiver %d: Send = %v; want error %v", tt.status, err, tt.wantErr)
		}
		if got := gotID.Load(); got != input().ID() {
			t.Errorf("receiver %d: got ce-id %v; want %q (binary mode)", tt.status, got, input().ID())
		}
	}
	if _, err := fn.NewSink(""); err == nil {
		t.Error("NewSink(\"\") = nil error; want an error")
	}
}

func TestSinkSendUnreachable(t *testing.T) {
	s, err := fn.NewSink("http://" + freeAddress(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), events.ClaimRequested(events.ClaimRequestedData{ClaimID: "c.1"})); err == nil {
		t.Error("Send to a closed port = nil; want an error")
	}
}
