package fn_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/surgekit/surge/shared/fn"
)

// teapot is an HTTP function that answers every path itself with 418.
var teapot = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusTeapot)
})

func TestPprofEnabled(t *testing.T) {
	tests := []struct {
		value string
		want  bool
	}{
		{"", false},
		{"true", true},
		{"1", true},
		{"false", false},
		{"0", false},
		{"yes", false},
	}
	for _, tt := range tests {
		getenv := func(k string) string {
			if k == "SURGE_PPROF" {
				return tt.value
			}
			return ""
		}
		if got := fn.PprofEnabled(getenv); got != tt.want {
			t.Errorf("SURGE_PPROF=%q: PprofEnabled = %v; want %v", tt.value, got, tt.want)
		}
	}
}

func TestPprofOnServesCPUProfile(t *testing.T) {
	h, err := fn.Handler(discard, teapot, fn.WithPprof(true))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/debug/pprof/profile?seconds=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /debug/pprof/profile status = %d; want 200", resp.StatusCode)
	}
	p, err := profile.Parse(resp.Body)
	if err != nil {
		t.Fatalf("parse the CPU profile: %v", err)
	}
	if got := p.SampleType[len(p.SampleType)-1]; got.Type != "cpu" || got.Unit != "nanoseconds" {
		t.Errorf("last sample type = %s/%s; want cpu/nanoseconds", got.Type, got.Unit)
	}
}

func TestPprofOffByDefault(t *testing.T) {
	srv := httptest.NewServer(handler(t, teapot))
	defer srv.Close()
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/profile?seconds=1", "/debug/pprof/cmdline"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTeapot {
			t.Errorf("GET %s status = %d; want 418 from the function, not pprof", path, resp.StatusCode)
		}
	}
}

func TestRunReadsSurgePprof(t *testing.T) {
	addr := freeAddress(t)
	t.Setenv("LISTEN_ADDRESS", addr)
	t.Setenv("SURGE_PPROF", "true")
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- fn.Run(ctx, discard, teapot) }()
	defer func() { cancel(); <-ran }()
	waitReady(t, "http://"+addr)
	resp, err := http.Get("http://" + addr + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("SURGE_PPROF=true: GET /debug/pprof/cmdline status = %d; want 200", resp.StatusCode)
	}
}
