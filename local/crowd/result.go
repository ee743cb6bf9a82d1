package crowd

import (
	"math"
	"slices"
	"time"
)

// Result is one run, JSON-serialisable (.surge/bench/latest.json).
// Latencies are in milliseconds from a click's first attempt; rates are
// per second from the first click to the last event of their kind.
type Result struct {
	Campaign            Campaign  `json:"campaign"`
	Mode                string    `json:"mode"` // "closed" or "open"
	Users               int       `json:"users"`
	Rate                float64   `json:"rate,omitempty"`
	Concurrency         int       `json:"concurrency"`
	DuplicateClickRatio float64   `json:"duplicate_click_ratio"`
	StartedAt           time.Time `json:"started_at"`
	Seconds             float64   `json:"seconds"` // first click to last final state

	Counts     Counts         `json:"counts"`
	Throughput Throughput     `json:"throughput"`
	Latency    Latencies      `json:"latency_ms"`
	Errors     map[string]int `json:"errors"` // "claim 503", "poll transport", … per attempt

	Cores                   int     `json:"cores"`
	ServerCPUSeconds        float64 `json:"server_cpu_seconds"`
	ServerCPUPerClaimMicros float64 `json:"server_cpu_per_claim_us"`
	ClientCPUSeconds        float64 `json:"client_cpu_seconds"`

	Series     []Second `json:"series"`
	Invariants []Check  `json:"invariants"`

	// Winners are the users who won a claim (reserved, settled or
	// released), each once; not in the report.
	Winners []string `json:"-"`
}

// Counts of clicks and claims.
type Counts struct {
	Clicks       int            `json:"clicks"`   // users plus double clicks
	Attempts     int            `json:"attempts"` // claim requests, retries included
	Accepted     int            `json:"accepted"` // answered 202
	Failed       int            `json:"failed"`   // never accepted
	Decided      int            `json:"decided"`  // known reserved or rejected
	Winners      int            `json:"winners"`  // reserved, settled or released
	Settled      int            `json:"settled"`
	Rejected     int            `json:"rejected"`
	Reasons      map[string]int `json:"reasons"` // rejection reasons
	Unfinished   int            `json:"unfinished"`
	LateArrivals int            `json:"late_arrivals"` // open loop only
}

// Throughput overall and per path: the winning path (reserved → settled)
// and the sold-out path (rejected).
type Throughput struct {
	AcceptedPerSec float64 `json:"accepted_per_sec"`
	DecidedPerSec  float64 `json:"decided_per_sec"`
	SettledPerSec  float64 `json:"settled_per_sec"`
	Win            Path    `json:"win"`
	SoldOut        Path    `json:"sold_out"`
}

// Path is the throughput of one kind of claim.
type Path struct {
	Claims        int     `json:"claims"`
	DecidedPerSec float64 `json:"decided_per_sec"`
	SettledPerSec float64 `json:"settled_per_sec,omitempty"`
}

// Latencies of all claims, then per path.
type Latencies struct {
	Accept        Percentiles `json:"accept"`
	Decide        Percentiles `json:"decide"`
	Settle        Percentiles `json:"settle"`
	WinDecide     Percentiles `json:"win_decide"`
	SoldOutDecide Percentiles `json:"sold_out_decide"`
}

// Percentiles in milliseconds, nearest rank.
type Percentiles struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Second is one second of the run (T from the first click).
type Second struct {
	T        int `json:"t"`
	Sent     int `json:"sent"`
	Accepted int `json:"accepted"`
	Decided  int `json:"decided"`
	Settled  int `json:"settled"`
}

