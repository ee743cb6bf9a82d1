package main

import (
	"fmt"
	"strconv"

	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/clientip"
)

// Overload is the part of Config that bounds what a click may cost: the
// default rate limits, the trusted proxies and the shedding bounds.
type Overload struct {
	// Limits: SURGE_LIMIT_USER_PER_SEC (10), SURGE_LIMIT_USER_BURST (20),
	// SURGE_LIMIT_IP_PER_SEC (1000), SURGE_LIMIT_IP_BURST (2000),
	// SURGE_LIMIT_CAMPAIGN_PER_SEC (0: no ceiling). A campaign's "limits"
	// override them; a rate of 0 here is no limit.
	Limits   campaign.Limits
	ClientIP clientip.Resolver // SURGE_TRUSTED_PROXIES: CIDRs besides loopback
	// MaxInflight: SURGE_MAX_INFLIGHT (256), captcha's containerConcurrency.
	MaxInflight int
}

// defaultLimits are the rate limits of a campaign that sets none.
func defaultLimits() campaign.Limits {
	return campaign.Limits{UserPerSec: 10, UserBurst: 20, IPPerSec: 1000, IPBurst: 2000}
}

func loadOverload(getenv func(string) string) (Overload, error) {
	o := Overload{Limits: defaultLimits(), MaxInflight: DefaultMaxInflight}
	var err error
	if o.ClientIP, err = clientip.New(getenv("SURGE_TRUSTED_PROXIES")); err != nil {
		return Overload{}, fmt.Errorf("SURGE_TRUSTED_PROXIES: %w", err)
	}
	for _, v := range []struct {
		name string
		f    *float64
	}{{"SURGE_LIMIT_USER_PER_SEC", &o.Limits.UserPerSec}, {"SURGE_LIMIT_IP_PER_SEC", &o.Limits.IPPerSec},
		{"SURGE_LIMIT_CAMPAIGN_PER_SEC", &o.Limits.CampaignPerSec}} {
		if err := number(getenv, v.name, v.f); err != nil {
			return Overload{}, err
		}
	}
	for _, v := range []struct {
		name string
		n    *int
	}{{"SURGE_LIMIT_USER_BURST", &o.Limits.UserBurst}, {"SURGE_LIMIT_IP_BURST", &o.Limits.IPBurst},
		{"SURGE_MAX_INFLIGHT", &o.MaxInflight}} {
		if err := integer(getenv, v.name, v.n); err != nil {
			return Overload{}, err
		}
	}
	return o, o.Limits.Validate()
}

func number(getenv func(string) string, name string, dst *float64) error {
	if v := getenv(name); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			return fmt.Errorf("%s: want a number ≥ 0, got %q", name, v)
		}
		*dst = f
	}
	return nil
}

func integer(getenv func(string) string, name string, dst *int) error {
	if v := getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("%s: want an integer ≥ 0, got %q", name, v)
		}
		*dst = n
	}
	return nil
}
