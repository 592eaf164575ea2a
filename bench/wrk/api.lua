-- wrk script for bench/compare.py: each request as one of many logged-in users.
--
--   wrk -s bench/wrk/api.lua URL -- USERS_FILE METHOD PATH [BODY|BODY...]
--
-- USERS_FILE has one user a line: the Cookie header, a tab, the X-XSRFToken
-- value (empty for servers without one). Requests go round the users; with
-- several bodies (separated by "|") they alternate, so a PUT changes something.
-- done() prints one JSON line the benchmark reads.
local users, bodies = {}, {}
local method, path
local turn = 0

function init(args)
  for line in io.lines(args[1]) do
    local cookie, xsrf = line:match("^([^\t]*)\t?(.*)$")
    users[#users + 1] = { cookie = cookie, xsrf = xsrf }
  end
  method, path = args[2], args[3]
  for body in (args[4] or ""):gmatch("[^|]+") do bodies[#bodies + 1] = body end
end

function request()
  turn = turn + 1
  local user = users[turn % #users + 1]
  local headers = { Cookie = user.cookie }
  if user.xsrf ~= "" then headers["X-XSRFToken"] = user.xsrf end
  local body = nil
  if #bodies > 0 then
    body = bodies[turn % #bodies + 1]
    headers["Content-Type"] = "application/json"
  end
  return wrk.format(method, path, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p99_ms": %.3f, ' ..
    '"errors": %d, "non_2xx": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.connect + e.read + e.write + e.timeout, e.status))
end
