package main

import "sort"

// SKUReport compares one SKU's stock in Redis with what is accounted for.
type SKUReport struct {
	SKU        string `json:"sku"`
	Stock      int    `json:"stock"`      // configured, from PostgreSQL
	Remaining  *int   `json:"remaining"`  // Redis; null when the key is missing
	Taken      int    `json:"taken"`      // stock − remaining
	Settled    int    `json:"settled"`    // units in PostgreSQL orders
	Inflight   int    `json:"inflight"`   // units reserved in Redis, not yet settled
	Releasing  int    `json:"releasing"`  // units of orders PostgreSQL released, not given back in Redis yet
	Accounted  int    `json:"accounted"`  // settled + inflight + releasing
	Difference int    `json:"difference"` // taken − accounted: > 0 lost, < 0 counted twice
	Missing    bool   `json:"stock_missing,omitempty"`
}

// CampaignReport is one campaign's result in a pass.
type CampaignReport struct {
	ID            string      `json:"campaign_id"`
	SKUs          []SKUReport `json:"skus"`
	Taken         int         `json:"taken"`
	Accounted     int         `json:"accounted"`
	Difference    int         `json:"difference"`
	Unattributed  int         `json:"unattributed_inflight,omitempty"` // inflight or releasing units whose claim record is gone
	StaleInflight []string    `json:"stale_inflight,omitempty"`        // inflight claims already settled in PostgreSQL
	Repairs       int         `json:"repairs,omitempty"`               // repairs the pass made
	RepairList    []Repair    `json:"repair_list,omitempty"`           // each repair
	Rebuild       *Rebuild    `json:"rebuild,omitempty"`               // Redis found lost or behind, and rebuilt from PostgreSQL
	Mismatch      bool        `json:"mismatch"`
}

// snapshot is what Redis holds for one campaign, read atomically.
type snapshot struct {
	meta      bool                    // the campaign's meta hash exists
	packets   bool                    // a rain's split exists (a sale has none)
	remaining map[string]int          // sku → units left; a missing key is absent
	free      map[string]map[int]bool // sku → slots given back and not sold again
	inflight  map[string]int          // claim id → units reserved, not settled
	releasing map[string]int          // claim id → units decided released, not given back
	claimSKU  map[string]string       // inflight or releasing claim id → sku, "" when its record is gone
}

// ledgerView is what PostgreSQL holds for one campaign, read after Redis.
type ledgerView struct {
	stock         map[string]int // sku → configured stock
	settledUnits  map[string]int // sku → units
	settledClaims map[string]int // claim id → units
}

// compare accounts for every unit taken from Redis stock. An inflight
// claim that is also settled counts once: it settled during the pass, or
// settle missed its HDEL. The two look alike, so it is listed as stale
// but is no mismatch (the units are accounted for either way). A
// releasing claim still holds its units in Redis: once PostgreSQL
// released its order they are accounted as releasing, before that as
// settled (once either way).
func compare(id string, s snapshot, l ledgerView) CampaignReport {
	r := CampaignReport{ID: id}
	inflight, releasing := map[string]int{}, map[string]int{}
	for claimID, units := range s.inflight {
		if _, settled := l.settledClaims[claimID]; settled {
			r.StaleInflight = append(r.StaleInflight, claimID)
			continue
		}
		inflight[attribute(s.claimSKU[claimID], l.stock)] += units
	}
	for claimID, units := range s.releasing {
		if _, live := l.settledClaims[claimID]; !live {
			releasing[attribute(s.claimSKU[claimID], l.stock)] += units
		}
	}
	sort.Strings(r.StaleInflight)
	for _, sku := range sortedKeys(l.stock) {
		r.add(skuReport(sku, l.stock[sku], s.remaining, l.settledUnits[sku], inflight[sku], releasing[sku]))
	}
	r.Unattributed = inflight[""] + releasing[""]
	r.Accounted += r.Unattributed
	r.Difference = r.Taken - r.Accounted
	r.Mismatch = r.Mismatch || r.Difference != 0
	return r
}

func (r *CampaignReport) add(s SKUReport) {
	r.SKUs = append(r.SKUs, s)
	r.Taken += s.Taken
	r.Accounted += s.Accounted
	r.Mismatch = r.Mismatch || s.Difference != 0 || (s.Missing && s.Accounted > 0)
}

// skuReport compares one SKU. A missing stock key (not warmed, or lost)
// cannot say what was taken: it counts as accounted, and is a mismatch
// only when units were sold.
func skuReport(sku string, stock int, remaining map[string]int, settled, inflight, releasing int) SKUReport {
	s := SKUReport{SKU: sku, Stock: stock, Settled: settled, Inflight: inflight, Releasing: releasing, Accounted: settled + inflight + releasing}
	left, ok := remaining[sku]
	if !ok {
		s.Missing, s.Taken = true, s.Accounted
		return s
	}
	s.Remaining = &left
	s.Taken = stock - left
	s.Difference = s.Taken - s.Accounted
	return s
}

// attribute names the SKU of an inflight claim; a campaign of one SKU
// owns every claim even when the claim record is gone.
func attribute(sku string, stock map[string]int) string {
	if _, ok := stock[sku]; ok {
		return sku
	}
	if len(stock) == 1 {
		for only := range stock {
			return only
		}
	}
	return ""
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
