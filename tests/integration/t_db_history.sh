#!/usr/bin/env bash
# Databases (issue 15): the imports and exports the panel recorded
# (migration 0018) against a throwaway MariaDB started here: who, when,
# which database, the dump's size and SHA-256, the result and the client's
# error — on the database's page (English and Arabic), in the API's
# database answer and in `aapanel database history NAME [--json]`. A
# transfer refused before a job ran (over databases.import_max) is a failed
# row without a job; a job nobody watched is finished when the history is
# looked at; one the helper no longer knows is "unknown"; a dropped
# database's rows go with it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites_lib.sh"
. "$(dirname "$0")/dbservers.sh"
it_setup 'pool = { request_timeout = 30; };
databases = { import_max = 1048576; };'
sites_setup 'system_users = false;'
D=$(mktemp -d /tmp/aapanel-dbhist.XXXXXX)
chmod 0755 "$D"
hist_teardown() {
	local rc=$?
	db_stop_all || true
	rm -rf "$D"
	(exit "$rc")
	sites_teardown
}
trap hist_teardown EXIT
check "MariaDB starts on loopback" db_start_mariadb "$D/my"
[ -n "${MYSQL_PID:-}" ] || exit 1
APW=$(openssl rand -hex 16)
_db_my_sql "CREATE USER 'dbadmin'@'127.0.0.1' IDENTIFIED BY '$APW'; GRANT ALL ON *.* TO 'dbadmin'@'127.0.0.1' WITH GRANT OPTION;"
it_start_pool
sites_start_nginx
sites_start_helper
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
it_user admin admin 'correct horse battery staple'
it_user view viewer 'correct horse battery staple'
TOKEN=$(A token create --user admin --scope write --name t | tail -1)
VTOKEN=$(A token create --user view --scope read --name v | tail -1)
check "the admin signs in" test "$(it_login "$T/jar" admin 'correct horse battery staple')" = 303
J="$T/jar"
Q() { sqlite3 "$T/var/aapanel.db" "$1"; }
upload() {
	curl -s -o "$T/api.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/octet-stream' --data-binary "@$3" \
		"$(url "/api/v1/databases/$1/import?format=$2")"
}
# hist_settled ID: the database's answer until no row is running (its history in $T/db.json).
hist_settled() {
	for _ in $(seq 1 300); do
		curl -s -H "Authorization: Bearer $TOKEN" "$(url "/api/v1/databases/$1")" > "$T/db.json"
		jq -e '.history | all(.result != "running")' "$T/db.json" >/dev/null && return 0
		sleep 0.1
	done
	return 1
}

check "migration 0018 made database_transfers" test "$(Q "SELECT COUNT(*) FROM schema_migrations WHERE version = 18")" = 1
check "server added" test "$(api POST /database-servers "$(jq -nc --arg d "mysql://dbadmin@127.0.0.1:$MYSQL_PORT/" --arg p "$APW" '{name:"my", dsn:$d, password:$p}')")" = 201
check "database shop created" test "$(api POST /databases '{"server":"my","name":"shop"}')" = 201
ID=$(jq -r .id "$T/api.json")
check "... and keep created" test "$(api POST /databases '{"server":"my","name":"keep"}')" = 201
KEEP=$(jq -r .id "$T/api.json")
check "a new database has no history" bash -c "curl -s -H 'Authorization: Bearer $TOKEN' '$(url "/api/v1/databases/$ID")' | jq -e '.history == []' >/dev/null"
check "... its page says so" bash -c "curl -s -b '$J' '$(url "/databases/$ID")' | grep -q 'No import or export yet.'"

# ---------------------------------------------------------------- an import that works
printf 'CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(40));\nINSERT INTO t VALUES (1, %s);\n' "'سلام'" > "$D/good.sql"
gzip -c "$D/good.sql" > "$D/good.sql.gz"
GOOD_SHA=$(sha256sum "$D/good.sql.gz" | cut -d' ' -f1)
GOOD_SIZE=$(stat -c %s "$D/good.sql.gz")
check "an import started (API, .sql.gz)" test "$(upload "$ID" sql.gz "$D/good.sql.gz")" = 200
check "... recorded at once, by admin, with the upload's size and SHA-256" \
	test "$(Q "SELECT actor || ' ' || kind || ' ' || format || ' ' || size || ' ' || sha256 FROM database_transfers WHERE database_id = $ID")" = "admin import sql.gz $GOOD_SIZE $GOOD_SHA"
check "... nobody watched its job: the history finishes it when looked at" hist_settled "$ID"
check "... ok, with who, when, size and SHA-256, no error" jqe --arg sha "$GOOD_SHA" --argjson size "$GOOD_SIZE" \
	'.history | length == 1 and (.[0] | .kind == "import" and .format == "sql.gz" and .actor == "admin" and .result == "ok" and .size == $size and .sha256 == $sha and .error == null and .job > 0 and (.started | type) == "string" and (.finished | type) == "string")' "$T/db.json"

# ---------------------------------------------------------------- an export
check "an export started (API)" test "$(api POST "/databases/$ID/export" '{"format":"sql"}')" = 200
EJOB=$(jq -r .id "$T/api.json")
for _ in $(seq 1 300); do
	curl -s -H "Authorization: Bearer $TOKEN" "$(url "/api/v1/databases/$ID/jobs/$EJOB")" > "$T/job.json"
	jq -e '.job.state == "done" or .job.state == "failed"' "$T/job.json" >/dev/null && break
	sleep 0.1
