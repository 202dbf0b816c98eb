#!/usr/bin/env bash
# Databases (issue 15) against a throwaway MariaDB and PostgreSQL started
# here (dbservers.sh): servers added through the API (the helper checks they
# answer and keeps the admin password in a 0600 file), a database and its
# user created for each: the generated credentials log in and see only
# their own database; after a password change the old one fails; a dropped
# one cannot log in. Hostile names and values get a 400 naming the field and
# the servers' lists of databases and users stay the same. The admin
# password appears in no log, page, answer or audit row. A server that is
# down says so at once and the other pages work. The CLI does the same.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites_lib.sh"
. "$(dirname "$0")/dbservers.sh"
it_setup 'pool = { request_timeout = 20; };'
sites_setup 'system_users = false;'
D=$(mktemp -d /tmp/aapanel-dbs.XXXXXX)
chmod 0755 "$D"
dbt_teardown() {
	local rc=$? p
	# the second MariaDB (the same name on two servers) as well as the first
	for p in "${M2_PID:-}" "${M1_PID:-}"; do
		[ -n "$p" ] && { MYSQL_PID=$p; db_stop_mariadb || true; }
	done
	db_stop_all || true
	rm -rf "$D"
	(exit "$rc")
	sites_teardown
}
trap dbt_teardown EXIT
check "MariaDB starts on loopback" db_start_mariadb "$D/my"
check "PostgreSQL starts on loopback" db_start_postgres "$D/pg"
[ -n "${MYSQL_PID:-}" ] && [ -n "${PG_PID:-}" ] || exit 1
# Admin logins with their own passwords (what an operator gives the panel).
APW=$(openssl rand -hex 16)
_db_my_sql "CREATE USER 'dbadmin'@'127.0.0.1' IDENTIFIED BY '$APW'; GRANT ALL ON *.* TO 'dbadmin'@'127.0.0.1' WITH GRANT OPTION;"
runuser -u postgres -- "$PG_BIN/psql" -X -q -h "$D/pg" -p "$PG_PORT" -U postgres -d postgres \
	-c "CREATE ROLE dbadmin SUPERUSER LOGIN PASSWORD '$APW'" >/dev/null
printf '%s\n' "$APW" > "$D/admin.pw"

it_start_pool
sites_start_nginx
sites_start_helper
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
it_user admin admin 'correct horse battery staple'
it_user oper operator 'correct horse battery staple'
TOKEN=$(A token create --user admin --scope write --name t | tail -1)
check "the admin signs in" test "$(it_login "$T/jar" admin 'correct horse battery staple')" = 303
OPTOKEN=$(A token create --user oper --scope write --name o | tail -1)
ANSWERS="$T/answers.log"
: > "$ANSWERS"
keep() { cat "$T/api.json" >> "$ANSWERS"; echo >> "$ANSWERS"; }
# api_is STATUS METHOD PATH [JSON]: the call answered STATUS (body in $T/api.json).
api_is() { local want=$1; shift; [ "$(api "$@")" = "$want" ]; }
field_is() { jq -e --arg f "$1" '.error.field == $f' "$T/api.json" >/dev/null; }
as_oper() { local TOKEN=$OPTOKEN; api "$@"; }
# Pages as a signed-in browser sees them.
J="$T/jar"
page() { curl -s -b "$J" -c "$J" "$(url "$1")"; }
page_status() { curl -s -o /dev/null -w '%{http_code}' -b "$J" "$(url "$1")"; }
page_has() { local out; out=$(page "$1"); grep -q -- "$2" <<<"$out"; }
audit_clean() {
	sqlite3 "$T/var/aapanel.db" .dump > "$T/dump.sql" && grep -q audit_log "$T/dump.sql" &&
		! grep -q -e "$APW" -e "$MYPW" -e "$PGPW" "$T/dump.sql"
}
# my_has DB: the database exists on MariaDB (as root sees it); the list itself must be read.
my_has() { local l; l=$(_db_my_sql 'SHOW DATABASES') && grep -q mysql <<<"$l" && grep -qx "$1" <<<"$l"; }
my_lacks() { local l; l=$(_db_my_sql 'SHOW DATABASES') && grep -q mysql <<<"$l" && ! grep -qx "$1" <<<"$l"; }
pg_lacks() { local l; l=$(pg_state) && grep -qx postgres <<<"$l" && ! grep -qx "$1" <<<"$l"; }

