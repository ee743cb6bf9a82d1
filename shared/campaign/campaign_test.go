package campaign_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/surgekit/surge/shared/campaign"
)

var start = time.Date(2030, 11, 11, 0, 0, 0, 0, time.UTC)

func sale() campaign.Campaign {
	return campaign.Campaign{
		ID: "double11", Kind: campaign.KindSale, Title: "Double 11",
		Items:        []campaign.Item{{SKU: "phone-x", Stock: 1000, Price: 99900}, {SKU: "case", Stock: 5, Price: 0}},
		PerUserLimit: 1, StartsAt: start, EndsAt: start.Add(time.Hour),
		PaymentWindow: campaign.Duration{Duration: 10 * time.Minute}, Captcha: true,
	}
}

func rain() campaign.Campaign {
	return campaign.Campaign{
		ID: "cny-rain", Kind: campaign.KindRain, Title: "Red packets",
		Budget: 1000000, Packets: 10000, PerUserLimit: 3, StartsAt: start, EndsAt: start.Add(time.Minute),
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*campaign.Campaign)
		want   string // a substring of the error; "" for valid
	}{
		{"valid sale", func(*campaign.Campaign) {}, ""},
		{"valid sale, zero payment window", func(c *campaign.Campaign) { c.PaymentWindow.Duration = 0 }, ""},
		{"valid rain", func(c *campaign.Campaign) { *c = rain() }, ""},
		{"rain, budget below packets", func(c *campaign.Campaign) { *c = rain(); c.Budget = int64(c.Packets) - 1 }, "a cent each"},
		{"rain, no packets", func(c *campaign.Campaign) { *c = rain(); c.Packets = 0 }, "packets must be"},
		{"rain, negative budget", func(c *campaign.Campaign) { *c = rain(); c.Budget = -100 }, "budget must be positive"},
		{"rain, over the cap", func(c *campaign.Campaign) { *c = rain(); c.MaxPacket = 50 }, "exceed 50 cents"},
		{"rain with items", func(c *campaign.Campaign) { items := sale().Items; *c = rain(); c.Items = items }, "no items"},
		{"bad id", func(c *campaign.Campaign) { c.ID = "Double.11" }, "id"},
		{"empty id", func(c *campaign.Campaign) { c.ID = "" }, "id"},
		{"unknown kind", func(c *campaign.Campaign) { c.Kind = "auction" }, "kind"},
		{"zero limit", func(c *campaign.Campaign) { c.PerUserLimit = 0 }, "per_user_limit"},
		{"no start", func(c *campaign.Campaign) { c.StartsAt = time.Time{} }, "starts_at and ends_at"},
		{"no end", func(c *campaign.Campaign) { c.EndsAt = time.Time{} }, "starts_at and ends_at"},
		{"ends at start", func(c *campaign.Campaign) { c.EndsAt = c.StartsAt }, "ends_at must be after"},
		{"ends before start", func(c *campaign.Campaign) { c.EndsAt = c.StartsAt.Add(-time.Second) }, "ends_at must be after"},
		{"negative payment window", func(c *campaign.Campaign) { c.PaymentWindow.Duration = -time.Second }, "payment_window"},
		{"sale without items", func(c *campaign.Campaign) { c.Items = nil }, "1 to 100 items"},
		{"sale with too many items", func(c *campaign.Campaign) { c.Items = manyItems(campaign.MaxItems + 1) }, "1 to 100 items"},
		{"bad sku", func(c *campaign.Campaign) { c.Items[0].SKU = "phone:x" }, "sku"},
		{"duplicate sku", func(c *campaign.Campaign) { c.Items[1].SKU = c.Items[0].SKU }, "listed twice"},
		{"zero stock", func(c *campaign.Campaign) { c.Items[1].Stock = 0 }, "stock must be positive"},
		{"negative price", func(c *campaign.Campaign) { c.Items[1].Price = -1 }, "price must not be negative"},
		{"valid limits", func(c *campaign.Campaign) {
			c.Limits = &campaign.Limits{UserPerSec: 0.5, UserBurst: 2, CampaignPerSec: 1000}
		}, ""},
		{"negative user rate", func(c *campaign.Campaign) { c.Limits = &campaign.Limits{UserPerSec: -1} }, "limits.user_per_sec"},
		{"negative ip burst", func(c *campaign.Campaign) { c.Limits = &campaign.Limits{IPBurst: -1} }, "limits.ip_burst"},
		{"campaign rate too high", func(c *campaign.Campaign) { c.Limits = &campaign.Limits{CampaignPerSec: 2e6} }, "limits.campaign_per_sec"},
	}
	for _, tt := range tests {
		c := sale()
		tt.change(&c)
		err := c.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: Validate = %v; want nil", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: Validate = %v; want an error about %q", tt.name, err, tt.want)
		}
	}
	c := sale()
	c.Items = manyItems(campaign.MaxItems)
	if err := c.Validate(); err != nil {
		t.Errorf("sale with MaxItems items: Validate = %v; want nil", err)
	}
}

