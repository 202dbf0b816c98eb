#!/usr/bin/env bash
# A real browser (Debian's Chromium driven by playwright-core) against the
# real nginx and pool: sign in, switch to Arabic, sign out; no console errors
# or CSP violations. Screenshots are kept in build/artifacts/browser/.
# Fails (never skips) when chromium, node or tests/browser/node_modules are missing
# (scripts/install-deps.sh installs them).
. "$(dirname "$0")/lib.sh"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
ART="$SRC/build/artifacts/browser"

# prereq NAME COMMAND...: like check, but also remembers a failure
prereq_ok=1
prereq() { local n=$1; shift; if "$@"; then ok "$n"; else not_ok "$n"; prereq_ok=0; fi; }
have_node() { command -v node >/dev/null; }
prereq "chromium is installed ($CHROMIUM; apt-get install chromium)" test -x "$CHROMIUM"
prereq "node is installed" have_node
prereq "playwright-core is installed (npm ci --prefix tests/browser)" test -f "$SRC/tests/browser/node_modules/playwright-core/package.json"
if [ "$prereq_ok" -ne 1 ]; then
	it_summary
	exit 1
fi

it_setup
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
	timeout -k 10 180 node "$SRC/tests/browser/login.mjs" > "$T/browser.log" 2>&1 || rc=$?
sed 's/^/  | /' "$T/browser.log"
check "browser test passed (login.mjs exit $rc)" test "$rc" -eq 0
check "login.png was taken" test -s "$ART/login.png"
check "home-en.png was taken" test -s "$ART/home-en.png"
check "home-ar.png was taken" test -s "$ART/home-ar.png"

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
