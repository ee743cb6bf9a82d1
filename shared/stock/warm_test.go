package stock_test

import (
	"context"
	"encoding/json"
	"maps"
	"testing"
	"time"

	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/stock"
)

func TestWarmWritesMetaAndStock(t *testing.T) {
	f := newFixture(t)
	c := sale("meta", 2, campaign.Item{SKU: "phone", Stock: 10}, campaign.Item{SKU: "case", Stock: 3})
	f.warm(t, c, map[string]int{"phone": 4, "case": 7})
	meta, err := f.rdb.HGetAll(context.Background(), f.keys.Campaign(c.ID).Meta()).Result()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		stock.MetaKind: "sale", stock.MetaLimit: "2", stock.MetaPayWindowMS: "600000",
		stock.MetaStartsMS: "1920585600000", stock.MetaEndsMS: "1920589200000",
		stock.MetaStockPrefix + "phone": "10", stock.MetaStockPrefix + "case": "3",
	}
	spec := meta[stock.MetaSpec]
	delete(meta, stock.MetaSpec)
	if !maps.Equal(meta, want) {
		t.Errorf("meta = %v; want %v", meta, want)
	}
	var back campaign.Campaign
	if err := json.Unmarshal([]byte(spec), &back); err != nil || back.ID != c.ID || len(back.Items) != 2 {
		t.Errorf("spec %q does not decode to the campaign: %v", spec, err)
	}
	left, warm, err := stock.Remaining(context.Background(), f.rdb, f.keys.Campaign(c.ID), []string{"phone", "case"})
	if err != nil || !warm || !maps.Equal(left, map[string]int{"phone": 6, "case": 0}) {
		t.Errorf("Remaining = %v, %v, %v; want phone 6, case 0 (never negative), warm", left, warm, err)
	}
}

func TestWarmNeverResetsStock(t *testing.T) {
	f := newFixture(t)
	c := sale("rewarm", 1, campaign.Item{SKU: "phone", Stock: 10})
	f.warm(t, c, nil)
	for i, u := range []string{"a", "b", "c"} {
		f.deduct(t, req(c.ID, u, u, "phone", 1, start.Add(time.Duration(i+1)*time.Second)))
	}
	c.Title = "renamed"
	f.warm(t, c, nil) // mid-sale warm-up: stock stays 7
	f.warm(t, c, map[string]int{"phone": 1})
	if left := f.remaining(t, c.ID, "phone"); left != 7 {
		t.Errorf("stock after a second warm-up = %d; want 7", left)
	}
	d := f.deduct(t, req(c.ID, "d", "d", "phone", 1, start.Add(time.Minute)))
	if d.FirstSlot != 4 {
		t.Errorf("first slot after re-warm = %d; want 4", d.FirstSlot)
	}
}

func TestRemaining(t *testing.T) {
	f := newFixture(t)
	c := sale("left", 1, campaign.Item{SKU: "phone", Stock: 10}, campaign.Item{SKU: "case", Stock: 3})
	keys := f.keys.Campaign(c.ID)
	tests := []struct {
		name     string
		prepare  func()
		skus     []string
		wantLeft map[string]int
		wantWarm bool
	}{
		{"cold", func() {}, []string{"phone"}, map[string]int{}, false},
		{"warm", func() { f.warm(t, c, nil) }, []string{"phone", "case"}, map[string]int{"phone": 10, "case": 3}, true},
		{"unknown sku is not warm", func() {}, []string{"phone", "tablet"}, map[string]int{"phone": 10}, false},
		{"lost stock key is not warm", func() { f.rdb.Del(context.Background(), keys.Stock("case")) },
			[]string{"phone", "case"}, map[string]int{"phone": 10}, false},
		{"no skus", func() {}, nil, map[string]int{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.prepare()
			left, warm, err := stock.Remaining(context.Background(), f.rdb, keys, tt.skus)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(left, tt.wantLeft) || warm != tt.wantWarm {
				t.Errorf("Remaining = %v, %v; want %v, %v", left, warm, tt.wantLeft, tt.wantWarm)
			}
		})
	}
}
