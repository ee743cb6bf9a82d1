package main

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/surgekit/surge/shared/s3json"
)

// Verdict is the last reconcile pass over a campaign, from its report.
type Verdict struct {
	ReportKey  string    `json:"report_key"`
	FinishedAt time.Time `json:"finished_at"`
	Mismatch   bool      `json:"mismatch"`
	Taken      int       `json:"taken"`
	Accounted  int       `json:"accounted"`
	Difference int       `json:"difference"`
	Repairs    int       `json:"repairs"`
	Rebuilt    bool      `json:"rebuilt"`
}

// passReport is the part of a reconcile report (functions/reconcile,
// Report, written to S3 as reconcile/<UTC time>-<event id>.json) a
// verdict is read from.
type passReport struct {
	Key        string    `json:"key"`
	FinishedAt time.Time `json:"finished_at"`
	Campaigns  []struct {
		ID         string          `json:"campaign_id"`
		Mismatch   bool            `json:"mismatch"`
		Taken      int             `json:"taken"`
		Accounted  int             `json:"accounted"`
		Difference int             `json:"difference"`
		Repairs    int             `json:"repairs"`
		Rebuild    json.RawMessage `json:"rebuild"`
	} `json:"campaigns"`
}

// Verdicts keeps the last reconcile verdict of every campaign of a plane.
// It reads the reports reconcile writes, only those newer than the last
// it read (their keys sort by time), at most every verdictsEvery, and of
// a long backlog of them only the newest maxNewReports.
type Verdicts struct {
	store   s3json.Store
	bucket  string
	prefix  string // <plane prefix>reconcile/
	timeout time.Duration
	now     func() time.Time

	mu      sync.Mutex
	checked time.Time
	after   string // the newest report key read
	failed  error  // of the last refresh
	last    map[string]Verdict
}

const (
	verdictsEvery = 5 * time.Second
	maxNewReports = 20
)

// NewVerdicts reads the reports under prefix (the plane's object prefix)
// in bucket; nil when store is nil (no verdict is ever shown).
func NewVerdicts(store s3json.Store, bucket, prefix string, timeout time.Duration) *Verdicts {
	if store == nil {
		return nil
	}
	return &Verdicts{store: store, bucket: bucket, prefix: prefix + "reconcile/", timeout: timeout,
		now: time.Now, last: map[string]Verdict{}}
}

// of is campaign's last verdict, nil when none is known, and the error
// of the last read of the reports when it failed: the verdicts known so
// far are kept meanwhile.
func (v *Verdicts) of(ctx context.Context, campaign string) (*Verdict, error) {
	if v == nil {
		return nil, nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.now().Sub(v.checked) >= verdictsEvery {
		v.checked = v.now()
		v.failed = v.refresh(ctx)
	}
	if got, ok := v.last[campaign]; ok {
		return &got, v.failed
	}
	return nil, v.failed
}

func (v *Verdicts) refresh(ctx context.Context) error {
	keys, err := v.newKeys(ctx)
	if err != nil || len(keys) == 0 {
		return err
	}
	for _, key := range keys[max(len(keys)-maxNewReports, 0):] {
		r, err := v.read(ctx, key)
		if err != nil {
			return err
		}
		for _, c := range r.Campaigns {
			v.last[c.ID] = Verdict{ReportKey: key, FinishedAt: r.FinishedAt, Mismatch: c.Mismatch, Taken: c.Taken,
				Accounted: c.Accounted, Difference: c.Difference, Repairs: c.Repairs,
				Rebuilt: len(c.Rebuild) > 0 && string(c.Rebuild) != "null"}
		}
	}
	v.after = keys[len(keys)-1]
	return nil
}

// newKeys lists the report keys after the newest read.
func (v *Verdicts) newKeys(ctx context.Context) ([]string, error) {
	return s3json.Keys(ctx, v.store, v.bucket, v.prefix, v.after, v.timeout)
}

func (v *Verdicts) read(ctx context.Context, key string) (passReport, error) {
	var r passReport
	err := s3json.Read(ctx, v.store, v.bucket, key, v.timeout, &r)
	return r, err
}
