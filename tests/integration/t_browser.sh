#!/usr/bin/env bash
# A real browser (Debian's Chromium driven by playwright-core) against the
# real nginx and pool:
#   login.mjs     sign in, a sortable table and an empty list, switch to
#                 Arabic with the language form, sign out
#   selftest.mjs  the page checks on small pages made to have (or not) each
#                 problem
#   pages.mjs     every page of the route table (and every destructive
#                 route's confirmation page) as every role, in English and
#                 Arabic, light and dark, at 1366x768 and 360x740: horizontal
#                 overflow, axe-core serious/critical violations, button
#                 contrast, console errors and CSP violations, untranslated
#                 Arabic; fails when such a page is not visited
# Data to look at comes from tests/browser/fixtures.sh. Screenshots, an
# index.html of all of them, results.json and problems.txt (every problem
# once) are kept in build/artifacts/browser/.
# Fails (never skips) when chromium, node or tests/browser/node_modules are
# missing (scripts/install-deps.sh installs them).
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/browser/fixtures.sh"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
ART="$SRC/build/artifacts/browser"
MODS="$SRC/tests/browser/node_modules"

# prereq NAME COMMAND...: like check, but also remembers a failure
prereq_ok=1
prereq() { local n=$1; shift; if "$@"; then ok "$n"; else not_ok "$n"; prereq_ok=0; fi; }
have() { command -v "$1" >/dev/null; }
prereq "chromium is installed ($CHROMIUM; apt-get install chromium)" test -x "$CHROMIUM"
prereq "node is installed" have node
prereq "playwright-core is installed (npm ci --prefix tests/browser)" test -f "$MODS/playwright-core/package.json"
prereq "axe-core is installed (npm ci --prefix tests/browser)" test -f "$MODS/axe-core/axe.min.js"
prereq "oathtool is installed (two-factor fixture)" have oathtool
if [ "$prereq_ok" -ne 1 ]; then
	it_summary
	exit 1
fi

it_setup "$IT_MANAGED"
# The panel's and the helper's log for the admins' log pages (/logs/{which}): log.file.
sed -i "s|^log = { level = \"info\"; };|log = { level = \"info\"; file = \"$T/var/log/aapanel.log\"; };|" "$T/conf/profiles/test.cfg"
mkdir -p "$T/var/log"
# The websites are made by the helper and served by the test's nginx (sites_lib.sh, as t_forms.sh).
. "$(dirname "$0")/sites_lib.sh"
sites_setup
# Certificates: the sites' TLS servers on a free port; the ACME server a closed loopback port
# (the fixtures' failed issuance: never Let's Encrypt).
cat >> "$T/conf/profiles/test.cfg" <<CFG
certs = { https_port = $(it_free_port); acme_server = "https://127.0.0.1:$(it_free_port)/dir"; certbot_dir = "$T/certbot"; };
files = { roots = "www:/srv/www"; job_wait_ms = 0; };
CFG
it_start_pool
sites_start_nginx
sites_start_helper
# The admins' other root (files.roots) the browser visits: a folder with a file.
mkdir -p "$SB/srv/www/conf"
printf 'server_name example;\n' > "$SB/srv/www/conf/site.conf"
# ... and a tree of 2,000 files, whose copy (fixtures.sh) outlasts files.job_wait_ms 0: its job page.
mkdir -p "$SB/srv/www/tree" && (cd "$SB/srv/www/tree" && seq -f 'f%g.txt' 1 2000 | xargs touch)

# Chromium keeps its profiles under $BT only (login.mjs's by name, those of
# selftest.mjs and pages.mjs through TMPDIR): our processes are found by it,
# never by name.
BT="$T/browser"
mkdir -p "$BT"
browser_pids() { pgrep -f -- "--user-data-dir=$BT/" || true; }

start=$(date +%s)
if browser_fixtures "$T/fixtures.json" 2> "$T/fixtures.err"; then
	ok "fixtures: a user per role, two-factor, more users, tokens, sessions, audit rows ($(($(date +%s) - start)) s)"
else
	not_ok "fixtures: a user per role, two-factor, more users, tokens, sessions, audit rows"
	sed 's/^/  | /' "$T/fixtures.err"
	it_summary
	exit 1