# What the servers hold, as root sees it (for before/after comparisons).
my_state() { _db_my_sql "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY 1; SELECT User, Host FROM mysql.user ORDER BY 1, 2"; }
pg_state() {
	runuser -u postgres -- "$PG_BIN/psql" -X -q -At -h "$D/pg" -p "$PG_PORT" -U postgres -d postgres \
		-c "SELECT datname FROM pg_database ORDER BY 1" -c "SELECT rolname FROM pg_roles ORDER BY 1"
}
my_login() { # USER PASSWORD SQL [DB]
	MYSQL_PWD=$2 timeout 10 mariadb --no-defaults --connect-timeout=3 -h 127.0.0.1 -P "$MYSQL_PORT" -u "$1" -N -B -e "$3" ${4:-} 2>&1
}
pg_login() { # USER PASSWORD DB SQL
	PGPASSWORD=$2 PGCONNECT_TIMEOUT=3 timeout 10 "$PG_BIN/psql" -X -q -At -h 127.0.0.1 -p "$PG_PORT" -U "$1" -d "$3" -c "$4" 2>&1
}

# ---------------------------------------------------------------- servers
check "an operator may not add a database server (403)" \
	test "$(as_oper POST /database-servers "{\"name\":\"x\",\"dsn\":\"mysql://dbadmin@127.0.0.1:$MYSQL_PORT/\",\"password\":\"$APW\"}")" = 403
check "a DSN with a password in it is refused" api_is 400 POST /database-servers "{\"name\":\"x\",\"dsn\":\"mysql://dbadmin:secret@127.0.0.1:$MYSQL_PORT/\"}"
check "... naming dsn" field_is dsn
check "a server that does not answer is not added" test "$(api POST /database-servers "{\"name\":\"nowhere\",\"dsn\":\"mysql://dbadmin@127.0.0.1:1/\",\"password\":\"x\"}")" = 422
check "MariaDB server added (201, reachable, its version)" test "$(api POST /database-servers "{\"name\":\"my\",\"dsn\":\"mysql://dbadmin@127.0.0.1:$MYSQL_PORT/\",\"password\":\"$APW\"}")" = 201
keep
check "... the answer has its version and size, never the password" jqe '.reachable == true and (.version | test("MariaDB")) and .size > 0 and .connections >= 1 and (has("password") | not)' "$T/api.json"
check "PostgreSQL server added" test "$(api POST /database-servers "{\"name\":\"pg\",\"dsn\":\"postgresql://dbadmin@127.0.0.1:$PG_PORT/postgres\",\"password\":\"$APW\"}")" = 201
keep
check "the same name again is a 409" test "$(api POST /database-servers "{\"name\":\"pg\",\"dsn\":\"postgresql://dbadmin@127.0.0.1:$PG_PORT/postgres\",\"password\":\"$APW\"}")" = 409
PWF="$SB/etc/aapanel/dbservers/my.conf"
check "the admin password is in a 0600 file in a 0700 directory, beneath the helper's root" \
	bash -c "[ \"\$(stat -c %a '$PWF')\" = 600 ] && [ \"\$(stat -c %a '$(dirname "$PWF")')\" = 700 ] && grep -q '$APW' '$PWF'"
check "the servers list answers" api_is 200 GET /database-servers
check "... both with version, uptime, size, connections" jqe '[.items[] | select(.reachable and .uptime >= 0 and .size > 0 and .connections >= 1 and (.version | length) > 0)] | length == 2' "$T/api.json"
keep

# ---------------------------------------------------------------- hostile input
my_state > "$T/my.before"
pg_state > "$T/pg.before"
hostile=0
for v in 'x; DROP DATABASE aapanel' 'a`b' "a'b" 'a"b' '$(id)' 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' 'mysql' 'information_schema' \
	'performance_schema' 'sys' 'postgres' 'template1' 'aapanel' 'shöp' 'Shop' '1shop' 'a b' 'а'; do
	for field in name user; do
		for srv in my pg; do
			body=$(jq -nc --arg f "$field" --arg v "$v" --arg s "$srv" '{server:$s, name:"okname"} + {($f):$v}')
			st=$(api POST /databases "$body")
			if [ "$st" != 400 ] || ! jq -e --arg f "$field" '.error.field == $f' "$T/api.json" >/dev/null; then
				hostile=$((hostile + 1)); echo "    $srv $field=$v: $st $(cat "$T/api.json")"
			fi
		done
	done
