// Package heartbeat says that a long, otherwise silent step (a build, an
// install) is still running, so whoever waits on make up, make test or
// make bench sees it move.
package heartbeat

import (
	"sync"
	"time"
)

// Start calls say with the time since Start every interval, from its own
// goroutine, until the returned stop is called; stop waits for it to end.
func Start(every time.Duration, say func(elapsed time.Duration)) (stop func()) {
	start := time.Now()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // exits when stop closes done
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				say(time.Since(start).Round(time.Second))
			}
		}
	})
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}
