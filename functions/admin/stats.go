package main

import (
	"context"
	"net/http"

	"github.com/surgekit/surge/shared/httpapi"
	"github.com/surgekit/surge/shared/stats"
)

// campaignStats: GET /v1/campaigns/{id}/stats (admin) → 200 stats.Report,
// the campaign's counts per UTC day and in total, as every instance has
// flushed them (a second behind at most); 404 for an unknown campaign.
func (f *Function) campaignStats(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), f.d.Timeout)
	defer cancel()
	c, err := f.campaign(ctx, r.PathValue("id"))
	if err != nil {
		f.fail(w, r, err)
		return
	}
	report, err := stats.Read(ctx, f.d.Redis, f.d.Keys, c.ID)
	if err != nil {
		f.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, report)
}