done
check "hostile names (quotes, backticks, ;, \$( ), 33 characters, reserved, Unicode) are each a 400 naming the field" test "$hostile" = 0
hostile=0
for v in "localhost'; DROP USER root; --" 'local host%' '%.example.com' 'evil.com' '10.0.0.0/8' "$(printf 'a\nb')"; do
	st=$(api POST /databases "$(jq -nc --arg v "$v" '{server:"my", name:"okname", hosts:$v}')")
	if [ "$st" != 400 ] || ! jq -e '.error.field == "hosts"' "$T/api.json" >/dev/null; then
		hostile=$((hostile + 1)); echo "    hosts=$v: $st $(cat "$T/api.json")"
	fi
done
check "hostile host lists are a 400 naming hosts" test "$hostile" = 0
check "a collation of another charset is a 400 naming collation" \
	test "$(api POST /databases '{"server":"my","name":"okname","collation":"latin1_swedish_ci"}')" = 400
check "... naming collation" field_is collation
check "an unknown server is a 404 naming server" test "$(api POST /databases '{"server":"nope","name":"okname"}')" = 404
my_state > "$T/my.after"
pg_state > "$T/pg.after"
check "nothing changed on MariaDB (databases and users the same)" cmp -s "$T/my.before" "$T/my.after"
check "nothing changed on PostgreSQL" cmp -s "$T/pg.before" "$T/pg.after"
check "no database row was recorded" test "$(sqlite3 "$T/var/aapanel.db" 'SELECT COUNT(*) FROM managed_databases')" = 0

# ---------------------------------------------------------------- MariaDB: create, log in, passwd, drop
check "a site to link to" test "$(api POST /sites '{"domain":"shop.test","kind":"static"}')" = 201
SITE_ID=$(jq -r .id "$T/api.json")
check "MariaDB database created (201) with its user and a password" \
	test "$(api POST /databases '{"server":"my","name":"shop","hosts":"localhost,127.0.0.1","site":"shop.test"}')" = 201
MYDB=$(jq -r .id "$T/api.json")
MYPW=$(jq -r .password "$T/api.json")
check "... the answer is name, server, user and a 24-character password" jqe '.name == "shop" and .server == "my" and .user == "shop" and (.password | test("^[A-Za-z0-9]{24}$"))' "$T/api.json"
check "the generated credentials log in" test "$(my_login shop "$MYPW" 'SELECT CURRENT_USER()')" = "shop@127.0.0.1"
check "... and see only their own database" test "$(my_login shop "$MYPW" 'SHOW DATABASES' | tr '\n' ' ')" = "information_schema shop "
check "... may create a table in it" test "$(my_login shop "$MYPW" 'CREATE TABLE t (a TEXT); INSERT INTO t VALUES ("مرحبا"); SELECT a FROM t' shop)" = "مرحبا"
check "... and not touch another database" bash -c "! MYSQL_PWD='$MYPW' mariadb --no-defaults -h 127.0.0.1 -P $MYSQL_PORT -u shop -e 'SELECT 1' aapanel >/dev/null 2>&1"
check "the database list answers" api_is 200 GET /databases
check "... with its size, owner and site" jqe ".items[] | select(.name == \"shop\" and .owner == \"shop\" and .size >= 0 and .site == \"shop.test\" and .site_id == $SITE_ID)" "$T/api.json"
keep
check "the site's page shows its database" page_has "/sites/$SITE_ID" "/databases/$MYDB"
check "the database's page shows the site" page_has "/databases/$MYDB" "/sites/$SITE_ID"
check "password changed (200, a new one)" test "$(api POST "/databases/$MYDB/password")" = 200
MYPW2=$(jq -r .password "$T/api.json")
check "... the new password logs in" test "$(my_login shop "$MYPW2" 'SELECT 1')" = 1
check "... the old one fails" bash -c "! MYSQL_PWD='$MYPW' mariadb --no-defaults -h 127.0.0.1 -P $MYSQL_PORT -u shop -e 'SELECT 1' >/dev/null 2>&1"
check "a read-only user for it (200, shop_ro and a password)" api_is 200 POST "/databases/$MYDB/reader" '{}'
ROPW=$(jq -r .password "$T/api.json")
check "... named shop_ro" jqe '.user == "shop_ro" and (.password | length) == 24' "$T/api.json"
check "... it reads the database" test "$(my_login shop_ro "$ROPW" 'SELECT a FROM t' shop)" = "مرحبا"
check "... and cannot write to it" bash -c "! MYSQL_PWD='$ROPW' mariadb --no-defaults -h 127.0.0.1 -P $MYSQL_PORT -u shop_ro -e 'INSERT INTO t VALUES (1)' shop >/dev/null 2>&1"
check "... a second one is a 409" api_is 409 POST "/databases/$MYDB/reader" '{"user":"shop_ro2"}'
check "dropping without the typed name is a 400 naming confirm_name" test "$(api POST "/databases/$MYDB/remove" '{"confirm_name":"shopp"}')" = 400
check "... naming confirm_name" field_is confirm_name
check "... and the database is still there" my_has shop
check "dropped with its name typed (204)" test "$(api POST "/databases/$MYDB/remove" '{"confirm_name":"shop"}')" = 204
check "... the read-only user is gone too" bash -c "! MYSQL_PWD='$ROPW' mariadb --no-defaults -h 127.0.0.1 -P $MYSQL_PORT -u shop_ro -e 'SELECT 1' >/dev/null 2>&1"
check "... the dropped user cannot log in" bash -c "! MYSQL_PWD='$MYPW2' mariadb --no-defaults -h 127.0.0.1 -P $MYSQL_PORT -u shop -e 'SELECT 1' >/dev/null 2>&1"
check "... the database and every host of its user are gone from the server" cmp -s "$T/my.before" <(my_state)

