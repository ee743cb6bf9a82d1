// Package campaign is the campaign model: what an operator creates, its
// validation, and its storage in PostgreSQL (the system of record).
package campaign

import (
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/surgekit/surge/shared/redpacket"
)

// Kinds of campaign.
const (
	KindSale = "sale"
	KindRain = "rain"
)

// Campaign is a sale (items with scarce stock) or a rain (a budget split
// into red packets).
type Campaign struct {
	ID            string    `json:"id"`
	Kind          string    `json:"kind"`
	Title         string    `json:"title"`
	Items         []Item    `json:"items,omitempty"`
	Budget        int64     `json:"budget,omitempty"`     // a rain's money, cents
	Packets       int       `json:"packets,omitempty"`    // a rain's packet count
	MaxPacket     int64     `json:"max_packet,omitempty"` // a rain's cap on one packet, cents; 0: DefaultMaxPacket
	PerUserLimit  int       `json:"per_user_limit"`
	StartsAt      time.Time `json:"starts_at"`
	EndsAt        time.Time `json:"ends_at"`
	PaymentWindow Duration  `json:"payment_window"`
	Captcha       bool      `json:"captcha"`
	Limits        *Limits   `json:"limits,omitempty"` // nil: the deployment's defaults
	// ExpectedCrowd is how many users the operator expects at the opening
	// (optional): it sizes the captcha's challenge bank (captcha.BankSize).
	ExpectedCrowd int `json:"expected_crowd,omitempty"`
}

// Item is one SKU on sale: Stock units at Price (cents).
type Item struct {
	SKU   string `json:"sku"`
	Stock int    `json:"stock"`
	Price int64  `json:"price"`
}

// MaxItems bounds the SKUs of one campaign.
const MaxItems = 100

// Rain bounds: a packet is at most DefaultMaxPacket cents unless the
// campaign says otherwise (¥200, WeChat's cap), and a rain has at most
// MaxPackets packets.
const (
	DefaultMaxPacket = 20000
	MaxPackets       = 1_000_000
)

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// ValidID reports whether id can name a campaign or a SKU: lower-case
// letters, digits, '-' and '_', up to 64 characters (never a dot, a colon
// or a brace: ids appear inside claim ids, order numbers and Redis keys).
func ValidID(id string) bool { return idPattern.MatchString(id) }

// RainLot names a rain's one lot: its packets, numbered 1..Packets as a
// sale's units are, so the pre-deduct script, the stock slots and the
// per-user units guard a rain as they guard a sale. Its order numbers are
// campaign:packet:user:n.
const RainLot = "packet"

// Lots are what c hands out: runs of units numbered 1..Stock that a claim
// reserves and PostgreSQL keeps unique (stock slots). A sale's lots are
// its items, each unit at the item's price; a rain has one lot, RainLot,
// whose units are its packets, each of the amount its split gave it
// (Price 0: see UnitPriced). Everything downstream of a claim sees lots,
// so a kind is a way of filling them, not a branch in every function.
func (c *Campaign) Lots() []Item {
	if c.Kind == KindRain {
		return []Item{{SKU: RainLot, Stock: c.Packets}}
	}
	return c.Items
}

// Lot returns the lot named name (a sale's SKU, or RainLot).
func (c *Campaign) Lot(name string) (Item, bool) {
	for _, it := range c.Lots() {
		if it.SKU == name {
			return it, true
		}
	}
	return Item{}, false
}

// UnitPriced reports whether c's units carry amounts of their own (a
// rain's packets) rather than their lot's price (a sale's items).
func (c *Campaign) UnitPriced() bool { return c.Kind == KindRain }

// Units is how many units c hands out in all.
func (c *Campaign) Units() int {
	n := 0
	for _, it := range c.Lots() {
		n += it.Stock
	}
	return n
}

