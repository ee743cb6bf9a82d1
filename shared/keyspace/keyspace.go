// Package keyspace names every Redis key Surge uses. All keys of one
// campaign share the hash tag {c:<campaign>} and all keys of one user's
// wallet share {u:<user>}, so every Lua script touches one Redis Cluster
// slot. A prefix keeps deployments (and tests) apart on one server.
package keyspace

import (
	"strconv"
	"strings"
)

// Space is a key prefix, "surge" unless configured.
type Space struct{ prefix string }

// New returns the key space under prefix ("surge" when empty).
func New(prefix string) Space {
	if prefix == "" {
		prefix = "surge"
	}
	return Space{prefix: prefix}
}

// Shadow is the key space of shadow traffic (load tests, package plane):
// the prefix followed by ":shadow". No key or channel of one space is
// named, or matched by a pattern, in the other: every name of s continues
// the prefix with ":{" (a hash tag) or ":soldout", every name of
// s.Shadow() with ":shadow:". A campaign keeps its hash tag, so its shadow
// keys live in the slot of its real ones.
func (s Space) Shadow() Space { return Space{prefix: s.prefix + ":shadow"} }

// Prefix is the space's key prefix, as New was given it ("surge" for "").
func (s Space) Prefix() string { return s.prefix }

// SoldOut is the pub/sub channel on which the pre-deduct script announces
// that a SKU has no unit left (and a release, that units came back). It is
// a channel, not a key: on Redis Cluster a PUBLISH reaches every node.
func (s Space) SoldOut() string { return s.prefix + ":soldout" }

// Campaign returns the keys of one campaign.
func (s Space) Campaign(id string) Campaign {
	return Campaign{tag: s.prefix + ":{c:" + id + "}"}
}

// ClaimEventsPattern matches the ClaimEvents channel of every campaign in
// this key space (a PSUBSCRIBE pattern; glob characters of the prefix are
// escaped).
func (s Space) ClaimEventsPattern() string {
	return globEscaper.Replace(s.prefix) + ":{c:*}" + claimEvents
}

