package main

import (
	"context"
	"net/http"

	"github.com/surgekit/surge/shared/httpapi"
)

// BankAnswers is the operator's read of a challenge bank: entry id (the
// name of its image, see captcha.EntryOf) → answer. Load tools (the crowd,
// the bench) answer challenges with it; the public API never shows it.
type BankAnswers struct {
	CampaignID string            `json:"campaign_id"`
	Answers    map[string]string `json:"answers"`
}

// challengeBank: GET /v1/campaigns/{id}/challenge-bank (admin) → 200
// BankAnswers; empty answers when the campaign has no bank (yet).
func (f *Function) challengeBank(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), f.d.Timeout)
	defer cancel()
	out, err := f.bankAnswers(ctx, r.PathValue("id"))
	if err != nil {
		f.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (f *Function) bankAnswers(ctx context.Context, id string) (BankAnswers, error) {
	c, err := f.campaign(ctx, id)
	if err != nil {
		return BankAnswers{}, err
	}
	answers, err := f.d.Bank.Answers(ctx, c.ID)
	if err != nil {
		return BankAnswers{}, err
	}
	return BankAnswers{CampaignID: c.ID, Answers: answers}, nil
}
