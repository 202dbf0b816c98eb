#!/usr/bin/env bash
# Fill conf/nginx/dev.conf for a private nginx prefix.
# usage: scripts/nginx-conf.sh PREFIX_DIR PORT SOCKET STATIC_DIR [MAX_BODY] [READ_TIMEOUT] [BASE]
# Writes PREFIX_DIR/nginx.conf and PREFIX_DIR/fastcgi_params, and the
# panel-managed include LISTEN_FILE (default PREFIX_DIR/listen.conf: the
# listen line on 127.0.0.1:PORT and the entrance BASE) unless KEEP_LISTEN=1
# and it exists — aapanel-helper rewrites it when Settings moves the panel. The sampler's
# live-stream socket is EVENTS_SOCKET, by default aapanel-events.sock beside
# SOCKET (where monitor.socket = "" puts it when server.socket is in run_dir).
# NGINX_SITES_DIR: the directory whose *.conf (the helper's vhosts) nginx
# includes (default PREFIX_DIR/sites, created empty).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
prefix=$1 port=$2 socket=$3 static=$4 max_body=${5:-64m} read_timeout=${6:-60} base=${7:-/}
case "$port" in ''|*[!0-9]*) echo "nginx-conf: port must be a number" >&2; exit 2;; esac
events=${EVENTS_SOCKET:-$(dirname "$socket")/aapanel-events.sock}
listen_file=${LISTEN_FILE:-$prefix/listen.conf}
sites="${NGINX_SITES_DIR:-$prefix/sites}"
for v in "$prefix" "$socket" "$static" "$base" "$events" "$listen_file" "$sites"; do
	case "$v" in *[!A-Za-z0-9/._-]*) echo "nginx-conf: unsafe path '$v'" >&2; exit 2;; esac
done
mkdir -p "$prefix"/{client_body,proxy,fastcgi,uwsgi,scgi} "$sites"
user_line=""
# As root the nginx workers would drop to nobody and lose access to the
# socket and the checkout; keep them as the invoking user in development.
if [ "$(id -u)" -eq 0 ]; then user_line="user root root;"; fi
[ "${base: -1}" = "/" ] || base="$base/"
base_noslash=${base%/}
if [ "${KEEP_LISTEN:-0}" != 1 ] || [ ! -f "$listen_file" ]; then
	mkdir -p "$(dirname "$listen_file")"
	# The same text aapanel-helper renders from templates/nginx/listen.conf.
	{
		echo "# aapanel-listen: address=127.0.0.1 port=$port base=${base_noslash:-/} tls=0 certificate=-"
		echo "# The panel's listen lines and entrance, included by its nginx server block."
		echo "# Written by scripts/nginx-conf.sh; aapanel-helper (operation panel.listen)"
		echo "# rewrites it from templates/nginx/listen.conf when Settings changes them."
		echo "listen 127.0.0.1:$port;"
		echo "set \$aapanel_base \"$base_noslash\";"
	} > "$listen_file.new"
	mv -f "$listen_file.new" "$listen_file"
fi
access_log="${NGINX_ACCESS_LOG:-$prefix/access.log}"
sed -e "s|@USER_LINE@|$user_line|" -e "s|@PREFIX@|$prefix|g" -e "s|@PORT@|$port|g" \
    -e "s|@SOCKET@|$socket|g" -e "s|@STATIC@|$static|g" -e "s|@MAX_BODY@|$max_body|g" \
    -e "s|@READ_TIMEOUT@|$read_timeout|g" -e "s|@BASE@|$base|g" -e "s|@CONF@|$prefix|g" \
    -e "s|@ACCESS_LOG@|$access_log|g" -e "s|@EVENTS_SOCKET@|$events|g" -e "s|@SITES@|$sites|g" \
    -e "s|@LISTEN_FILE@|$listen_file|g" \
    "$src/conf/nginx/dev.conf" > "$prefix/nginx.conf"
cp "$src/conf/nginx/fastcgi_params" "$prefix/fastcgi_params"
