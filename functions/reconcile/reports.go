package main

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/fn"
	"github.com/surgekit/surge/shared/httpapi"
	"github.com/surgekit/surge/shared/s3json"
)

// Listing limits of GET /v1/campaigns/{id}/reconcile: ?limit= defaults to
// defaultLimit, at most maxLimit; at most scanFactor×limit reports are
// read to find them (a report of an on-demand pass holds one campaign).
const (
	defaultLimit = 20
	maxLimit     = 100
	scanFactor   = 4
)

var (
	errNoCampaign = httpapi.Errorf(http.StatusNotFound, "campaign_not_found", "no such campaign")
	errLimit      = httpapi.Errorf(http.StatusBadRequest, "invalid_limit", "limit must be 1..%d", maxLimit)
)

// CampaignPass is one campaign's part of a stored report, as listed.
type CampaignPass struct {
	Key        string         `json:"key"`
	EventID    string         `json:"event_id"`
	StartedAt  time.Time      `json:"started_at"`
	FinishedAt time.Time      `json:"finished_at"`
	Campaign   CampaignReport `json:"campaign"`
}

// reportsAPI serves the operator's reconcile calls of one plane; the
// admin token is checked before (adminPlane).
type reportsAPI struct {
	f   *Function
	mux *http.ServeMux
}

func newReportsAPI(f *Function) *reportsAPI {
	a := &reportsAPI{f: f, mux: http.NewServeMux()}
	a.mux.HandleFunc("GET /v1/campaigns/{id}/reconcile", a.list)
	a.mux.HandleFunc("POST /v1/campaigns/{id}/reconcile", a.run)
	a.mux.HandleFunc("/", httpapi.NotFound)
	return a
}

func (a *reportsAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) { fn.Serve(a.mux, w, r) }

// run is POST /v1/campaigns/{id}/reconcile: a pass over that campaign
// now, its report stored and its alerts raised like a tick's, answered.
func (a *reportsAPI) run(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	report, err := a.f.passNow(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, report)
}

// list is GET /v1/campaigns/{id}/reconcile?limit=: the campaign's part
// of the latest reports, newest first.
func (a *reportsAPI) list(w http.ResponseWriter, r *http.Request) {
	limit, err := limitOf(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	passes, err := a.f.passesOf(r.Context(), r.PathValue("id"), limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"reports": passes})
}

// fail answers err, logging what is not the caller's fault.
func (a *reportsAPI) fail(w http.ResponseWriter, r *http.Request, err error) {
	var apiErr *httpapi.Error
	if !errors.As(err, &apiErr) || apiErr.Status >= 500 {
		a.f.cfg.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err.Error())
	}
	httpapi.WriteError(w, err)
}

func limitOf(r *http.Request) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxLimit {
		return 0, errLimit
	}
	return n, nil
}

// passNow runs an on-demand pass over campaign id.
func (f *Function) passNow(ctx context.Context, id string) (Report, error) {
	if err := f.known(ctx, id); err != nil {
		return Report{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, f.cfg.PassTimeout)
	defer cancel()
	now := f.cfg.Now().UTC()
	report, err := f.passOver(ctx, "on-demand-"+id+"-"+strconv.FormatInt(now.UnixNano(), 10), now, now, []string{id})
	if err != nil {
		return report, err
	}
	f.logReport(report)
	return report, f.raisePass(ctx, report)
}

// passesOf reads this plane's reports newest first (their keys sort by
// time) and keeps campaign id's part of up to limit of them.
func (f *Function) passesOf(ctx context.Context, id string, limit int) ([]CampaignPass, error) {
	if err := f.known(ctx, id); err != nil {
		return nil, err
	}
	keys, err := f.reportKeys(ctx)
	if err != nil {
		return nil, err
	}
	slices.Reverse(keys)
	out := []CampaignPass{}
	for i := 0; i < len(keys) && i < scanFactor*limit && len(out) < limit; i++ {
		r, err := f.readReport(ctx, keys[i])
		if err != nil {
			return nil, err
		}
		if c, ok := r.campaign(id); ok {
			out = append(out, CampaignPass{Key: r.Key, EventID: r.EventID, StartedAt: r.StartedAt,
				FinishedAt: r.FinishedAt, Campaign: c})
		}
	}
	return out, nil
}

func (r Report) campaign(id string) (CampaignReport, bool) {
	for _, c := range r.Campaigns {
		if c.ID == id {
			return c, true
		}
	}
	return CampaignReport{}, false
}

// known answers errNoCampaign unless campaign id is in PostgreSQL.
func (f *Function) known(ctx context.Context, id string) error {
	if !campaign.ValidID(id) {
		return errNoCampaign
	}
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	_, err := f.campaigns.Get(ctx, id)
	if errors.Is(err, campaign.ErrNotFound) {
		return errNoCampaign
	}
	return err
}

// reportKeys lists this plane's report keys, oldest first.
func (f *Function) reportKeys(ctx context.Context) ([]string, error) {
	return s3json.Keys(ctx, f.cfg.S3, f.cfg.Bucket, f.cfg.Plane.ObjectPrefix()+"reconcile/", "", f.cfg.Timeout)
}

func (f *Function) readReport(ctx context.Context, key string) (Report, error) {
	var r Report
	err := s3json.Read(ctx, f.cfg.S3, f.cfg.Bucket, key, f.cfg.Timeout, &r)
	return r, err
}
