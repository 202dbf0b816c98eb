#!/usr/bin/env bash
# bench/helper.sh — the helper's round trip for a no-op (helper.ping) as a
# worker makes it through the client library (include/aapanel/helper.h):
# a real aapanel-helper in the test profile on a temp socket, then
# build/bench-helper-rtt (p50/p90/p99 over HELPER_CALLS calls on a kept
# connection, and a tenth as many on a new connection each). Goal: p50 < 1 ms.
# Run by bench/run.sh; alone: bench/helper.sh (after make all).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
calls=${HELPER_CALLS:-10000}
T=$(mktemp -d /tmp/aapanel-bench-helper.XXXXXX)
hpid=""
cleanup() {
	[ -n "$hpid" ] && kill -TERM "$hpid" 2>/dev/null && wait "$hpid" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/conf/profiles"
cp "$src/conf/aapanel.cfg" "$T/conf/aapanel.cfg"
cat > "$T/conf/profiles/test.cfg" <<CFG
paths = { var_dir = "$T/var"; run_dir = "$T/var"; log_dir = "$T/var"; };
log = { level = "warn"; };
helper = { socket = "$T/helper.sock"; sandbox_root = "$T/sandbox"; };
CFG
"$src/build/aapanel-helper" --profile test --config "$T/conf/aapanel.cfg" --root "$src" 2>"$T/helper.log" &
hpid=$!
for _ in $(seq 1 100); do [ -S "$T/helper.sock" ] && break; sleep 0.05; done
[ -S "$T/helper.sock" ] || { echo "bench: the helper did not start:"; cat "$T/helper.log"; exit 1; }
echo "helper round trip (helper.ping through the client library, $(nproc) cores; goal p50 < 1 ms):"
"$src/build/bench-helper-rtt" "$T/helper.sock" "$calls"
