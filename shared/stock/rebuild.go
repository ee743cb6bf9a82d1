package stock

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/ledger"
)

// MetaRebuiltMS is the meta field a rebuild sets: when Redis was last
// rebuilt from PostgreSQL (unix ms). A claim with no record in a rebuilt
// campaign, and no order, was lost with Redis.
const MetaRebuiltMS = "rebuilt_ms"

// restoreLua makes one claim record agree with its order in PostgreSQL,
// the system of record: a missing record is created in the order's state
// (reserved in PostgreSQL is settled in Redis); one still reserved or
// pending becomes settled (PostgreSQL holds its order); one releasing
// whose order PostgreSQL released is released (the rebuild counted its
// units back). A record ahead of PostgreSQL (paid, or releasing an order
// still reserved) is kept: the payment window finishes it. A claim whose
// order awaits its payment deadline goes back in the due index, and one
// releasing in the releasing hash.
//
//	KEYS: 1 claim, 2 due, 3 releasing, 4 claim events channel
//	ARGV: 1 claim id, 2 user, 3 sku, 4 qty, 5 order state, 6 order no, 7 seq,
//	      8 first slot, 9 slots ("" for a range), 10 pay_by ms, 11 reserved ms,
//	      12 now ms, 13 claim ttl ms
const restoreLua = `
local want = ({reserved = 'settled', paid = 'paid', released = 'released'})[ARGV[5]]
if not want then return redis.error_reply('order state ' .. ARGV[5]) end
local state = redis.call('HGET', KEYS[1], 'state')
local changed = true
if not state then
  redis.call('HSET', KEYS[1], 'user', ARGV[2], 'sku', ARGV[3], 'qty', ARGV[4], 'state', want,
    'order_no', ARGV[6], 'seq', ARGV[7], 'first_slot', ARGV[8], 'pay_by_ms', ARGV[10],
    'reserved_ms', ARGV[11], 'created_ms', ARGV[11], 'updated_ms', ARGV[12], 'restored_ms', ARGV[12])
  if ARGV[9] ~= '' then redis.call('HSET', KEYS[1], 'slots', ARGV[9]) end
  if want == 'released' then redis.call('HSET', KEYS[1], 'released_ms', ARGV[12]) end
  state = want
elseif state == 'pending' or state == 'reserved' then
  redis.call('HSET', KEYS[1], 'state', want, 'order_no', ARGV[6], 'updated_ms', ARGV[12], 'restored_ms', ARGV[12])
  state = want
elseif state == 'releasing' and want == 'released' then
  redis.call('HSET', KEYS[1], 'state', 'released', 'released_ms', ARGV[12], 'updated_ms', ARGV[12])
  state = 'released'
else
  changed = false
end
redis.call('PEXPIRE', KEYS[1], ARGV[13])
if ARGV[5] == 'reserved' and (state == 'settled' or state == 'releasing') then
  redis.call('ZADD', KEYS[2], ARGV[10], ARGV[1])
end
if ARGV[5] == 'reserved' and state == 'releasing' then redis.call('HSET', KEYS[3], ARGV[1], ARGV[4]) end
if changed then redis.call('PUBLISH', KEYS[4], ARGV[1] .. ' ' .. state) end
return state
`

// loseLua finalises a claim Redis held reserved whose order PostgreSQL
// never received, once the broker has drained: its units were counted
// back from PostgreSQL, so it won nothing.
//
//	KEYS: 1 claim, 2 claim events channel
//	ARGV: 1 claim id, 2 now ms
const loseLua = `
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'reserved' and state ~= 'pending' then return state or '' end
redis.call('HSET', KEYS[1], 'state', 'rejected', 'reason', 'lost', 'updated_ms', ARGV[2])
redis.call('PUBLISH', KEYS[2], ARGV[1] .. ' rejected')
return 'rejected'
`

var (
	restoreScript = redis.NewScript(restoreLua)
	loseScript    = redis.NewScript(loseLua)
)

// Rebuilt is what a rebuild wrote.
type Rebuilt struct {
	Remaining map[string]int `json:"remaining"` // sku → units left
	Free      map[string]int `json:"free"`      // sku → slots given back, to be sold again
	Orders    int            `json:"orders"`    // claim records made to agree with PostgreSQL
	Lost      []string       `json:"lost,omitempty"`
}

