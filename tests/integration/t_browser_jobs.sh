#!/usr/bin/env bash
# A job's page follows the live stream in a real browser (issue 19; Debian's
# Chromium driven by playwright-core, tests/browser/jobs.mjs) against the real
# nginx, pool, helper, sampler, restic and MariaDB: a site backup to a local
# destination runs as a helper job; a viewer on its run page sees the
# progress bar move from the stream's `event: job` with no page load, and
# the page reload once at the end showing the result; the same with the
# stream refused (the poll); a database's export job page moved by its job's
# events. Screenshots in build/artifacts/browser-jobs/. Fails (never skips)
# when chromium, node, playwright-core, restic or MariaDB are missing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/browser_lib.sh"
ART="$SRC/build/artifacts/browser-jobs"
browser_prereqs
prereq "restic is installed" command -v restic
prereqs_done

. "$(dirname "$0")/sites_lib.sh"
. "$(dirname "$0")/dbservers.sh"
it_setup 'pool = { request_timeout = 20; };'
sites_setup 'system_users = false;'
sed -i "s/^helper = { /helper = { job_timeout = 600; /; s/timeout_ms = 5000;/timeout_ms = 20000;/" "$T/conf/profiles/test.cfg"
D=$(mktemp -d /tmp/aapanel-jobs.XXXXXX)
chmod 0755 "$D"
jobs_teardown() {
	local rc=$?
	db_stop_all || true
	rm -rf "$D"
	(exit "$rc")
	sites_teardown
}
trap jobs_teardown EXIT
check "MariaDB starts on loopback" db_start_mariadb "$D/my"
[ -n "${MYSQL_PID:-}" ] || exit 1
APW=$(openssl rand -hex 16)
_db_my_sql "CREATE USER 'dbadmin'@'127.0.0.1' IDENTIFIED BY '$APW'; GRANT ALL ON *.* TO 'dbadmin'@'127.0.0.1' WITH GRANT OPTION;"
printf '%s\n' "$APW" > "$D/admin.pw"
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
it_user admin admin "$PW"
TOKEN=$(A token create --user admin --scope write --name t | tail -1)
check "a MariaDB server is added" ran A dbserver add my --dsn "mysql://dbadmin@127.0.0.1:$MYSQL_PORT/mysql" --password-file "$D/admin.pw"
check "a database to export" ran A database add bigdb --server my
DBID=$(sqlite3 "$T/var/aapanel.db" "SELECT id FROM managed_databases WHERE name = 'bigdb'")
# About 160 MB of rows: the export's progress (the SQL's bytes against the database's size) takes steps.
MYSQL_PWD=$APW timeout 120 mariadb --no-defaults -h 127.0.0.1 -P "$MYSQL_PORT" -u dbadmin bigdb -e "
CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, a LONGTEXT) ENGINE=InnoDB;
INSERT INTO t (a) SELECT HEX(RANDOM_BYTES(1024)) FROM seq_1_to_80000;" 2>"$T/fill.err" || { echo "fill:"; cat "$T/fill.err"; }
check "... with rows ($(MYSQL_PWD=$APW mariadb --no-defaults -N -B -h 127.0.0.1 -P "$MYSQL_PORT" -u dbadmin bigdb -e 'SELECT COUNT(*) FROM t' 2>/dev/null))" \
	test "$(MYSQL_PWD=$APW mariadb --no-defaults -N -B -h 127.0.0.1 -P "$MYSQL_PORT" -u dbadmin bigdb -e 'SELECT COUNT(*) FROM t' 2>/dev/null)" = 80000
cat > "$T/start-export" <<EOS
#!/bin/sh
curl -s -o '$T/export.json' -X POST -H 'Authorization: Bearer $TOKEN' -H 'Content-Type: application/json' --data '{"format":"sql.gz"}' 'http://127.0.0.1:$PORT/api/v1/databases/$DBID/export' || exit 1
jq -r .id '$T/export.json'
EOS
chmod +x "$T/start-export"

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
BASE_URL="http://127.0.0.1:$PORT" PANEL_USER=watcher PANEL_PASSWORD="$PW" START_RUN="$T/start-run" START_EXPORT="$T/start-export" DATABASE_ID="$DBID" \
	ARTIFACTS_DIR="$ART" BROWSER_PROFILE_DIR="$PROFILE" CHROMIUM="$CHROMIUM" \
	timeout -k 10 200 nice -n 10 node "$SRC/tests/browser/jobs.mjs" > "$T/browser.log" 2>&1 || rc=$?
sed 's/^/  | /' "$T/browser.log"
check "browser test passed (jobs.mjs exit $rc)" test "$rc" -eq 0
for f in job-running job-done job-polled export-done; do
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
