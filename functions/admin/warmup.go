package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/captcha"
	"github.com/surgekit/surge/shared/httpapi"
	"github.com/surgekit/surge/shared/ledger"
	"github.com/surgekit/surge/shared/rain"
	"github.com/surgekit/surge/shared/stock"
)

// Warmed is the answer to a warm-up: the remaining units per SKU in Redis
// and, for a campaign with captcha, its challenge bank.
type Warmed struct {
	CampaignID    string             `json:"campaign_id"`
	Stock         map[string]int     `json:"stock"`
	ChallengeBank *captcha.BankState `json:"challenge_bank,omitempty"`
}

// warmup: POST /v1/campaigns/{id}/warmup (admin) → 200 Warmed. Stock keys
// already in Redis are left alone, so a second warm-up never resets stock,
// and a challenge bank already there is not rendered again. With
// ?plane=shadow it warms the campaign's shadow (mirrored from the real
// plane when it has none there: see campaignOrMirror), nothing real. The bank
// (captcha.BankSize of expected_crowd and total stock) is rendered first,
// under WarmTimeout: until it is there, the campaign is not in Redis and
// its clicks and challenges answer 404.
//
//	409 bank_warming  another warm-up is rendering the bank; retry
func (f *Function) warmup(w http.ResponseWriter, r *http.Request) {
	out, err := f.warm(r.Context(), r.PathValue("id"))
	if err != nil {
		f.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (f *Function) warm(ctx context.Context, id string) (Warmed, error) {
	c, err := f.readCampaign(ctx, id)
	if err != nil {
		return Warmed{}, err
	}
	bank, err := f.warmBank(ctx, c)
	if err != nil {
		return Warmed{}, err
	}
	out, err := f.warmStock(ctx, c)
	out.ChallengeBank = bank
	return out, err
}

func (f *Function) readCampaign(ctx context.Context, id string) (*campaign.Campaign, error) {
	ctx, cancel := context.WithTimeout(ctx, f.d.Timeout)
	defer cancel()
	return f.campaignOrMirror(ctx, id)
}

// warmBank renders c's challenge bank when c asks for a captcha.
func (f *Function) warmBank(ctx context.Context, c *campaign.Campaign) (*captcha.BankState, error) {
	if !c.Captcha {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, f.d.WarmTimeout)
	defer cancel()
	st, err := f.d.Bank.Warm(ctx, c.ID, captcha.BankSize(c.ExpectedCrowd, c.Units()))
	if errors.Is(err, captcha.ErrBankWarming) {
		return nil, httpapi.Errorf(http.StatusConflict, "bank_warming", "the challenge bank is being rendered; retry shortly")
	}
	if err != nil {
		return nil, err
	}
	return &st, nil
}

// warmStock loads c's stock into Redis the first time. A campaign warmed
// before whose Redis state is gone (a restart without its AOF, a
// FLUSHALL) is not loaded again from the configured stock, which would
// sell again what was sold: it fails closed until reconcile rebuilds it
// from PostgreSQL (409 rebuild_required).
func (f *Function) warmStock(ctx context.Context, c *campaign.Campaign) (Warmed, error) {
	ctx, cancel := context.WithTimeout(ctx, f.d.Timeout)
	defer cancel()
	keys := f.d.Keys.Campaign(c.ID)
	left, warm, err := stock.Remaining(ctx, f.d.Redis, keys, skus(c))
	if err != nil {
		return Warmed{}, err
	}
	store := campaign.NewStore(f.d.Pool)
	if !warm {
		before, err := store.Warmed(ctx, c.ID)
		if err != nil {
			return Warmed{}, err
		}
		if before {
			return Warmed{}, httpapi.Errorf(http.StatusConflict, "rebuild_required",
				"campaign %s was warmed before and Redis has lost its state: it stays sold out until reconcile rebuilds it from PostgreSQL (POST /v1/campaigns/%s/reconcile)", c.ID, c.ID)
		}
		if err := f.loadPackets(ctx, c); err != nil {
			return Warmed{}, err
		}
		done, err := ledger.NewReader(f.d.Pool).SettledUnits(ctx, c.ID)
		if err != nil {
			return Warmed{}, err
		}
		if err := stock.Warm(ctx, f.d.Redis, keys, c, done); err != nil {
			return Warmed{}, err
		}
		if left, _, err = stock.Remaining(ctx, f.d.Redis, keys, skus(c)); err != nil {
			return Warmed{}, err
		}
	}
	if err := store.MarkWarmed(ctx, c.ID); err != nil {
		return Warmed{}, err
	}
	return Warmed{CampaignID: c.ID, Stock: left}, nil
}

// loadPackets splits a rain's budget (once: rain.Split writes the split
// to PostgreSQL the first time and reads it back after) and loads the
// split into Redis before its stock, so no packet is handed out before its
// amount is there. A sale has nothing to load.
func (f *Function) loadPackets(ctx context.Context, c *campaign.Campaign) error {
	if !c.UnitPriced() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.d.WarmTimeout)
	defer cancel()
	amounts, err := rain.Split(ctx, f.d.Pool, c)
	if err != nil {
		return err
	}
	_, err = rain.Load(ctx, f.d.Redis, f.d.Keys.Campaign(c.ID), amounts)
	return err
}

func skus(c *campaign.Campaign) []string {
	out := make([]string, len(c.Lots()))
	for i, it := range c.Lots() {
		out[i] = it.SKU
	}
	return out
}
