-- Checks and counts requests in every limit of their ids: for each entry
-- in turn, m requests of one id that came together, each as if alone and
-- after the ones before it, the check of doc.go's sliding-window counter
-- (fits) at Redis's time, and the count of those that fit. Go computes the
-- rest of each decision from the reply (decide in decision.go). With
-- leasing, it also grants, checks and settles leases (doc.go, Leases).
--
-- ARGV[1]  milliseconds a key is kept beyond the end of its two windows
-- ARGV[2]  a lease's time to live in milliseconds
-- Then for each entry, from ARGV[3] on:
--   now    in milliseconds since the Unix epoch; -1 reads Redis TIME
--   cost   of each of its requests
--   from, to  the instants (ms) from which and until which its keys are
--          those of every limit; at any other now, they are derived from
--          its keys
--   n      the number of limits
--   m      the number of requests, at least 1
--   lease  the most requests to lease to the caller; 0 without leasing
--   count and window in milliseconds of each limit
-- and its keys, in turn in KEYS: the previous and the current fixed window
-- of each limit, "{<prefix>:<id>}:<S>:<b>" for a window of S seconds, and
-- with leasing the id's lease records, "{<prefix>:<id>}:lease".
--
-- An entry with m = 0 is a settlement: a lease ends. cost is then the
-- units it returns to each current window key, if that still exists, lease
-- its token and now its deadline; its keys are those of the entry that
-- granted it, and its record is removed if it still has that deadline.
--
-- Reply: for each entry but settlements, prev_1, curr_1, ..., prev_n,
-- curr_n, the counts before its first request, then fit, the number of its
-- requests that fit (the first fit ones: they all see the same time, and
-- one that does not fit counts nothing, so none after it fits), and now.
-- With leasing, then: the requests leased (0 for none), the lease's token,
-- and, when some requests did not fit while leases of the id were
-- outstanding, the earliest deadline among them (else 0).
--
-- It runs on every request, so it is written for Redis's CPU, most of
-- which goes to the commands it calls (about 2 µs each): one TIME for all
-- the entries; for a run of consecutive entries with the same keys (one
-- id under load), one MGET before and one write per key after; one SET
-- with PX to create a key with its expiry. And to the Lua around them: no
-- table but the reply, the run's counts and the keys when they must be
-- derived; few conversions between strings and numbers: strings, not
-- numbers, as command arguments where it can, which Redis would format.
-- Leases cost commands only when granted or settled (once per lease) and
-- when requests do not fit (one HGETALL).
--
-- Lua numbers are doubles; every value below stays under 2^52 (see doc.go),
-- where +, -, *, % and floor of / give the exact integer results that Go's
-- int64 arithmetic gives. Bucket numbers stay below 1e14, which Lua's number
-- to string conversion ("%.14g") writes in full.
local argv, call, floor, tonumber, unpack = ARGV, redis.call, math.floor, tonumber, unpack
local keep, ttl, time = argv[1], tonumber(argv[2]), nil
local reply, r, k, a, last = {}, 0, 0, 3, #argv

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
  local now, cost, from, to, n, m, lease = tonumber(argv[a]), tonumber(argv[a + 1]), tonumber(argv[a + 2]),
      tonumber(argv[a + 3]), 2 * argv[a + 4], tonumber(argv[a + 5]), tonumber(argv[a + 6])
  local l = a + 7 -- ARGV of the first limit; limit j is at l+2j-2, l+2j-1

  if m == 0 then
    -- A settlement. The run's counts may be of its keys: write them, and
    -- read them again after.
    flush()
    run, rn, added = nil, 0, 0
    if cost > 0 then
      for i = 2, n, 2 do
        if call('EXISTS', KEYS[k + i]) == 1 then call('DECRBY', KEYS[k + i], argv[a + 1]) end
      end
    end
    local h, token = KEYS[k + n + 1], argv[a + 6]
    if tonumber(call('HGET', h, token)) == now then call('HDEL', h, token) end
    k, a = k + n + 1, l + n
  else
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
    -- free is the most that fit.
    local free, unit = m, cost * 1000000
    for i = 2, n, 2 do
      local size, prev, curr = tonumber(argv[l + i - 1]), c[i - 1], c[i]
      reply[r + i - 1], reply[r + i] = prev, curr
      local f = floor((argv[l + i - 2] * 1000000 - prev * floor((size - now % size) * 1000000 / size) - curr * 1000000) / unit)
      if i == 2 or f < free then free = f end
    end
    local fit = free
    if fit > m then fit = m end
    if fit < 0 then fit = 0 end

    -- Leases (doc.go): when all fit with room to spare, lease an eighth of
    -- what is left, at most lease requests and at least 2, counted now as
    -- if admitted; only with the keys of the entry's own (not derived),
    -- and only while the fixed windows of every limit last the lease's
    -- time to live. A denial while leases are outstanding is not final:
    -- the reply says until when they last, and expired ones are dropped.
    local grant, token, pending = 0, 0, 0
    if lease > 0 then
      local h = KEYS[k + n + 1]
      if fit < m then
        local o = call('HGETALL', h)
        for i = 1, #o, 2 do
          if o[i] ~= 'n' then
            local deadline = tonumber(o[i + 1])
            if now >= deadline + ttl then
              call('HDEL', h, o[i])
            elseif pending == 0 or deadline < pending then
              pending = deadline
            end
          end
        end
      elseif keys == KEYS and now + ttl <= to then
        grant = floor((free - m) / 8)
        if grant > lease then grant = lease end
        if grant < 2 then
          grant = 0
        else
          token = call('HINCRBY', h, 'n', 1)
          call('HSET', h, token, string.format('%d', now + ttl))
          call('PEXPIRE', h, 2 * ttl + keep)
        end
      end
    end

    -- A key expires 2*size - elapsed + keep from now: keep after the end of
    -- the next fixed window, whichever request creates it.
    if fit > 0 then
      local add = (fit + grant) * cost
      for i = 2, n, 2 do
        if c[i] == 0 then
          local size = tonumber(argv[l + i - 1])
          created[i] = 2 * size - now % size + keep
        end
        c[i] = c[i] + add
      end
      once = added == 0 and fit == 1 and grant == 0 and argv[a + 1] or nil
      added = added + add
    end

    reply[r + n + 1], reply[r + n + 2] = fit, now
    r = r + n + 2
    if lease > 0 then
      reply[r + 1], reply[r + 2], reply[r + 3] = grant, token, pending
      r, k = r + 3, k + 1
    end
    k, a = k + n, l + n
  end
end
flush()
return reply
