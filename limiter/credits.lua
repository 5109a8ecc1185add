-- The lease of one id's credits (see credits.go, lease): a hash at KEYS[1],
-- "{<prefix>:<id>}:credits", with fields l (left), p (period start, ms),
-- e (epoch), b (the durable balance after the last take; -1 unknown) and
-- c (when that was read, ms). The same decisions as lease in Go, atomic.
--
-- ARGV[1]  op: "s" spend, "g" grant a block then spend, "G" grant a block
--          only (a grant retried after a failed call), "r" reclaim
-- ARGV[2]  now in ms; -1 reads Redis TIME
-- ARGV[3..6] b0 < b1 <= b2 < b3: the starts of the refill periods around
--          the caller's guess of now (all 0: one period that never ends)
-- ARGV[7]  recheck (ms)
-- For "g" and "G": ARGV[8..12] block, remaining, epoch, the token of the
-- take (unique), the start of the period it was taken in. For "r":
-- ARGV[8] epoch.
--
-- A grant applies once: field k keeps the tokens of the last 32 grants, so
-- that a grant whose reply was lost can be sent again. A block taken in a
-- period that has ended is dropped (the refill replaced it).
--
-- The hash never expires: what a lease holds is forgotten only if Redis
-- loses it (a restart without persistence, a failover before replication,
-- an eviction). One hash of five small fields per key with credits.
--
-- Reply: {status, balance, start, next, now}; status 1 allowed, 0 refused,
-- -1 the pool must be asked, -2 now is outside b0..b3 (ask again with
-- now). For "r", balance is what the lease held.
local call, tonumber = redis.call, tonumber
local op, now = ARGV[1], tonumber(ARGV[2])
if now < 0 then
  if not redis.REDIS_VERSION and redis.replicate_commands then redis.replicate_commands() end
  local t = call('TIME')
  now = t[1] * 1000 + math.floor(t[2] / 1000)
end

local b0, b1, b2, b3 = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local start, next = 0, 0
if b3 > 0 then
  if now < b0 or now >= b3 then return {-2, 0, 0, 0, now} end
  if now < b1 then start, next = b0, b1
  elseif now < b2 then start, next = b1, b2
  else start, next = b2, b3 end
end

local key = KEYS[1]
local v = call('HMGET', key, 'l', 'p', 'e', 'b', 'c', 'k')
local exists = v[1] ~= false
local l, p, e, b, c = tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or 0, tonumber(v[4]) or -1, tonumber(v[5]) or 0
local k = v[6] or ','

local function save()
  call('HSET', key, 'l', l, 'p', p, 'e', e, 'b', b, 'c', c)
end

if op == 'r' then
  local epoch, left = tonumber(ARGV[8]), 0
  if exists and e == epoch and p >= start then left = l end
  l, p, e, b, c = 0, start, epoch + 1, -1, 0
  save()
  return {1, left, start, next, now}
end

if op == 'g' or op == 'G' then
  local block, remaining, epoch, tok = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10]), ',' .. ARGV[11] .. ','
  if tonumber(ARGV[12]) >= start and not string.find(k, tok, 1, true) then
    if not exists or epoch > e then
      l, p, e, b, c = block, start, epoch, remaining, now
    elseif epoch == e then
      l, b, c = l + block, remaining, now
      if start > p then p = start end
    end
    k = tok .. string.sub(k, 2)
    local _, n = string.gsub(k, ',', ',')
    if n > 33 then k = string.match(k, '^(' .. string.rep(',[^,]*', 32) .. ',)') end
    call('HSET', key, 'k', k)
    exists = true
  end
  if op == 'G' then
    if exists then save() end
    return {1, l + math.max(b, 0), start, next, now}
  end
end

-- spend, as lease.spend
if not exists or p < start then return {-1, 0, start, next, now} end
local bal = b
if bal < 0 then bal = 0 end
if l > 0 then
  l = l - 1
  if op == 's' then call('HSET', key, 'l', l) else save() end -- a plain spend changes l alone
  return {1, l + bal, start, next, now}
end
if op == 'g' then save() end
if b == 0 and now - c < tonumber(ARGV[7]) then return {0, bal, start, next, now} end
return {-1, 0, start, next, now}
