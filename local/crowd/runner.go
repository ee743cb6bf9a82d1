package crowd

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surgekit/surge/shared/auth"
)

// click is one claim a user makes, from its first attempt to its final
// state. The firing goroutine owns it until it is queued for polling, then
// the poller that holds it.
type click struct {
	user     int
	key      string // Idempotency-Key, the same across retries
	claimID  string
	attempts int
	status   int // the last answer to the claim request; 0 for a transport error

	sent, accepted, decided, settled time.Time
	state, reason, orderNo           string

	due time.Time // next poll
}

// soldOut records a click answered sold out at once: accepted and decided
// in the same instant, with no claim to poll.
func (c *click) soldOut(at time.Time) {
	c.accepted, c.decided = at, at
	c.state, c.reason = "rejected", "sold_out"
}

func (c *click) final() bool {
	return c.state == "settled" || c.state == "rejected" || c.state == "released"
}

// won reports whether the claim took a unit (or a packet), whatever
// became of it then.
func (c *click) won() bool {
	return c.state == "reserved" || c.state == "settled" || c.state == "released"
}

// runner holds one run's state.
type runner struct {
	cfg    Config
	api    *api
	users  []string
	tokens []string
	byUser map[string]int

	mu     sync.Mutex
	clicks []*click
	errs   map[string]int
	late   int // open loop: arrivals that waited for the in-flight cap

	queue       chan *click
	outstanding atomic.Int64 // accepted claims not yet final
	arrived     atomic.Int64 // users who clicked
	taken       atomic.Int64 // claims accepted (202)
	fired       atomic.Bool
	done        chan struct{}
	doneOnce    sync.Once
	firedAt     time.Time
}

func newRunner(cfg Config) (*runner, error) {
	r := &runner{
		cfg:    cfg,
		api:    newAPI(cfg.BaseURL, cfg.Concurrency*2+cfg.Pollers, cfg.RequestTimeout, cfg.Sources...),
		users:  make([]string, cfg.Users),
		tokens: make([]string, cfg.Users),
		byUser: make(map[string]int, cfg.Users),
		errs:   make(map[string]int),
		queue:  make(chan *click, 2*cfg.Users),
		done:   make(chan struct{}),
	}
	for i := range cfg.Users {
		r.users[i] = fmt.Sprintf("%s%d", cfg.UserPrefix, i)
		if !auth.ValidUserID(r.users[i]) {
			return nil, fmt.Errorf("crowd: invalid user id %q", r.users[i])
		}
		tok, err := auth.Sign([]byte(cfg.JWTSecret), auth.Caller{User: r.users[i], Shadow: cfg.Campaign.Shadow}, 24*time.Hour)
		if err != nil {
			return nil, fmt.Errorf("crowd: %w", err)
		}
		r.tokens[i] = tok
		r.byUser[r.users[i]] = i
	}
	if r.cfg.Challenge == nil {
		bank := newBankAnswers(r.api, cfg.AdminToken, cfg.Campaign)
		r.cfg.Challenge = func(ctx context.Context, campaign, user string) (string, string, error) {
			return r.api.challenge(ctx, bank, campaign, r.tokens[r.byUser[user]], cfg.AnswerDelay)
		}
	}
	return r, nil
}

// run fires the crowd with the pollers running, then waits until every
// accepted claim is final or Timeout passes after the last click.
func (r *runner) run(parent context.Context) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var pollers sync.WaitGroup
	for range r.cfg.Pollers {
		pollers.Add(1)
		go func() {
			defer pollers.Done()
			r.poll(ctx)
		}()
	}
	r.progressf("%d users click on %s", r.cfg.Users, r.cfg.Campaign.ID)
	reporting := r.reportEvery(ctx)
	defer reporting()
	if r.cfg.Rate > 0 {
		r.openLoop(ctx)
	} else {
		r.closedLoop(ctx)
	}
	r.firedAt = time.Now()
	r.fired.Store(true)
	if r.outstanding.Load() == 0 {
		r.finish()
	}
	select {
	case <-r.done:
	case <-time.After(r.cfg.Timeout):
	case <-ctx.Done():
	}
	cancel()
	pollers.Wait()
	return parent.Err()
}

