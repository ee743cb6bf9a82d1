package keyspace_test

import (
	"path"
	"strings"
	"testing"

	"github.com/surgekit/surge/shared/keyspace"
)

// hashTag is the part of key Redis Cluster hashes: the text between the
// first '{' and the next '}', when not empty; else the whole key.
func hashTag(key string) string {
	open := strings.IndexByte(key, '{')
	if open < 0 {
		return key
	}
	end := strings.IndexByte(key[open+1:], '}')
	if end <= 0 {
		return key
	}
	return key[open+1 : open+1+end]
}

func TestCampaignKeysShareOneSlot(t *testing.T) {
	for _, prefix := range []string{"", "surge", "t-1a2b3c4d5e6f:"} {
		c := keyspace.New(prefix).Campaign("double11")
		keys := map[string]string{
			"Meta": c.Meta(), "Stock": c.Stock("phone-x"), "Held": c.Held(), "Wins": c.Wins(),
			"Claim": c.Claim(keyspace.ClaimID("double11", "7f3a")), "Inflight": c.Inflight(), "Releasing": c.Releasing(), "RebuildLease": c.RebuildLease(), "Challenge": c.Challenge("ch-1"),
			"BankAnswers": c.BankAnswers(), "BankFree": c.BankFree(), "BankLeases": c.BankLeases(), "BankHolders": c.BankHolders(), "BankLock": c.BankLock(),
			"ClaimEvents": c.ClaimEvents(), "StatsDays": c.StatsDays(), "StatsDay": c.StatsDay("2026-12-03"), "StatsUsers": c.StatsUsers(),
			"StatsUsersOn": c.StatsUsersOn("2026-12-03"), "StatsSecond": c.StatsSecond(1796000000),
		}
		seen := make(map[string]string)
		for name, key := range keys {
			if got := hashTag(key); got != "c:double11" {
				t.Errorf("prefix %q: %s key %q hashes on %q; want %q", prefix, name, key, got, "c:double11")
			}
			if other, dup := seen[key]; dup {
				t.Errorf("prefix %q: %s and %s are both %q", prefix, name, other, key)
			}
			seen[key] = name
		}
	}
}

func TestUserKeys(t *testing.T) {
	key := keyspace.New("surge").User("alice").Pending()
	if got := hashTag(key); got != "u:alice" {
		t.Errorf("Pending key %q hashes on %q; want %q", key, got, "u:alice")
	}
}

func TestKeysApart(t *testing.T) {
	s := keyspace.New("")
	tests := []struct {
		name     string
		a, b     string
		sameSlot bool // Redis Cluster hashes both to one slot
	}{
		{"campaigns", s.Campaign("a").Meta(), s.Campaign("b").Meta(), false},
		{"users", s.User("a").Pending(), s.User("b").Pending(), false},
		{"campaign and user of one id", s.Campaign("a").Held(), s.User("a").Pending(), false},
		{"prefixes", keyspace.New("p1").Campaign("a").Meta(), keyspace.New("p2").Campaign("a").Meta(), true},
		{"skus", s.Campaign("a").Stock("x"), s.Campaign("a").Stock("y"), true},
		{"claims", s.Campaign("a").Claim("a.1"), s.Campaign("a").Claim("a.2"), true},
	}
	for _, tt := range tests {
		if tt.a == tt.b {
			t.Errorf("%s: both keys are %q; want them apart", tt.name, tt.a)
		}
		if got := hashTag(tt.a) == hashTag(tt.b); got != tt.sameSlot {
			t.Errorf("%s: %q and %q in one slot = %v; want %v", tt.name, tt.a, tt.b, got, tt.sameSlot)
		}
	}
}

func TestDefaultPrefix(t *testing.T) {
	tests := []struct{ prefix, want string }{
		{"", "surge:{c:double11}:meta"},
		{"surge", "surge:{c:double11}:meta"},
		{"staging", "staging:{c:double11}:meta"},
	}
	for _, tt := range tests {
		if got := keyspace.New(tt.prefix).Campaign("double11").Meta(); got != tt.want {
			t.Errorf("New(%q) Meta = %q; want %q", tt.prefix, got, tt.want)
		}
	}
	if got, want := keyspace.New("").User("alice").Pending(), "surge:{u:alice}:pending"; got != want {
		t.Errorf("User Pending = %q; want %q", got, want)
	}
}

