package broker

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
)

// TestCrashDurability runs the real binary, kills it with SIGKILL and
// restarts it on the same store: every event answered 202 is delivered.
func TestCrashDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the broker binary")
	}
	bin := buildBroker(t)
	t.Run("subscriber down, then kill -9", func(t *testing.T) { testKillWhileFailing(t, bin) })
	t.Run("kill -9 mid-delivery", func(t *testing.T) { testKillMidDelivery(t, bin) })
}

func buildBroker(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not on PATH")
	}
	bin := filepath.Join(t.TempDir(), "broker")
	out, err := exec.Command(goBin, "build", "-o", bin, "github.com/surgekit/surge/local/cmd/broker").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func crashTriggers(t *testing.T) string {
	return writeManifests(t, testTrigger{name: "all", service: "sub", retry: 1000,
		policy: "linear", delay: "PT0.05S", timeout: "PT1S"}.manifest())
}

func testKillWhileFailing(t *testing.T, bin string) {
	store, triggers := t.TempDir(), crashTriggers(t)
	b := startChild(t, bin, store, triggers, "http://"+closedAddr(t))
	const n = 50
	postN(t, b.url, n)
	time.Sleep(300 * time.Millisecond) // let delivery attempts fail and be nak'ed
	b.kill9(t)

	sub := newSink(t, nil)
	startChild(t, bin, store, triggers, sub.URL)
	waitFor(t, 20*time.Second, "every event after restart", func() bool { return len(ids(sub.received())) == n })
	t.Logf("delivered after restart: %d", sub.count())
}

func testKillMidDelivery(t *testing.T, bin string) {
	store, triggers := t.TempDir(), crashTriggers(t)
	var mu sync.Mutex
	done := map[string]bool{} // answered 202 before the kill
	release := make(chan struct{})
	first := newSink(t, func(k int, e *event.Event, w http.ResponseWriter) {
		if k > 5 {
			<-release // hang: the delivery is in flight when the broker dies
			return
		}
		mu.Lock()
		done[e.ID()] = true
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	})
	t.Cleanup(func() { close(release) }) // runs before the sink's server closes
	b := startChild(t, bin, store, triggers, first.URL)
	const n = 50
	postN(t, b.url, n)
	waitFor(t, 5*time.Second, "deliveries in flight", func() bool { return first.count() >= 9 })
	b.kill9(t)

	second := newSink(t, nil)
	startChild(t, bin, store, triggers, second.URL)
	waitFor(t, 20*time.Second, "every event after restart", func() bool {
		seen := ids(second.received())
		mu.Lock()
		defer mu.Unlock()
		for id := range done {
			seen[id] = true
		}
		return len(seen) == n
	})
	t.Logf("answered before the kill: %d, delivered after restart: %d", len(done), second.count())
}

func postN(t *testing.T, url string, n int) {
	t.Helper()
	for i := range n {
		if got := post(t, url, newEvent("crash-"+strconv.Itoa(i), "test.crash.v1")); got != http.StatusAccepted {
			t.Fatalf("post %d: status %d, want 202", i, got)
		}
	}
}

// closedAddr is a loopback address nobody listens on.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// child is a broker process.
type child struct {
	cmd *exec.Cmd
	url string
	log *syncBuffer
}

func startChild(t *testing.T, bin, store, triggers, subURL string) *child {
	t.Helper()
	c := &child{log: &syncBuffer{}}
	c.cmd = exec.Command(bin, "-listen", "127.0.0.1:0", "-store", store, "-triggers", triggers,
		"-service", "sub="+subURL, "-workers", "4")
	c.cmd.Stderr = c.log
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start broker: %v", err)
	}
	t.Cleanup(func() {
		c.kill9(t)
		if t.Failed() {
			t.Logf("broker log:\n%s", c.log.String())
		}
	})
	waitFor(t, 10*time.Second, "broker address", func() bool { c.url = c.log.addr(); return c.url != "" })
	waitFor(t, 10*time.Second, "broker ready", func() bool {
		resp, err := http.Get(c.url + "/health/readiness")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return c
}

func (c *child) kill9(t *testing.T) {
	if c.cmd.ProcessState != nil {
		return
	}
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Logf("kill broker: %v", err)
	}
	_ = c.cmd.Wait() // "signal: killed" is the expected outcome
}

// syncBuffer collects the child's JSON log.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// addr finds the "broker listening" line and returns its URL.
func (b *syncBuffer) addr() string {
	for _, line := range bytes.Split([]byte(b.String()), []byte("\n")) {
		var rec struct{ Msg, Addr string }
		if json.Unmarshal(line, &rec) == nil && rec.Msg == "broker listening" {
			return fmt.Sprintf("http://%s", rec.Addr)
		}
	}
	return ""
}
