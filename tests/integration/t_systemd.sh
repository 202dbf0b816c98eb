#!/usr/bin/env bash
# Under systemd: sd_notify READY/STATUS/WATCHDOG/RELOADING/STOPPING through
# NOTIFY_SOCKET, and socket activation (LISTEN_FDS).
. "$(dirname "$0")/lib.sh"
it_setup 'pool = { workers = 2; };'
LISTEN="$SRC/build/tests/notify_listen"
"$LISTEN" "$T/notify.sock" 20 > "$T/notify.log" &
LPID=$!
for _ in $(seq 1 50); do [ -S "$T/notify.sock" ] && break; sleep 0.05; done
NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=400000 it_start_pool
sleep 1.2
kill -HUP "$POOL_PID"
sleep 0.5
kill -TERM "$POOL_PID"; wait "$POOL_PID" || true; POOL_PID=""
sleep 0.3
kill "$LPID" 2>/dev/null; wait "$LPID" 2>/dev/null || true
check "READY=1 sent once the workers run" grep -q '^READY=1' "$T/notify.log"
check "STATUS= reports the workers" grep -qE '^STATUS=[0-9]+ workers' "$T/notify.log"
n=$(grep -c '^WATCHDOG=1' "$T/notify.log" || true)
check "WATCHDOG=1 at half of WATCHDOG_USEC (got $n in ~1.7 s, want >= 5)" test "$n" -ge 5
check "RELOADING=1 on SIGHUP" grep -q '^RELOADING=1' "$T/notify.log"
check "STOPPING=1 on SIGTERM" grep -q '^STOPPING=1' "$T/notify.log"

# socket activation: systemd-socket-activate plays systemd's part
sock="$T/var/run/activated.sock"
systemd-socket-activate -l "$sock" "$BIN" --profile test --config "$(it_cfg)" --root "$SRC" serve 2>>"$T/pool.log" &
POOL_PID=$!
for _ in $(seq 1 100); do [ -S "$sock" ] && break; sleep 0.05; done
"$SRC/scripts/nginx-conf.sh" "$T/nginx" "$PORT" "$sock" "$SRC/static"
nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -e "$T/nginx/error.log" &
NGINX_PID=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "$(url /healthz)" && break; sleep 0.05; done
check "serves on a socket passed by systemd" test "$(status_of GET /healthz)" = 200
check "logged that it inherited the socket" grep -q 'socket passed by systemd' "$T/pool.log"
it_summary
