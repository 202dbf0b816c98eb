#!/usr/bin/env bash
# SIGHUP reload under load, reload with an invalid configuration, SIGTERM
# with a request in flight, and the crash-storm guard.
. "$(dirname "$0")/lib.sh"
it_setup 'pool = { workers = 3; };'
it_start_pool
it_start_nginx

gen() { "$BIN" --profile test --config "$(it_cfg)" --root "$SRC" status --json | jq -r .generation; }

# graceful reload under load, with a slow request in flight across it
wrk -t2 -c16 -d4s "$(url "/_test/table?rows=10")" > "$T/wrk" 2>&1 &
WRK=$!
curl -s -o "$T/slow" -w '%{http_code}' "$(url '/_test/sleep?ms=1500')" > "$T/slow.code" &
SLOW=$!
sleep 1
kill -HUP "$POOL_PID"
sleep 1
kill -HUP "$POOL_PID"
wait "$WRK"; wait "$SLOW"
check "zero failed requests across two reloads" bash -c "! grep -qE 'Non-2xx|Socket errors' '$T/wrk'"
check "request in flight during reload completed" test "$(cat "$T/slow.code")" = 200
check "generation advanced to 3" test "$(gen)" = 3
sleep 0.3
check "old workers gone, 3 workers left" test "$(worker_pids | wc -l)" -eq 3
grep -E 'Requests/sec' "$T/wrk" | sed 's/^/       /'

# reload with an invalid configuration keeps serving with the old one
cp "$T/conf/profiles/test.cfg" "$T/test.cfg.good"
echo 'limits = { max_bdy = 5; };' >> "$T/conf/profiles/test.cfg"
kill -HUP "$POOL_PID"
sleep 0.5
check "invalid reload is logged with file:line and the key" grep -qE "reload refused: .*test.cfg:[0-9]+: .*max_bdy" "$T/pool.log"
check "still serving after the invalid reload" test "$(status_of GET /healthz)" = 200
cp "$T/test.cfg.good" "$T/conf/profiles/test.cfg"
check "invalid reload kept the old generation" test "$(gen)" = 3

# SIGTERM: the request in flight finishes, the master exits 0, nothing left
curl -s -o /dev/null -w '%{http_code}' "$(url '/_test/sleep?ms=1000')" > "$T/slow.code" &
SLOW=$!
sleep 0.3
workers=$(worker_pids)
kill -TERM "$POOL_PID"
wait "$SLOW"
rc=0; wait "$POOL_PID" || rc=$?
POOL_PID=""
check "in-flight request finished during SIGTERM" test "$(cat "$T/slow.code")" = 200
check "master exited 0 after SIGTERM" test "$rc" = 0
check "socket removed on stop" test ! -e "$T/var/run/aapanel.sock"
left=0; for p in $workers; do kill -0 "$p" 2>/dev/null && left=$((left + 1)); done
check "no worker left behind" test "$left" = 0

# crash storm: more than crash_limit abnormal exits a minute → master exits non-zero
sed -i 's/^pool = { workers = 3; };/pool = { workers = 2; crash_limit = 3; };/' "$T/conf/profiles/test.cfg"
it_start_pool
for _ in $(seq 1 8); do
	for p in $(worker_pids 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
	kill -0 "$POOL_PID" 2>/dev/null || break
	sleep 0.2
done
rc=0
for _ in $(seq 1 50); do kill -0 "$POOL_PID" 2>/dev/null || break; sleep 0.1; done
wait "$POOL_PID" || rc=$?
POOL_PID=""
check "crash storm makes the master exit non-zero (rc=$rc)" test "$rc" -ne 0
check "crash storm logged" grep -q 'abnormal worker exits in a minute' "$T/pool.log"
it_summary
