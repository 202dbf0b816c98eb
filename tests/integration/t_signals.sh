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
# `aapanel status` with the configuration on disk invalid: the old pool is
# still reported (it is what serves), the problem named, exit 4
st() { "$BIN" --profile test --config "$(it_cfg)" --root "$SRC" status "$@"; }
rc=0; st > "$T/st.out" 2> "$T/st.err" || rc=$?
check "status with an invalid configuration exits 4 (got $rc)" test "$rc" = 4
check "it still lists the 3 running workers" test "$(awk 'NR>2 && $1 ~ /^[0-9]+$/' "$T/st.out" | wc -l)" -eq 3
check "its summary line says the configuration is INVALID" grep -q 'generation 3, .*configuration INVALID' "$T/st.out"
check "stderr names the file, line and key" grep -qE "test.cfg:[0-9]+: .*max_bdy" "$T/st.err"
check "stderr says the running pool keeps its last configuration" grep -q 'keeps the configuration it loaded last' "$T/st.err"
rc=0; st --json > "$T/st.json" 2>/dev/null || rc=$?
check "status --json: running, config.valid false with the problem, exit 4" \
	bash -c "[ $rc = 4 ] && jq -e '.running and .generation == 3 and (.workers|length) == 3 and .config.valid == false and (.config.problems[0] | test(\"max_bdy\"))' '$T/st.json' >/dev/null"
# even a file libconfig cannot parse (its run_dir unreadable): found from the running master
echo 'paths = { run_dir = "/nowhere" ' >> "$T/conf/profiles/test.cfg"
rc=0; st > "$T/st.out" 2> "$T/st.err" || rc=$?
check "status with an unparsable profile file still finds the pool (exit $rc, want 4)" test "$rc" = 4
check "and lists its workers" test "$(awk 'NR>2 && $1 ~ /^[0-9]+$/' "$T/st.out" | wc -l)" -eq 3
check "and names the syntax error" grep -qE 'test.cfg:[0-9]+' "$T/st.err"
cp "$T/test.cfg.good" "$T/conf/profiles/test.cfg"
check "invalid reload kept the old generation" test "$(gen)" = 3
rc=0; st > /dev/null 2>&1 || rc=$?
check "status with the configuration repaired exits 0" test "$rc" = 0

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
rc=0; st > "$T/st.out" 2>&1 || rc=$?
check "status after the stop: not running, exit 3 (got $rc)" bash -c "[ $rc = 3 ] && grep -q 'not running' '$T/st.out'"
echo 'limits = { max_bdy = 5; };' >> "$T/conf/profiles/test.cfg"
rc=0; st > "$T/st.out" 2>&1 || rc=$?
check "not running and the configuration invalid: still exit 3 (got $rc)" test "$rc" = 3
cp "$T/test.cfg.good" "$T/conf/profiles/test.cfg"

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
