package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/captcha"
	"github.com/surgekit/surge/shared/httpapi"
)

// issueChallenge: POST /v1/campaigns/{id}/challenges → 201
// {challenge_id, image_url, expires_at}. The image URL is a presigned GET
// of the bank entry's image, valid until the challenge expires.
//
//	404 campaign_not_found  no such campaign, or not warmed up
//	404 no_challenge_bank   the campaign has no bank (no captcha)
//	409 sold_out            every item of the sale is sold out: no challenge
//	                        is leased for a claim that could only be refused
//	503 challenges_in_use   every entry of the bank is held (Retry-After)
func (f *Function) issueChallenge(w http.ResponseWriter, r *http.Request) {
	ch, err := f.challenge(r)
	if err != nil {
		f.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusCreated, ch)
}

func (f *Function) challenge(r *http.Request) (captcha.Challenge, error) {
	user, err := f.user(r)
	if err != nil {
		return captcha.Challenge{}, err
	}
	ctx, cancel := context.WithTimeout(r.Context(), f.d.Timeout)
	defer cancel()
	id := r.PathValue("id")
	spec, err := f.specs.Get(ctx, id)
	if err != nil {
		return captcha.Challenge{}, err
	}
	if f.soldOut(spec) {
		return captcha.Challenge{}, errCampaignSoldOut
	}
	if err := f.limit(ctx, r, spec, user, scopeChallenge); err != nil {
		return captcha.Challenge{}, err
	}
	ch, err := f.d.Challenges.Issue(ctx, id, user)
	return ch, issueError(err)
}

// errCampaignSoldOut answers a challenge asked for a sale with no unit left.
var errCampaignSoldOut = httpapi.Errorf(http.StatusConflict, "sold_out", "sold out: no unit of any item is left")

// soldOut reports whether this instance's board flags every item of a sale.
// A click told sold out never answers its challenge, so without this the
// crowd arriving after the sell-out would hold every bank entry until its
// lease ends, and the bank would run dry for nothing.
func (f *Function) soldOut(spec *campaign.Campaign) bool {
	lots := spec.Lots()
	if len(lots) == 0 {
		return false
	}
	for _, it := range lots {
		if !f.d.SoldOut.SoldOut(spec.ID, it.SKU) {
			return false
		}
	}
	return true
}

func issueError(err error) error {
	switch {
	case errors.Is(err, captcha.ErrNoBank):
		return httpapi.Errorf(http.StatusNotFound, "no_challenge_bank", "this campaign has no challenges")
	case errors.Is(err, captcha.ErrBankExhausted):
		return httpapi.Errorf(http.StatusServiceUnavailable, "challenges_in_use", "every challenge is in use; retry shortly")
	default:
		return err
	}
}

// Public codes of a failed challenge answer. Nothing is published for any.
//
//	400 challenge_required  the campaign needs challenge_id and answer
//	400 wrong_answer        the answer is wrong (the challenge is used up)
//	400 answer_too_soon     answered sooner than the minimum delay (used up)
//	410 challenge_expired   answered after its expiry
//	410 challenge_gone      unknown, already used, or not the caller's
func answerError(err error) error {
	switch {
	case errors.Is(err, captcha.ErrWrongAnswer):
		return httpapi.Errorf(http.StatusBadRequest, "wrong_answer", "wrong answer; request a new challenge")
	case errors.Is(err, captcha.ErrTooSoon):
		return httpapi.Errorf(http.StatusBadRequest, "answer_too_soon", "answered too soon; request a new challenge")
	case errors.Is(err, captcha.ErrExpired):
		return httpapi.Errorf(http.StatusGone, "challenge_expired", "challenge expired; request a new one")
	case errors.Is(err, captcha.ErrUnknownChallenge):
		return httpapi.Errorf(http.StatusGone, "challenge_gone", "challenge unknown or already used; request a new one")
	default:
		return err
	}
}
