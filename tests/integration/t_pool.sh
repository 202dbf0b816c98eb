#!/usr/bin/env bash
# Supervision: kill -9 under load, replacement time, recycling, stuck
# requests, a hung idle worker (SIGSTOP), a deleted listening socket, and
# `aapanel status`.
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

# a worker that hangs while idle (SIGSTOP) stops beating: replaced and logged
idle=""
for _ in $(seq 1 50); do
	idle=$("$BIN" --profile test --config "$(it_cfg)" --root "$SRC" status --json | jq -r '[.workers[] | select(.state == "idle") | .pid][0] // empty')
	[ -n "$idle" ] && break
	sleep 0.05
done
check "found an idle worker to stop (${idle:-none})" test -n "$idle"
kill -STOP "$idle"
before=$(date +%s%N)
gone=""
for _ in $(seq 1 100); do
	if ! worker_pids | grep -qx "$idle"; then gone=$(( ($(date +%s%N) - before) / 1000000 )); break; fi
	sleep 0.1
done
check "the stopped idle worker is replaced within 7 s (took ${gone:-never} ms)" test -n "$gone"
check "and not sooner than its 5 s heartbeat limit allows (${gone:-0} ms >= 3900)" test "${gone:-0}" -ge 3900
check "the hang is logged with the pid and the silence" grep -qE "worker $idle silent for [0-9.]+ s while idle \(no heartbeat" "$T/pool.log"
kill -0 "$idle" 2>/dev/null && kill -KILL "$idle" 2>/dev/null
sleep 0.3
check "pool back to 3 workers after the hang" test "$(worker_pids | wc -l)" -eq 3
check "serving after the hang" test "$(status_of GET /healthz)" = 200
check "a busy worker is not mistaken for a hung one (the 2 s stuck request above was killed by its deadline only)" \
	test "$(grep -c 'silent for' "$T/pool.log")" -eq 1

# the listening socket deleted (rm by a cleanup script): noticed and bound again
gen_before=$("$BIN" --profile test --config "$(it_cfg)" --root "$SRC" status --json | jq -r .generation)
rm -f "$T/var/run/aapanel.sock"
before=$(date +%s%N)
back=""
for _ in $(seq 1 100); do
	[ "$(status_of GET /healthz)" = 200 ] && { back=$(( ($(date +%s%N) - before) / 1000000 )); break; }
	sleep 0.02
done
check "requests succeed again within 1 s of the deletion (took ${back:-never} ms)" test -n "$back" -a "${back:-9999}" -lt 1000
check "the socket is back at its path" test -S "$T/var/run/aapanel.sock"
check "the loss is logged" grep -q 'aapanel.sock was deleted or replaced: nginx cannot reach the panel; re-creating it' "$T/pool.log"
check "the recovery is logged with its duration" grep -qE 'aapanel.sock re-created [0-9.]+ s after it was lost; generation [0-9]+ with 3 workers' "$T/pool.log"
sleep 0.3
"$BIN" --profile test --config "$(it_cfg)" --root "$SRC" status --json > "$T/status.json"
check "a new generation serves on the new socket" jqe --argjson g "$gen_before" '.generation == $g + 1' "$T/status.json"
check "status shows the socket as ok again" jqe '.socket.lost == false and (.socket.path | endswith("aapanel.sock"))' "$T/status.json"
check "old workers gone, 3 workers left" test "$(worker_pids | wc -l)" -eq 3
it_summary
