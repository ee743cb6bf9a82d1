package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/httpapi"
)

// create: POST /v1/campaigns (admin) → 201 with the campaign.
func (f *Function) create(w http.ResponseWriter, r *http.Request) {
	var c campaign.Campaign
	if err := httpapi.DecodeJSON(w, r, &c); err != nil {
		f.fail(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), f.d.Timeout)
	defer cancel()
	if err := f.createCampaign(ctx, &c); err != nil {
		f.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusCreated, &c)
}

func (f *Function) createCampaign(ctx context.Context, c *campaign.Campaign) error {
	if err := c.Validate(); err != nil {
		return httpapi.Errorf(http.StatusBadRequest, "invalid_campaign", "%v", err)
	}
	err := f.d.Campaigns.Create(ctx, c)
	if errors.Is(err, campaign.ErrExists) {
		return httpapi.Errorf(http.StatusConflict, "campaign_exists", "campaign %s already exists", c.ID)
	}
	return err
}
