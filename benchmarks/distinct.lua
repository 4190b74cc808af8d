-- wrk script: every request asks for a name never asked before, so nothing can be cached.
-- Usage: wrk -s benchmarks/distinct.lua URL -- SIZE [PREFIX]
-- Prints one JSON line at the end (latency in microseconds), which benchmarks/ parses.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  size = args[1] or "80"
  prefix = args[2] or "wrk"
  counter = 0
end

function request()
  counter = counter + 1
  local path = string.format("/monster/%s-%d-%d?size=%s", prefix, id, counter, size)
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "errors_status": %d, ' ..
    '"errors_socket": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.status,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end