done
check "... its job page saw it end: the row is finished already (no refresh needed)" \
	test "$(Q "SELECT result FROM database_transfers WHERE job = $EJOB AND kind = 'export'")" = ok
check "... with the dump's size and SHA-256 as the job reports them" \
	test "$(Q "SELECT size || ' ' || sha256 FROM database_transfers WHERE job = $EJOB AND kind = 'export'")" = "$(jq -r '"\(.job.result.size) \(.job.result.sha256)"' "$T/job.json")"

# ---------------------------------------------------------------- failures
printf 'CREATE TABLE broken (;\n' > "$D/bad.sql"
check "a broken dump's import started" test "$(upload "$ID" sql "$D/bad.sql")" = 200
hist_settled "$ID" || true
check "... recorded failed with the client's error line" \
	jqe '.history[0] | .kind == "import" and .result == "failed" and (.error | test("syntax|SQL"; "i")) and .finished != null' "$T/db.json"
head -c 2000000 /dev/zero > "$D/big.sql"
check "a dump over databases.import_max refused (413)" test "$(upload "$ID" sql "$D/big.sql")" = 413
check "... recorded failed without a job, the reason given" \
	bash -c "curl -s -H 'Authorization: Bearer $TOKEN' '$(url "/api/v1/databases/$ID")' | jq -e '.history[0] | .result == \"failed\" and .job == null and (.error | test(\"import_max\"))' >/dev/null"
# A row whose job the helper does not know (restarted, or an hour later).
Q "INSERT INTO database_transfers (database_id, kind, format, job, actor, started_at, result) VALUES ($ID, 'export', 'sql', 987654, 'admin', strftime('%s','now') - 7200, 'running')"
hist_settled "$ID" || true
check "a running row whose job the helper no longer knows becomes unknown" \
	jqe '[.history[] | select(.job == 987654)][0] | .result == "unknown" and (.error | test("no longer knows"))' "$T/db.json"

# ---------------------------------------------------------------- the CLI
printf 'CREATE TABLE t2 (id INT PRIMARY KEY);\nINSERT INTO t2 VALUES (7);\n' > "$D/cli.sql"
rc=0; A database import shop "$D/cli.sql" > "$T/cli.out" 2>&1 || rc=$?
check "CLI: an import" test "$rc" = 0
rc=0; A database history shop --json > "$T/cli.json" 2>"$T/cli.err" || rc=$?
check "CLI: database history --json lists all six, newest first, the CLI's as cli:USER" bash -c \
	"[ $rc = 0 ] && jq -e '.database == \"shop\" and .server == \"my\" and (.items | length) == 6 and (.items[0] | .actor == \"cli:$(id -un)\" and .result == \"ok\" and .kind == \"import\" and .format == \"sql\") and ([.items[].id] | . == (sort | reverse))' '$T/cli.json' >/dev/null"
rc=0; A database history shop > "$T/cli.txt" 2>&1 || rc=$?
check "CLI: database history as a table" bash -c "[ $rc = 0 ] && head -1 '$T/cli.txt' | grep -q '^ID .*RESULT' && [ \$(grep -c ' failed ' '$T/cli.txt') = 2 ]"
rc=0; A database history 'x;y' > /dev/null 2>"$T/cli.err" || rc=$?
check "CLI: a bad name exit 2 naming it" bash -c "[ $rc = 2 ] && grep -q 'name' '$T/cli.err'"
rc=0; A database history nosuch > /dev/null 2>&1 || rc=$?
check "CLI: no such database exit 2" test "$rc" = 2
check "another database's history is its own (empty)" bash -c \
	"A() { \"$BIN\" --profile test --config '$T/conf/aapanel.cfg' --root '$SRC' \"\$@\"; }; A database history keep --json | jq -e '.items == []' >/dev/null"

# ---------------------------------------------------------------- the page
curl -s -b "$J" "$(url "/databases/$ID")" > "$T/page.html"
check "the page shows the history table with its rows" bash -c \
	"grep -q 'Imports and exports' '$T/page.html' && [ \$(grep -c '<td><bdi dir=\"ltr\">admin</bdi></td>' '$T/page.html') -ge 4 ]"
check "... a failure with its reason, an unknown one marked" bash -c \
	"grep -q 'badge-danger\">Failed' '$T/page.html' && grep -q 'import_max' '$T/page.html' && grep -q 'badge-warn\">Unknown' '$T/page.html'"
curl -s -b "$J" -b lang=ar "$(url "/databases/$ID")" > "$T/page-ar.html"
check "... in Arabic, right to left" bash -c \
	"grep -q 'dir=\"rtl\"' '$T/page-ar.html' && grep -q 'عمليات الاستيراد والتصدير' '$T/page-ar.html' && grep -q 'بدأها' '$T/page-ar.html'"
check "a viewer reads the history too" bash -c \
	"curl -s -H 'Authorization: Bearer $VTOKEN' '$(url "/api/v1/databases/$ID")' | jq -e '(.history | length) == 6' >/dev/null"
check "no password or token in the history" bash -c "! sqlite3 '$T/var/aapanel.db' 'SELECT * FROM database_transfers' | grep -q -e '$APW' -e '$TOKEN'"

# ---------------------------------------------------------------- dropped with the database
check "shop dropped" test "$(api POST "/databases/$ID/remove" '{"confirm_name":"shop"}')" = 204
check "... its history went with it" test "$(Q "SELECT COUNT(*) FROM database_transfers WHERE database_id = $ID")" = 0
it_summary
