// Package profiling takes CPU profiles of running processes that serve
// net/http/pprof, in back-to-back windows for as long as a load run lasts,
// merges each process's windows into one profile and names the functions
// the CPU went to (Top). `make bench` profiles the functions and the local
// broker with it.
package profiling

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/pprof/profile"
)

// fetchSlack is how much longer than its window a profile request may take
// before it is abandoned.
const fetchSlack = 10 * time.Second

// Session is the profiling of a set of targets, from Start to Stop.
type Session struct {
	stop    chan struct{} // closed by Stop: no new window starts
	loops   sync.WaitGroup
	targets map[string]*target
}

// target is one process's windows; only its loop touches it until Stop has
// waited for the loop.
type target struct {
	windows []*profile.Profile
	err     error // the first failed window
	failed  int   // how many windows failed
}

// Start profiles every target (a name and the base URL it serves
// /debug/pprof on, like http://127.0.0.1:1234) in back-to-back windows of
// window (whole seconds, at least one) until Stop or the end of ctx.
// A target can serve one CPU profile at a time: profile each process from
// one Session only.
func Start(ctx context.Context, client *http.Client, targets map[string]string, window time.Duration) *Session {
	s := &Session{stop: make(chan struct{}), targets: make(map[string]*target, len(targets))}
	secs := max(1, int(math.Ceil(window.Seconds())))
	for name, base := range targets {
		t := &target{}
		s.targets[name] = t
		url := strings.TrimSuffix(base, "/") + "/debug/pprof/profile?seconds=" + strconv.Itoa(secs)
		s.loops.Go(func() { t.loop(ctx, client, url, time.Duration(secs)*time.Second, s.stop) })
	}
	return s
}

// loop takes windows until stop is closed or ctx ends, the first at once
// whatever Stop does; a failed window is retried after a pause of one
// window. It exits after the window it is taking when stop is closed.
func (t *target) loop(ctx context.Context, client *http.Client, url string, window time.Duration, stop <-chan struct{}) {
	for {
		p, err := fetch(ctx, client, url, window)
		if ctx.Err() != nil {
			return // the caller gave up: not the target's failure
		}
		if err == nil {
			t.windows = append(t.windows, p)
		} else {
			t.fail(err)
			pause(ctx, stop, window)
		}
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		default:
		}
	}
}

func (t *target) fail(err error) {
	t.failed++
	if t.err == nil {
		t.err = err
	}
}

// pause waits for d, or less if stop is closed or ctx ends.
func pause(ctx context.Context, stop <-chan struct{}, d time.Duration) {
	select {
	case <-stop:
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// fetch takes one window's CPU profile.
func fetch(ctx context.Context, client *http.Client, url string, window time.Duration) (*profile.Profile, error) {
	ctx, cancel := context.WithTimeout(ctx, window+fetchSlack)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("%s: status %d: %s", url, resp.StatusCode, msg)
	}
	p, err := profile.Parse(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	return p, nil
}

// Stop lets every target finish the window it is taking (it is kept, not
// lost), then merges each target's windows into one profile. A target whose
// windows failed is named in the error; the others' profiles come back all
// the same, and so do the windows a failing target did take. Call it once.
func (s *Session) Stop() (map[string]*profile.Profile, error) {
	close(s.stop)
	s.loops.Wait()
	out := make(map[string]*profile.Profile, len(s.targets))
	var errs []error
	for name, t := range s.targets {
		if t.err != nil {
			errs = append(errs, fmt.Errorf("profile %s: %d windows failed, the first: %w", name, t.failed, t.err))
		}
		if len(t.windows) == 0 {
			continue
		}
		p, err := profile.Merge(t.windows)
		if err != nil {
			errs = append(errs, fmt.Errorf("profile %s: merge: %w", name, err))
			continue
		}
		out[name] = p
	}
	return out, errors.Join(errs...)
}

// Write saves p gzipped in the profile.proto format, for go tool pprof.
func Write(path string, p *profile.Profile) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write profile: %w", err)
	}
	err = p.Write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write profile %s: %w", path, err)
	}
	return nil
}