func TestClaimID(t *testing.T) {
	id := keyspace.ClaimID("double11", "7f3a-b2")
	if got, ok := keyspace.CampaignOfClaim(id); !ok || got != "double11" {
		t.Errorf("CampaignOfClaim(%q) = %q, %v; want double11, true", id, got, ok)
	}
	tests := []struct {
		id       string
		campaign string
		ok       bool
	}{
		{"double11.7f3a", "double11", true},
		{"double11.7f.3a", "double11", true}, // the unique part may hold dots
		{"nodot", "", false},
		{".7f3a", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := keyspace.CampaignOfClaim(tt.id)
		if ok != tt.ok || (ok && got != tt.campaign) {
			t.Errorf("CampaignOfClaim(%q) = %q, %v; want %q, %v", tt.id, got, ok, tt.campaign, tt.ok)
		}
	}
}

func TestClaimEventsPattern(t *testing.T) {
	tests := []struct{ prefix, channel, pattern string }{
		{"surge", "surge:{c:double11}:claim-events", "surge:{c:*}:claim-events"},
		{"t-1a2b:", "t-1a2b::{c:double11}:claim-events", "t-1a2b::{c:*}:claim-events"},
		{"a*b?[x]", "a*b?[x]:{c:double11}:claim-events", `a\*b\?\[x\]:{c:*}:claim-events`},
	}
	for _, tt := range tests {
		s := keyspace.New(tt.prefix)
		if got := s.Campaign("double11").ClaimEvents(); got != tt.channel {
			t.Errorf("prefix %q: ClaimEvents %q, want %q", tt.prefix, got, tt.channel)
		}
		if got := s.ClaimEventsPattern(); got != tt.pattern {
			t.Errorf("prefix %q: ClaimEventsPattern %q, want %q", tt.prefix, got, tt.pattern)
		}
	}
}

// names is every key and channel of space s for the campaigns and users
// given, and its one pattern.
func names(s keyspace.Space, campaigns, users []string) (keys []string, pattern string) {
	keys = append(keys, s.SoldOut(), s.Switches())
	for _, id := range campaigns {
		c := s.Campaign(id)
		keys = append(keys, c.Meta(), c.Stock("sku"), c.Held(), c.Wins(), c.Claim(keyspace.ClaimID(id, "x")), c.ClaimEvents(),
			c.Inflight(), c.Releasing(), c.RebuildLease(), c.Challenge("ch"), c.Limit("claim", "all"), c.BankAnswers(), c.BankFree(), c.BankLeases(),
			c.BankHolders(), c.BankLock())
	}
	for _, u := range users {
		keys = append(keys, s.User(u).Pending())
	}
	return keys, s.ClaimEventsPattern()
}

// TestShadowSpaceApart: real and shadow traffic never share a key or a
// channel, and neither's claim-events pattern matches the other's channels
// (path.Match is Redis's glob for names without '/'), whatever the ids.
func TestShadowSpaceApart(t *testing.T) {
	campaigns := []string{"double11", "shadow", "c", "soldout"}
	users := []string{"alice", "shadow", "{c"}
	for _, prefix := range []string{"", "surge", "t-1a2b3c4d5e6f:", "a*b"} {
		real := keyspace.New(prefix)
		shadow := real.Shadow()
		realKeys, realPattern := names(real, campaigns, users)
		shadowKeys, shadowPattern := names(shadow, campaigns, users)
		inReal := make(map[string]bool, len(realKeys))
		for _, k := range realKeys {
			inReal[k] = true
			if ok, _ := path.Match(shadowPattern, k); ok {
				t.Errorf("prefix %q: shadow pattern %q matches real %q", prefix, shadowPattern, k)
			}
		}
		for _, k := range shadowKeys {
			if inReal[k] {
				t.Errorf("prefix %q: %q is a real and a shadow name", prefix, k)
			}
			if ok, _ := path.Match(realPattern, k); ok {
				t.Errorf("prefix %q: real pattern %q matches shadow %q", prefix, realPattern, k)
			}
		}
		if ok, _ := path.Match(shadowPattern, shadow.Campaign("double11").ClaimEvents()); !ok && !strings.Contains(prefix, "*") {
			t.Errorf("prefix %q: shadow pattern %q misses its own channel", prefix, shadowPattern)
		}
		if got := hashTag(shadow.Campaign("double11").Meta()); got != "c:double11" {
			t.Errorf("prefix %q: shadow meta hashes on %q; want c:double11", prefix, got)
		}
	}
}
