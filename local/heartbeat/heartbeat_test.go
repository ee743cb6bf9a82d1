package heartbeat_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/surgekit/surge/local/heartbeat"
)

// TestBeatsUntilStopped: say is called at every interval with a growing
// elapsed time, and never after stop returns.
func TestBeatsUntilStopped(t *testing.T) {
	var beats atomic.Int64
	var last atomic.Int64
	stop := heartbeat.Start(10*time.Millisecond, func(elapsed time.Duration) {
		beats.Add(1)
		last.Store(int64(elapsed))
	})
	for deadline := time.Now().Add(5 * time.Second); beats.Load() < 3; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d beats in 5s at a 10ms interval", beats.Load())
		}
	}
	stop()
	stop() // a second stop is harmless
	n := beats.Load()
	time.Sleep(50 * time.Millisecond)
	if beats.Load() != n {
		t.Fatalf("beat %d times after stop", beats.Load()-n)
	}
	if last.Load() < 0 {
		t.Fatalf("elapsed %v", time.Duration(last.Load()))
	}
}
