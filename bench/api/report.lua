-- wrk script of bench/api.py: signs every request in with the token in BENCH_API_TOKEN (a personal
-- API token, `mayaflow users create-token`) and prints, at the end, one line the bench reads:
-- "BENCH_API {json}" with the counts and the latency percentiles in microseconds.

local token = os.getenv("BENCH_API_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
wrk.headers["Accept"] = os.getenv("BENCH_API_ACCEPT") or "application/json"

done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_API {"requests": %d, "duration_us": %d, "bytes": %d, "status_errors": %d, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "timeouts": %d, "mean_us": %.1f, "p50_us": %d, "p90_us": %d, ' ..
    '"p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, errors.status, errors.connect, errors.read, errors.write,
    errors.timeout, latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max))
end
