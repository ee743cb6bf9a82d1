package stock

import "github.com/redis/go-redis/v9"

// Claim record fields (beside those of package claim) where the pre-deduct
// script keeps a reservation's time and payment deadline, unix ms, so a
// duplicate delivery gets the very same decision back, and so the very same
// reply and receipt token downstream.
const (
	FieldPayBy      = "pay_by_ms"
	FieldReservedAt = "reserved_ms"
	// FieldSlots lists a reservation's stock slots ("5,17") when they are
	// not first_slot..first_slot+qty-1; absent for a range.
	FieldSlots = "slots"
)

// deductLua decides one claim atomically. The claim record fields are those
// of package claim; the meta fields those of Warm.
//
//	KEYS: 1 meta, 2 stock(sku), 3 held, 4 wins, 5 claim, 6 inflight, 7 claim events channel,
//	      8 free slots(sku), 9 due
//	ARGV: 1 now ms, 2 qty, 3 user, 4 sku, 5 claim id, 6 claim ttl ms,
//	      7 sold-out channel, 8 campaign id, 9 requested ms (0: unknown),
//	      10 claim.RefusedTTL ms
//
// A claim captcha refused (a tombstone, state refused) is dropped: the
// script changes nothing and returns state refused. So is a claim with no
// record at all whose request is older than claim.RefusedTTL: its
// tombstone may have expired, while a claim captcha accepted keeps its
// record for the claim TTL.
//
// Each decision it records is published on KEYS[7] as a claim.Event
// ("<claim id> <state>"); a claim decided already publishes nothing.
//
// A reservation takes the lowest slots given back (KEYS[8], filled by
// releases) first, then fresh ones: live units are the fresh slots handed
// out less the free ones, so the next fresh slot is
// configured − left + |free| + 1. With a payment window it is added to the
// due index (KEYS[9], claim id → pay_by) that the release driver reads.
//
// It returns {state, reason, seq, first_slot, pay_by_ms, reserved_ms,
// slots, new}, slots being "" for a range from first_slot, new 1 when this
// run made the decision and 0 when it was recorded before (a redelivery)
// or the claim was dropped.
// When it takes a SKU's last unit, or finds none left, it publishes
// "<campaign> <sku> 0" on the sold-out channel (package soldout reads it):
// that decision is the only source of a sold-out flag.
const deductLua = `
local now, qty, user, sku = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4]

local function recorded()
  local r = redis.call('HMGET', KEYS[5], 'state', 'reason', 'seq', 'first_slot', 'pay_by_ms', 'reserved_ms', 'slots')
  local s = r[1]
  if s == 'reserved' or s == 'rejected' or s == 'settled' or s == 'released' or s == 'paid' or s == 'releasing' then
    return {s, r[2] or '', tonumber(r[3]) or 0, tonumber(r[4]) or 0, tonumber(r[5]) or 0, tonumber(r[6]) or 0, r[7] or '', 0}
  end
  local requested = tonumber(ARGV[9])
  if s == 'refused' or (not s and requested > 0 and now - requested > tonumber(ARGV[10])) then
    return {'refused', '', 0, 0, 0, 0, '', 0}
  end
end

local function record(fields)
  if redis.call('EXISTS', KEYS[5]) == 0 then
    redis.call('HSET', KEYS[5], 'user', user, 'sku', sku, 'qty', ARGV[2], 'created_ms', ARGV[1])
  end
  redis.call('HSET', KEYS[5], 'updated_ms', ARGV[1], unpack(fields))
  redis.call('PEXPIRE', KEYS[5], ARGV[6])
end

local function gone()
  redis.call('PUBLISH', ARGV[7], ARGV[8] .. ' ' .. sku .. ' 0')
end
local function reject(reason)
  record({'state', 'rejected', 'reason', reason})
  redis.call('PUBLISH', KEYS[7], ARGV[5] .. ' rejected')
  return {'rejected', reason, 0, 0, 0, 0, '', 1}
end

local done = recorded()
if done then return done end

local m = redis.call('HMGET', KEYS[1], 'starts_ms', 'ends_ms', 'limit', 'pay_window_ms', 'stock:' .. sku)
local starts, ends, limit = tonumber(m[1]), tonumber(m[2]), tonumber(m[3])
if not starts or not ends or not limit then return reject('not_open') end
if now < starts then return reject('not_open') end
if now >= ends then return reject('closed') end
local configured = tonumber(m[5])
if not configured then return reject('unknown_sku') end
local left = tonumber(redis.call('GET', KEYS[2]))
if not left then return reject('sold_out') end
local held = tonumber(redis.call('HGET', KEYS[3], user)) or 0
if held + qty > limit then return reject('limit_reached') end
if left < qty then
  if left <= 0 then gone() end
  return reject('sold_out')
end

local nfree = redis.call('ZCARD', KEYS[8])
local fresh = configured - left + nfree + 1
if fresh - nfree < 1 then return redis.error_reply('stock of ' .. sku .. ' exceeds its configured stock') end
local slots = {}
if nfree > 0 then
  local popped = redis.call('ZPOPMIN', KEYS[8], math.min(qty, nfree))
  for i = 1, #popped, 2 do slots[#slots + 1] = tonumber(popped[i]) end
end
while #slots < qty do
  slots[#slots + 1] = fresh
  fresh = fresh + 1
end
local first, list = slots[1], ''
if slots[qty] - first + 1 ~= qty then list = table.concat(slots, ',') end
if redis.call('DECRBY', KEYS[2], qty) == 0 then gone() end
redis.call('HINCRBY', KEYS[3], user, qty)
local seq = redis.call('HINCRBY', KEYS[4], user, 1)
local window = tonumber(m[4]) or 0
local pay_by = now + window
redis.call('HSET', KEYS[6], ARGV[5], qty)
local fields = {'state', 'reserved', 'seq', seq, 'first_slot', first,
  'pay_by_ms', string.format('%.0f', pay_by), 'reserved_ms', ARGV[1]}
if list ~= '' then
  fields[#fields + 1] = 'slots'
  fields[#fields + 1] = list
end
record(fields)
if window > 0 then redis.call('ZADD', KEYS[9], pay_by, ARGV[5]) end
redis.call('PUBLISH', KEYS[7], ARGV[5] .. ' reserved')
return {'reserved', '', seq, first, pay_by, now, list, 1}
`

// deductScript is built once and run with EVALSHA (EVAL on a cache miss).
var deductScript = redis.NewScript(deductLua)