// ClaimLot returns the lot a click names: a sale's click names one of its
// SKUs; a rain's names none (the next packet is whichever is left).
func (c *Campaign) ClaimLot(sku string) (string, error) {
	switch {
	case c.Kind == KindRain && sku != "":
		return "", fmt.Errorf("a rain's claims name no sku: the next packet is handed out")
	case c.Kind == KindRain:
		return RainLot, nil
	case sku == "":
		return "", fmt.Errorf("sku is required")
	}
	if _, ok := c.Lot(sku); !ok {
		return "", fmt.Errorf("sku %q is not in campaign %s", sku, c.ID)
	}
	return sku, nil
}

// Validate names the first thing wrong with c.
func (c *Campaign) Validate() error {
	switch {
	case !ValidID(c.ID):
		return fmt.Errorf("id %q: want 1-64 of [a-z0-9_-], starting with a letter or digit", c.ID)
	case c.Kind != KindSale && c.Kind != KindRain:
		return fmt.Errorf("kind %q: want %q or %q", c.Kind, KindSale, KindRain)
	case c.PerUserLimit <= 0:
		return fmt.Errorf("per_user_limit must be positive")
	case c.StartsAt.IsZero() || c.EndsAt.IsZero():
		return fmt.Errorf("starts_at and ends_at are required")
	case !c.EndsAt.After(c.StartsAt):
		return fmt.Errorf("ends_at must be after starts_at")
	case c.PaymentWindow.Duration < 0:
		return fmt.Errorf("payment_window must not be negative")
	case c.ExpectedCrowd < 0:
		return fmt.Errorf("expected_crowd must not be negative")
	}
	if c.Limits != nil {
		if err := c.Limits.Validate(); err != nil {
			return err
		}
	}
	if c.Kind == KindSale {
		return c.validateItems()
	}
	return c.validateRain()
}

// validateRain: a budget that splits into the packets, each 1 cent to the
// cap (redpacket.Check), and no items.
func (c *Campaign) validateRain() error {
	switch {
	case len(c.Items) > 0:
		return fmt.Errorf("a rain has a budget and packets, no items")
	case c.Packets < 1 || c.Packets > MaxPackets:
		return fmt.Errorf("packets must be 1 to %d", MaxPackets)
	case c.Budget < 1:
		return fmt.Errorf("budget must be positive (cents)")
	case c.MaxPacket < 0:
		return fmt.Errorf("max_packet must not be negative")
	}
	if err := redpacket.Check(c.Budget, c.Packets, c.PacketCap()); err != nil {
		return fmt.Errorf("budget %d in %d packets: %w", c.Budget, c.Packets, err)
	}
	return nil
}

// PacketCap is the most one packet of a rain may hold, cents.
func (c *Campaign) PacketCap() int64 {
	if c.MaxPacket > 0 {
		return c.MaxPacket
	}
	return DefaultMaxPacket
}

func (c *Campaign) validateItems() error {
	if len(c.Items) == 0 || len(c.Items) > MaxItems {
		return fmt.Errorf("a sale needs 1 to %d items", MaxItems)
	}
	seen := make(map[string]bool, len(c.Items))
	for _, it := range c.Items {
		switch {
		case !ValidID(it.SKU):
			return fmt.Errorf("sku %q: want 1-64 of [a-z0-9_-]", it.SKU)
		case seen[it.SKU]:
			return fmt.Errorf("sku %q listed twice", it.SKU)
		case it.Stock <= 0:
			return fmt.Errorf("sku %q: stock must be positive", it.SKU)
		case it.Price < 0:
			return fmt.Errorf("sku %q: price must not be negative", it.SKU)
		}
		seen[it.SKU] = true
	}
	return nil
}

// State is where a campaign stands at an instant.
func (c *Campaign) State(now time.Time) string {
	switch {
	case now.Before(c.StartsAt):
		return "upcoming"
	case !now.Before(c.EndsAt):
		return "closed"
	default:
		return "open"
	}
}

// Duration is a time.Duration written as a Go duration string ("10m").
type Duration struct{ time.Duration }

// MarshalJSON writes "10m0s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads "10m".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: want a string like \"10m\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	d.Duration = v
	return nil
}