var globEscaper = strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`, "]", `\]`)

// User returns the keys of one user's wallet.
func (s Space) User(id string) User {
	return User{tag: s.prefix + ":{u:" + id + "}"}
}

// Campaign keys, all in one slot.
type Campaign struct{ tag string }

// Meta is the hash the pre-deduct script reads: window, limit, spec.
func (c Campaign) Meta() string { return c.tag + ":meta" }

// Stock is the remaining units of a SKU. Missing means fail closed.
func (c Campaign) Stock(sku string) string { return c.tag + ":stock:" + sku }

// Held is the hash user → units reserved or won in this campaign.
func (c Campaign) Held() string { return c.tag + ":held" }

// Wins is the hash user → number of reservations the user has won in this
// campaign; the pre-deduct script numbers each win (the order's seq) from it.
func (c Campaign) Wins() string { return c.tag + ":wins" }

// Claim is the hash recording one claim's state.
func (c Campaign) Claim(claimID string) string { return c.tag + ":claim:" + claimID }

// ClaimEvents is the Pub/Sub channel where every change of a claim's state
// in this campaign is published (package claim owns the message format).
// It is not a key, but it shares the campaign's hash tag, so a script may
// name it in KEYS and it stays in the campaign's slot on a cluster.
func (c Campaign) ClaimEvents() string { return c.tag + claimEvents }

const claimEvents = ":claim-events"

// Inflight is the hash claim id → units reserved but not yet settled.
func (c Campaign) Inflight() string { return c.tag + ":inflight" }

// Releasing is the hash claim id → units of the claims decided released
// whose units are not given back yet (PostgreSQL is releasing their
// order): still taken from stock, held by no live order once PostgreSQL
// committed. An audit reads it beside the stock.
func (c Campaign) Releasing() string { return c.tag + ":releasing" }

// RebuildLease is held by the reconcile instance rebuilding this campaign
// from PostgreSQL: two never rebuild it at once.
func (c Campaign) RebuildLease() string { return c.tag + ":rebuild-lease" }

// Free is the sorted set of a SKU's stock slots given back by releases
// (score = slot), sold again lowest first.
func (c Campaign) Free(sku string) string { return c.tag + ":free:" + sku }

// Due is the sorted set claim id → pay_by (unix ms) of the reservations
// not paid or released yet: the release driver reads what is due.
func (c Campaign) Due() string { return c.tag + ":due" }

// Packets is a rain's split: the amount of packet n (cents) is the n-th of
// its comma-separated numbers, written once at warm-up (package rain).
func (c Campaign) Packets() string { return c.tag + ":packets" }

// Issued is the money a rain has issued so far (cents), a hot counter:
// each enqueue instance adds up its wins and flushes the sum once a
// second (package budget), never one write per grab.
func (c Campaign) Issued() string { return c.tag + ":issued" }

// BudgetAlerts is the hash threshold → unix ms of the budget alerts raised
// for a rain ("low" at 90% issued, "exhausted" at 100%): each is raised
// once, by the instance whose flush crossed it.
func (c Campaign) BudgetAlerts() string { return c.tag + ":budget-alerts" }

// Challenge is one captcha challenge, deleted when answered.
func (c Campaign) Challenge(id string) string { return c.tag + ":challenge:" + id }

// Limit is the token bucket (a hash) of one rate limit in this campaign:
// scope names the call ("claim", "challenge"), who the limited party
// ("user:alice", "ip:192.0.2.1", "all"). Package ratelimit owns it.
func (c Campaign) Limit(scope, who string) string { return c.tag + ":limit:" + scope + ":" + who }

// The challenge bank of a campaign (package captcha owns them all):
// BankAnswers is the hash entry id → answer, written once at warm-up and
// read only by the issuer and the operator; BankFree is the set of entries
// not issued to anyone; BankLeases is the sorted set entry → lease end (ms);
// BankHolders is the hash entry → id of the challenge holding it; BankLock
// is held while a warm-up renders the bank.
func (c Campaign) BankAnswers() string { return c.tag + ":bank:answers" }
func (c Campaign) BankFree() string    { return c.tag + ":bank:free" }
func (c Campaign) BankLeases() string  { return c.tag + ":bank:leases" }
func (c Campaign) BankHolders() string { return c.tag + ":bank:holders" }
func (c Campaign) BankLock() string    { return c.tag + ":bank:lock" }

// The statistics of a campaign (package stats owns them all): StatsDays
// is the set of the UTC days (2006-01-02) counted; StatsDay the hash
// counter → count of one day; StatsUsers and StatsUsersOn the
// HyperLogLogs of the distinct users who clicked, over the campaign and
// on one day; StatsSecond the hash of one second's live counters and
// latency buckets, which expires after a few minutes.
func (c Campaign) StatsDays() string              { return c.tag + ":stats:days" }
func (c Campaign) StatsDay(day string) string     { return c.tag + ":stats:day:" + day }
func (c Campaign) StatsUsers() string             { return c.tag + ":stats:users" }
func (c Campaign) StatsUsersOn(day string) string { return c.tag + ":stats:users:" + day }
func (c Campaign) StatsSecond(unix int64) string {
	return c.tag + ":stats:second:" + strconv.FormatInt(unix, 10)
}

// ActiveUsers is the HyperLogLog of the users who clicked in any campaign
// on one UTC day (package stats); its hash tag is {stats}, apart from
// every campaign's.
func (s Space) ActiveUsers(day string) string { return s.prefix + ":{stats}:active:" + day }

// Switches is the hash of the live degrade switches (package switches
// owns it): the field "version" and one field per switch that is set, its
// JSON value. Its hash tag is {switches}, apart from every campaign's and
// user's; the shadow plane's is under the shadow prefix, so a load test's
// switches never touch real traffic.
func (s Space) Switches() string { return s.prefix + ":{switches}" }

// User keys, all in one slot.
type User struct{ tag string }

// Pending is the hash order number → receipt token of wins not yet settled.
func (u User) Pending() string { return u.tag + ":pending" }

// ClaimID joins a campaign id and a unique suffix. Campaign ids never hold a
// dot, so the campaign of a claim (and so its Redis slot) is recoverable.
func ClaimID(campaign, unique string) string { return campaign + "." + unique }

// CampaignOfClaim returns the campaign part of a claim id.
func CampaignOfClaim(claimID string) (string, bool) {
	c, _, ok := strings.Cut(claimID, ".")
	return c, ok && c != ""
}
