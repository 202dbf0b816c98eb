#!/bin/sh
# Container health probe: GET /healthz straight over the panel's FastCGI
# socket with cgi-fcgi (Debian's libfcgi-bin), no HTTP server needed.
# Healthy when the panel answers {"status":"ok",...}: a degraded answer
# (database down) or no answer at all is unhealthy.
# usage: healthcheck.sh [SOCKET]   (default /run/aapanel/aapanel.sock)
set -eu
sock=${1:-/run/aapanel/aapanel.sock}
[ -S "$sock" ] || { echo "healthcheck: no socket at $sock" >&2; exit 1; }
# cgi-fcgi passes its environment as the FastCGI parameters: give it a
# clean, fixed one, the way nginx would fill it for GET /healthz from loopback.
out=$(env -i REQUEST_METHOD=GET REQUEST_URI=/healthz DOCUMENT_URI=/healthz SCRIPT_NAME=/healthz \
	QUERY_STRING= SERVER_PROTOCOL=HTTP/1.1 REQUEST_SCHEME=http GATEWAY_INTERFACE=CGI/1.1 \
	SERVER_SOFTWARE=healthcheck REMOTE_ADDR=127.0.0.1 REMOTE_PORT=0 SERVER_ADDR=127.0.0.1 \
	SERVER_PORT=80 SERVER_NAME=localhost HTTP_ACCEPT=application/json \
	cgi-fcgi -bind -connect "$sock" 2>&1) || { echo "healthcheck: cgi-fcgi failed: $out" >&2; exit 1; }
case "$out" in
*'"status":"ok"'* | *'"status": "ok"'*) exit 0 ;;
esac
printf 'healthcheck: unhealthy answer:\n%s\n' "$out" >&2
exit 1
