package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/httpapi"
	"github.com/surgekit/surge/shared/metrics"
	"github.com/surgekit/surge/shared/plane"
	"github.com/surgekit/surge/shared/switches"
)

// claimBody is a click. The challenge fields are ignored when the campaign
// has no captcha.
type claimBody struct {
	SKU         string `json:"sku"`
	Qty         int    `json:"qty"`
	ChallengeID string `json:"challenge_id"`
	Answer      string `json:"answer"`
}

// Accepted is the 202 answer to a claim.
type Accepted struct {
	ClaimID   string `json:"claim_id"`
	StatusURL string `json:"status_url"`
}

func accepted(id string) Accepted { return Accepted{ClaimID: id, StatusURL: "/v1/claims/" + id} }

// errSoldOut is the final answer to a click on a SKU this instance knows
// to have no unit left: nothing is recorded or published for it.
var errSoldOut = httpapi.Errorf(http.StatusConflict, "sold_out", "sold out: no unit of this item is left")

// errPublish: the broker did not take the claim; the client retries.
var errPublish = httpapi.Errorf(http.StatusServiceUnavailable, "unavailable", "claim not accepted, retry shortly")

// acceptClaim: POST /v1/campaigns/{id}/claims → 202 Accepted.
// Past MaxInflight claims at once it sheds at once, before any Redis or
// broker work: a 503 now beats a timeout later.
// Every answer is counted (metrics.Click): accepted, or refused by its
// error code.
func (f *Function) acceptClaim(w http.ResponseWriter, r *http.Request) {
	a, err := f.admit(w, r)
	if err != nil {
		metrics.Click(metrics.Refused, refusal(err))
		f.fail(w, r, err)
		return
	}
	metrics.Click(metrics.Accepted, "")
	httpapi.WriteJSON(w, http.StatusAccepted, a)
}

// admit runs a click past the degrade switches and the in-flight bound,
// then claims.
func (f *Function) admit(w http.ResponseWriter, r *http.Request) (Accepted, error) {
	sw := f.d.Switches.Now()
	if err := f.degraded(sw); err != nil {
		return Accepted{}, err
	}
	if !f.enter() {
		return Accepted{}, errOverloaded
	}
	defer f.leave()
	return f.claim(w, r, sw)
}

// claim runs the funnel: auth, campaign, body, the local sold-out flag,
// rate limits, idempotent replay, captcha, then records and publishes the
// claim.
// Nothing is written or published unless every check before passed. A
// retried click is replayed before the flag is read: a claim accepted
// before the sale sold out keeps its 202, whatever it was decided.
// Every click of a known campaign by an authenticated user is counted in
// the campaign's statistics, accepted or refused by its error code.
// The degrade switches sw may declare the SKU sold out (answered as the
// local flag is) or let the campaign's claims skip the captcha.
func (f *Function) claim(w http.ResponseWriter, r *http.Request, sw *switches.Snapshot) (_ Accepted, err error) {
	user, err := f.user(r)
	if err != nil {
		return Accepted{}, err
	}
	spec, err := f.campaign(r)
	if err != nil {
		return Accepted{}, err
	}
	defer func() { f.d.Stats.Click(spec.ID, user, refusal(err)) }()
	var body claimBody
	if err := httpapi.DecodeJSON(w, r, &body); err != nil {
		return Accepted{}, err
	}
	captcha := spec.Captcha && !sw.SkipCaptcha(spec.ID)
	if err := validate(spec, captcha, &body); err != nil {
		return Accepted{}, err
	}
	soldOut := f.d.SoldOut.SoldOut(spec.ID, body.SKU) || sw.SoldOut(spec.ID, body.SKU)
	if soldOut && r.Header.Get("Idempotency-Key") == "" { // no earlier attempt to replay: no Redis at all
		return Accepted{}, errSoldOut
	}
	id, idempotent, err := claimID(r, f.d.Plane, spec.ID, user)
	if err != nil {
		return Accepted{}, err
	}
	ctx, cancel := context.WithTimeout(r.Context(), f.d.Timeout)
	defer cancel()
	// The limits come after the sold-out answer, which costs nothing and
	// spends no token, and before any Redis write: a click over a limit
	// reads no record, consumes no challenge and reserves nothing.
	if err := f.limit(ctx, r, spec, user, scopeClaim); err != nil {
		return Accepted{}, err
	}
	if idempotent && (soldOut || captcha) { // the first attempt used the challenge up
		if found, err := f.replay(ctx, id, user, body); found || err != nil {
			return accepted(id), err
		}
	}
	if soldOut {
		return Accepted{}, errSoldOut
	}
	if captcha {
		if err := f.d.Challenges.Answer(ctx, spec.ID, user, body.ChallengeID, body.Answer); err != nil {
			return Accepted{}, answerError(err)
		}
	}
	return accepted(id), f.submit(ctx, claim.Record{ID: id, CampaignID: spec.ID, UserID: user, SKU: body.SKU, Qty: body.Qty})
}