# ---------------------------------------------------------------- PostgreSQL
check "PostgreSQL database created (201)" test "$(api POST /databases '{"server":"pg","name":"blog"}')" = 201
PGDB=$(jq -r .id "$T/api.json")
PGPW=$(jq -r .password "$T/api.json")
check "a second one for another user" test "$(api POST /databases '{"server":"pg","name":"other","encoding":"LATIN1"}')" = 201
OTHER=$(jq -r .id "$T/api.json")
check "the generated credentials log in to their database" test "$(pg_login blog "$PGPW" blog 'SELECT current_user || current_database()')" = "blogblog"
check "... can create a table there" test "$(pg_login blog "$PGPW" blog "CREATE TABLE t (a text); INSERT INTO t VALUES ('مرحبا'); SELECT a FROM t")" = "مرحبا"
check "... and cannot connect to the other panel database" bash -c "! PGPASSWORD='$PGPW' '$PG_BIN/psql' -X -q -h 127.0.0.1 -p $PG_PORT -U blog -d other -c 'SELECT 1' >/dev/null 2>&1"
check "the other database has its encoding" test "$(pg_login other "$(jq -r .password "$T/api.json")" other 'SHOW server_encoding')" = LATIN1
check "PostgreSQL password changed" test "$(api POST "/databases/$PGDB/password")" = 200
PGPW2=$(jq -r .password "$T/api.json")
check "... the new one logs in" test "$(pg_login blog "$PGPW2" blog 'SELECT 1')" = 1
check "... the old one fails" bash -c "! PGPASSWORD='$PGPW' '$PG_BIN/psql' -X -q -h 127.0.0.1 -p $PG_PORT -U blog -d blog -c 'SELECT 1' >/dev/null 2>&1"
check "a PostgreSQL read-only user (200)" api_is 200 POST "/databases/$PGDB/reader" '{"user":"blog_reader"}'
PGRO=$(jq -r .password "$T/api.json")
check "... it reads the table made before it" test "$(pg_login blog_reader "$PGRO" blog 'SELECT a FROM t')" = "مرحبا"
pg_login blog "$PGPW2" blog "CREATE TABLE later (b int); INSERT INTO later VALUES (7)" >/dev/null
check "... and a table its owner makes afterwards" test "$(pg_login blog_reader "$PGRO" blog 'SELECT b FROM later')" = 7
check "... but cannot write" bash -c "! PGPASSWORD='$PGRO' '$PG_BIN/psql' -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p $PG_PORT -U blog_reader -d blog -c 'INSERT INTO t VALUES (1)' >/dev/null 2>&1"
check "hosts are refused for PostgreSQL, naming hosts" test "$(api POST /databases '{"server":"pg","name":"x1","hosts":"10.0.0.%"}')" = 400
check "PostgreSQL database dropped" test "$(api POST "/databases/$PGDB/remove" '{"confirm_name":"blog"}')" = 204
check "... its user cannot log in" bash -c "! PGPASSWORD='$PGPW2' '$PG_BIN/psql' -X -q -h 127.0.0.1 -p $PG_PORT -U blog -d postgres -c 'SELECT 1' >/dev/null 2>&1"
check "... the role and the database are gone" pg_lacks blog
check "... the read-only role too" pg_lacks blog_reader

