#!/usr/bin/env bash
# `make run`: the whole panel in the foreground on http://127.0.0.1:$PORT —
# the worker pool (development profile, SQLite, var/) behind a private nginx,
# and the privileged helper running as you against the sandbox var/sandbox/
# (docs/helper.md). Ctrl-C stops everything and leaves no process behind.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
port=${PORT:-8080}
var="$src/var"
sock="$var/run/aapanel.sock"
bin="$src/build/aapanel"
helper="$src/build/aapanel-helper"
helper_sock="$var/run/aapanel-helper.sock"
pool_pid="" nginx_pid="" helper_pid=""

cleanup() {
	trap - INT TERM EXIT
	[ -n "$nginx_pid" ] && kill -QUIT "$nginx_pid" 2>/dev/null || true
	[ -n "$pool_pid" ] && kill -TERM "$pool_pid" 2>/dev/null || true
	[ -n "$helper_pid" ] && kill -TERM "$helper_pid" 2>/dev/null || true
	[ -n "$nginx_pid" ] && wait "$nginx_pid" 2>/dev/null || true
	[ -n "$pool_pid" ] && wait "$pool_pid" 2>/dev/null || true
	[ -n "$helper_pid" ] && wait "$helper_pid" 2>/dev/null || true
	echo "aapanel: stopped"
}
trap cleanup INT TERM EXIT

if ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
	echo "aapanel: port $port is already in use; choose another with PORT=NNNN make run" >&2
	exit 1
fi
mkdir -p "$var/run" "$var/log" "$var/nginx"
chmod 0700 "$var"

"$bin" --profile development config check >/dev/null || { "$bin" --profile development config check; exit 1; }
# First run: no user yet → an admin with a random password, shown once (in the
# block at the end, with how to make a new one).
first_password=""
if [ -z "$("$bin" --profile development user list 2>/dev/null | awk 'NR > 1')" ]; then
	out=$("$bin" --profile development user add admin --role admin --generate-password 2>&1) || {
		echo "$out" >&2
		exit 1
	}
	first_password=$(sed -n 's/^password (shown once): //p' <<<"$out")
fi
admin=$("$bin" --profile development user list 2>/dev/null | awk 'NR > 1 && $2 == "admin" { print $1; exit }')
# The helper first: the workers ask it for every change on the system. It runs
# as you (helper.panel_user = "" in development) with every system path under
# the sandbox var/sandbox/.
"$helper" --profile development --check >/dev/null || { "$helper" --profile development --check; exit 1; }
[ "$(id -u)" -eq 0 ] && echo "aapanel: note: running as root; the helper stays confined to var/sandbox/ (development profile)"
"$helper" --profile development &
helper_pid=$!
for _ in $(seq 1 100); do
	[ -S "$helper_sock" ] && break
	kill -0 "$helper_pid" 2>/dev/null || { echo "aapanel: the helper failed to start" >&2; exit 1; }
	sleep 0.05
done
[ -S "$helper_sock" ] || { echo "aapanel: no helper socket at $helper_sock" >&2; exit 1; }

"$bin" --profile development serve &
pool_pid=$!
for _ in $(seq 1 100); do
	[ -S "$sock" ] && break
	kill -0 "$pool_pid" 2>/dev/null || { echo "aapanel: the pool failed to start" >&2; exit 1; }
	sleep 0.05
done
[ -S "$sock" ] || { echo "aapanel: no socket at $sock" >&2; exit 1; }

# The panel-managed include (listen line, entrance) lives where the helper
# may rewrite it (nginx.listen_file of the development profile) and is kept
# across runs: a port or entrance chosen in Settings stays.
listen_file="$var/sandbox/etc/nginx/aapanel-listen.conf"
LISTEN_FILE="$listen_file" KEEP_LISTEN=1 "$src/scripts/nginx-conf.sh" "$var/nginx" "$port" "$sock" "$src/static" 64m 60 /
port=$(sed -n '1s/^# aapanel-listen: .* port=\([0-9]*\) .*/\1/p' "$listen_file")
base=$(sed -n '1s/^# aapanel-listen: .* base=\([^ ]*\) .*/\1/p' "$listen_file")
[ "$base" = / ] && base=""
nginx -p "$var/nginx" -c "$var/nginx/nginx.conf" -e "$var/nginx/error.log" &
nginx_pid=$!
for _ in $(seq 1 100); do
	curl -s -o /dev/null "http://127.0.0.1:$port$base/healthz" && break
	kill -0 "$nginx_pid" 2>/dev/null || { echo "aapanel: nginx failed to start, see $var/nginx/error.log" >&2; exit 1; }
	sleep 0.05
done
echo
echo "  ┌─ aaPanel is running"
echo "  │  open       http://127.0.0.1:$port$base/   (listens on 127.0.0.1 only; from another machine:"
echo "  │             ssh -L $port:127.0.0.1:$port you@this-server, then open the same URL there)"
echo "  │  user       ${admin:-admin}"
if [ -n "$first_password" ]; then
	echo "  │  password   $first_password   (shown this once: change it under Account)"
else
	echo "  │  password   the one shown at the first start"
fi
echo "  │  lost it?   build/aapanel --profile development user passwd ${admin:-admin} --generate-password"
echo "  │  logs       this terminal (panel, helper), $var/nginx/ (nginx)"
echo "  └─ Ctrl-C stops everything"
echo
wait -n "$pool_pid" "$nginx_pid" "$helper_pid" || true