// refusal is the statistics' and the metrics' name of a click's outcome:
// "" when it was accepted, else its error code (internal for a failure of
// ours), one of the codes this function writes.
func refusal(err error) string {
	var apiErr *httpapi.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &apiErr):
		return apiErr.Code
	default:
		return "internal"
	}
}

func (f *Function) campaign(r *http.Request) (*campaign.Campaign, error) {
	return f.specs.Get(r.Context(), r.PathValue("id"))
}

// validate checks a click against the campaign's spec and fills in the
// lot it claims: a sale's click names its SKU; a rain's names none and
// grabs one packet (qty 1 when left out). The challenge fields are
// required when captcha (the campaign's, unless a switch skips it).
func validate(spec *campaign.Campaign, captcha bool, b *claimBody) error {
	bad := func(code, format string, args ...any) error {
		return httpapi.Errorf(http.StatusBadRequest, code, format, args...)
	}
	lot, err := spec.ClaimLot(b.SKU)
	switch {
	case err != nil && spec.Kind == campaign.KindRain:
		return bad("sku_on_rain", "%v", err)
	case err != nil && b.SKU == "":
		return bad("missing_sku", "%v", err)
	case err != nil:
		return bad("unknown_sku", "%v", err)
	}
	b.SKU = lot
	if spec.Kind == campaign.KindRain && b.Qty == 0 {
		b.Qty = 1
	}
	switch {
	case b.Qty < 1:
		return bad("invalid_qty", "qty must be at least 1")
	case b.Qty > spec.PerUserLimit:
		return bad("qty_over_limit", "qty %d is over the per-user limit %d", b.Qty, spec.PerUserLimit)
	case spec.Kind == campaign.KindRain && b.Qty != 1:
		return bad("invalid_qty", "a grab takes one packet")
	}
	if captcha && (b.ChallengeID == "" || b.Answer == "") {
		return bad("challenge_required", "this campaign needs challenge_id and answer")
	}
	return nil
}

// submit records the claim as pending and publishes it; a claim that
// exists already (a retried click) is answered as a replay, from the
// record the same round trip returned. When the broker does not take the
// claim in time, the claim is refused and the client told to retry.
func (f *Function) submit(ctx context.Context, rec claim.Record) error {
	rec.CreatedAt = f.d.Now().UTC().Truncate(time.Millisecond)
	got, created, err := f.d.Claims.CreateOrGet(ctx, rec)
	if err != nil {
		return err
	}
	if !created {
		return f.resume(ctx, got, rec.UserID, rec.SKU, rec.Qty)
	}
	if err := f.publish(ctx, got); err != nil {
		return f.unpublished(rec.ID, err)
	}
	return nil
}

// publish sends claim.requested within PublishTimeout: a broker slower
// than that is a broker that did not take the claim.
func (f *Function) publish(ctx context.Context, rec claim.Record) error {
	ctx, cancel := context.WithTimeout(ctx, f.d.PublishTimeout)
	defer cancel()
	return f.d.Sink.Send(ctx, requested(rec, f.d.Plane))
}

// unpublished ends an attempt whose publish failed or timed out. The
// broker may have stored the event all the same, so the claim is not
// deleted but refused: a tombstone on which the pre-deduct script drops
// the event. A claim decided already was stored after all, and the client
// is told 202.
func (f *Function) unpublished(id string, sendErr error) error {
	state, err := f.abandon(id)
	if err == nil && state != claim.Refused && state != claim.Pending {
		return nil
	}
	return fmt.Errorf("%w: publish claim %s: %w", errPublish, id, errors.Join(sendErr, err))
}

// abandon ends an attempt at a pending claim that did not publish it (see
// claim.Store.Refuse), on a context of its own: the request's may be what
// ran out.
func (f *Function) abandon(id string) (state string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), f.d.Timeout)
	defer cancel()
	return f.d.Claims.Refuse(ctx, id)
}

// requested is the claim.requested event of rec on plane p; built from the
// record so a republished claim is the very same event (same id, same
// time). The plane is set here, as the event is made: whatever is computed
// over the event after (a signature) covers it.
func requested(rec claim.Record, p plane.Plane) event.Event {
	e := events.ClaimRequestedEpoch(events.ClaimRequestedData{
		ClaimID: rec.ID, CampaignID: rec.CampaignID, UserID: rec.UserID,
		SKU: rec.SKU, Qty: rec.Qty, RequestedAt: rec.CreatedAt,
	}, rec.Epoch)
	plane.Mark(&e, p)
	return e
}
