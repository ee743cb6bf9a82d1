package ledger

import (
	"sort"
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
	}
	for _, o := range sorted {
		c.no, c.token, c.campaign = append(c.no, o.OrderNo), append(c.token, o.TokenID), append(c.campaign, o.CampaignID)
		c.sku, c.user = append(c.sku, o.SKU), append(c.user, o.UserID)
		c.seq, c.qty, c.first = append(c.seq, int32(o.Seq)), append(c.qty, int32(o.Qty)), append(c.first, int32(o.FirstSlot))
		c.amount = append(c.amount, o.Amount)
		c.reserved, c.payBy = append(c.reserved, o.ReservedAt), append(c.payBy, o.PayBy)
	}
	return []any{c.no, c.token, c.campaign, c.sku, c.user, c.seq, c.qty, c.first, c.amount, c.reserved, c.payBy}
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
	var campaign, sku, owner []string
	var slot []int32
	for _, o := range sortedBySlot(inserted) {
		for n := o.FirstSlot; n <= o.LastSlot(); n++ {
			campaign, sku, slot, owner = append(campaign, o.CampaignID), append(sku, o.SKU), append(slot, int32(n)), append(owner, o.OrderNo)
		}
	}
	return []any{campaign, sku, slot, owner}
}

func sortedBySlot(orders []Order) []Order {
	sorted := append([]Order(nil), orders...)
	sort.Slice(sorted, func(i, j int) bool { return slotLess(sorted[i], sorted[j]) })
	return sorted
}
