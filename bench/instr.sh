#!/usr/bin/env bash
# bench/instr.sh — instructions per request of templated pages, counted by
# valgrind's callgrind in one worker, inside ap_app_serve only (the request's
# own work, not the wait for the next one). Free of the machine's load, so a
# regression shows as a number even on a noisy run (perf's hardware counters
# are not available in these virtual machines). Requests go straight to the
# worker's FastCGI socket with cgi-fcgi (libfcgi-bin), not through nginx.
# Sourced by bench/run.sh:
#   instr_per_request SRC CONFIG SOCKET PATH [COOKIE]
# CONFIG: a configuration whose pool has one worker and listens on SOCKET,
# started here under valgrind and stopped after. Prints the mean
# instructions per request over INSTR_REQUESTS (default 40) after
# INSTR_WARMUP (default 5), or "?" when it could not count.

instr_fcgi() { # socket path [cookie]
	local q=""
	case $2 in *\?*) q=${2#*\?} ;; esac
	env -i REQUEST_METHOD=GET REQUEST_URI="$2" QUERY_STRING="$q" SCRIPT_NAME="${2%%\?*}" \
		SERVER_PROTOCOL=HTTP/1.1 SERVER_NAME=127.0.0.1 REMOTE_ADDR=127.0.0.1 HTTP_HOST=127.0.0.1 \
		${3:+HTTP_COOKIE="$3"} cgi-fcgi -bind -connect "$1" 2>/dev/null | head -1
}

instr_per_request() { # src conf socket path [cookie]
	local src=$1 conf=$2 sock=$3 path=$4 cookie=${5:-} out pid n=${INSTR_REQUESTS:-40} w=${INSTR_WARMUP:-5} f tot first
	command -v valgrind >/dev/null && command -v cgi-fcgi >/dev/null || { printf '?'; return; }
	out=$(mktemp -d /tmp/aapanel-instr.XXXXXX)
	valgrind --tool=callgrind --trace-children=yes --toggle-collect=ap_app_serve \
		--callgrind-out-file="$out/cg.%p" \
		"$src/build/aapanel" --profile test --config "$conf" --root "$src" serve 2>"$out/vg.log" &
	pid=$!
	for _ in $(seq 1 300); do [ -S "$sock" ] && break; sleep 0.1; done
	for _ in $(seq 1 "$w"); do first=$(instr_fcgi "$sock" "$path" "$cookie"); done
	# Zero the counters after the warm-up (templates, statements, caches).
	for f in $(pgrep -P "$pid"); do callgrind_control -z "$f" >/dev/null 2>&1; done
	for _ in $(seq 1 "$n"); do instr_fcgi "$sock" "$path" "$cookie" >/dev/null; done
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	# The worker's dump at exit holds what came after the zeroing.
	tot=$(for f in "$out"/cg.*; do awk '/^totals:/ {print $2}' "$f"; done | sort -n | tail -1)
	[ -n "${INSTR_KEEP:-}" ] && cp "$out"/cg.* "$INSTR_KEEP"/ 2>/dev/null; rm -rf "$out"
	# A page that did not answer 200 (a cookie refused: the login's redirect) is not counted.
	first=${first%$'\r'}
	[ "${first:-}" = "Status: 200 OK" ] || { printf '?'; return; }
	if [ -n "$tot" ] && [ "$tot" -gt 0 ]; then
		awk -v t="$tot" -v n="$n" 'BEGIN { printf "%.0f", t / n }'
	else
		printf '?'
	fi
}