# ---------------------------------------------------------------- the browser's forms
form_post() { # PATH CURL-ARGS...: a form POST with the session's CSRF token; status printed, page in $T/form.html
	local p=$1 tok
	shift
	tok=$(csrf_of "$J")
	curl -s -o "$T/form.html" -w '%{http_code}' -b "$J" -c "$J" -H "Origin: http://127.0.0.1:$PORT" \
		--data-urlencode "csrf=$tok" "$@" "$(url "$p")"
}
check "the create form (every optional field left empty) answers 303" test "$(form_post /databases \
	--data-urlencode server=my --data-urlencode name=formdb --data-urlencode user= --data-urlencode hosts= \
	--data-urlencode charset= --data-urlencode collation= --data-urlencode encoding= --data-urlencode site=)" = 303
FORMID=$(sqlite3 "$T/var/aapanel.db" "SELECT id FROM managed_databases WHERE name = 'formdb'")
page "/databases/$FORMID" > "$T/formdb1.html"
page "/databases/$FORMID" > "$T/formdb2.html"
FPW=$(sed -n 's/.*id="new-password"[^>]*value="\([A-Za-z0-9]*\)".*/\1/p' "$T/formdb1.html")
shown_once() { [ "${#FPW}" = 24 ] && ! grep -q 'new-password' "$T/formdb2.html"; }
check "... its page shows the password once" shown_once
check "... which logs in (localhost, utf8mb4)" test "$(MYSQL_PWD=$FPW timeout 10 mariadb --no-defaults -S "$D/my/mysql.sock" -u formdb -N -B -e 'SELECT @@character_set_database' formdb 2>&1)" = utf8mb4
st=$(form_post /databases --data-urlencode server=my --data-urlencode 'name=x`y' --data-urlencode hosts=)
check "a form with a hostile name comes back (status $st) with the name's error" \
	bash -c "[ '$st' = 400 ] && grep -q 'f-name-error' '$T/form.html'"
check "the drop form with the typed name drops it (303)" test "$(form_post "/databases/$FORMID/remove" \
	--data-urlencode confirmed=yes --data-urlencode confirm_name=formdb)" = 303
check "... gone from the server" my_lacks formdb

# ---------------------------------------------------------------- the CLI
rc=0; A dbserver list --json > "$T/cli.json" 2>"$T/err" || rc=$?
check "CLI: dbserver list --json (both, reachable)" bash -c "[ $rc = 0 ] && jq -e '[.items[] | select(.reachable)] | length == 2' '$T/cli.json' >/dev/null"
rc=0; A database add 'x;drop' --server my 2>"$T/err" >/dev/null || rc=$?
check "CLI: a hostile name is exit 2 naming the field" bash -c "[ $rc = 2 ] && grep -q 'name:' '$T/err'"
rc=0; A database add cli_db --server my --json > "$T/cli.json" 2>"$T/err" || rc=$?
check "CLI: database add --json prints name, server, user, password" bash -c "[ $rc = 0 ] && jq -e '.name == \"cli_db\" and .server == \"my\" and .user == \"cli_db\" and (.password | length) == 24' '$T/cli.json' >/dev/null"
CPW=$(jq -r .password "$T/cli.json")
check "CLI: ... which logs in (localhost over the socket)" bash -c "[ \"\$(MYSQL_PWD='$CPW' mariadb --no-defaults -S '$D/my/mysql.sock' -u cli_db -N -B -e 'SELECT DATABASE()' cli_db)\" = cli_db ]"
_db_my_sql 'CREATE DATABASE clixdb' >/dev/null
check "CLI: the _ in cli_db's GRANT is no wildcard: clixdb (made by root) is out of its reach" \
	bash -c "! MYSQL_PWD='$CPW' mariadb --no-defaults -S '$D/my/mysql.sock' -u cli_db -e 'SELECT 1' clixdb >/dev/null 2>&1"
