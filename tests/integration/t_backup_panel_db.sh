#!/usr/bin/env bash
# The panel's own backup (issue 18) when the panel's database is a server's:
# the panel on a throwaway PostgreSQL, then on a throwaway MariaDB (its own
# login from db.dsn and db.password_file). Each time the panel is backed up
# to a local restic repository and restored into a new folder; the test
# itself (psql / mariadb, not the panel) loads the restored database.sql into
# an empty database and finds the same users and audit rows as the live one.
# The database password is in no argv (/proc/*/cmdline sampled while the
# runs go), no log and no file of the snapshot (without --with-secret; with
# it only in db_password, where docs/backups.md says).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites_lib.sh"
. "$(dirname "$0")/dbservers.sh"
it_setup 'monitor = { interval = 1; send_timeout = 5; };'
sites_setup 'system_users = false;'
sed -i "s/^helper = { /helper = { job_timeout = 600; /; s/timeout_ms = 5000;/timeout_ms = 20000;/" "$T/conf/profiles/test.cfg"
WATCH_PID=""
# (exit $rc): the teardown reads the status the test ended with.
trap 'rc=$?; rm -f "$T/watch"; [ -z "$WATCH_PID" ] || kill "$WATCH_PID" 2>/dev/null; db_stop_all || true; (exit $rc); sites_teardown' EXIT
chmod 0711 "$T" # PostgreSQL runs as the postgres user and must reach $T/pg
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
ran() { "$@" > "$T/ran.log" 2>&1 || { sed 's/^/    | /' "$T/ran.log" | tail -n 8; return 1; }; }
BKD="$SB/etc/aapanel/backups"

db_start_postgres "$T/pg" || { not_ok "PostgreSQL starts"; exit 1; }
db_start_mariadb "$T/my" || { not_ok "MariaDB starts"; exit 1; }
ok "PostgreSQL and MariaDB started (ports $PG_PORT, $MYSQL_PORT)"
PGPW=$(tr -d '\n' < "$PG_PASSWORD_FILE")
MYPW=$(tr -d '\n' < "$MYSQL_PASSWORD_FILE")

# argv watcher: every process's command line, sampled while the runs go on
: > "$T/argv.log"; touch "$T/watch"
( while [ -e "$T/watch" ]; do { cat /proc/[0-9]*/cmdline 2>/dev/null || true; } | tr '\0' ' ' >> "$T/argv.log"; echo >> "$T/argv.log"; sleep 0.02; done ) &
WATCH_PID=$!

# The test's own clients (the password in their environment, never argv).
pg_q() { PGPASSWORD=$PGPW timeout 20 "$PG_BIN/psql" -X -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U aapanel "$@"; }
my_q() { MYSQL_PWD=$MYPW timeout 20 mariadb --no-defaults -h 127.0.0.1 -P "$MYSQL_PORT" -u aapanel -N -B "$@"; }
# same GOT WANT COUNT MIN: GOT non-empty, equal to WANT, with at least MIN lines
same() { [ -n "$1" ] && [ "$1" = "$2" ] && [ "$3" -ge "$4" ]; }
my_load() { my_q restored < "$1"; }
USERS_SQL="SELECT id, username, role, password_hash FROM users ORDER BY id"
AUDIT_SQL="SELECT id, action, target FROM audit_log ORDER BY id"

