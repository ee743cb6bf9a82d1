package ledger

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// columns turns orders, sorted by slot so concurrent writers lock slots in
// the same order, into the eleven arrays insertOrders unnests.
func columns(orders []Order) []any {
	sorted := sortedBySlot(orders)
	var c struct {
		no, token, campaign, sku, user []string
		seq, qty, first                []int32
		amount                         []int64
		reserved, payBy                []time.Time
		slots                          []string
	}
	for _, o := range sorted {
		c.no, c.token, c.campaign = append(c.no, o.OrderNo), append(c.token, o.TokenID), append(c.campaign, o.CampaignID)
		c.sku, c.user = append(c.sku, o.SKU), append(c.user, o.UserID)
		c.seq, c.qty, c.first = append(c.seq, int32(o.Seq)), append(c.qty, int32(o.Qty)), append(c.first, int32(o.FirstSlot))
		c.amount = append(c.amount, o.Amount)
		c.reserved, c.payBy = append(c.reserved, o.ReservedAt), append(c.payBy, o.PayBy)
		c.slots = append(c.slots, JoinSlots(o.Slots))
	}
	return []any{c.no, c.token, c.campaign, c.sku, c.user, c.seq, c.qty, c.first, c.amount, c.reserved, c.payBy, c.slots}
}

// JoinSlots is an explicit slot list as insertOrders and the Redis
// scripts read it ("5,17"), empty for a range.
func JoinSlots(slots []int) string {
	parts := make([]string, len(slots))
	for i, n := range slots {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ",")
}

func slotLess(a, b Order) bool {
	if a.CampaignID != b.CampaignID {
		return a.CampaignID < b.CampaignID
	}
	if a.SKU != b.SKU {
		return a.SKU < b.SKU
	}
	return a.FirstSlot < b.FirstSlot
}

// slotColumns lists the slots of the inserted orders, sorted, as the four
// arrays insertSlots unnests.
func slotColumns(inserted []Order) []any {
	type key struct {
		campaign, sku string
		slot          int
		owner         string
	}
	var all []key
	for _, o := range inserted {
		for _, n := range o.SlotList() {
			all = append(all, key{o.CampaignID, o.SKU, n, o.OrderNo})
		}
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.campaign != b.campaign {
			return a.campaign < b.campaign
		}
		if a.sku != b.sku {
			return a.sku < b.sku
		}
		return a.slot < b.slot
	})
	var campaign, sku, owner []string
	var slot []int32
	for _, k := range all {
		campaign, sku, slot, owner = append(campaign, k.campaign), append(sku, k.sku), append(slot, int32(k.slot)), append(owner, k.owner)
	}
	return []any{campaign, sku, slot, owner}
}

// unitColumns lists the inserted orders as the four arrays insertUnits
// unnests: campaign, user, order number, qty.
func unitColumns(inserted []Order) []any {
	var campaign, user, no []string
	var qty []int32
	for _, o := range inserted {
		campaign, user, no, qty = append(campaign, o.CampaignID), append(user, o.UserID), append(no, o.OrderNo), append(qty, int32(o.Qty))
	}
	return []any{campaign, user, no, qty}
}

func sortedBySlot(orders []Order) []Order {
	sorted := append([]Order(nil), orders...)
	sort.Slice(sorted, func(i, j int) bool { return slotLess(sorted[i], sorted[j]) })
	return sorted
}
