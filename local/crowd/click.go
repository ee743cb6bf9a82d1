package crowd

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"
)

type claimBody struct {
	SKU         string `json:"sku,omitempty"` // none on a rain
	Qty         int    `json:"qty"`
	ChallengeID string `json:"challenge_id,omitempty"`
	Answer      string `json:"answer,omitempty"`
}

type acceptedBody struct {
	ClaimID string `json:"claim_id"`
}

// click sends c until it is accepted, refused for good, or out of retries,
// and queues an accepted claim for polling.
func (r *runner) click(ctx context.Context, c *click) {
	user, tok := r.users[c.user], r.tokens[c.user]
	path := "/v1/campaigns/" + r.cfg.Campaign.ID + "/claims"
	for attempt := 0; ctx.Err() == nil; attempt++ {
		body := claimBody{SKU: r.cfg.Campaign.SKU, Qty: 1}
		if r.cfg.Campaign.Captcha {
			asked := time.Now()
			id, answer, err := r.cfg.Challenge(ctx, r.cfg.Campaign.ID, user)
			if errors.Is(err, ErrSoldOut) { // the whole sale is gone: no challenge, no claim
				if c.sent.IsZero() {
					c.sent = asked // its latency is the challenge call's
				}
				c.soldOut(time.Now())
				return
			}
			if err != nil {
				r.countErr("challenge", 0, err)
				if !r.retry(ctx, attempt, 0) {
					return
				}
				continue
			}
			body.ChallengeID, body.Answer = id, answer
		}
		if c.sent.IsZero() {
			c.sent = time.Now()
		}
		c.attempts++
		rep, err := r.api.do(ctx, http.MethodPost, path, tok, body, "Idempotency-Key", c.key)
		c.status = rep.status
		if err == nil && rep.status == http.StatusAccepted {
			r.accept(c, rep.body)
			return
		}
		if err == nil && soldOut(rep) {
			c.soldOut(time.Now())
			return
		}
		r.countErr("claim", rep.status, err)
		if !retryable(rep.status) || !r.retry(ctx, attempt, rep.retryAfter) {
			return
		}
	}
}

func (r *runner) accept(c *click, body []byte) {
	c.accepted = time.Now()
	var a acceptedBody
	if err := json.Unmarshal(body, &a); err != nil || a.ClaimID == "" {
		r.countErr("claim bad-body", http.StatusAccepted, nil)
		return
	}
	c.claimID = a.ClaimID
	c.due = c.accepted
	r.outstanding.Add(1)
	r.taken.Add(1)
	r.queue <- c
}

// soldOut reports whether rep is the final 409 sold_out answer captcha
// gives once the SKU has no unit left.
func soldOut(rep reply) bool {
	if rep.status != http.StatusConflict {
		return false
	}
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	return json.Unmarshal(rep.body, &e) == nil && e.Error.Code == "sold_out"
}

// retryable: no answer at all (status 0), overload or a server error.
func retryable(status int) bool {
	return status == 0 || status == http.StatusTooManyRequests || status >= 500
}

// retry waits before attempt+1 (Retry-After, else 50ms doubling) and says
// whether to make it.
func (r *runner) retry(ctx context.Context, attempt int, after time.Duration) bool {
	if !r.cfg.RetryOn5xx || attempt >= r.cfg.MaxRetries {
		return false
	}
	if after <= 0 {
		after = 50 * time.Millisecond << attempt
	}
	sleep(ctx, after)
	return ctx.Err() == nil
}

// poll takes claims in turn and long-polls each until its state changes,
// requeueing it until it is final, until the run is done. A claim whose
// answer came back unchanged is due PollInterval after that poll began
// (the fallback when the engine answers at once); one that changed is due
// at once. Claims are queued in order, so the queue stays about sorted.
func (r *runner) poll(ctx context.Context) {
	for {
		var c *click
		select {
		case c = <-r.queue:
		case <-r.done:
			return
		case <-ctx.Done():
			return
		}
		if d := time.Until(c.due); d > 0 {
			sleep(ctx, d)
		}
		if ctx.Err() != nil {
			return
		}
		began, before := time.Now(), c.state
		r.pollOnce(ctx, c)
		if c.final() {
			if r.outstanding.Add(-1) == 0 && r.fired.Load() {
				r.finish()
			}
			continue
		}
		c.due = time.Now()
		if c.state == before {
			c.due = began.Add(r.cfg.PollInterval)
		}
		r.queue <- c
	}
}

// pollOnce long-polls c: the engine answers when the claim leaves the
// state last seen (or at once when it has), or when the wait runs out.
func (r *runner) pollOnce(ctx context.Context, c *click) {
	q := url.Values{"wait": {r.cfg.Wait.String()}}
	if c.state != "" {
		q.Set("state", c.state)
	}
	rep, err := r.api.do(ctx, http.MethodGet, "/v1/claims/"+c.claimID+"?"+q.Encode(), r.tokens[c.user], nil)
	if err != nil || rep.status != http.StatusOK {
		if ctx.Err() == nil {
			r.countErr("poll", rep.status, err)
		}
		return
	}
	var st claimStatus
	if err := json.Unmarshal(rep.body, &st); err != nil {
		r.countErr("poll bad-body", rep.status, nil)
		return
	}
	now := time.Now()
	c.state, c.reason, c.orderNo = st.State, st.Reason, st.OrderNo
	if st.State != "pending" && st.State != "" && c.decided.IsZero() {
		c.decided = now
	}
	if st.State == "settled" && c.settled.IsZero() {
		c.settled = now
	}
}