_db_my_sql 'DROP DATABASE clixdb' >/dev/null
rc=0; A database passwd cli_db --server my --json > "$T/cli.json" 2>"$T/err" || rc=$?
check "CLI: passwd gives a new password" bash -c "[ $rc = 0 ] && [ \"\$(jq -r .password '$T/cli.json')\" != '$CPW' ]"
rc=0; A database reader cli_db --server my --json > "$T/cli.json" 2>"$T/err" || rc=$?
check "CLI: reader gives cli_db_ro a password" bash -c "[ $rc = 0 ] && jq -e '.user == \"cli_db_ro\" and (.password | length) == 24' '$T/cli.json' >/dev/null"
rc=0; A database list --json > "$T/cli.json" || rc=$?
check "CLI: database list --json" bash -c "[ $rc = 0 ] && jq -e '[.items[].name] | index(\"cli_db\") != null' '$T/cli.json' >/dev/null"
rc=0; A dbserver remove my 2>"$T/err" || rc=$?
check "CLI: a server with databases cannot be removed (exit 2)" test "$rc" = 2
rc=0; A database remove cli_db --server my >/dev/null 2>&1 || rc=$?
check "CLI: database remove" bash -c "[ $rc = 0 ]"
check "CLI: ... gone from the server" my_lacks cli_db
rc=0; A dbserver add cli_pg --dsn "postgresql://dbadmin@127.0.0.1:$PG_PORT/postgres" --password-file "$D/admin.pw" --json > "$T/cli.json" 2>"$T/err" || rc=$?
check "CLI: dbserver add with --password-file" bash -c "[ $rc = 0 ] && jq -e '.reachable and .name == \"cli_pg\"' '$T/cli.json' >/dev/null"
cat "$T/cli.json" >> "$ANSWERS"
rc=0; A dbserver remove cli_pg >/dev/null 2>&1 || rc=$?
check "CLI: dbserver remove (the helper's file goes too)" bash -c "[ $rc = 0 ] && [ ! -e '$SB/etc/aapanel/dbservers/cli_pg.conf' ]"

# ---------------------------------------------------------------- the same name on two servers
# A database's name is unique per server (migration 0019): `shop` on two MariaDB servers, made
# through the page and the CLI, each listed with its server and dropped without the other.
M1_PID=$MYSQL_PID M1_PORT=$MYSQL_PORT M1_DIR=$_DB_MY_DIR M1_USER=$_DB_MY_USER
M1_DSN=$MYSQL_DSN M1_SOCKET_DSN=$MYSQL_SOCKET_DSN M1_PWF=$MYSQL_PASSWORD_FILE
MYSQL_PID=""
check "a second MariaDB starts on loopback" db_start_mariadb "$D/my2"
M2_PID=$MYSQL_PID M2_PORT=$MYSQL_PORT M2_DIR=$_DB_MY_DIR
[ -n "$M2_PID" ] || exit 1
_db_my_sql "CREATE USER 'dbadmin'@'127.0.0.1' IDENTIFIED BY '$APW'; GRANT ALL ON *.* TO 'dbadmin'@'127.0.0.1' WITH GRANT OPTION;"
# back to the first server for everything after this section
MYSQL_PID=$M1_PID MYSQL_PORT=$M1_PORT _DB_MY_DIR=$M1_DIR _DB_MY_USER=$M1_USER
MYSQL_DSN=$M1_DSN MYSQL_SOCKET_DSN=$M1_SOCKET_DSN MYSQL_PASSWORD_FILE=$M1_PWF
on_my() { timeout 20 mariadb --no-defaults --connect-timeout=5 -S "$1/mysql.sock" -uroot -N -B -e "$2"; } # DIR SQL
has_on() { local l; l=$(on_my "$1" 'SHOW DATABASES') && grep -q mysql <<<"$l" && grep -qx "$2" <<<"$l"; } # DIR DB
lacks_on() { local l; l=$(on_my "$1" 'SHOW DATABASES') && grep -q mysql <<<"$l" && ! grep -qx "$2" <<<"$l"; }
check "the second MariaDB server added (201)" test "$(api POST /database-servers "{\"name\":\"my2\",\"dsn\":\"mysql://dbadmin@127.0.0.1:$M2_PORT/\",\"password\":\"$APW\"}")" = 201
check "shop on my through the page's form (303)" test "$(form_post /databases \
	--data-urlencode server=my --data-urlencode name=shop --data-urlencode user= --data-urlencode hosts= \
	--data-urlencode charset= --data-urlencode collation= --data-urlencode encoding= --data-urlencode site=)" = 303
