#!/usr/bin/env bash
# The dashboard in a real browser (tests/browser/dashboard.mjs): charts drawn in English
# and Arabic, updated live by the sampler's stream without a reload; no console errors
# or CSP violations. Screenshots are kept in build/artifacts/browser/.
# Fails (never skips) when chromium, node or tests/browser/node_modules are missing
# (scripts/install-deps.sh installs them).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/browser_lib.sh"
ART="$SRC/build/artifacts/browser-dashboard"
browser_prereqs
prereqs_done

it_setup 'monitor = { interval = 1; };'
it_start_pool
it_start_nginx
it_user admin admin 'correct horse battery staple'

rm -rf "$ART"
mkdir -p "$ART"
PROFILE="$T/chromium-profile"

# Our own Chromium processes, found by the private profile dir (never by name).
browser_pids() { pgrep -f -- "--user-data-dir=$PROFILE" || true; }

rc=0
BASE_URL="http://127.0.0.1:$PORT" PANEL_USER=admin PANEL_PASSWORD='correct horse battery staple' \
	ARTIFACTS_DIR="$ART" BROWSER_PROFILE_DIR="$PROFILE" CHROMIUM="$CHROMIUM" \
	timeout -k 10 180 node "$SRC/tests/browser/dashboard.mjs" > "$T/browser.log" 2>&1 || rc=$?
sed 's/^/  | /' "$T/browser.log"
check "dashboard browser test passed (dashboard.mjs exit $rc)" test "$rc" -eq 0
check "dashboard-en.png was taken" test -s "$ART/dashboard-en.png"
check "dashboard-ar.png was taken" test -s "$ART/dashboard-ar.png"

# Nothing of ours may be left running.
for _ in $(seq 1 50); do [ -z "$(browser_pids)" ] && break; sleep 0.1; done
left=$(browser_pids)
check "no Chromium process left behind" test -z "$left"
if [ -n "$left" ]; then
	echo "  leftover chromium pids: $left"
	# shellcheck disable=SC2086
	kill -KILL $left 2>/dev/null || true
fi

echo "  screenshots: $ART"
it_summary