// Check is one invariant.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Failed returns the invariants that did not hold.
func (r Result) Failed() []Check {
	var out []Check
	for _, c := range r.Invariants {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

func (r *runner) result() Result {
	res := Result{
		Campaign: r.cfg.Campaign, Mode: "closed", Users: r.cfg.Users, Rate: r.cfg.Rate,
		Concurrency: r.cfg.Concurrency, DuplicateClickRatio: r.cfg.DuplicateClickRatio,
		Errors: r.errs, Counts: Counts{Reasons: map[string]int{}, LateArrivals: r.late},
	}
	if r.cfg.Rate > 0 {
		res.Mode = "open"
	}
	start := r.start()
	res.StartedAt = start
	var s samples
	won := make(map[int]bool)
	for _, c := range r.clicks {
		s.add(&res.Counts, c, start)
		if c.won() && !won[c.user] {
			won[c.user] = true
			res.Winners = append(res.Winners, r.users[c.user])
		}
	}
	res.Seconds = s.last.Sub(start).Seconds()
	res.Throughput = Throughput{
		AcceptedPerSec: rate(res.Counts.Accepted, start, s.lastAccepted),
		DecidedPerSec:  rate(res.Counts.Decided, start, s.lastDecided),
		SettledPerSec:  rate(res.Counts.Settled, start, s.lastSettled),
		Win: Path{Claims: res.Counts.Winners, DecidedPerSec: rate(res.Counts.Winners, start, s.lastWin),
			SettledPerSec: rate(res.Counts.Settled, start, s.lastSettled)},
		SoldOut: Path{Claims: res.Counts.Rejected, DecidedPerSec: rate(res.Counts.Rejected, start, s.lastRejected)},
	}
	res.Latency = Latencies{
		Accept: percentiles(s.accept), Decide: percentiles(s.decide), Settle: percentiles(s.settle),
		WinDecide: percentiles(s.winDecide), SoldOutDecide: percentiles(s.soldOutDecide),
	}
	res.Series = series(r.clicks, start)
	return res
}

// start is the first click's first attempt.
func (r *runner) start() time.Time {
	var t time.Time
	for _, c := range r.clicks {
		if !c.sent.IsZero() && (t.IsZero() || c.sent.Before(t)) {
			t = c.sent
		}
	}
	return t
}

// samples gathers the latencies (ms) and the last time of each event.
type samples struct {
	accept, decide, settle, winDecide, soldOutDecide []float64

	last, lastAccepted, lastDecided, lastSettled, lastWin, lastRejected time.Time
}

func (s *samples) add(n *Counts, c *click, start time.Time) {
	n.Clicks++
	n.Attempts += c.attempts
	if c.accepted.IsZero() {
		n.Failed++
		return
	}
	n.Accepted++
	s.accept = append(s.accept, ms(c.accepted.Sub(c.sent)))
	later(&s.lastAccepted, c.accepted)
	later(&s.last, c.accepted)
	if !c.final() {
		n.Unfinished++
	}
	if c.decided.IsZero() {
		return
	}
	n.Decided++
	d := ms(c.decided.Sub(c.sent))
	s.decide = append(s.decide, d)
	later(&s.lastDecided, c.decided)
	later(&s.last, c.decided)
	if c.state == "rejected" {
		n.Rejected++
		n.Reasons[c.reason]++
		s.soldOutDecide = append(s.soldOutDecide, d)
		later(&s.lastRejected, c.decided)
		return
	}
	n.Winners++
	s.winDecide = append(s.winDecide, d)
	later(&s.lastWin, c.decided)
	if !c.settled.IsZero() {
		n.Settled++
		s.settle = append(s.settle, ms(c.settled.Sub(c.sent)))
		later(&s.lastSettled, c.settled)
		later(&s.last, c.settled)
	}
}

func later(t *time.Time, u time.Time) {
	if u.After(*t) {
		*t = u
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func rate(n int, from, to time.Time) float64 {
	if n == 0 || !to.After(from) {
		return 0
	}
	return float64(n) / to.Sub(from).Seconds()
}

func percentiles(v []float64) Percentiles {
	if len(v) == 0 {
		return Percentiles{}
	}
	slices.Sort(v)
	at := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(v)))) - 1
		return v[max(i, 0)]
	}
	return Percentiles{N: len(v), P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: v[len(v)-1]}
}

// series counts each event in the second it happened.
func series(clicks []*click, start time.Time) []Second {
	var out []Second
	bump := func(t time.Time, f func(*Second)) {
		if t.IsZero() {
			return
		}
		i := max(int(t.Sub(start)/time.Second), 0)
		for len(out) <= i {
			out = append(out, Second{T: len(out)})
		}
		f(&out[i])
	}
	for _, c := range clicks {
		bump(c.sent, func(s *Second) { s.Sent++ })
		bump(c.accepted, func(s *Second) { s.Accepted++ })
		bump(c.decided, func(s *Second) { s.Decided++ })
		bump(c.settled, func(s *Second) { s.Settled++ })
	}
	return out
}