for b in postgresql mariadb; do
	case $b in
	postgresql) dsn=$PG_DSN pwf=$PG_PASSWORD_FILE dest=pg q=pg_q ;;
	mariadb) dsn=$MYSQL_DSN pwf=$MYSQL_PASSWORD_FILE dest=my q=my_q ;;
	esac
	sites_stop_helper
	sed -i "s|^db = .*|db = { dsn = \"$dsn\"; password_file = \"$pwf\"; };|" "$T/conf/profiles/test.cfg"
	check "$b: the panel's database migrated" ran A db migrate
	it_user "admin$dest" admin 'correct horse battery staple'
	it_user "view$dest" viewer 'viewer horse battery staple'
	check "$b: the helper starts with db.dsn on $b" sites_start_helper
	check "$b: a local destination" ran A backup-dest add "$dest" --url "local:/srv/backups/$dest"

	check "$b: the panel is backed up" ran A backup run --panel --to "$dest" --json
	cp "$T/ran.log" "$T/run.$b.json"
	S=$(jq -r 'select(.state == "done" and .target_kind == "panel") | .snapshot' "$T/run.$b.json" 2>/dev/null || true)
	check "$b: ... the run is done with its snapshot ($S)" grep -Eq '^[0-9a-f]{8,64}$' <<< "$S"
	check "$b: the staging folder is gone" test ! -e "$BKD/.dumps/panel"
	check "$b: restored into a new folder" ran A backup restore --panel --from "$dest" --snapshot "$S" --to-dir "r$dest"
	R="$BKD/.panel-restores/r$dest"
	check "$b: ... it holds database.sql, no database.sqlite, the configuration" test -s "$R/database.sql" -a ! -e "$R/database.sqlite" -a -f "$R/config/aapanel.cfg"
	check "$b: ... its manifest names the backend and the database, no secret" jqe --arg b "$b" '.backend == $b and .database == "aapanel" and .secret == false and (.files | index("database.sql") != null)' "$R/MANIFEST.json"
	check "$b: ... no db_password or secret_key in it" test ! -e "$R/db_password" -a ! -e "$R/secret_key"

	# An empty database the test makes, loaded by the test's own client.
	if [ $b = postgresql ]; then
		check "$b: an empty database made by the test" runuser -u postgres -- "$PG_BIN/psql" -X -q -h "$T/pg" -p "$PG_PORT" -U postgres -d postgres \
			-c "CREATE DATABASE restored OWNER aapanel TEMPLATE template0" > "$T/mk.log" 2>&1
		check "$b: psql loads the dump into an empty database" ran pg_q -q -d restored -f "$R/database.sql"
		live_u=$(pg_q -d aapanel -c "$USERS_SQL" || true); back_u=$(pg_q -d restored -c "$USERS_SQL" || true)
		live_a=$(pg_q -d aapanel -c "$AUDIT_SQL" || true); back_a=$(pg_q -d restored -c "$AUDIT_SQL" || true)
	else
		check "$b: an empty database made by the test" _db_my_sql "CREATE DATABASE restored CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
			GRANT ALL ON restored.* TO 'aapanel'@'127.0.0.1';" > "$T/mk.log" 2>&1
		check "$b: mariadb loads the dump into an empty database" ran my_load "$R/database.sql"
		live_u=$(my_q aapanel -e "$USERS_SQL" || true); back_u=$(my_q restored -e "$USERS_SQL" || true)
		live_a=$(my_q aapanel -e "$AUDIT_SQL" || true); back_a=$(my_q restored -e "$AUDIT_SQL" || true)
	fi
	nu=$(printf '%s\n' "$back_u" | grep -c . || true)
	check "$b: ... the same users (ids, names, roles, password hashes: $nu)" same "$back_u" "$live_u" "$nu" 2
	n=$(printf '%s\n' "$back_a" | grep -c . || true)
	check "$b: ... the audit rows up to the backup, identical ($n rows)" same "$back_a" "$(printf '%s\n' "$live_a" | head -n "$n")" "$n" 3
	check "$b: ... the restored audit rows include the destination's creation" grep -q 'backup' <<< "$back_a"
	# the secret key's run: db_password is where the documentation says, and only there
	A backup run --panel --with-secret --to "$dest" --json > "$T/run2.$b.json" 2> "$T/run2.$b.err" || true
	S2=$(jq -r 'select(.state == "done") | .snapshot' "$T/run2.$b.json" 2>/dev/null || true)
	check "$b: with --with-secret too: done ($S2), with the warning" bash -c "grep -Eq '^[0-9a-f]{8,64}\$' <<< '$S2' && grep -q 'secret key' '$T/run2.$b.err'"
	check "$b: ... restored into another folder" ran A backup restore --panel --from "$dest" --snapshot "$S2" --to-dir "s$dest"
	check "$b: ... its db_password is the panel's database password" test "$(tr -d '\n' < "$BKD/.panel-restores/s$dest/db_password" 2>/dev/null)" = "$(tr -d '\n' < "$pwf")"
	grep -rlF -- "$(tr -d '\n' < "$pwf")" "$R" "$BKD/.panel-restores/s$dest" > "$T/where.$b" 2>/dev/null || true
	check "$b: ... the password in no file of either snapshot but that one" test "$(cat "$T/where.$b")" = "$BKD/.panel-restores/s$dest/db_password"
done

rm -f "$T/watch"; wait "$WATCH_PID" 2>/dev/null || true; WATCH_PID=""
check "the argv watcher saw pg_dump and mariadb-dump run" bash -c "grep -q 'pg_dump --no-password' '$T/argv.log' && grep -q 'mariadb-dump --defaults-extra-file=/dev/fd/3' '$T/argv.log'"
leak=0
for s in "$PGPW" "$MYPW"; do
	for f in "$T/argv.log" "$T/helper.log" "$T/pool.log" $(ls "$SB/var/log" 2>/dev/null | sed "s|^|$SB/var/log/|"); do
		[ -f "$f" ] && grep -qF -- "$s" "$f" && { echo "    password in $f"; leak=1; }
	done
done
check "the database passwords in no argv or log" test "$leak" = 0

it_summary
