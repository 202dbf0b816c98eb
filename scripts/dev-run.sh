#!/usr/bin/env bash
# `make run`: the whole panel in the foreground on http://127.0.0.1:$PORT —
# the worker pool (development profile, SQLite, var/) behind a private nginx,
# and the privileged helper running as you against the sandbox var/sandbox/
# (docs/helper.md), with a php-fpm master per installed PHP version for the
# PHP sites; the dev nginx serves the sites made in the panel on the same
# port, chosen by Host: (curl -H 'Host: example.test' http://127.0.0.1:$PORT/).
# Ctrl-C stops everything and leaves no process behind.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
port=${PORT:-8080}
var="$src/var"
sock="$var/run/aapanel.sock"
bin="$src/build/aapanel"
helper="$src/build/aapanel-helper"
helper_sock="$var/run/aapanel-helper.sock"
pool_pid="" nginx_pid="" helper_pid="" php_pids=""
sites="$var/sandbox/etc/nginx/aapanel/sites"

cleanup() {
	trap - INT TERM EXIT
	[ -n "$nginx_pid" ] && kill -QUIT "$nginx_pid" 2>/dev/null || true
	[ -n "$pool_pid" ] && kill -TERM "$pool_pid" 2>/dev/null || true
	[ -n "$helper_pid" ] && kill -TERM "$helper_pid" 2>/dev/null || true
	for p in $php_pids; do kill -QUIT "$p" 2>/dev/null || true; done
	for p in $php_pids; do wait "$p" 2>/dev/null || true; done
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
mkdir -p "$var/run" "$var/log" "$var/nginx" "$sites"
chmod 0700 "$var"
# The sites listen on the panel's port: the helper's configuration says which
# (sites.http_port), so for another PORT it gets a copy with that port.
helper_cfg=()
if [ "$port" != 8080 ]; then
	mkdir -p "$var/run/helper-conf/profiles"
	cp "$src/conf/aapanel.cfg" "$var/run/helper-conf/aapanel.cfg"
	sed "s/^\([[:space:]]*http_port = \)8080;/\1$port;/" "$src/conf/profiles/development.cfg" \
		> "$var/run/helper-conf/profiles/development.cfg"
	helper_cfg=(--config "$var/run/helper-conf/aapanel.cfg")
fi

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
"$helper" --profile development "${helper_cfg[@]}" --check >/dev/null || { "$helper" --profile development "${helper_cfg[@]}" --check; exit 1; }
[ "$(id -u)" -eq 0 ] && echo "aapanel: note: running as root; the helper stays confined to var/sandbox/ (development profile)"
"$helper" --profile development "${helper_cfg[@]}" &
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

# PHP sites: one php-fpm master per installed version, its pools the sandbox's
# (the helper writes them and signals the master; docs/sites.md).
for fpm in /usr/sbin/php-fpm[0-9]*; do
	[ -x "$fpm" ] || continue
	v=${fpm#/usr/sbin/php-fpm}
	d="$var/php/$v"
	mkdir -p "$d" "$var/sandbox/etc/php/$v/fpm/pool.d" "$var/sandbox/run/php"
	{
		printf '[global]\npid = %s/php-fpm.pid\nerror_log = %s/php-fpm.log\ndaemonize = no\n' "$d" "$d"
		printf '[aapanel-dev-base]\nlisten = %s/base.sock\npm = ondemand\npm.max_children = 1\n' "$d"
		[ "$(id -u)" -eq 0 ] && printf 'user = nobody\ngroup = nogroup\n'
		printf 'include = %s/*.conf\n' "$var/sandbox/etc/php/$v/fpm/pool.d"
	} > "$d/php-fpm.conf"
	root_flag=()
	[ "$(id -u)" -eq 0 ] && root_flag=(-R) # development runs every site as you: root here
	"$fpm" -F "${root_flag[@]}" -y "$d/php-fpm.conf" &
	php_pids="$php_pids $!"
done


# The panel-managed include (listen line, entrance) lives where the helper
# may rewrite it (nginx.listen_file of the development profile) and is kept
# across runs: a port or entrance chosen in Settings stays.
listen_file="$var/sandbox/etc/nginx/aapanel-listen.conf"
NGINX_SITES_DIR="$sites" LISTEN_FILE="$listen_file" KEEP_LISTEN=1 "$src/scripts/nginx-conf.sh" "$var/nginx" "$port" "$sock" "$src/static" 64m 60 /
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
echo "  │  helper     $helper_sock (as uid $(id -u), sandbox $var/sandbox/)"
echo "  │  websites   made under Websites, served here by Host: (curl -H 'Host: example.test' http://127.0.0.1:$port/)"
echo "  │  logs       this terminal (panel, helper), $var/nginx/ (nginx)"
echo "  └─ Ctrl-C stops everything"
echo
wait -n "$pool_pid" "$nginx_pid" "$helper_pid" || true
