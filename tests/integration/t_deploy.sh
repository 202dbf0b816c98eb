#!/usr/bin/env bash
# scripts/deploy.sh in pidfile mode behind lib.sh's nginx: v1 deploys, v2
# deploys under a request loop, v3 (a template syntax error: the pool refuses
# to start) fails its health check and is rolled back to v2, which keeps
# serving. Usage errors exit 2.
. "$(dirname "$0")/lib.sh"
it_setup
D="$T/deploy"
DEPLOY="$SRC/scripts/deploy.sh"
mkdir -p "$D/releases" "$T/tmp"
export TMPDIR="$T/tmp"

# Releases: a `make install` tree (bin/aapanel, share/aapanel), copied.
make -s -j2 -C "$SRC" install BUILD="$T/build" DESTDIR="$D/releases/v1" PREFIX=/ > "$T/make.log" 2>&1 ||
	{ cat "$T/make.log"; not_ok "make install into releases/v1"; }
cp -a "$D/releases/v1" "$D/releases/v2"
cp -a "$D/releases/v1" "$D/releases/v3"
printf '{{#unclosed}}\n' >> "$D/releases/v3/share/aapanel/templates/home.html"

PIDF="$T/pool.pid"
run_deploy() {
	"$DEPLOY" --root "$D" --service-manager pidfile --pidfile "$PIDF" --log "$T/pool.log" \
		--profile test --config "$(it_cfg)" --health-url "$(url /healthz)" --interval 0.3 \
		--stop-timeout 10 "$@"
}
master_exe() { readlink -f "/proc/$(cat "$PIDF")/exe" 2>/dev/null || true; }
health_ok() { curl -s "$(url /healthz)" | jqe '.status == "ok"'; }

it_start_nginx
rc=0; run_deploy v1 > "$T/d1.log" 2>&1 || rc=$?
POOL_PID=$(cat "$PIDF" 2>/dev/null || true) # stopped by it_teardown whatever happens
check "deploy v1 exits 0" test "$rc" = 0
[ "$rc" = 0 ] || cat "$T/d1.log"
check "current -> releases/v1" test "$(readlink "$D/current")" = releases/v1
check "v1's binary is running" test "$(master_exe)" = "$D/releases/v1/bin/aapanel"
check "healthz answers ok through nginx" health_ok
check "summary says deployed" grep -q 'result: *DEPLOYED v1' "$T/d1.log"

# v2 under a request loop: every answer recorded.
: > "$T/codes"
(while :; do curl -s -o /dev/null -m 5 -w '%{http_code}\n' "$(url /healthz)" >> "$T/codes" || true; sleep 0.02; done) &
LOOP=$!
sleep 0.5
rc=0; run_deploy v2 > "$T/d2.log" 2>&1 || rc=$?
sleep 0.5
kill "$LOOP"; wait "$LOOP" 2>/dev/null || true
POOL_PID=$(cat "$PIDF" 2>/dev/null || true)
check "deploy v2 exits 0" test "$rc" = 0
[ "$rc" = 0 ] || cat "$T/d2.log"
check "current -> releases/v2, previous -> releases/v1" \
	test "$(readlink "$D/current") $(readlink "$D/previous")" = "releases/v2 releases/v1"
check "v2's binary is running" test "$(master_exe)" = "$D/releases/v2/bin/aapanel"
total=$(wc -l < "$T/codes"); good=$(grep -c '^200$' "$T/codes" || true)
echo "  (request loop during the v2 deploy: $good of $total answered 200; the rest fell in the stop/start gap)"
check "the loop was served before and after the switch" test "$(head -n 3 "$T/codes" | sort -u)" = 200 -a "$(tail -n 3 "$T/codes" | sort -u)" = 200

# v3 is broken: health check fails, rollback to v2, still serving.
rc=0; run_deploy v3 > "$T/d3.log" 2>&1 || rc=$?
POOL_PID=$(cat "$PIDF" 2>/dev/null || true)
check "deploy v3 exits 1 (rolled back)" test "$rc" = 1
check "summary says rolled back to v2" grep -q 'result: *ROLLED BACK to v2' "$T/d3.log"
check "the log names the failed health check" grep -q 'v3 is unhealthy' "$T/d3.log"
check "current -> releases/v2 again" test "$(readlink "$D/current")" = releases/v2
check "previous still -> releases/v1" test "$(readlink "$D/previous")" = releases/v1
check "v2's binary is running again" test "$(master_exe)" = "$D/releases/v2/bin/aapanel"
check "healthz still answers 200 ok" health_ok
check "the panel still serves pages" test "$(status_of GET /login)" = 200
check "v3's template error is in the pool log" grep -q 'home.html' "$T/pool.log"
check "no temporary current link left" test -z "$(find "$D" -maxdepth 1 -name '.*.tmp.*')"

# Usage errors exit 2; a release that cannot run is refused before any switch.
rc=0; run_deploy v9 > /dev/null 2>&1 || rc=$?
check "unknown release exits 2" test "$rc" = 2
rc=0; "$DEPLOY" --frobnicate v2 > /dev/null 2>&1 || rc=$?
check "unknown option exits 2" test "$rc" = 2
rc=0; "$DEPLOY" --service-manager pidfile v2 > /dev/null 2>&1 || rc=$?
check "pidfile mode without --pidfile exits 2" test "$rc" = 2
cp -a "$D/releases/v1" "$D/releases/v4"
printf '#!/bin/sh\nexit 1\n' > "$D/releases/v4/bin/aapanel"
rc=0; run_deploy v4 > "$T/d4.log" 2>&1 || rc=$?
check "a release whose binary does not run is refused (exit 1)" test "$rc" = 1
check "and nothing changed" test "$(readlink "$D/current") $(master_exe)" = "releases/v2 $D/releases/v2/bin/aapanel"
check "healthz still ok after the refused release" health_ok
it_summary
