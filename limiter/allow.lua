-- Checks and counts requests in every limit of their ids: for each entry
-- in turn, m requests of one id that came together, each as if alone and
-- after the ones before it, the check of doc.go's sliding-window counter
-- (fits) at Redis's time, and the count of those that fit. Go computes the
-- rest of each decision from the reply (decide in decision.go).
--
-- ARGV[1]  milliseconds a key is kept beyond the end of its two windows
-- Then for each entry, from ARGV[2] on:
--   now    in milliseconds since the Unix epoch; -1 reads Redis TIME
--   cost   of each of its requests
--   from, to  the instants (ms) from which and until which its keys are
--          those of every limit; at any other now, they are derived from
--          its keys
--   n      the number of limits
--   m      the number of requests, at least 1
--   count and window in milliseconds of each limit
-- and its keys, in turn in KEYS: the previous and the current fixed window
-- of each limit, "{<prefix>:<id>}:<S>:<b>" for a window of S seconds.
--
-- Reply: for each entry, prev_1, curr_1, ..., prev_n, curr_n, the counts
-- before its first request, then fit, the number of its requests that fit
-- (the first fit ones: they all see the same time, and one that does not
-- fit counts nothing, so none after it fits), and now.
--
-- It runs on every request, so it is written for Redis's CPU, most of
-- which goes to the commands it calls (about 2 µs each): one TIME for all
-- the entries; for a run of consecutive entries with the same keys (one
-- id under load), one MGET before and one write per key after; one SET
-- with PX to create a key with its expiry. And to the Lua around them: no
-- table but the reply, the run's counts and the keys when they must be
-- derived; few conversions between strings and numbers: strings, not
-- numbers, as command arguments where it can, which Redis would format.
--
-- Lua numbers are doubles; every value below stays under 2^52 (see doc.go),
-- where +, -, *, % and floor of / give the exact integer results that Go's
-- int64 arithmetic gives. Bucket numbers stay below 1e14, which Lua's number
-- to string conversion ("%.14g") writes in full.
local argv, call, floor, tonumber, unpack = ARGV, redis.call, math.floor, tonumber, unpack
local keep, time = argv[1], nil
local reply, r, k, a, last = {}, 0, 0, 2, #argv

-- The run: its keys are run[rk+1..rk+rn]; c[i] is the count of key i,
-- with what the run admitted; created[i] the expiry of current window key
-- i if the run creates it; added what the run admitted, once its ARGV if
-- it admitted one request.
local run, rk, rn, c, created, added, once = nil, 0, 0, {}, {}, 0, nil

-- flush writes what the run admitted, in each current window key.
local function flush()
  if added == 0 then return end
  local v = once or added
  for i = 2, rn, 2 do
    if created[i] then
      call('SET', run[rk + i], v, 'PX', created[i])
    else
      call('INCRBY', run[rk + i], v)
    end
  end
end

while a < last do
  local now, cost, from, to, n, m = tonumber(argv[a]), tonumber(argv[a + 1]), tonumber(argv[a + 2]),
      tonumber(argv[a + 3]), 2 * argv[a + 4], tonumber(argv[a + 5])
  local l = a + 6 -- ARGV of the first limit; limit j is at l+2j-2, l+2j-1
  if now < 0 then
    if not time then
      -- Writing after TIME needs effects replication: always on from
      -- Redis 5 (7 has REDIS_VERSION); Redis 3.2 and 4 must be asked.
      if not redis.REDIS_VERSION and redis.replicate_commands then redis.replicate_commands() end
      local t = call('TIME')
      time = t[1] * 1000 + floor(t[2] / 1000)
    end
    now = time
  end

  local keys, k0 = KEYS, k
  if now < from or now >= to then
    keys, k0 = {}, 0
    for i = 2, n, 2 do
      local base, b = string.match(KEYS[k + i], '^(.*:)'), floor(now / argv[l + i - 1])
      keys[i - 1], keys[i] = base .. (b - 1), base .. b
    end
  end

  local same = n == rn
  for i = 1, same and n or 0 do
    if keys[k0 + i] ~= run[rk + i] then
      same = false
      break
    end
  end
  if not same then
    flush()
    run, rk, rn, added = keys, k0, n, 0
    local v = call('MGET', unpack(keys, k0 + 1, k0 + n))
    for i = 1, n do c[i], created[i] = tonumber(v[i]) or 0, false end
  end

  -- The j-th request (from 1) fits when, for every limit, with S = 1e6,
  -- prev*weight + (curr + j*cost)*S <= count*S: j <= room / (cost*S).
  local fit, unit = m, cost * 1000000
  for i = 2, n, 2 do
    local size, prev, curr = tonumber(argv[l + i - 1]), c[i - 1], c[i]
    reply[r + i - 1], reply[r + i] = prev, curr
    local f = floor((argv[l + i - 2] * 1000000 - prev * floor((size - now % size) * 1000000 / size) - curr * 1000000) / unit)
    if f < fit then fit = f end
  end
  if fit < 0 then fit = 0 end

  -- A key expires 2*size - elapsed + keep from now: keep after the end of
  -- the next fixed window, whichever request creates it.
  if fit > 0 then
    local add = fit * cost
    for i = 2, n, 2 do
      if c[i] == 0 then
        local size = tonumber(argv[l + i - 1])
        created[i] = 2 * size - now % size + keep
      end
      c[i] = c[i] + add
    end
    once = added == 0 and fit == 1 and argv[a + 1] or nil
    added = added + add
  end

  reply[r + n + 1], reply[r + n + 2] = fit, now
  r, k, a = r + n + 2, k + n, l + n
end
flush()
return reply
