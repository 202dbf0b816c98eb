#!/usr/bin/env bash
# Faults, as a user and an operator see them, with the pool behind nginx:
# 1. the listening socket deleted under load (wrk): requests fail only
#    briefly and fast (502, no hang), service resumes by itself, the log says
#    what happened and when it was fixed;
# 2. an idle worker stopped (SIGSTOP): no request fails, the worker is
#    replaced after its heartbeat limit, the log names it;
# 3. the master killed (SIGKILL) with a request in flight: that request is
#    answered, its workers leave, later requests get a fast 502, status says
#    "not running", and a new master takes over the stale socket.
# (Under systemd the killed master is restarted: t_systemd.sh.)
# A probe loop records every answer (start time, status, duration).
. "$(dirname "$0")/lib.sh"
it_setup 'pool = { workers = 4; request_timeout = 5; };
nginx = { fastcgi_read_timeout = 10; };'
PROBE="" WRK=""
cleanup() {
	local rc=$?
	set +e
	[ "$rc" -eq 0 ] || FAIL=$((FAIL + 1))
	for p in $PROBE $WRK; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	true # it_teardown reads $?: a failure is counted in FAIL above
	it_teardown
}
trap cleanup EXIT
it_start_pool
it_start_nginx 2m 10
st() { "$BIN" --profile test --config "$(it_cfg)" --root "$SRC" status "$@"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# probe FILE: GET /healthz every 20 ms: "START_MS CODE SECONDS" per line
probe() {
	while :; do
		local s r
		s=$(now_ms)
		r=$(curl -s -o /dev/null -m 5 -w '%{http_code} %{time_total}' "$(url /healthz)" 2>/dev/null || true)
		echo "$s ${r:-000 0}" >> "$1"
		sleep 0.02
	done
}
probe_start() { : > "$1"; probe "$1" & PROBE=$!; }
probe_stop() { kill "$PROBE" 2>/dev/null || true; wait "$PROBE" 2>/dev/null || true; PROBE=""; }
# failures FILE: the probes that did not get a 200
failures() { awk '$2 != 200' "$1"; }

# ---- 1. the socket deleted under load
wrk -t2 -c8 -d5s "$(url '/_test/sleep?ms=2')" > "$T/wrk1" 2>&1 &
WRK=$!
probe_start "$T/p1"
sleep 1.5
t_del=$(now_ms)
rm -f "$T/var/run/aapanel.sock"
sleep 3
wait "$WRK" || true
WRK=""
probe_stop
fails=$(failures "$T/p1" | wc -l)
total=$(wc -l < "$T/p1")
last_fail=$(failures "$T/p1" | awk 'END { print $1 + 0 }')
back=$(awk -v d="$t_del" -v l="$last_fail" '$1 > d && $1 > l && $2 == 200 { print $1 - d; exit }' "$T/p1")
echo "       socket deleted: $fails of $total probes failed; served again after ${back:-?} ms"
grep -E 'requests in|Non-2xx' "$T/wrk1" | sed 's/^/       wrk: /'
check "service resumes by itself: probes answer 200 again within 3 s of the deletion (${back:-never} ms)" \
	test -n "$back" -a "${back:-9999}" -lt 3000
check "the only failures are fast 502s from nginx, no hang (of $fails)" \
	awk '$2 != 200 && ($2 != 502 || $3 > 1) { bad = 1 } END { exit bad }' "$T/p1"
check "no failure later than 3 s after the deletion" \
	awk -v d="$t_del" '$2 != 200 && $1 > d + 3000 { bad = 1 } END { exit bad }' "$T/p1"
wrk_total=$(sed -nE 's/^ *([0-9]+) requests in .*/\1/p' "$T/wrk1")
wrk_bad=$(sed -nE 's/^ *Non-2xx or 3xx responses: ([0-9]+).*/\1/p' "$T/wrk1")
# A failed request is a fast 502 from nginx, many times quicker than a served
# one, so 8 connections fire hundreds of them in a window of 0.1 s: on a quiet
# machine wrk sees 0-20 failures, under CI's load (two suites at once) 613 of
# 7581. Had the socket not come back, the fast 502s of the last 3.5 s would be
# nearly all of them.
# The window itself is measured by the probes above and the log below.
check "wrk kept being served: under a quarter of its ${wrk_total:-0} requests failed (${wrk_bad:-0})" \
	test "${wrk_total:-0}" -gt 1000 -a "$(( ${wrk_bad:-0} * 4 ))" -lt "${wrk_total:-0}"
check "the log says the socket was lost" grep -q 'aapanel.sock was deleted or replaced: nginx cannot reach the panel; re-creating it' "$T/pool.log"
check "and that it was re-created, with how long it took (under 3 s)" grep -qE 'aapanel.sock re-created [0-2]\.[0-9] s after it was lost' "$T/pool.log"
sleep 0.3 # the old generation leaves
st --json > "$T/st1.json"
check "status: socket ok, 4 workers, a new generation" jqe '(.socket.lost | not) and (.workers | length) == 4 and .generation == 2' "$T/st1.json"

# ---- 2. an idle worker stopped
sleep 0.5
probe_start "$T/p2"
victim=""
for _ in $(seq 1 20); do
	cand=$(st --json | jq -r '[.workers[] | select(.state == "idle") | .pid][0] // empty')
	[ -n "$cand" ] || { sleep 0.05; continue; }
	kill -STOP "$cand"
	# it may have taken a connection just before: then let it go, take another
	if [ "$(st --json | jq -r --argjson p "$cand" '.workers[] | select(.pid == $p) | .state')" = idle ]; then
		victim=$cand
		break
	fi
	kill -CONT "$cand"
	sleep 0.05
done
check "an idle worker is stopped (${victim:-none})" test -n "$victim"
t_stop=$(now_ms)
gone=""
for _ in $(seq 1 150); do
	st | awk '$1 ~ /^[0-9]+$/ { print $1 }' | grep -qx "$victim" || { gone=$(( $(now_ms) - t_stop )); break; }
	sleep 0.1
done
sleep 0.5
probe_stop
kill -KILL "$victim" 2>/dev/null || true
check "the stopped worker is replaced after its heartbeat limit, within 12 s (${gone:-never} ms)" \
	test -n "$gone" -a "${gone:-99999}" -lt 12000
check "no request failed while it hung ($(wc -l < "$T/p2") probes)" test -z "$(failures "$T/p2")"
# A request handed to the stopped worker would wait for its heartbeat limit
# (5 s) and more; 4.5 s leaves room for a loaded machine without hiding that.
check "no request waited on the stopped worker (every probe under 4.5 s; slowest $(sort -k3 -n "$T/p2" | tail -1 | awk '{print $3}') s)" \
	awk '$3 > 4.5 { bad = 1 } END { exit bad }' "$T/p2"
check "the log names the hung worker and its silence" \
	grep -qE "worker $victim silent for [0-9.]+ s while idle \\(no heartbeat; limit 5\\.0 s\\): killing and replacing it" "$T/pool.log"
check "4 workers again" test "$(st | awk 'NR > 2 && $1 ~ /^[0-9]+$/' | wc -l)" -eq 4

# ---- 3. the master killed with a request in flight
workers=$(st | awk 'NR > 2 && $1 ~ /^[0-9]+$/ { print $1 }')
curl -s -o /dev/null -m 10 -w '%{http_code}' "$(url '/_test/sleep?ms=1500')" > "$T/slow.code" &
SLOW=$!
sleep 0.4
kill -KILL "$POOL_PID"
wait "$POOL_PID" 2>/dev/null || true
POOL_PID=""
wait "$SLOW" || true
check "the request in flight when the master died is answered 200" test "$(cat "$T/slow.code")" = 200
left=""
for _ in $(seq 1 40); do
	left=""
	for p in $workers; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
	[ -z "$left" ] && break
	sleep 0.1
done
check "its workers finish and leave by themselves (left:${left:- none})" test -z "$left"
t0=$(now_ms)
code=$(status_of GET /healthz)
took=$(( $(now_ms) - t0 ))
check "a new request gets a fast 502 from nginx (got $code in $took ms)" test "$code" = 502 -a "$took" -lt 3000
rc=0; st > "$T/st.out" 2>&1 || rc=$?
check "aapanel status says not running (exit $rc)" bash -c "[ $rc = 3 ] && grep -q 'not running' '$T/st.out'"
# The dead master's workers answered what was queued and removed its path
# (issue 19: nginx's next connect fails at once and goes to another host).
check "its workers removed the dead master's socket" test ! -e "$T/var/run/aapanel.sock"
# A stale socket (a master killed together with its workers): bound, never listened on.
python3 -c "import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" "$T/var/run/aapanel.sock"
check "a stale socket left behind" test -S "$T/var/run/aapanel.sock"
it_start_pool
back=""
for i in $(seq 1 100); do [ "$(status_of GET /healthz)" = 200 ] && { back=$i; break; }; sleep 0.05; done
check "a new master takes over the stale socket and serves (${back:-never} polls)" test -n "$back"
check "it said the old socket was stale, not in use" bash -c "! grep -q 'in use by another running instance' '$T/pool.log'"
it_summary
