package ratelimit

import "github.com/redis/go-redis/v9"

// takeLua takes one token from every bucket it is given, or from none.
// Each bucket is a hash {tk = tokens, ms = unix ms of tk}, refilled on
// read; the clock is Redis's own (TIME), so instances need not agree.
//
//	KEYS: 1..n the buckets, all under one campaign's hash tag
//	ARGV: 2i-1 bucket i's rate per second, 2i its size (burst)
//
// It returns {0, 0} when every bucket had a token (one is taken from
// each), else {i, wait_ms}: bucket i, the first without a token, has one
// in wait_ms; nothing is taken.
const takeLua = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tokens = {}
for i, key in ipairs(KEYS) do
  local rate, size = tonumber(ARGV[2*i-1]), tonumber(ARGV[2*i])
  local b = redis.call('HMGET', key, 'tk', 'ms')
  local tk, ms = tonumber(b[1]), tonumber(b[2])
  if not tk or not ms then tk, ms = size, now end
  tk = math.min(size, tk + math.max(0, now - ms) * rate / 1000)
  if tk < 1 then
    return {i, math.ceil((1 - tk) * 1000 / rate)}
  end
  tokens[i] = tk
end
for i, key in ipairs(KEYS) do
  local rate, size = tonumber(ARGV[2*i-1]), tonumber(ARGV[2*i])
  redis.call('HSET', key, 'tk', tostring(tokens[i] - 1), 'ms', now)
  redis.call('PEXPIRE', key, math.ceil(size * 1000 / rate) + 1000)
end
return {0, 0}
`

// takeScript is takeLua, loaded once per server (EVALSHA, EVAL fallback).
var takeScript = redis.NewScript(takeLua)
