#!/usr/bin/env bash
# The file manager's scenario of issue 16 in a real browser (Debian's
# Chromium driven by playwright-core, tests/browser/files.mjs) against the
# real nginx, pool, helper and sampler: an operator uploads a file through
# the Files page (its progress bar shown), edits it in the editor, and sees
# the change served by the site through nginx; then follows the site's
# access log and sees a request to the site appear without reloading (the
# live stream). Screenshots in build/artifacts/browser-files/. Fails (never
# skips) when chromium, node or playwright-core are missing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/browser_lib.sh"
ART="$SRC/build/artifacts/browser-files"
browser_prereqs
prereqs_done

. "$(dirname "$0")/sites_lib.sh"
it_setup 'pool = { request_timeout = 20; };'
sites_setup 'system_users = false;'
it_start_pool
sites_start_nginx
sites_start_helper
PW='correct horse battery staple'
it_user oper operator "$PW"
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
DOMAIN=files-browser.test
A site add "$DOMAIN" --type static > /dev/null
SID=$(sqlite3 "$T/var/aapanel.db" "SELECT id FROM sites WHERE domain = '$DOMAIN'")
check "a static site for the browser ($SID)" test -n "$SID"

rm -rf "$ART"
mkdir -p "$ART"
PROFILE="$T/chromium-profile"
browser_pids() { pgrep -f -- "--user-data-dir=$PROFILE" || true; }
# The file the operator uploads: 40 KiB (the browser sends it at 16 KiB/s: its progress shows; the editor saves through a form field, limits.max_field_len).
UP="$T/upload/greeting.html"
mkdir -p "$T/upload"
{ printf '<!doctype html><title>greeting</title><p id="msg">hello from the upload</p>\n<!--'; head -c 40960 /dev/zero | tr '\0' 'x'; printf -- '-->\n'; } > "$UP"
rc=0
BASE_URL="http://127.0.0.1:$PORT" PANEL_USER=oper PANEL_PASSWORD="$PW" SITE_DOMAIN="$DOMAIN" SITE_ID="$SID" \
	UPLOAD_FILE="$UP" ARTIFACTS_DIR="$ART" BROWSER_PROFILE_DIR="$PROFILE" CHROMIUM="$CHROMIUM" \
	timeout -k 10 200 node "$SRC/tests/browser/files.mjs" > "$T/browser.log" 2>&1 || rc=$?
sed 's/^/  | /' "$T/browser.log"
check "browser test passed (files.mjs exit $rc)" test "$rc" -eq 0
for f in files-uploaded editor-saved site-changed log-followed; do
	check "$f.png was taken" test -s "$ART/$f.png"
done
R="$SB/var/www/$DOMAIN/public"
check "the edited file is on disk with the change" grep -q 'edited in the browser' "$R/greeting.html"
check "no temporary file left beside it" bash -c "! ls -a '$R' | grep -q aapanel-up"
curl -s -o "$T/served.html" -H "Host: $DOMAIN" "$(url /greeting.html)"
check "nginx serves the edited file" grep -q 'edited in the browser' "$T/served.html"
check "the audit log names the operator for the upload and the save" \
	bash -c "[ \"\$(sqlite3 '$T/var/aapanel.db' \"SELECT COUNT(*) FROM audit_log WHERE actor = 'oper' AND action LIKE 'files.%' AND outcome = 'ok'\")\" -ge 2 ]"

for _ in $(seq 1 50); do [ -z "$(browser_pids)" ] && break; sleep 0.1; done
left=$(browser_pids)
check "no Chromium process left behind" test -z "$left"
# shellcheck disable=SC2086
[ -z "$left" ] || kill -KILL $left 2>/dev/null || true
echo "  screenshots: $ART"
it_summary