func (r *runner) finish() { r.doneOnce.Do(func() { close(r.done) }) }

// progressf writes one line of progress, when the run has a Progress.
func (r *runner) progressf(format string, args ...any) {
	if r.cfg.Progress != nil {
		fmt.Fprintf(r.cfg.Progress, "crowd    "+format+"\n", args...)
	}
}

// reportEvery writes how far the run is every ProgressEvery until the
// returned stop is called (or ctx ends).
func (r *runner) reportEvery(ctx context.Context) (stop func()) {
	if r.cfg.Progress == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	start := time.Now()
	wg.Go(func() { // exits when stop is called or ctx ends
		tick := time.NewTicker(r.cfg.ProgressEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				r.progressf("%5.0fs: %d of %d users clicked, %d claims accepted, %d not final yet",
					time.Since(start).Seconds(), r.arrived.Load(), r.cfg.Users, r.taken.Load(), r.outstanding.Load())
			}
		}
	})
	return func() { cancel(); wg.Wait() }
}

// closedLoop: Concurrency workers take the users in turn, until ctx ends.
func (r *runner) closedLoop(ctx context.Context) {
	users := func(yield func(int) bool) {
		for u := 0; u < r.cfg.Users && ctx.Err() == nil; u++ {
			if !yield(u) {
				return
			}
		}
	}
	parallel(r.cfg.Concurrency, users, func(u int) { r.arrive(ctx, u) })
}

// parallel calls f for every item from workers goroutines, and returns
// once every call has.
func parallel(workers int, items iter.Seq[int], f func(int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() { // exits when next is closed
			for u := range next {
				f(u)
			}
		})
	}
	for u := range items {
		next <- u
	}
	close(next)
	wg.Wait()
}

// openLoop: user i arrives at start + i/Rate whatever the engine does, up
// to Concurrency users in flight; an arrival that finds the cap full waits
// and is counted late.
func (r *runner) openLoop(ctx context.Context) {
	slots := make(chan struct{}, r.cfg.Concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for u := 0; u < r.cfg.Users && ctx.Err() == nil; u++ {
		at := start.Add(time.Duration(float64(u) / r.cfg.Rate * float64(time.Second)))
		if d := time.Until(at); d > 0 {
			sleep(ctx, d)
		}
		select {
		case slots <- struct{}{}:
		default:
			r.mu.Lock()
			r.late++
			r.mu.Unlock()
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				continue
			}
		}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			r.arrive(ctx, u)
		}()
	}
	wg.Wait()
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// arrive is one user: a click, and a second one at the same time for the
// double-clickers (user index spread evenly over the ratio).
func (r *runner) arrive(ctx context.Context, u int) {
	r.arrived.Add(1)
	n := 1
	if r.doubleClicks(u) {
		n = 2
	}
	var wg sync.WaitGroup
	for i := range n {
		c := &click{user: u, key: fmt.Sprintf("crowd-%s-%d", r.users[u], i)}
		r.mu.Lock()
		r.clicks = append(r.clicks, c)
		r.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.click(ctx, c)
		}()
	}
	wg.Wait()
}

// doubleClicks spreads the double-clickers evenly: user u is one when the
// running count floor(u×ratio) steps up at u.
func (r *runner) doubleClicks(u int) bool {
	ratio := r.cfg.DuplicateClickRatio
	return int(float64(u+1)*ratio) > int(float64(u)*ratio)
}

func (r *runner) countErr(what string, status int, err error) {
	key := fmt.Sprintf("%s %d", what, status)
	if err != nil {
		key = what + " transport"
	}
	r.mu.Lock()
	r.errs[key]++
	r.mu.Unlock()
}
