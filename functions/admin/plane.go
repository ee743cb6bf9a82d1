package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/surgekit/surge/shared/auth"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/httpapi"
	"github.com/surgekit/surge/shared/plane"
)

// choosePlane picks the plane of an admin request: the operator names it
// with ?plane=shadow (or real) beside the admin token, so that a load test
// gets campaigns of its own (create, warm-up, the challenge bank, the
// reads); anyone else is on the plane of their user JWT, so a shadow crowd
// reads the shadow stock, and without a valid one on the real plane. A
// ?plane= without the admin token is refused: a parameter alone never
// reaches the shadow plane.
func choosePlane(admin auth.Admin, users auth.Users) plane.Chooser {
	byCaller := plane.ByCaller(users)
	return func(r *http.Request) (*http.Request, plane.Plane, error) {
		name, named := r.URL.Query()["plane"]
		if !named {
			return byCaller(r)
		}
		if err := admin.Check(r); err != nil {
			return r, plane.Real, httpapi.Errorf(http.StatusUnauthorized, "unauthorized", "?plane= needs the admin token")
		}
		p, err := plane.Parse(name[0])
		if err != nil || len(name) > 1 {
			return r, plane.Real, httpapi.Errorf(http.StatusBadRequest, "invalid_plane", "plane must be real or shadow")
		}
		return r, p, nil
	}
}

// campaignOrMirror reads campaign id of this plane. On the shadow plane a
// campaign that is only real is first mirrored (its spec copied, the same
// stock figure): warming a live campaign's shadow lets a load test run it
// at full depth without touching its real stock.
func (f *Function) campaignOrMirror(ctx context.Context, id string) (*campaign.Campaign, error) {
	c, err := f.campaign(ctx, id)
	if !errors.Is(err, errNotFound) || f.d.Mirror == nil {
		return c, err
	}
	real, err := f.d.Mirror.Get(ctx, id)
	if errors.Is(err, campaign.ErrNotFound) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := f.d.Campaigns.Create(ctx, real); err != nil && !errors.Is(err, campaign.ErrExists) {
		return nil, err
	}
	return f.campaign(ctx, id)
}
