#!/usr/bin/env bash
# renew-hook.sh — certbot deploy hook: after a certificate was renewed, check
# the nginx configuration and reload nginx so it serves the new certificate.
#
# scripts/setup-https.sh installs a copy as
# <certbot config dir>/renewal-hooks/deploy/aapanel-reload-nginx.sh, with the
# settings block below filled in (the nginx program and, for a private nginx,
# its -p/-c/-e arguments). certbot runs every file in that directory after
# each successful renewal (`certbot renew`, e.g. from Debian's certbot.timer)
# with RENEWED_LINEAGE and RENEWED_DOMAINS set. A failed check leaves the
# running nginx (and the old certificate) in place and exits 1, which certbot
# reports.
set -euo pipefail

# --- settings (setup-https.sh rewrites this block when it installs the hook)
NGINX_CMD=nginx
NGINX_PREFIX=
NGINX_CONF=
NGINX_ERROR_LOG=
# --- end settings

nginx=("$NGINX_CMD")
[ -z "$NGINX_PREFIX" ] || nginx+=(-p "$NGINX_PREFIX")
[ -z "$NGINX_CONF" ] || nginx+=(-c "$NGINX_CONF")
[ -z "$NGINX_ERROR_LOG" ] || nginx+=(-e "$NGINX_ERROR_LOG")

what="${RENEWED_DOMAINS:-a certificate} (${RENEWED_LINEAGE:-unknown lineage})"
if ! out=$("${nginx[@]}" -t 2>&1); then
	printf 'aapanel renew hook: renewed %s, but nginx -t fails; nginx not reloaded:\n%s\n' "$what" "$out" >&2
	exit 1
fi
if ! out=$("${nginx[@]}" -s reload 2>&1); then
	printf 'aapanel renew hook: renewed %s, but nginx did not reload:\n%s\n' "$what" "$out" >&2
	exit 1
fi
printf 'aapanel renew hook: renewed %s; nginx reloaded\n' "$what"
