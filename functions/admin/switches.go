package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/surgekit/surge/shared/httpapi"
	"github.com/surgekit/surge/shared/switches"
)

// switchBody is a change of a switch: its value (true/false, or a
// fraction for shed_fraction), where it applies (a campaign, a SKU of a
// campaign, as the switch's scope asks), who made it and why.
type switchBody struct {
	Value    json.RawMessage `json:"value"`
	Campaign string          `json:"campaign"`
	SKU      string          `json:"sku"`
	By       string          `json:"by"`
	Reason   string          `json:"reason"`
}

// switchList is the answer to GET /v1/switches.
type switchList struct {
	Names    []string          `json:"names"`
	Switches []switches.Switch `json:"switches"`
}

// setSwitch: PUT /v1/switches/{name} (admin) → 200 the switch with the
// version of this change, recorded in PostgreSQL and published to Redis,
// where every instance sees it within a second. 404 for an unknown
// switch; 400 for a bad value or a campaign or SKU its scope does not
// take or lacks.
func (f *Function) setSwitch(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if _, ok := switches.ScopeOf(name); !ok {
		f.fail(w, r, httpapi.Errorf(http.StatusNotFound, "switch_not_found", "no switch %q", name))
		return
	}
	var body switchBody
	if err := httpapi.DecodeJSON(w, r, &body); err != nil {
		f.fail(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), f.d.Timeout)
	defer cancel()
	sw, err := f.d.Switches.Set(ctx, switches.Target{Name: name, Campaign: body.Campaign, SKU: body.SKU}, body.Value, body.By, body.Reason)
	switch {
	case errors.Is(err, switches.ErrBadValue):
		err = httpapi.Errorf(http.StatusBadRequest, "invalid_value", "%v", err)
	case errors.Is(err, switches.ErrScope):
		err = httpapi.Errorf(http.StatusBadRequest, "invalid_scope", "%v", err)
	}
	if err != nil {
		f.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, sw)
}

// listSwitches: GET /v1/switches (admin) → 200 every switch's name and
// every switch set, with its value, version and change.
func (f *Function) listSwitches(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), f.d.Timeout)
	defer cancel()
	all, err := f.d.Switches.List(ctx)
	if err != nil {
		f.fail(w, r, err)
		return
	}
	if all == nil {
		all = []switches.Switch{}
	}
	httpapi.WriteJSON(w, http.StatusOK, switchList{Names: switches.Names(), Switches: all})
}