// Rebuild writes campaign c's Redis state from PostgreSQL's orders, the
// system of record, once nothing is in flight (the caller drained the
// broker and holds the campaign's rebuild lease): the meta hash; per SKU
// the stock left (configured − units of live orders) and the free slots
// (those up to the highest live one that no live order holds, so the
// next fresh slot is exact); per user the units held and the wins
// numbered (the highest seq, released orders included: their numbers
// stay taken); a claim record per order (restoreLua); the due index. The
// claims Redis held reserved (inflight) with no order become rejected,
// reason lost. Inflight and releasing are rewritten from these. All of it
// in one MULTI: a click sees the campaign before or after, never half.
// Pending token lists live in each user's slot and are left as they are:
// after the drain every token is in the ledger, and the read merge keeps
// an order once. The new counts are announced on the sold-out channel.
func Rebuild(ctx context.Context, rdb redis.UniversalClient, space keyspace.Space, c *campaign.Campaign, orders []ledger.Recorded, now time.Time) (Rebuilt, error) {
	keys := space.Campaign(c.ID)
	meta, err := metaFields(c)
	if err != nil {
		return Rebuilt{}, err
	}
	inflight, err := rdb.HGetAll(ctx, keys.Inflight()).Result()
	if err != nil {
		return Rebuilt{}, fmt.Errorf("rebuild %s: %w", c.ID, err)
	}
	// EVALSHA in the MULTI: a NOSCRIPT there would fail that one command
	// and apply the others, so the scripts are loaded first.
	for _, s := range []*redis.Script{restoreScript, loseScript} {
		if err := s.Load(ctx, rdb).Err(); err != nil {
			return Rebuilt{}, fmt.Errorf("rebuild %s: %w", c.ID, err)
		}
	}
	out := Rebuilt{Remaining: map[string]int{}, Free: map[string]int{}, Orders: len(orders)}
	live, held, wins, ordered := tally(orders)
	ms := now.UnixMilli()
	_, err = rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, keys.Meta(), append(meta, MetaRebuiltMS, ms)...)
		for _, it := range c.Lots() {
			free := freeSlots(live[it.SKU])
			out.Remaining[it.SKU], out.Free[it.SKU] = it.Stock-len(live[it.SKU]), len(free)
			p.Set(ctx, keys.Stock(it.SKU), out.Remaining[it.SKU], 0)
			p.Del(ctx, keys.Free(it.SKU))
			if len(free) > 0 {
				p.ZAdd(ctx, keys.Free(it.SKU), free...)
			}
		}
		p.Del(ctx, keys.Held(), keys.Wins(), keys.Inflight(), keys.Releasing(), keys.Due())
		if len(held) > 0 {
			p.HSet(ctx, keys.Held(), held)
		}
		if len(wins) > 0 {
			p.HSet(ctx, keys.Wins(), wins)
		}
		for _, o := range orders {
			restoreScript.EvalSha(ctx, p, []string{keys.Claim(o.TokenID), keys.Due(), keys.Releasing(), keys.ClaimEvents()},
				o.TokenID, o.UserID, o.SKU, o.Qty, o.State, o.OrderNo, o.Seq, o.FirstSlot, ledger.JoinSlots(o.Slots),
				o.PayBy.UnixMilli(), o.ReservedAt.UnixMilli(), ms, claim.TTL.Milliseconds())
		}
		for id := range inflight {
			if !ordered[id] {
				out.Lost = append(out.Lost, id)
				loseScript.EvalSha(ctx, p, []string{keys.Claim(id), keys.ClaimEvents()}, id, ms)
			}
		}
		for _, it := range c.Lots() {
			p.Publish(ctx, space.SoldOut(), c.ID+" "+it.SKU+" "+strconv.Itoa(out.Remaining[it.SKU]))
		}
		return nil
	})
	if err != nil {
		return Rebuilt{}, fmt.Errorf("rebuild %s: %w", c.ID, err)
	}
	return out, nil
}

// tally counts the live slots per SKU, the units held and the highest seq
// per user, and the claims PostgreSQL has an order of.
func tally(orders []ledger.Recorded) (live map[string]map[int]bool, held, wins map[string]any, ordered map[string]bool) {
	live, ordered = map[string]map[int]bool{}, map[string]bool{}
	units, seqs := map[string]int{}, map[string]int{}
	for _, o := range orders {
		ordered[o.TokenID] = true
		seqs[o.UserID] = max(seqs[o.UserID], o.Seq)
		if !o.Live() {
			continue
		}
		units[o.UserID] += o.Qty
		if live[o.SKU] == nil {
			live[o.SKU] = map[int]bool{}
		}
		for _, s := range o.SlotList() {
			live[o.SKU][s] = true
		}
	}
	held, wins = make(map[string]any, len(units)), make(map[string]any, len(seqs))
	for u, n := range units {
		held[u] = n
	}
	for u, n := range seqs {
		wins[u] = n
	}
	return live, held, wins, ordered
}

// freeSlots are the slots up to the highest live one that no live order
// holds: given back, to be sold again before any fresh one.
func freeSlots(live map[int]bool) []redis.Z {
	highest := 0
	for s := range live {
		highest = max(highest, s)
	}
	var out []redis.Z
	for s := 1; s < highest; s++ {
		if !live[s] {
			out = append(out, redis.Z{Score: float64(s), Member: s})
		}
	}
	return out
}