func manyItems(n int) []campaign.Item {
	items := make([]campaign.Item, n)
	for i := range items {
		items[i] = campaign.Item{SKU: fmt.Sprintf("sku-%d", i), Stock: 1}
	}
	return items
}

func TestValidID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"double11", true},
		{"a", true},
		{"0-sale_2", true},
		{strings.Repeat("a", 64), true},
		{strings.Repeat("a", 65), false},
		{"", false},
		{"-sale", false},
		{"_sale", false},
		{"Sale", false},
		{"a.b", false}, // a dot separates the campaign in a claim id
		{"a:b", false}, // a colon separates order number parts
		{"a{b}", false},
		{"a b", false},
		{"sale\n", false},
	}
	for _, tt := range tests {
		if got := campaign.ValidID(tt.id); got != tt.want {
			t.Errorf("ValidID(%q) = %v; want %v", tt.id, got, tt.want)
		}
	}
}

func TestState(t *testing.T) {
	c := sale()
	tests := []struct {
		now  time.Time
		want string
	}{
		{start.Add(-time.Nanosecond), "upcoming"},
		{start, "open"},
		{start.Add(30 * time.Minute), "open"},
		{c.EndsAt.Add(-time.Nanosecond), "open"},
		{c.EndsAt, "closed"},
		{c.EndsAt.Add(time.Hour), "closed"},
	}
	for _, tt := range tests {
		if got := c.State(tt.now); got != tt.want {
			t.Errorf("State(%v) = %q; want %q", tt.now, got, tt.want)
		}
	}
}

func TestItem(t *testing.T) {
	c := sale()
	if it, ok := c.Lot("case"); !ok || it.Stock != 5 {
		t.Errorf("Item(case) = %+v, %v; want stock 5, true", it, ok)
	}
	if _, ok := c.Lot("nope"); ok {
		t.Error("Item(nope) found; want not found")
	}
}

func TestDurationJSON(t *testing.T) {
	b, err := json.Marshal(campaign.Duration{Duration: 90 * time.Second})
	if err != nil || string(b) != `"1m30s"` {
		t.Errorf("Marshal(90s) = %s, %v; want \"1m30s\"", b, err)
	}
	var d campaign.Duration
	if err := json.Unmarshal(b, &d); err != nil || d.Duration != 90*time.Second {
		t.Errorf("Unmarshal(%s) = %v, %v; want 1m30s", b, d, err)
	}
	for _, in := range []string{`600`, `"10 minutes"`, `""`, `{"d":"10m"}`} {
		var d campaign.Duration
		if err := json.Unmarshal([]byte(in), &d); err == nil {
			t.Errorf("Unmarshal(%s) = nil error (%v); want an error", in, d)
		}
	}
}

func TestCampaignJSONRoundTrip(t *testing.T) {
	want := sale()
	b, err := json.Marshal(&want)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"payment_window":"10m0s"`) {
		t.Errorf("JSON %s: want payment_window \"10m0s\"", b)
	}
	var got campaign.Campaign
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.PaymentWindow != want.PaymentWindow || !got.StartsAt.Equal(want.StartsAt) || len(got.Items) != 2 || got.Items[0] != want.Items[0] {
		t.Errorf("round trip = %+v; want %+v", got, want)
	}
}

func TestLimitsOr(t *testing.T) {
	def := campaign.Limits{UserPerSec: 5, UserBurst: 10, IPPerSec: 100, IPBurst: 200, CampaignPerSec: 1000}
	got := campaign.Limits{UserPerSec: 1, IPBurst: 3}.Or(def)
	want := campaign.Limits{UserPerSec: 1, UserBurst: 10, IPPerSec: 100, IPBurst: 3, CampaignPerSec: 1000}
	if got != want {
		t.Fatalf("Or = %+v; want %+v", got, want)
	}
}