rc=0; A database add shop --server my2 --hosts 127.0.0.1 --json > "$T/cli.json" 2>"$T/err" || rc=$?
check "shop on my2 through the CLI (exit 0, server my2)" bash -c "[ $rc = 0 ] && jq -e '.name == \"shop\" and .server == \"my2\" and .user == \"shop\"' '$T/cli.json' >/dev/null"
S2PW=$(jq -r .password "$T/cli.json")
rc=0; A database add shop --server my >/dev/null 2>"$T/err" || rc=$?
check "shop twice on my is still refused: exit 2 naming name" bash -c "[ $rc = 2 ] && grep -q 'name: a database of this name exists' '$T/err'"
check "... through the API a 409 naming name" api_is 409 POST /databases '{"server":"my2","name":"shop"}'
check "... naming name" field_is name
check "shop is on the first MariaDB" has_on "$M1_DIR" shop
check "... and on the second" has_on "$M2_DIR" shop
check "my2's shop user logs in on my2 with its password" \
	test "$(MYSQL_PWD=$S2PW timeout 10 mariadb --no-defaults -h 127.0.0.1 -P "$M2_PORT" -u shop -N -B -e 'SELECT DATABASE()' shop 2>&1)" = shop
check "... and not on my (another server's user of the same name)" \
	bash -c "! MYSQL_PWD='$S2PW' timeout 10 mariadb --no-defaults -h 127.0.0.1 -P $M1_PORT -u shop -e 'SELECT 1' >/dev/null 2>&1"
check "the API lists shop twice, each with its server" api_is 200 GET /databases
check "... my and my2" jqe '[.items[] | select(.name == "shop") | .server] | sort == ["my", "my2"]' "$T/api.json"
SHOP1=$(jq -r '.items[] | select(.name == "shop" and .server == "my") | .id' "$T/api.json")
SHOP2=$(jq -r '.items[] | select(.name == "shop" and .server == "my2") | .id' "$T/api.json")
check "... each read by its id" api_is 200 GET "/databases/$SHOP2"
check "... with its server" jqe '.database.name == "shop" and .database.server == "my2"' "$T/api.json"
page /databases > "$T/dbs.html"
check "the databases page shows both, each linking to its own page" \
	bash -c "grep -q '/databases/$SHOP1\"' '$T/dbs.html' && grep -q '/databases/$SHOP2\"' '$T/dbs.html' && grep -q 'ltr\">my2</bdi>' '$T/dbs.html'"
rc=0; A database list --json > "$T/cli.json" || rc=$?
check "CLI: database list --json shows shop on my and on my2" bash -c "[ $rc = 0 ] && jq -e '[.items[] | select(.name == \"shop\") | .server] | sort == [\"my\", \"my2\"]' '$T/cli.json' >/dev/null"
for sub in remove passwd reader export; do
	rc=0; A database $sub shop > /dev/null 2>"$T/err" || rc=$?
	check "CLI: database $sub shop without --server is exit 2 naming --server and both servers" \
		bash -c "[ $rc = 2 ] && grep -q -- '--server' '$T/err' && grep -q 'my, my2' '$T/err'"
done
rc=0; A backup-dest add loc --url local:/srv/backups/loc >/dev/null 2>"$T/err" || rc=$?
check "a local backup destination added" test "$rc" = 0
rc=0; A backup run --database shop --to loc >/dev/null 2>"$T/err" || rc=$?
check "a backup of shop, which two servers have, is refused (exit 2 naming database), not made of the first" \
	bash -c "[ $rc = 2 ] && grep -q 'database: several servers have a database of this name' '$T/err'"
both_have() { has_on "$M1_DIR" shop && has_on "$M2_DIR" shop; }
check "... and neither shop was touched" both_have
check "... my2's password still logs in" \
	test "$(MYSQL_PWD=$S2PW timeout 10 mariadb --no-defaults -h 127.0.0.1 -P "$M2_PORT" -u shop -N -B -e 'SELECT 1' 2>&1)" = 1
