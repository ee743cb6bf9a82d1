// Package crowd is the flash-sale load generator: a crowd of distinct users
// (a JWT each) clicking on one SKU of a sale campaign, or grabbing the
// packets of a rain, through the public API, answering the captcha where
// the campaign asks for one, double-clicking and retrying like real users,
// either open loop (arrivals at a target rate) or closed loop (a fixed
// number of workers as fast as the engine answers). Every accepted claim is
// long-polled to its final state; Run reports throughput, latency
// percentiles, errors by status, a per-second series and the invariants
// checked through the public API at the end.
//
// It drives any deployment by URL: the local engine (make up, make bench)
// or a Knative one.
package crowd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"time"

	"github.com/surgekit/surge/shared/campaign"
)

// Campaign is the sale the crowd claims from: one SKU, qty 1 per click; or,
// with Kind rain, the rain it grabs from: Stock packets sharing Budget.
type Campaign struct {
	ID      string `json:"id"`
	Kind    string `json:"kind,omitempty"`   // sale when empty, or rain
	SKU     string `json:"sku,omitempty"`    // a sale's; a rain has none
	Stock   int    `json:"stock"`            // a sale's units, a rain's packets
	Budget  int64  `json:"budget,omitempty"` // a rain's money in cents
	Limit   int    `json:"per_user_limit"`
	Captcha bool   `json:"captcha"`
	// Price in cents; 9900 when zero.
	Price int64 `json:"price"`
	// ExpectedCrowd sizes the challenge bank (captcha.BankSize); twice
	// Users when zero, as a double click or a retry takes a second
	// challenge.
	ExpectedCrowd int `json:"expected_crowd,omitempty"`
	// Limits are the campaign's rate limits; nil: the deployment's.
	Limits *campaign.Limits `json:"limits,omitempty"`
	// Shadow runs the sale on the shadow plane (docs/DESIGN.md, "Shadow
	// traffic"): created and warmed there with ?plane=shadow, clicked and
	// read by users whose JWTs say "shadow": true. A live deployment's
	// real campaigns, stock and orders see none of it.
	Shadow bool `json:"shadow,omitempty"`
}

// rain reports whether c is a rain.
func (c Campaign) rain() bool { return c.Kind == campaign.KindRain }

// lot is the name the stock endpoint lists c's units under.
func (c Campaign) lot() string {
	if c.rain() {
		return campaign.RainLot
	}
	return c.SKU
}

// plane is the query naming c's plane on the operator's calls.
func (c Campaign) plane() string {
	if c.Shadow {
		return "?plane=shadow"
	}
	return ""
}

// ErrSoldOut is what a ChallengeFunc returns when the sale answered the
// challenge call 409 sold_out: every item is gone, the click is final.
var ErrSoldOut = errors.New("sold out")

// ChallengeFunc returns a challenge issued to user in campaign and its
// answer. Load tools need operator access to the challenge bank for that:
// the public API never reveals an answer.
type ChallengeFunc func(ctx context.Context, campaign, user string) (challengeID, answer string, err error)

// Config is one crowd run. Zero fields get the defaults of fill.
type Config struct {
	BaseURL    string // the gateway, e.g. http://127.0.0.1:8080
	AdminToken string // creates and warms the campaign and reads its challenge bank
	// Opened says the campaign exists already: Run does not create it.
	// It must, too, when AdminToken is empty.
	Opened     bool
	JWTSecret  string // signs the users' HS256 JWTs
	Campaign   Campaign
	Users      int     // distinct users, one arrival each
	UserPrefix string  // user ids are UserPrefix + index; "u-" by default
	Rate       float64 // arrivals per second; 0 = closed loop
	// Concurrency is the number of workers in closed loop and the cap on
	// users in flight in open loop; 64 by default.
	Concurrency int
	// DuplicateClickRatio of the users click a second time at once (a
	// double click: a second claim, with its own challenge).
	DuplicateClickRatio float64
	// RetryOn5xx retries a click answered 5xx, 429 or not at all, with the
	// same Idempotency-Key and a fresh challenge, up to MaxRetries times.
	RetryOn5xx bool
	MaxRetries int // 3 by default
	// Pollers long-poll accepted claims to their final state
	// (GET /v1/claims/{id}?wait=Wait&state=<last seen>): each holds one
	// claim until its state changes, so a claim's decided and settled
	// times are when the engine answered the change. Keep Pollers at least
	// the claims outstanding at once, or a claim waits in the queue and its
	// times come late; 512 by default. Wait is 5s by default (the engine
	// caps it at 30s).
	Pollers int
	Wait    time.Duration
	// PollInterval is the fallback: a claim whose long poll came back
	// unchanged (an engine past its waiter bound answers at once) is not
	// asked again sooner than PollInterval after; 50ms by default.
	PollInterval time.Duration
	// Timeout bounds the wait for every claim to be final after the last
	// click; 2m by default.
	Timeout time.Duration
	// RequestTimeout bounds one HTTP call; 30s by default.
	RequestTimeout time.Duration
	// Sources are the local addresses the crowd's connections are dialled
	// from, in turn: on loopback each is a client IP of its own, so the
	// crowd is not one IP to the per-IP limit. None: the system picks.
	Sources []netip.Addr
	// Challenge answers the captcha. The default asks the public endpoint
	// and looks the image's entry up in the campaign's challenge bank,
	// read with AdminToken (operator access). AnswerDelay is the think
	// time of the default before it answers (match SURGE_CAPTCHA_MIN_AGE).
	Challenge   ChallengeFunc
	AnswerDelay time.Duration
	// ServerCPU, when set, returns the CPU time used so far by the servers
	// (see ChildrenCPU); Run reports its growth per decided claim.
	ServerCPU func() (time.Duration, error)
	// SkipChecks skips the invariant checks at the end.
	SkipChecks bool
	// Progress, when set, gets a line when each phase starts (warm-up,
	// the clicks, the checks) and one every ProgressEvery (5s) while the
	// crowd clicks: users arrived, claims accepted, claims not final yet.
	Progress      io.Writer
	ProgressEvery time.Duration
}

