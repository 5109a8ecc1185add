-- wrk script of scripts/load/rss.sh (RSS_WRK=1): /auth as nginx asks it,
-- each request with the next key of the file given after "--" (one key a
-- line), each thread starting at a random one, so that every cached key is
-- used and none nears its rate limits.
local keys = {}
local i = 0

function init(args)
  for line in io.lines(args[1]) do
    keys[#keys + 1] = line
  end
  i = math.random(#keys)
end

function request()
  i = i % #keys + 1
  return wrk.format("GET", "/auth", {
    ["Authorization"] = "Bearer " .. keys[i],
    ["X-Original-Method"] = "GET",
    ["X-Original-Uri"] = "/api/v1/partners",
  })
end