rc=0; A database remove shop --server my2 > "$T/out" 2>"$T/err" || rc=$?
check "CLI: database remove shop --server my2 (exit 0, says on my2)" bash -c "[ $rc = 0 ] && grep -q 'shop on my2' '$T/out'"
check "... gone from the second MariaDB" lacks_on "$M2_DIR" shop
check "... its user cannot log in there" \
	bash -c "! MYSQL_PWD='$S2PW' timeout 10 mariadb --no-defaults -h 127.0.0.1 -P $M2_PORT -u shop -e 'SELECT 1' >/dev/null 2>&1"
check "... shop on my is still there" has_on "$M1_DIR" shop
check "... and still listed, on my alone" api_is 200 GET /databases
check "... (the API list)" jqe '[.items[] | select(.name == "shop") | .server] == ["my"]' "$T/api.json"
rc=0; A database passwd shop --json > "$T/cli.json" 2>"$T/err" || rc=$?
check "CLI: with one shop left, passwd shop needs no --server" bash -c "[ $rc = 0 ] && jq -e '.server == \"my\"' '$T/cli.json' >/dev/null"
check "... the new password logs in on my" \
	test "$(MYSQL_PWD=$(jq -r .password "$T/cli.json") timeout 10 mariadb --no-defaults -S "$M1_DIR/mysql.sock" -u shop -N -B -e 'SELECT 1' shop 2>&1)" = 1
check "my's shop dropped through the API by its id (204)" test "$(api POST "/databases/$SHOP1/remove" '{"confirm_name":"shop"}')" = 204
check "... gone from the first MariaDB" lacks_on "$M1_DIR" shop
rc=0; A database remove shop 2>"$T/err" || rc=$?
check "CLI: no shop anywhere: exit 2, no such database" bash -c "[ $rc = 2 ] && grep -q 'no such database' '$T/err'"
rc=0; A dbserver remove my2 >/dev/null 2>"$T/err" || rc=$?
check "CLI: the second server removed" test "$rc" = 0
MYSQL_PID=$M2_PID
db_stop_mariadb
M2_PID=""
MYSQL_PID=$M1_PID

# ---------------------------------------------------------------- a server that is down
db_stop_mariadb
t0=$(date +%s%N)
st=$(api GET /database-servers)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
keep
check "a server that is down: the servers list answers at once (${ms} ms)" test "$st" = 200 -a "$ms" -lt 5000
check "... and says it is not reachable, the other one is" jqe '(.items[] | select(.name == "my") | .reachable == false and (.error | length) > 0) and (.items[] | select(.name == "pg") | .reachable)' "$T/api.json"
check "... the page says so" page_has /database-servers 'Not reachable'

check "... the databases page works" test "$(page_status /databases)" = 200
check "... the sites page works" test "$(page_status /sites)" = 200
check "... the home page works" test "$(page_status /)" = 200
check "... creating a database there fails with the reason" api_is 422 POST /databases '{"server":"my","name":"late"}'
check "... nothing recorded" test "$(sqlite3 "$T/var/aapanel.db" "SELECT COUNT(*) FROM managed_databases WHERE name = 'late'")" = 0

# ---------------------------------------------------------------- the admin password is nowhere
for p in /database-servers /databases "/databases/$OTHER" "/sites/$SITE_ID"; do
	page "$p" >> "$T/pages.html"
	curl -s -H "Authorization: Bearer $TOKEN" "$(url "/api/v1$p")" >> "$ANSWERS"
done
check "the admin password is in no page" bash -c "! grep -q '$APW' '$T/pages.html'"
check "... in no API answer" bash -c "! grep -q '$APW' '$ANSWERS'"
check "... in no log (pool, helper, nginx)" bash -c "! grep -rq '$APW' '$T/pool.log' '$T/helper.log' '$T/nginx' '$T/var/log' 2>/dev/null"
check "... in no audit row, and no generated password either" audit_clean
check "... in the panel's database not at all" bash -c "! grep -aq '$APW' '$T/var/aapanel.db'"
check "changes are audited (servers and databases, API and CLI)" bash -c "[ \$(sqlite3 '$T/var/aapanel.db' \"SELECT COUNT(*) FROM audit_log WHERE action LIKE 'database.%' OR action LIKE 'dbserver.%'\") -ge 10 ]"

it_summary
