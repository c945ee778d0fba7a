-- wrk script: POST one prepared JSON body on every request.
-- Usage: wrk ... -s post.lua URL -- BODY_FILE API_KEY
-- The body is read once from BODY_FILE. No response() callback: defining one makes wrk
-- parse every body, which would slow the client down. Errors (status >= 400) come from
-- wrk's own summary, and the benchmark refuses a run with any (a fast error is not a
-- fast send).

function init(args)
  local file = assert(io.open(args[1], "rb"))
  wrk.method = "POST"
  wrk.body = file:read("*a")
  file:close()
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-API-Key"] = args[2] or "bench"
end

function done(summary, latency, requests)
  -- Machine-readable lines the benchmark parses (microseconds, counts).
  io.write(string.format("BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.status))
end
