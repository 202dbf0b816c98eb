#!/usr/bin/env bash
# Supervision: kill -9 under load, replacement time, recycling, stuck
# requests, and `aapanel status`.
. "$(dirname "$0")/lib.sh"
it_setup 'pool = { workers = 3; max_requests = 200; max_requests_jitter = 20; request_timeout = 2; };
nginx = { fastcgi_read_timeout = 10; };'
it_start_pool
it_start_nginx 2m 10

# status shows every worker
"$BIN" --profile test --config "$(it_cfg)" --root "$SRC" status > "$T/status"
check "status lists 3 workers" test "$(awk 'NR>2' "$T/status" | wc -l)" -eq 3
check "status header names the profile" grep -q 'profile test' "$T/status"
"$BIN" --profile test --config "$(it_cfg)" --root "$SRC" status --json > "$T/status.json"
check "status --json is valid JSON with workers" jqe '.running and (.workers|length)==3 and (.workers[0]|has("rss_kib"))' "$T/status.json"

# kill -9 a worker while wrk hammers GET /: zero failed requests
# workers are busy (20 ms requests), so the kill lands mid-request and nginx must retry
wrk -t2 -c16 -d4s "$(url "/_test/sleep?ms=20")" > "$T/wrk" 2>&1 &
WRK=$!
sleep 1
# a worker that is serving a request right now (from the scoreboard)
victim=""
for _ in $(seq 1 100); do
	victim=$("$BIN" --profile test --config "$(it_cfg)" --root "$SRC" status --json | jq -r '[.workers[] | select(.state == "busy") | .pid][0] // empty')
	[ -n "$victim" ] && break
	sleep 0.01
done
[ -n "$victim" ] || victim=$(worker_pids | head -1)
before=$(date +%s%N)
kill -9 "$victim"
replaced=""
for _ in $(seq 1 40); do
	n=$(worker_pids | grep -vx "$victim" | wc -l)
	if [ "$n" -ge 3 ]; then replaced=$(( ($(date +%s%N) - before) / 1000000 )); break; fi
	sleep 0.025
done
wait "$WRK"
check "killed worker replaced within 1 s (took ${replaced:-never} ms)" test -n "$replaced" -a "${replaced:-9999}" -lt 1000
check "wrk saw requests" grep -q 'requests in' "$T/wrk"
check "zero failed requests across the kill" bash -c "! grep -qE 'Non-2xx|Socket errors' '$T/wrk'"
check "the kill hit a request in flight, which nginx retried" grep -qE 'prematurely closed|reset by peer' "$T/nginx/error.log"
grep -E 'requests in|Requests/sec' "$T/wrk" | sed 's/^/       /'

# recycling: 200±20 requests per worker → after 1500 requests every pid changed
pids_before=$(worker_pids | sort)
wrk -t1 -c4 -d3s "$(url /healthz)" > "$T/wrk2" 2>&1
check "zero failed requests while recycling" bash -c "! grep -qE 'Non-2xx|Socket errors' '$T/wrk2'"
sleep 0.3
pids_after=$(worker_pids | sort)
check "workers recycled after max_requests" test -z "$(comm -12 <(echo "$pids_before") <(echo "$pids_after"))"
check "recycling logged" grep -q 'recycling after' "$T/pool.log"

# a stuck request is killed at request_timeout (2 s), logged with method, path, duration
start=$(date +%s%N)
code=$(curl -s -o /dev/null -m 30 -w '%{http_code}' "$(url '/_test/sleep?ms=20000')")
took=$(( ($(date +%s%N) - start) / 1000000 ))
check "stuck request answered (502) instead of hanging (got $code after $took ms)" test "$code" = 502 -a "$took" -lt 9000
check "timeout logged with method, path and duration" grep -qE 'request timeout: killing worker [0-9]+ serving GET /_test/sleep\?ms=20000 .* after 2\.[0-9] s' "$T/pool.log"
sleep 0.5
check "pool back to 3 workers after the timeout kill" test "$(worker_pids | wc -l)" -eq 3
code=$(status_of GET /healthz)
check "serving normally after the timeout" test "$code" = 200
it_summary
