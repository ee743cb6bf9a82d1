package crowd

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a strings.Builder safe for the reporter's goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestProgressReported: while a crowd runs, a line says how far it is at
// every tick, and none comes after stop.
func TestProgressReported(t *testing.T) {
	var out lockedBuffer
	r := &runner{cfg: Config{Users: 30, Progress: &out, ProgressEvery: 10 * time.Millisecond}}
	r.arrived.Store(20)
	r.taken.Store(12)
	r.outstanding.Store(5)
	stop := r.reportEvery(context.Background())
	for deadline := time.Now().Add(5 * time.Second); strings.Count(out.String(), "\n") < 2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("progress after 5s: %q; want a line every 10ms", out.String())
		}
	}
	stop()
	lines := out.String()
	if !strings.Contains(lines, "20 of 30 users clicked, 12 claims accepted, 5 not final yet") {
		t.Fatalf("progress %q does not say how far the crowd is", lines)
	}
	time.Sleep(30 * time.Millisecond)
	if out.String() != lines {
		t.Fatalf("progress written after stop: %q", strings.TrimPrefix(out.String(), lines))
	}
}
