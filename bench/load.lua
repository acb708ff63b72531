-- bench/load.lua: the load for the cutover benchmark, as a wrk script.
--
--   LOAD_RESULT=/tmp/load.json wrk -t1 -c25 -d60s -s bench/load.lua http://127.0.0.1:PORT -- get
--   LOAD_RESULT=/tmp/load.json wrk -t1 -c25 -d60s -s bench/load.lua http://127.0.0.1:PORT -- post
--
-- One wrk sends one method only (GET / or POST /echo, on keep-alive
-- connections), so that wrk's socket errors, which it cannot tie to a
-- request, still count against the method that lost them: the benchmark
-- runs one wrk per method side by side. It records for every response its status and the X-App-Version
-- header: per version the count and the first and last instant (epoch ms) it
-- was seen, so "cutover time" (command start to the first response from the
-- new version through nginx) can be computed. wrk runs this script in one Lua
-- state per thread; done() gathers the threads' tables and writes one JSON
-- object to $LOAD_RESULT with wrk's own totals: requests, duration, socket
-- errors (connect, read, write, timeout) and latency percentiles.
--
-- Why wrk and not a load generator of our own: wrk is what the users already
-- measure with, its socket-error summary is the reference figure ("~14 errors
-- per reload"), and its LuaJIT gives the per-response hook and, through the
-- FFI, a millisecond wall clock on the same clock the harness reads.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } switchyard_timespec;
  int clock_gettime(int clock_id, switchyard_timespec *tp);
]]
local k_clock_realtime = 0
local timespec = ffi.new("switchyard_timespec")

local function now_ms()
  ffi.C.clock_gettime(k_clock_realtime, timespec)
  return tonumber(timespec.tv_sec) * 1000 + math.floor(tonumber(timespec.tv_nsec) / 1000000)
end

-- Per-thread tables; done() reads them with thread:get(). They stay flat
-- (string keys, number values): wrk's thread:get() crashes copying a table
-- of tables.
version_count = {}  -- version -> responses
version_first = {}  -- version -> first epoch ms seen
version_last = {}   -- version -> last epoch ms seen
statuses = {}   -- status code (as a string) -> count
responses = 0
non_2xx = 0
no_version = 0

local requests = {}
local next_request = 0

function init(args)
  local echo_body = '{"greeting":"hello","n":12345}'
  local kind = args[1] or "mix"
  if kind ~= "post" then
    requests[#requests + 1] = wrk.format("GET", "/")
  end
  if kind ~= "get" then
    requests[#requests + 1] = wrk.format("POST", "/echo", { ["Content-Type"] = "application/json" }, echo_body)
  end
end

function request()
  next_request = next_request % #requests + 1
  return requests[next_request]
end

-- HTTP header names are case-insensitive; the JDK server writes
-- "X-app-version", Spring "X-App-Version", and nginx passes either through.
local function app_version(headers)
  local value = headers["X-App-Version"] or headers["X-app-version"] or headers["x-app-version"]
  if value then return value end
  for name, v in pairs(headers) do
    if string.lower(name) == "x-app-version" then return v end
  end
  return nil
end

function response(status, headers, body)
  local t = now_ms()
  responses = responses + 1
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if status < 200 or status > 299 then
    non_2xx = non_2xx + 1
  end
  local version = app_version(headers)
  if not version then
    no_version = no_version + 1
    return
  end
  local count = version_count[version]
  if count then
    version_count[version] = count + 1
    version_last[version] = t
  else
    version_count[version] = 1
    version_first[version] = t
    version_last[version] = t
  end
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local function json_string(s)
  return '"' .. string.gsub(tostring(s), '[%c"\\]', function(c)
    return string.format("\\u%04x", string.byte(c))
  end) .. '"'
end

function done(summary, latency, requests_stats)
  local merged_versions, merged_statuses = {}, {}
  local total_responses, total_non_2xx, total_no_version = 0, 0, 0
  for _, thread in ipairs(threads) do
    total_responses = total_responses + thread:get("responses")
    total_non_2xx = total_non_2xx + thread:get("non_2xx")
    total_no_version = total_no_version + thread:get("no_version")
    for code, count in pairs(thread:get("statuses")) do
      merged_statuses[code] = (merged_statuses[code] or 0) + count
    end
    local firsts, lasts = thread:get("version_first"), thread:get("version_last")
    for version, count in pairs(thread:get("version_count")) do
      local m = merged_versions[version]
      if not m then
        merged_versions[version] = { count = count, first_ms = firsts[version], last_ms = lasts[version] }
      else
        m.count = m.count + count
        m.first_ms = math.min(m.first_ms, firsts[version])
        m.last_ms = math.max(m.last_ms, lasts[version])
      end
    end
  end

  local parts = {}
  local function add(s) parts[#parts + 1] = s end
  add("{")
  add(string.format('"requests":%d,"duration_us":%d,"responses":%d,"non_2xx":%d,"no_version":%d,',
    summary.requests, summary.duration, total_responses, total_non_2xx, total_no_version))
  add(string.format('"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},',
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status,
    summary.errors.timeout))
  add(string.format('"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d},',
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max))
  add('"statuses":{')
  local first = true
  for code, count in pairs(merged_statuses) do
    add(string.format('%s%s:%d', first and "" or ",", json_string(code), count))
    first = false
  end
  add('},"versions":{')
  first = true
  for version, m in pairs(merged_versions) do
    add(string.format('%s%s:{"count":%d,"first_ms":%d,"last_ms":%d}', first and "" or ",",
      json_string(version), m.count, m.first_ms, m.last_ms))
    first = false
  end
  add("}}\n")

  local text = table.concat(parts)
  local path = os.getenv("LOAD_RESULT")
  if path and path ~= "" then
    local file = assert(io.open(path, "w"))
    file:write(text)
    file:close()
  else
    io.write(text)
  end
end
