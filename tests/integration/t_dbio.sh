#!/usr/bin/env bash
# Databases' import and export (issue 15) on a throwaway MariaDB and
# PostgreSQL started here (dbservers.sh): a table with Arabic text and emoji
# (utf8mb4) and a BLOB/bytea of all 256 byte values, exported through the
# API (.sql and .sql.gz), the table dropped, the dump imported again, the
# rows byte-identical on both engines; the browser's Export and Import
# forms; a dump over databases.import_max refused naming the field; broken
# dumps a failed job with the client's error line, PostgreSQL's database as
# before; a dump's SQL confined to its database and its client-side
# commands run as nobody (or refused); the admin password in no process's
# command line or environment while dumps run (sampled); the CLI; and the
# issue's proof: a PHP site whose own code logs in with the generated
# credentials to both servers and reads a row, fetched through nginx.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites_lib.sh"
. "$(dirname "$0")/dbservers.sh"
it_setup 'pool = { request_timeout = 30; };
databases = { import_max = 1048576; };'
sites_setup 'system_users = false;'
D=$(mktemp -d /tmp/aapanel-dbio.XXXXXX)
chmod 0755 "$D"
SAMPLER=""
dbt_teardown() {
	local rc=$?
	[ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null || true
	db_stop_all || true
	rm -rf "$D"
	(exit "$rc")
	sites_teardown
}
trap dbt_teardown EXIT
check "MariaDB starts on loopback" db_start_mariadb "$D/my"
check "PostgreSQL starts on loopback" db_start_postgres "$D/pg"
[ -n "${MYSQL_PID:-}" ] && [ -n "${PG_PID:-}" ] || exit 1
APW=$(openssl rand -hex 16)
_db_my_sql "CREATE USER 'dbadmin'@'127.0.0.1' IDENTIFIED BY '$APW'; GRANT ALL ON *.* TO 'dbadmin'@'127.0.0.1' WITH GRANT OPTION;"
runuser -u postgres -- "$PG_BIN/psql" -X -q -h "$D/pg" -p "$PG_PORT" -U postgres -d postgres \
	-c "CREATE ROLE dbadmin SUPERUSER LOGIN PASSWORD '$APW'" >/dev/null

chmod 0755 "$T" "$T/var" "$SB" "$SB/var" "$SB/var/www" "$SB/run" "$SB/run/php"
it_start_pool
sites_start_nginx
sites_start_helper
sites_start_php
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
it_user admin admin 'correct horse battery staple'
it_user view viewer 'correct horse battery staple'
TOKEN=$(A token create --user admin --scope write --name t | tail -1)
VTOKEN=$(A token create --user view --scope read --name v | tail -1)
check "the admin signs in" test "$(it_login "$T/jar" admin 'correct horse battery staple')" = 303
api_is() { local want=$1; shift; [ "$(api "$@")" = "$want" ]; }
field_is() { jq -e --arg f "$1" '.error.field == $f' "$T/api.json" >/dev/null; }
# upload ID FORMAT FILE: the dump as the body (streamed); status printed, body in $T/api.json.
upload() {
	curl -s -o "$T/api.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/octet-stream' --data-binary "@$3" \
		"$(url "/api/v1/databases/$1/import?format=$2")"
}
# job_wait ID JOB: poll the job until it ended; its last state in $T/job.json.
job_wait() {
	for _ in $(seq 1 600); do
		curl -s -H "Authorization: Bearer $TOKEN" "$(url "/api/v1/databases/$1/jobs/$2")" > "$T/job.json"
		jq -e '.job.state != "queued" and .job.state != "running"' "$T/job.json" >/dev/null && return 0
		sleep 0.1
	done
	return 1
}
job_done() { job_wait "$1" "$2" && jq -e '.job.state == "done" and .job.progress == 100' "$T/job.json" >/dev/null; }
job_failed() { job_wait "$1" "$2" && jq -e '.job.state == "failed" and (.job.error | length) > 0' "$T/job.json" >/dev/null; }
# export ID FORMAT OUT: start, wait, download to OUT (checks the SHA-256 the job reports).
export_to() {
	local code job
	code=$(api POST "/databases/$1/export" "{\"format\":\"$2\"}") || return 1
	[ "$code" = 200 ] || { echo "export answered $code: $(cat "$T/api.json")"; return 1; }
	job=$(jq -r .id "$T/api.json")
	jq -e '.kind == "export" and (.state == "queued" or .state == "running" or .state == "done")' "$T/api.json" >/dev/null || return 1
	job_done "$1" "$job" || { echo "export job: $(cat "$T/job.json")"; return 1; }
	code=$(curl -s -o "$3" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
		"$(url "/api/v1/databases/$1/jobs/$job/download")") || return 1
	[ "$code" = 200 ] || { echo "download answered $code"; return 1; }
	[ "$(sha256sum < "$3" | cut -d' ' -f1)" = "$(jq -r .job.result.sha256 "$T/job.json")" ]
	LAST_JOB=$job
}
# import ID FORMAT FILE: upload, wait; true when the job is done.
import_from() {
	local code
	code=$(upload "$1" "$2" "$3")
	[ "$code" = 200 ] || { echo "import answered $code: $(cat "$T/api.json")"; tail -n 20 "$T/pool.log"; return 1; }
	LAST_JOB=$(jq -r .id "$T/api.json")
	job_wait "$1" "$LAST_JOB"
}

# ---------------------------------------------------------------- servers, databases
check "MariaDB server added" api_is 201 POST /database-servers "{\"name\":\"my\",\"dsn\":\"mysql://dbadmin@127.0.0.1:$MYSQL_PORT/\",\"password\":\"$APW\"}"
check "PostgreSQL server added" api_is 201 POST /database-servers "{\"name\":\"pg\",\"dsn\":\"postgresql://dbadmin@127.0.0.1:$PG_PORT/postgres\",\"password\":\"$APW\"}"
check "a MariaDB database with its user" api_is 201 POST /databases '{"server":"my","name":"shop","user":"shop","hosts":"127.0.0.1"}'
MYID=$(jq -r .id "$T/api.json") MYPW=$(jq -r .password "$T/api.json")
check "a PostgreSQL database with its user" api_is 201 POST /databases '{"server":"pg","name":"shop","user":"shop_pg"}'
PGID=$(jq -r .id "$T/api.json") PGPW=$(jq -r .password "$T/api.json")

# PostgreSQL locales: the one asked for, the server's refusal of an unknown one, not for MariaDB.
pg_list() { PGPASSWORD=$APW "$PG_BIN/psql" -X -At -h 127.0.0.1 -p "$PG_PORT" -U dbadmin -d postgres -c "$1"; }
check "a PostgreSQL database with the locale C.utf8 (201)" api_is 201 POST /databases '{"server":"pg","name":"loc","locale":"C.utf8"}'
LOCID=$(jq -r .id "$T/api.json")
check "... the server made it with that locale" test "$(pg_list "SELECT datcollate || ' ' || datctype FROM pg_database WHERE datname = 'loc'")" = "C.utf8 C.utf8"
api GET "/databases/$LOCID" > /dev/null
check "... and the record says UTF8/C.utf8" jqe '.database.charset == "UTF8/C.utf8"' "$T/api.json"
st=$(api POST /databases '{"server":"pg","name":"loc2","locale":"xx_YY.UTF-8"}')
check "an unknown locale: 400 naming locale with the server's reason ($st)" bash -c "[ '$st' = 400 ] && jq -e '.error.field == \"locale\" and (.error.reason | test(\"refused\"))' '$T/api.json' >/dev/null"
check "... nothing of it left on the server (no database, no role loc2)" bash -c "! { PGPASSWORD='$APW' '$PG_BIN/psql' -X -At -h 127.0.0.1 -p '$PG_PORT' -U dbadmin -d postgres -c 'SELECT datname FROM pg_database UNION ALL SELECT rolname FROM pg_roles'; } | grep -qx loc2"
jq -n '{server: "pg", name: "loc3", locale: "C.utf8'"'"'; DROP DATABASE shop; --"}' > "$D/hostile.json"
st=$(api POST /databases "$(cat "$D/hostile.json")")
check "a hostile locale: 400 naming locale ($st)" bash -c "[ '$st' = 400 ] && jq -e '.error.field == \"locale\"' '$T/api.json' >/dev/null"
st=$(api POST /databases '{"server":"my","name":"loc4","locale":"C.utf8"}')
check "a locale for MariaDB: 400 naming locale ($st)" bash -c "[ '$st' = 400 ] && jq -e '.error.field == \"locale\"' '$T/api.json' >/dev/null"

MY() { MYSQL_PWD=$MYPW timeout 20 mariadb --no-defaults --default-character-set=utf8mb4 -h 127.0.0.1 -P "$MYSQL_PORT" -u shop -N -B shop "$@"; }
PG() { PGPASSWORD=$PGPW timeout 20 "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U shop_pg -d shop "$@"; }
MYADMIN() { MYSQL_PWD=$APW timeout 20 mariadb --no-defaults --default-character-set=utf8mb4 -h 127.0.0.1 -P "$MYSQL_PORT" -u dbadmin -N -B "$@"; }
PGADMIN() { PGPASSWORD=$APW timeout 20 "$PG_BIN/psql" -X -q -At -h 127.0.0.1 -p "$PG_PORT" -U dbadmin "$@"; }
ALLBYTES=$(python3 -c 'print(bytes(range(256)).hex())')
TEXT='مرحبا بالعالم — اختبار 🌍😀 ﷺ'
TEXTHEX=$(printf '%s' "$TEXT" | od -An -tx1 | tr -d ' \n')
# Written by the database's own user: what the site's code would do.
MY -e "CREATE TABLE t (id INT PRIMARY KEY, txt TEXT CHARACTER SET utf8mb4, b BLOB) DEFAULT CHARSET=utf8mb4;
INSERT INTO t VALUES (1, '$TEXT', UNHEX('$ALLBYTES')), (2, 'plain', ''), (3, NULL, NULL);"
PG -c "CREATE TABLE t (id int PRIMARY KEY, txt text, b bytea);
INSERT INTO t VALUES (1, '$TEXT', '\\x$ALLBYTES'), (2, 'plain', ''), (3, NULL, NULL);"
my_rows() { MY -e "SELECT id, IFNULL(HEX(txt), 'NULL'), IFNULL(HEX(b), 'NULL') FROM t ORDER BY id"; }
pg_rows() { PG -F "$(printf '\t')" -c "SELECT id, COALESCE(upper(encode(convert_to(txt, 'UTF8'), 'hex')), 'NULL'), COALESCE(upper(encode(b, 'hex')), 'NULL') FROM t ORDER BY id"; }
my_rows > "$D/my.before"
pg_rows > "$D/pg.before"
check "the rows hold the Arabic text, the emoji and the 256 bytes (MariaDB)" \
	bash -c "grep -qi '$TEXTHEX' '$D/my.before' && grep -qi '${ALLBYTES}' '$D/my.before' && [ \$(wc -l < '$D/my.before') = 3 ]"
check "... and in PostgreSQL" cmp -s "$D/my.before" "$D/pg.before"

# ---------------------------------------------------------------- the round trips
# The checks below run in bash -c: they need these.
export -f import_from upload job_wait url my_rows pg_rows MY PG
export T TOKEN PORT MYPW PGPW MYSQL_PORT PG_PORT PG_BIN
for e in my pg; do
	id=$MYID; [ "$e" = pg ] && id=$PGID
	for f in sql sql.gz; do
		check "$e: export as $f (200, a job to 100 %, the download's SHA-256 is the job's)" export_to "$id" "$f" "$D/$e.$f"
		if [ "$f" = sql.gz ]; then
			check "$e: the .sql.gz is gzip and holds the dump" bash -c "gzip -t '$D/$e.$f' && zcat '$D/$e.$f' | grep -q 'CREATE TABLE'"
		else
			check "$e: the .sql holds the table and no password" bash -c "grep -q 'CREATE TABLE' '$D/$e.$f' && ! grep -q -e '$APW' -e '$MYPW' -e '$PGPW' '$D/$e.$f'"
		fi
		if [ "$e" = my ]; then MY -e "DROP TABLE t"; else PG -c "DROP TABLE t"; fi
		check "$e: the table is gone" bash -c "! $( [ "$e" = my ] && echo my_rows || echo pg_rows ) >/dev/null 2>&1"
		check "$e: import of the $f dump (a job, done)" bash -c "import_from $id $f '$D/$e.$f' && jq -e '.job.state == \"done\" and .job.progress == 100 and .job.result.size > 0 and .job.result.bytes > 0' '$T/job.json' >/dev/null"
		if [ "$e" = my ]; then my_rows > "$D/$e.after"; else pg_rows > "$D/$e.after"; fi
		check "$e: after $f export → drop → import the rows are byte-identical" cmp -s "$D/$e.before" "$D/$e.after"
	done
done
check "PostgreSQL: the imported table belongs to the database's user" test "$(PG -c "SELECT tableowner FROM pg_tables WHERE tablename = 't'")" = shop_pg
check "no import login is left on MariaDB" bash -c "! MYSQL_PWD='$APW' mariadb --no-defaults -h 127.0.0.1 -P '$MYSQL_PORT' -u dbadmin -N -B -e 'SELECT User FROM mysql.user' | grep -q ap_imp_"
check "no import role is left on PostgreSQL" bash -c "! PGPASSWORD='$APW' '$PG_BIN/psql' -X -At -h 127.0.0.1 -p '$PG_PORT' -U dbadmin -d postgres -c 'SELECT rolname FROM pg_roles' | grep -q ap_imp_"
check "the spool keeps nothing once downloaded and imported" bash -c "[ -z \"\$(ls -A '$SB/var/lib/aapanel/dbdumps')\" ]"
check "an export is downloaded once (then 404)" test "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$(url "/api/v1/databases/$PGID/jobs/$LAST_JOB/download")")" = 404
check "another database's job is not found under this one (404 job)" \
	bash -c "[ \"\$(curl -s -o '$T/api.json' -w '%{http_code}' -H 'Authorization: Bearer $TOKEN' '$(url "/api/v1/databases/$MYID/jobs/$LAST_JOB")')\" = 404 ] && jq -e '.error.field == \"job\"' '$T/api.json' >/dev/null"
check "a viewer may look at a job but not export (403)" \
	bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: Bearer $VTOKEN' -H 'Content-Type: application/json' --data '{}' '$(url "/api/v1/databases/$MYID/export")')\" = 403 ]"

# ---------------------------------------------------------------- refusals
head -c 1500000 /dev/urandom > "$D/big.sql"
code=$(upload "$MYID" sql "$D/big.sql")
check "a dump over databases.import_max: 413 naming the field file ($code)" bash -c "[ '$code' = 413 ] && jq -e '.error.field == \"file\" and (.error.reason | test(\"import_max\"))' '$T/api.json' >/dev/null"
code=$(upload "$MYID" gz "$D/my.sql")
check "an unknown format: 400 naming format ($code)" bash -c "[ '$code' = 400 ] && jq -e '.error.field == \"format\"' '$T/api.json' >/dev/null"
code=$(upload "$MYID" sql.gz "$D/my.sql")
check "a .sql sent as sql.gz: the job fails, 'is not gzip data' ($code)" bash -c "[ '$code' = 200 ] && job_wait $MYID \$(jq -r .id '$T/api.json') && jq -e '.job.state == \"failed\" and (.job.error | test(\"not gzip\"))' '$T/job.json' >/dev/null"
head -c 300 "$D/pg.sql.gz" > "$D/cut.sql.gz"
code=$(upload "$PGID" sql.gz "$D/cut.sql.gz")
check "a cut .sql.gz: the job fails, it ends in the middle; the table is as before" bash -c "[ '$code' = 200 ] && job_wait $PGID \$(jq -r .id '$T/api.json') && jq -e '.job.state == \"failed\" and (.job.error | test(\"middle|gzip\"))' '$T/job.json' >/dev/null && pg_rows | cmp -s - '$D/pg.before'"
printf 'CREATE TABLE half (a int);\nINSERT INTO t VALUES (9, NULL, NULL);\nSELEC broken;\n' > "$D/broken.sql"
check "PostgreSQL: a broken dump is a failed job with psql's error line" bash -c "import_from $PGID sql '$D/broken.sql'; jq -e '.job.state == \"failed\" and (.job.error | test(\"ERROR:.*syntax error at or near .SELEC.\"))' '$T/job.json' >/dev/null"
check "... and the database is as before (one transaction: no table half, no row 9)" bash -c "pg_rows | cmp -s - '$D/pg.before' && [ \"\$(PG -c \"SELECT count(*) FROM pg_tables WHERE tablename = 'half'\")\" = 0 ]"
check "MariaDB: a broken dump is a failed job with the client's error line" bash -c "import_from $MYID sql '$D/broken.sql'; jq -e '.job.state == \"failed\" and (.job.error | test(\"ERROR 1064 .* at line 3\"))' '$T/job.json' >/dev/null"
check "... what ran before the error stays (stated: MariaDB's DDL commits), t keeps its rows plus row 9" \
	bash -c "MY -e 'SELECT COUNT(*) FROM half' >/dev/null && [ \"\$(MY -e 'SELECT COUNT(*) FROM t')\" = 4 ]"
MY -e "DROP TABLE half; DELETE FROM t WHERE id = 9"
# A dump reaches its own database only: the import's login has rights on nothing else.
printf 'CREATE DATABASE evil;\n' > "$D/evil_my.sql"
check "MariaDB: a dump cannot create another database (denied, failed job)" bash -c "import_from $MYID sql '$D/evil_my.sql'; jq -e '.job.state == \"failed\" and (.job.error | test(\"denied\"))' '$T/job.json' >/dev/null && ! MYSQL_PWD='$APW' mariadb --no-defaults -h 127.0.0.1 -P '$MYSQL_PORT' -u dbadmin -N -e 'SHOW DATABASES' | grep -qx evil"
printf 'CREATE ROLE evil SUPERUSER;\n' > "$D/evil_pg.sql"
check "PostgreSQL: a dump cannot make a superuser (refused, failed job)" bash -c "import_from $PGID sql '$D/evil_pg.sql'; jq -e '.job.state == \"failed\" and (.job.error | test(\"permission denied|must be superuser\"))' '$T/job.json' >/dev/null"
mkdir -m 1777 "$D/w"
printf 'SELECT 1;\n\\! id -u > %s/w/uid\n' "$D" > "$D/shell_pg.sql"
import_from "$PGID" sql "$D/shell_pg.sql" > /dev/null || true
check "PostgreSQL: a dump's \\! runs as nobody, not root (uid $(cat "$D/w/uid" 2>/dev/null || echo none))" test "$(cat "$D/w/uid" 2>/dev/null)" = "$(id -u nobody)"
printf 'SELECT 1;\n\\! id -u > %s/w/uid2\n' "$D" > "$D/shell_my.sql"
check "MariaDB: a dump's \\! is refused (--sandbox), a failed job" bash -c "import_from $MYID sql '$D/shell_my.sql'; jq -e '.job.state == \"failed\"' '$T/job.json' >/dev/null && [ ! -e '$D/w/uid2' ]"
check "after the refusals the rows are still as before on both" bash -c "my_rows | cmp -s - '$D/my.before' && pg_rows | cmp -s - '$D/pg.before'"

# ---------------------------------------------------------------- the password never shows (sampled)
# A larger database, so the dumps run long enough to be watched.
MY -e "CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(200)); INSERT INTO big SELECT seq, REPEAT('x', 190) FROM seq_1_to_200000;"
PG -c "CREATE TABLE big AS SELECT g AS id, repeat('x', 190) AS v FROM generate_series(1, 200000) g;"
: > "$D/leaks"
: > "$D/clients"
# Every process's command line and environment, read as fast as python can, until killed.
sampler() {
	(umask 077; printf '%s' "$APW" > "$D/apw")
	OUT=$D python3 -c '
import os
out = os.environ["OUT"]; pw = open(out + "/apw", "rb").read(); me = str(os.getpid())
leaks = open(out + "/leaks", "a"); clients = open(out + "/clients", "a")
while True:
    for p in os.listdir("/proc"):
        if not p.isdigit() or p == me:
            continue
        try:
            c = open("/proc/" + p + "/cmdline", "rb").read()
            e = open("/proc/" + p + "/environ", "rb").read()
        except OSError:
            continue
        line = p + " " + c.replace(b"\0", b" ").decode("utf-8", "replace")
        if b"mariadb-dump" in c or b"pg_dump" in c or c.startswith(b"mariadb\0--defaults") or c.startswith(b"psql\0"):
            clients.write(line + "\n"); clients.flush()
        if pw in c or pw in e:
            leaks.write(line + "\n"); leaks.flush()
'
}
sampler &
SAMPLER=$!
check "MariaDB: a large export while the processes are watched" export_to "$MYID" sql.gz "$D/my.big.sql.gz"
check "PostgreSQL: the same" export_to "$PGID" sql "$D/pg.big.sql"
check "MariaDB: a large import while watched" bash -c "MY -e 'DROP TABLE big' && import_from $MYID sql.gz '$D/my.big.sql.gz' && jq -e '.job.state == \"done\"' '$T/job.json' >/dev/null"
kill "$SAMPLER" 2>/dev/null || true
wait "$SAMPLER" 2>/dev/null || true
SAMPLER=""
check "the clients were seen running while sampled ($(cut -d' ' -f2 "$D/clients" | sort -u | tr '\n' ' '))" \
	bash -c "grep -q mariadb-dump '$D/clients' && grep -q pg_dump '$D/clients' && grep -q 'mariadb --defaults' '$D/clients'"
check "no process's command line or environment held the admin password" test ! -s "$D/leaks"
check "the clients' command lines name the credentials file, never the password" \
	bash -c "grep -q -- '--defaults-extra-file=/dev/fd/3' '$D/clients' && ! grep -qF '$APW' '$D/clients'"
check "the big table came back (200000 rows)" test "$(MY -e 'SELECT COUNT(*) FROM big')" = 200000
MY -e "DROP TABLE big"
PG -c "DROP TABLE big"

# ---------------------------------------------------------------- the browser's forms
J="$T/jar"
page() { curl -s -b "$J" -c "$J" "$(url "$1")"; }
# form_post PATH CURL-ARGS...: a browser's POST with the session's CSRF token and its Origin
# (the token first, as the page's forms put it: the import's file is streamed after it);
# status printed, the redirect in $T/loc, the page in $T/form.html.
form_post() {
	local p=$1 tok
	shift
	tok=$(csrf_of "$J")
	curl -s -o "$T/form.html" -w '%{http_code} %{redirect_url}' -b "$J" -c "$J" -H "Origin: http://127.0.0.1:$PORT" \
		-F "csrf=$tok" "$@" "$(url "$p")" > "$T/loc"
	cut -d' ' -f1 "$T/loc"
}
loc_job() { sed -n 's|.*/jobs/\([0-9][0-9]*\)$|\1|p' "$T/loc"; }
page "/databases/$MYID" > "$T/db.html"
check "the database's page has the Export and Import forms" bash -c "grep -q 'databases/$MYID/export' '$T/db.html' && grep -q 'databases/$MYID/import/upload' '$T/db.html' && grep -q 'enctype=\"multipart/form-data\"' '$T/db.html'"
st=$(form_post "/databases/$MYID/export" -F format=sql.gz)
BJOB=$(loc_job)
check "Export from the page: 303 to the job's page ($st $(cut -d' ' -f2 "$T/loc"))" bash -c "[ '$st' = 303 ] && [ -n '$BJOB' ]"
job_wait "$MYID" "$BJOB" || true
page "/databases/$MYID/jobs/$BJOB" > "$T/job.html"
check "the job's page: done, with the Download button" grep -q "jobs/$BJOB/download" "$T/job.html"
curl -s -b "$J" -o "$D/browser.sql.gz" "$(url "/databases/$MYID/jobs/$BJOB/download")"
check "the browser's download is the dump (gzip, the table)" bash -c "gzip -t '$D/browser.sql.gz' && zcat '$D/browser.sql.gz' | grep -q 'CREATE TABLE .t.'"
MY -e "DROP TABLE t"
cp "$D/browser.sql.gz" "$D/shop.sql.gz"
st=$(form_post "/databases/$MYID/import/upload" -F "file=@$D/shop.sql.gz")
IJOB=$(loc_job)
check "Import from the page's form: 303 to the job's page ($st)" bash -c "[ '$st' = 303 ] && [ -n '$IJOB' ]"
job_wait "$MYID" "$IJOB" || true
check "... done, the rows byte-identical" bash -c "jq -e '.job.state == \"done\"' '$T/job.json' >/dev/null && my_rows | cmp -s - '$D/my.before'"
cp "$D/my.sql" "$D/notes.txt"
st=$(form_post "/databases/$MYID/import/upload" -F "file=@$D/notes.txt")
check "a file that is not .sql/.sql.gz: the form again (400), saying why at the field" bash -c "[ '$st' = 400 ] && grep -q 'f-import-error' '$T/form.html' && grep -q 'must be a .sql or .sql.gz file' '$T/form.html'"
st=$(form_post "/databases/$PGID/import/upload" -F "file=@$D/broken.sql")
FJOB=$(loc_job)
job_wait "$PGID" "$FJOB" || true
page "/databases/$PGID/jobs/$FJOB" > "$T/job.html"
check "a failed import's page says why (psql's line)" grep -q 'syntax error at or near' "$T/job.html"
curl -s -o "$T/page-ar.html" -b "$J" -b lang=ar "$(url "/databases/$PGID/jobs/$FJOB")"
check "the job's page in Arabic: RTL, the failure said in Arabic" bash -c "grep -q 'dir=\"rtl\"' '$T/page-ar.html' && grep -q 'فشل الاستيراد' '$T/page-ar.html'"

# ---------------------------------------------------------------- the CLI
check "aapanel database export (--out .sql.gz): exit 0, a gzip dump" bash -c "A() { '$BIN' --profile test --config '$T/conf/aapanel.cfg' --root '$SRC' \"\$@\"; }; A database export shop --server my --out '$D/cli.sql.gz' 2>'$T/cli.err' && gzip -t '$D/cli.sql.gz' && [ ! -e '$D/cli.sql.gz.part' ]"
check "aapanel database export NAME with two servers holding NAME: exit 2, server: name one" \
	bash -c "'$BIN' --profile test --config '$T/conf/aapanel.cfg' --root '$SRC' database export shop > /dev/null 2> '$T/cli.err'; [ \$? = 2 ] && grep -q 'server:' '$T/cli.err'"
A database export shop --server pg > "$D/cli.pg.sql" 2>/dev/null
check "aapanel database export --server pg > FILE: the SQL on stdout" grep -q 'CREATE TABLE public.t' "$D/cli.pg.sql"
PG -c "DROP TABLE t"
check "aapanel database import NAME FILE: exit 0, the rows back" bash -c "'$BIN' --profile test --config '$T/conf/aapanel.cfg' --root '$SRC' database import shop '$D/cli.pg.sql' --server pg > '$T/cli.out' && grep -q 'imported' '$T/cli.out' && pg_rows | cmp -s - '$D/pg.before'"
"$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" database import shop "$D/broken.sql" --server my > /dev/null 2> "$T/cli.err" && rc=0 || rc=$?
check "aapanel database import of a broken dump: exit 1, the client's error on stderr ($rc)" bash -c "[ $rc = 1 ] && grep -q 'ERROR 1064' '$T/cli.err'"
MY -e "DROP TABLE IF EXISTS half; DELETE FROM t WHERE id = 9"
"$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" database import shop "$D/big.sql" --server my > /dev/null 2> "$T/cli.err" && rc=0 || rc=$?
check "aapanel database import over the limit: exit 2, file: larger than databases.import_max ($rc)" bash -c "[ $rc = 2 ] && grep -q 'file: .*import_max' '$T/cli.err'"
"$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" database export 'x;drop' --server my > /dev/null 2> "$T/cli.err" && rc=0 || rc=$?
check "aapanel database export with a hostile name: exit 2, name: … ($rc)" bash -c "[ $rc = 2 ] && grep -q 'name:' '$T/cli.err'"
"$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" database import shop "$D/nope.sql" --server my > /dev/null 2> "$T/cli.err" && rc=0 || rc=$?
check "aapanel database import of a missing file: exit 2 ($rc)" test "$rc" = 2

# ---------------------------------------------------------------- the audit log
sqlite3 "$T/var/aapanel.db" "SELECT action || ' ' || outcome || ' ' || COALESCE(after_json, '') FROM audit_log WHERE action LIKE 'database.%port' OR action = 'database.download'" > "$D/audit"
check "imports are audited with their size and SHA-256" bash -c "grep -q 'database.import ok .*\"sha256\":\"[0-9a-f]\{64\}\"' '$D/audit' && grep -q 'database.import ok .*\"size\":[0-9]' '$D/audit'"
check "downloads are audited with size and SHA-256; a refused import too" bash -c "grep -q 'database.download ok .*sha256' '$D/audit' && grep -q 'database.import failed' '$D/audit'"
check "no password in the audit log or the logs" bash -c "sqlite3 '$T/var/aapanel.db' .dump | grep -q audit_log && ! sqlite3 '$T/var/aapanel.db' .dump | grep -q -e '$APW' -e '$MYPW' -e '$PGPW' && ! grep -q -e '$APW' '$T/helper.log' '$T/pool.log'"

# ---------------------------------------------------------------- the issue's proof: a PHP site's own code
check "a PHP site" api_is 201 POST /sites "{\"domain\":\"shop.test\",\"kind\":\"php\",\"php\":\"$PHP_VERSION\"}"
SITEID=$(jq -r .id "$T/api.json")
check "the databases linked to it" bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: Bearer $TOKEN' -H 'Content-Type: application/json' --data '{\"site\":\"shop.test\"}' '$(url "/api/v1/databases/$MYID/site")')\" = 200 ] && [ \"\$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: Bearer $TOKEN' -H 'Content-Type: application/json' --data '{\"site\":\"shop.test\"}' '$(url "/api/v1/databases/$PGID/site")')\" = 200 ]"
cat > "$SB/var/www/shop.test/public/db.php" <<PHP
<?php
// The site's own configuration, as an operator writes it from the panel's page.
mysqli_report(MYSQLI_REPORT_OFF);
\$my = mysqli_connect('127.0.0.1', 'shop', '$MYPW', 'shop', $MYSQL_PORT);
if (!\$my) { echo "mariadb: ", mysqli_connect_error(), "\n"; exit; }
mysqli_set_charset(\$my, 'utf8mb4');
\$r = mysqli_query(\$my, 'SELECT txt, LENGTH(b) FROM t WHERE id = 1')->fetch_row();
echo "mariadb: ", \$r[0], " ", \$r[1], "\n";
\$pg = pg_connect("host=127.0.0.1 port=$PG_PORT dbname=shop user=shop_pg password=$PGPW");
if (!\$pg) { echo "postgresql: no connection\n"; exit; }
\$r = pg_fetch_row(pg_query(\$pg, 'SELECT txt, length(b) FROM t WHERE id = 1'));
echo "postgresql: ", \$r[0], " ", \$r[1], "\n";
PHP
code=$(site_get shop.test /db.php)
check "the site's PHP logs into MariaDB with the generated credentials and reads the row ($code)" bash -c "[ '$code' = 200 ] && grep -qxF 'mariadb: $TEXT 256' '$T/site.out'"
check "... and into PostgreSQL" grep -qxF "postgresql: $TEXT 256" "$T/site.out"
sed -i "s/'$MYPW'/'wrong'/" "$SB/var/www/shop.test/public/db.php"
site_get shop.test /db.php > /dev/null
check "with a wrong password the site's PHP is refused (the proof can fail)" grep -q 'mariadb: Access denied' "$T/site.out"

it_summary
