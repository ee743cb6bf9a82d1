package campaign

import "fmt"

// Limits are a campaign's rate limits on the click funnel; a zero field
// takes the deployment's default (SURGE_LIMIT_*).
type Limits struct {
	UserPerSec     float64 `json:"user_per_sec,omitempty"`     // clicks per second per user
	UserBurst      int     `json:"user_burst,omitempty"`       // clicks a user may make at once
	IPPerSec       float64 `json:"ip_per_sec,omitempty"`       // clicks per second per client IP
	IPBurst        int     `json:"ip_burst,omitempty"`         // clicks one IP may make at once
	CampaignPerSec float64 `json:"campaign_per_sec,omitempty"` // ceiling on accepted clicks per second
}

// MaxRate bounds every rate of Limits (per second).
const MaxRate = 1e6

// Validate names the first thing wrong with l.
func (l *Limits) Validate() error {
	for _, r := range []struct {
		name string
		v    float64
	}{{"user_per_sec", l.UserPerSec}, {"ip_per_sec", l.IPPerSec}, {"campaign_per_sec", l.CampaignPerSec},
		{"user_burst", float64(l.UserBurst)}, {"ip_burst", float64(l.IPBurst)}} {
		if r.v < 0 || r.v > MaxRate {
			return fmt.Errorf("limits.%s: want 0 (the default) to %g", r.name, float64(MaxRate))
		}
	}
	return nil
}

// Or fills the zero fields of l from def.
func (l Limits) Or(def Limits) Limits {
	pick := func(v, d float64) float64 {
		if v > 0 {
			return v
		}
		return d
	}
	l.UserPerSec, l.IPPerSec, l.CampaignPerSec = pick(l.UserPerSec, def.UserPerSec), pick(l.IPPerSec, def.IPPerSec), pick(l.CampaignPerSec, def.CampaignPerSec)
	l.UserBurst, l.IPBurst = int(pick(float64(l.UserBurst), float64(def.UserBurst))), int(pick(float64(l.IPBurst), float64(def.IPBurst)))
	return l
}
