# browser_lib.sh — sourced (after lib.sh) by the browser tests
# (t_browser*.sh): what they need before a real browser can run. A missing
# one fails the test, never skips it (scripts/install-deps.sh installs them).
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
prereq_ok=1
# prereq NAME COMMAND...: like check, but also remembers a failure
prereq() { local n=$1; shift; if "$@"; then ok "$n"; else not_ok "$n"; prereq_ok=0; fi; }
have_node() { command -v node >/dev/null; }
# browser_prereqs: Chromium, node and playwright-core
browser_prereqs() {
	prereq "chromium is installed ($CHROMIUM; apt-get install chromium)" test -x "$CHROMIUM"
	prereq "node is installed" have_node
	prereq "playwright-core is installed (npm ci --prefix tests/browser)" \
		test -f "$SRC/tests/browser/node_modules/playwright-core/package.json"
}
# prereqs_done: the summary and exit 1 when one is missing
prereqs_done() {
	if [ "$prereq_ok" -ne 1 ]; then
		it_summary
		exit 1
	fi
}
