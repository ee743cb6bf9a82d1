package crowd

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
)

// bankAnswers is the operator's copy of a campaign's challenge bank, read
// once through GET /v1/campaigns/{id}/challenge-bank (admin token) and
// again only when a challenge shows an entry it does not know.
type bankAnswers struct {
	api      *api
	admin    string
	campaign Campaign

	mu      sync.Mutex
	answers map[string]string
}

func newBankAnswers(a *api, admin string, campaign Campaign) *bankAnswers {
	return &bankAnswers{api: a, admin: admin, campaign: campaign}
}

// answer returns the answer of entry.
func (b *bankAnswers) answer(ctx context.Context, entry string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if a, ok := b.answers[entry]; ok {
		return a, nil
	}
	if err := b.load(ctx); err != nil {
		return "", err
	}
	if a, ok := b.answers[entry]; ok {
		return a, nil
	}
	return "", fmt.Errorf("crowd: entry %q is not in the bank of %s", entry, b.campaign.ID)
}

func (b *bankAnswers) load(ctx context.Context) error {
	if b.admin == "" {
		return errors.New("crowd: answering challenges needs the admin token (operator access to the bank)")
	}
	var out struct {
		Answers map[string]string `json:"answers"`
	}
	if err := b.api.call(ctx, http.StatusOK, http.MethodGet, "/v1/campaigns/"+b.campaign.ID+"/challenge-bank"+b.campaign.plane(), b.admin, nil, &out); err != nil {
		return fmt.Errorf("crowd: read the challenge bank: %w", err)
	}
	b.answers = out.Answers
	return nil
}
