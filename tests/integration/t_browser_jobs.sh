#!/usr/bin/env bash
# A job's page follows the live stream in a real browser (issue 19; Debian's
# Chromium driven by playwright-core, tests/browser/jobs.mjs) against the real
# nginx, pool, helper, sampler and restic: a site backup to a local
# destination runs as a helper job; a viewer on its run page sees the
# progress bar move from the stream's `event: job` with no page load, and
# the page reload once at the end showing the result. Screenshots in
# build/artifacts/browser-jobs/. Fails (never skips) when chromium, node,
# playwright-core or restic are missing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/browser_lib.sh"
ART="$SRC/build/artifacts/browser-jobs"
browser_prereqs
prereq "restic is installed" command -v restic
prereqs_done

. "$(dirname "$0")/sites_lib.sh"
it_setup 'pool = { request_timeout = 20; };'
sites_setup 'system_users = false;'
sed -i "s/^helper = { /helper = { job_timeout = 600; /; s/timeout_ms = 5000;/timeout_ms = 20000;/" "$T/conf/profiles/test.cfg"
it_start_pool
sites_start_nginx
sites_start_helper
PW='correct horse battery staple'
it_user watcher viewer "$PW"
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
ran() { "$@" > "$T/ran.log" 2>&1 || { sed 's/^/    | /' "$T/ran.log" | tail -n 8; return 1; }; }
check "a site to back up" ran A site add jobs.test --type static
check "a local destination" ran A backup-dest add loc --url local:/srv/backups/loc
WEB="$SB/var/www/jobs.test/public"

rm -rf "$ART"
mkdir -p "$ART"
PROFILE="$T/chromium-profile"
browser_pids() { pgrep -f -- "--user-data-dir=$PROFILE" || true; }
# A run is started by the browser test once signed in (Chromium's start is slow
# here): new data each time (restic would skip what it has), enough that
# restic's status lines (two a second) give several steps.
cat > "$T/start-run" <<EOS
#!/bin/sh
head -c ${JOBS_BYTES:-300000000} /dev/urandom > '$WEB/big.bin' || exit 1
'$BIN' --profile test --config '$T/conf/aapanel.cfg' --root '$SRC' backup run --site jobs.test --to loc --no-wait --json > '$T/run.json' || exit 1
jq -r .id '$T/run.json'
EOS
chmod +x "$T/start-run"
rc=0
BASE_URL="http://127.0.0.1:$PORT" PANEL_USER=watcher PANEL_PASSWORD="$PW" START_RUN="$T/start-run" \
	ARTIFACTS_DIR="$ART" BROWSER_PROFILE_DIR="$PROFILE" CHROMIUM="$CHROMIUM" \
	timeout -k 10 200 nice -n 10 node "$SRC/tests/browser/jobs.mjs" > "$T/browser.log" 2>&1 || rc=$?
sed 's/^/  | /' "$T/browser.log"
check "browser test passed (jobs.mjs exit $rc)" test "$rc" -eq 0
for f in job-running job-done job-polled; do
	check "$f.png was taken" test -s "$ART/$f.png"
done
RUN=$(jq -r .id "$T/run.json" 2>/dev/null || true)
check "the last run (${RUN:-none}) is recorded done" bash -c "'$BIN' --profile test --config '$T/conf/aapanel.cfg' --root '$SRC' backup list --site jobs.test --json | jq -e '.items[] | select(.id == ${RUN:-0}) | .state == \"done\"' >/dev/null"

for _ in $(seq 1 50); do [ -z "$(browser_pids)" ] && break; sleep 0.1; done
left=$(browser_pids)
check "no Chromium process left behind" test -z "$left"
# shellcheck disable=SC2086
[ -z "$left" ] || kill -KILL $left 2>/dev/null || true
echo "  screenshots: $ART"
it_summary
