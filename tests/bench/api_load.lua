-- wrk script for bench_api.sh: every request carries the API token
-- (LG_BENCH_TOKEN, from the environment so it is never on a command line)
-- and cycles through LG_BENCH_PATHS (space-separated). At the end one
-- machine-readable line with the request count, latency percentiles and
-- each kind of error (status = answers other than 2xx/3xx).
local token = os.getenv("LG_BENCH_TOKEN") or ""
local paths = {}
for p in string.gmatch(os.getenv("LG_BENCH_PATHS") or "/api/health", "%S+") do
	paths[#paths + 1] = p
end
local n = 0

init = function(args)
	-- threads start at different places in the cycle
	n = math.random(#paths)
end

request = function()
	n = n + 1
	return wrk.format("GET", paths[(n % #paths) + 1], {["Authorization"] = "Bearer " .. token})
end

done = function(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		"lg-bench requests=%d seconds=%.3f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f " ..
		"connect=%d read=%d write=%d status=%d timeout=%d\n",
		summary.requests, summary.duration / 1e6,
		latency:percentile(50) / 1e3, latency:percentile(90) / 1e3, latency:percentile(99) / 1e3,
		latency.max / 1e3, e.connect, e.read, e.write, e.status, e.timeout))
end
