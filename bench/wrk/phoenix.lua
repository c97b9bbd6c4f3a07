-- One request script for every benchmark: wrk ... -s phoenix.lua URL -- FILE METHOD BODY HX
-- FILE has one line per user: session cookie, CSRF secret, path (tab-separated; the
-- first two may be empty for anonymous requests). Each thread walks the users from its
-- own starting point, so concurrent requests rarely share a user.
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

function init(args)
  users = {}
  for line in io.lines(args[1]) do
    local session, csrf, path = line:match("^([^\t]*)\t([^\t]*)\t(.+)$")
    table.insert(users, { session = session, csrf = csrf, path = path })
  end
  method = args[2]
  body = args[3] ~= "" and args[3] or nil
  hx = args[4] == "1"
  index = (id * 7919) % #users + 1
  -- The Host wrk sends, as the CSRF origin check compares against it.
  origin = "https://" .. wrk.host .. ":" .. wrk.port
end

function request()
  local user = users[index]
  index = index % #users + 1
  local headers = { ["X-Forwarded-Proto"] = "https" }
  if user.session ~= "" then
    headers["Cookie"] = "sessionid=" .. user.session .. "; csrftoken=" .. user.csrf
    headers["X-CSRFToken"] = user.csrf
    headers["Origin"] = origin
  end
  if body then
    headers["Content-Type"] = "application/json"
  end
  if hx then
    headers["HX-Request"] = "true"
  end
  return wrk.format(method, user.path, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors_connect":%d,' ..
    '"errors_read":%d,"errors_write":%d,"errors_status":%d,"errors_timeout":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.mean, latency.max))
end