fi
check "the route table as JSON (aapanel routes --json)" \
	bash -c "'$BIN' --profile test --config '$T/conf/aapanel.cfg' --root '$SRC' routes --json > '$T/routes.json' && jq -e 'length > 0' '$T/routes.json' >/dev/null"

rm -rf "$ART"
mkdir -p "$ART/login"

# --- sign in, language form, sign out
rc=0
start=$(date +%s)
BASE_URL="http://127.0.0.1:$PORT" PANEL_USER=admin PANEL_PASSWORD="$BROWSER_PW" \
	ARTIFACTS_DIR="$ART/login" BROWSER_PROFILE_DIR="$BT/login-profile" CHROMIUM="$CHROMIUM" \
	timeout -k 10 180 node "$SRC/tests/browser/login.mjs" > "$T/login.log" 2>&1 || rc=$?
sed 's/^/  | /' "$T/login.log"
check "sign-in, language and sign-out steps passed in $(($(date +%s) - start)) s (login.mjs exit $rc)" test "$rc" -eq 0
check "login.png, home-en.png and home-ar.png were taken" \
	test -s "$ART/login/login.png" -a -s "$ART/login/home-en.png" -a -s "$ART/login/home-ar.png"

# counted NAME LOG RC SECS: print a script's check lines (they are ours) and
# count them from its "PASSED=N FAILED=M" line; check that it got that far.
counted() {
	local name=$1 log=$2 rc=$3 secs=$4 counts p f
	grep -v '^PASSED=' "$log" || true
	counts=$(grep '^PASSED=[0-9]* FAILED=[0-9]*$' "$log" | tail -1 || true)
	if [ -n "$counts" ]; then
		p=${counts#PASSED=}; p=${p%% *}
		f=${counts##*FAILED=}
		PASS=$((PASS + p))
		FAIL=$((FAIL + f))
	fi
	check "$name ran to its summary in $secs s (exit $rc)" test -n "$counts" -a "$rc" -le 1
}

# --- the checks themselves, on pages made to have (or not) each problem
rc=0
start=$(date +%s)
CHROMIUM="$CHROMIUM" TMPDIR="$BT" timeout -k 10 90 node "$SRC/tests/browser/selftest.mjs" > "$T/selftest.log" 2> "$T/selftest.err" || rc=$?
counted selftest.mjs "$T/selftest.log" "$rc" $(($(date +%s) - start))
[ "$rc" -le 1 ] || sed 's/^/  | /' "$T/selftest.err"

# --- every page, every role, both languages, both themes, two widths
rc=0
start=$(date +%s)
BASE_URL="http://127.0.0.1:$PORT" ROUTES_JSON="$T/routes.json" FIXTURES_JSON="$T/fixtures.json" \
	ARTIFACTS_DIR="$ART" CHROMIUM="$CHROMIUM" TMPDIR="$BT" BROWSER_TOTAL_MS=${BROWSER_TOTAL_MS:-900000} \
	timeout -k 10 $(( ${BROWSER_TOTAL_MS:-900000} / 1000 + 30 )) node "$SRC/tests/browser/pages.mjs" > "$T/pages.log" 2> "$T/pages.err" || rc=$?
counted pages.mjs "$T/pages.log" "$rc" $(($(date +%s) - start))
# Its progress (time per group of visits), or everything it said when it broke.
if grep -q '^PASSED=' "$T/pages.log" && [ "$rc" -le 1 ]; then grep '^  \.\.' "$T/pages.err" || true; else sed 's/^/  | /' "$T/pages.err"; fi
check "index.html of the screenshots was written" test -s "$ART/index.html"
check "problems.txt was written" test -s "$ART/problems.txt"
check "a screenshot for every visit" \
	test "$(find "$ART" -maxdepth 1 -name '*.jpg' ! -name '*--full.jpg' | wc -l)" -eq "$(jq '[.screens[].visits[] | select(.shot)] | length' "$ART/results.json" 2>/dev/null || echo -1)"

# Nothing of ours may be left running.
for _ in $(seq 1 50); do [ -z "$(browser_pids)" ] && break; sleep 0.1; done
left=$(browser_pids)
check "no Chromium process left behind" test -z "$left"
if [ -n "$left" ]; then
	echo "  leftover chromium pids: $left"
	# shellcheck disable=SC2086
	kill -KILL $left 2>/dev/null || true
fi

echo "  screenshots: $ART/index.html; every problem once: $ART/problems.txt"
it_summary