func (c *Config) fill() error {
	switch {
	case c.BaseURL == "":
		return errors.New("crowd: BaseURL is required")
	case c.JWTSecret == "":
		return errors.New("crowd: JWTSecret is required")
	case c.Campaign.ID == "" || (c.Campaign.SKU == "") != c.Campaign.rain():
		return errors.New("crowd: campaign id is required, and a sku for a sale (none for a rain)")
	case c.Campaign.rain() && c.Campaign.Budget < int64(c.Campaign.Stock):
		return errors.New("crowd: a rain needs a budget of at least a cent a packet")
	case c.Campaign.Stock < 0 || c.Campaign.Limit < 1:
		return errors.New("crowd: campaign needs stock >= 0 and per-user limit >= 1")
	case c.Users < 1:
		return errors.New("crowd: Users must be at least 1")
	case c.Rate < 0 || c.DuplicateClickRatio < 0 || c.DuplicateClickRatio > 1:
		return errors.New("crowd: Rate must be >= 0 and DuplicateClickRatio in [0, 1]")
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Campaign.ExpectedCrowd, 2*c.Users)
	def(&c.Concurrency, 64)
	def(&c.MaxRetries, 3)
	def(&c.Pollers, 512)
	defDur(&c.Wait, 5*time.Second)
	defDur(&c.PollInterval, 50*time.Millisecond)
	defDur(&c.Timeout, 2*time.Minute)
	defDur(&c.RequestTimeout, 30*time.Second)
	defDur(&c.ProgressEvery, 5*time.Second)
	if c.UserPrefix == "" {
		c.UserPrefix = "u-"
	}
	if c.Campaign.Price == 0 {
		c.Campaign.Price = 9900
	}
	return nil
}

// Run creates and warms the campaign (with AdminToken, unless Opened),
// signs the users' JWTs, fires the crowd, polls every accepted claim to
// its final state and checks the invariants. An error means the run could not be
// made; failed invariants are in Result.Invariants (see Result.Failed).
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.fill(); err != nil {
		return Result{}, err
	}
	r, err := newRunner(cfg)
	if err != nil {
		return Result{}, err
	}
	if cfg.AdminToken != "" && !cfg.Opened {
		r.progressf("creating and warming up %s (a captcha campaign renders its challenge bank)", cfg.Campaign.ID)
		if err := r.api.open(ctx, cfg.AdminToken, cfg.Campaign); err != nil {
			return Result{}, err
		}
	}
	cpu0, err := r.serverCPU()
	if err != nil {
		return Result{}, err
	}
	client0 := clientCPU()
	if err := r.run(ctx); err != nil {
		return Result{}, err
	}
	cpu1, err := r.serverCPU()
	if err != nil {
		return Result{}, err
	}
	res := r.result()
	res.ServerCPUSeconds = (cpu1 - cpu0).Seconds()
	res.ClientCPUSeconds = (clientCPU() - client0).Seconds()
	res.Cores = runtime.NumCPU()
	if n := res.Counts.Decided; n > 0 {
		res.ServerCPUPerClaimMicros = res.ServerCPUSeconds * 1e6 / float64(n)
	}
	if !cfg.SkipChecks {
		r.progressf("checking the invariants of %s through the public API", cfg.Campaign.ID)
		res.Invariants = r.check(ctx)
	}
	return res, nil
}

func (r *runner) serverCPU() (time.Duration, error) {
	if r.cfg.ServerCPU == nil {
		return 0, nil
	}
	d, err := r.cfg.ServerCPU()
	if err != nil {
		return 0, fmt.Errorf("crowd: server cpu: %w", err)
	}
	return d, nil
}
