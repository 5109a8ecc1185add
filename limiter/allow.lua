-- The sliding-window counter of doc.go for every limit of one id, checked
-- and counted atomically. It is decide() of decision.go, line for line.
--
-- KEYS[1]  "{<prefix>:<id>}": the hash tag of every key of the id. The key of
--          fixed window b of a limit of S seconds is KEYS[1]..":"..S..":"..b,
--          so all of them live in KEYS[1]'s cluster slot.
-- ARGV[1]  now in milliseconds since the Unix epoch; -1 reads Redis TIME
-- ARGV[2]  cost
-- ARGV[3]  milliseconds a key is kept beyond the end of its two windows
-- ARGV[2+2i], ARGV[3+2i]  count and window in seconds of limit i (1-based)
--
-- Reply: {allowed (1 or 0), retry after (ms), remaining_1, reset_1 (ms), ...}
--
-- Lua numbers are doubles; every value below stays under 2^52 (see doc.go),
-- where +, -, *, and floor or ceil of / give the exact integer results that
-- Go's int64 arithmetic gives.
local SCALE = 1000000

local now = tonumber(ARGV[1])
if now < 0 then
  -- Writing after TIME needs effects replication: the default from Redis 5
  -- on; Redis 3.2 and 4 must be asked.
  if redis.replicate_commands then redis.replicate_commands() end
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local cost = tonumber(ARGV[2])
local keep = tonumber(ARGV[3])

local function fits(w)
  return w.prev * w.weight + (w.curr + cost) * SCALE <= w.count * SCALE
end

local function first_elapsed(wmax, size)
  if wmax >= SCALE then return 0 end
  return math.max(size - math.ceil((wmax + 1) * size / SCALE) + 1, 0)
end

local function wait(w)
  if fits(w) then return 0 end
  local slack = (w.count - w.curr - cost) * SCALE
  if slack >= 0 then
    local e = first_elapsed(math.floor(slack / w.prev), w.size)
    if e < w.size then return e - w.elapsed end
  end
  local e = 0
  if w.curr > 0 then
    e = first_elapsed(math.floor((w.count - cost) * SCALE / w.curr), w.size)
  end
  return w.size - w.elapsed + e
end

local function remaining(w)
  local r = w.count * SCALE - w.prev * w.weight - w.curr * SCALE
  if r <= 0 then return 0 end
  return math.floor(r / SCALE)
end

local function reset(w)
  if w.curr > 0 then return 2 * w.size - w.elapsed end
  if w.prev > 0 then return w.size - w.elapsed end
  return 0
end

-- Positions and keys; bucket numbers stay below 1e14, which Lua's number
-- to string conversion ("%.14g") writes in full.
local windows, keys = {}, {}
for i = 1, (#ARGV - 3) / 2 do
  local w = {count = tonumber(ARGV[2 + 2 * i]), seconds = ARGV[3 + 2 * i]}
  w.size = tonumber(w.seconds) * 1000
  w.bucket = math.floor(now / w.size)
  w.elapsed = now - w.bucket * w.size
  w.weight = math.floor((w.size - w.elapsed) * SCALE / w.size)
  local base = KEYS[1] .. ':' .. w.seconds .. ':'
  w.key = base .. w.bucket
  keys[2 * i - 1], keys[2 * i] = base .. (w.bucket - 1), w.key
  windows[i] = w
end

local counts = redis.call('MGET', unpack(keys))
local allowed = 1
for i, w in ipairs(windows) do
  w.prev, w.curr = tonumber(counts[2 * i - 1] or 0), tonumber(counts[2 * i] or 0)
  if not fits(w) then allowed = 0 end
end

-- A key's expiry is set when INCRBY creates it: 2*size - elapsed from now
-- is the end of the next fixed window, whichever request computes it.
local reply = {allowed, 0}
for i, w in ipairs(windows) do
  if allowed == 1 then
    w.curr = redis.call('INCRBY', w.key, cost)
    if w.curr == cost then
      redis.call('PEXPIRE', w.key, 2 * w.size - w.elapsed + keep)
    end
  else
    reply[2] = math.max(reply[2], wait(w))
  end
  reply[1 + 2 * i] = remaining(w)
  reply[2 + 2 * i] = reset(w)
end
return reply
