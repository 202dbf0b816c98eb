#!/usr/bin/env bash
# The data layer against real servers: the conformance suite on SQLite,
# MariaDB and PostgreSQL; migrations up from empty through the CLI; db copy
# SQLite → PostgreSQL / MariaDB with identical data; and a database outage
# while the pool serves (503, then recovery with no worker lost).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dbservers.sh"
it_setup 'pool = { workers = 2; };'
trap 'rc=$?; db_stop_all; (exit $rc); it_teardown' EXIT
CHECK_DB="$SRC/build/tests/check_db"

chmod 0711 "$T" # PostgreSQL runs as the postgres user and must reach $T/pg
db_start_mariadb "$T/my" || { not_ok "MariaDB starts"; exit 1; }
db_start_postgres "$T/pg" || { not_ok "PostgreSQL starts"; exit 1; }
ok "MariaDB and PostgreSQL started (ports $MYSQL_PORT, $PG_PORT)"

# 1. the conformance suite, once per backend
for b in sqlite mysql postgresql; do
	case $b in
	sqlite) dsn="sqlite:$T/conf.db" pw="" ;;
	mysql) dsn=$MYSQL_DSN pw=$MYSQL_PASSWORD_FILE ;;
	postgresql) dsn=$PG_DSN pw=$PG_PASSWORD_FILE ;;
	esac
	AAPANEL_TEST_DSN=$dsn AAPANEL_TEST_DB_PASSWORD_FILE=$pw CK_FORK=yes "$CHECK_DB" > "$T/check_db.$b" 2>&1
	rc=$?
	check "conformance suite on $b: $(grep -a 'Checks:' "$T/check_db.$b" | tail -1)" test "$rc" = 0
	[ "$rc" = 0 ] || grep -a ':F:\|:E:' "$T/check_db.$b" | head -20
done
check "MariaDB over its unix socket" env AAPANEL_TEST_DSN="$MYSQL_SOCKET_DSN" AAPANEL_TEST_DB_PASSWORD_FILE="$MYSQL_PASSWORD_FILE" CK_RUN_CASE=connect "$CHECK_DB"

# A config per backend: same base, overlay naming the DSN and password file.
mkconf() { # name dsn pwfile
	mkdir -p "$T/$1/profiles"
	cp "$T/conf/aapanel.cfg" "$T/$1/aapanel.cfg"
	sed -e "s|^db = .*|db = { dsn = \"$2\"; password_file = \"$3\"; };|" \
	    -e "s|$T/var/run/aapanel.sock|$T/var/run/$1.sock|" "$T/conf/profiles/test.cfg" > "$T/$1/profiles/test.cfg"
}
mkconf c-sqlite "sqlite:///$T/src.db" ""
mkconf c-my "$MYSQL_DSN" "$MYSQL_PASSWORD_FILE"
mkconf c-pg "$PG_DSN" "$PG_PASSWORD_FILE"
A() { local c=$1; shift; "$BIN" --profile test --config "$T/$c/aapanel.cfg" --root "$SRC" "$@"; }

# 2. migrations up from empty, through the CLI
for c in c-sqlite c-my c-pg; do
	rc=0; A $c db status > "$T/st" 2>&1 || rc=$?
	check "$c: db status reports pending migrations (exit 2)" test "$rc" = 2
	check "$c: db status lists 0001_initial as PENDING" grep -q '0001_initial.*PENDING' "$T/st"
	check "$c: db migrate applies them" A $c db migrate
	check "$c: db status is clean afterwards" A $c db status
done

# 2a. migration 0019: a database's name is unique per server (server_id, name), not per engine
sqlx() { # conf SQL: run SQL on that config's panel database (exit status of the client)
	case $1 in
	c-sqlite) sqlite3 "$T/src.db" "$2" ;;
	c-up) sqlite3 "$T/up.db" "$2" ;;
	c-my) MYSQL_PWD=$(cat "$MYSQL_PASSWORD_FILE") mariadb --no-defaults -h 127.0.0.1 -P "$MYSQL_PORT" -u aapanel -N -B -e "$2" aapanel ;;
	c-pg) PGPASSWORD=$(cat "$PG_PASSWORD_FILE") psql -X -qtA -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U aapanel -c "$2" aapanel ;;
	esac
}
for c in c-sqlite c-my c-pg; do
	check "$c: the same database name on two servers is recorded" quiet sqlx $c \
		"INSERT INTO managed_databases (engine, name, owner, charset, created_at, server_id) VALUES ('mysql', 'dup', 'dup', 'utf8mb4', 1, 1), ('mysql', 'dup', 'dup', 'utf8mb4', 1, 2)"
	rc=0; sqlx $c "INSERT INTO managed_databases (engine, name, owner, charset, created_at, server_id) VALUES ('mysql', 'dup', 'dup', 'utf8mb4', 1, 2)" > "$T/dup.$c" 2>&1 || rc=$?
	check "$c: ... twice on one server it is refused by the uniqueness" bash -c "[ $rc != 0 ] && grep -qi 'unique\|duplicate' '$T/dup.$c'"
	check "$c: ... two rows stay" test "$(sqlx $c "SELECT COUNT(*) FROM managed_databases WHERE name = 'dup'")" = 2
	quiet sqlx $c "DELETE FROM managed_databases"
done
# An SQLite panel at 0018 with databases on it: 0019 rebuilds the table and keeps every row,
# its ids and its AUTOINCREMENT counter (an id once used is never given again).
mkconf c-up "sqlite:///$T/up.db" ""
for f in "$SRC"/sql/sqlite/00*.sql; do
	v=$(basename "$f" .sql); n=${v%%_*}
	[ "$((10#$n))" -le 18 ] || continue
	sqlite3 "$T/up.db" < "$f" || not_ok "c-up: $v applies"
	sqlite3 "$T/up.db" "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL); INSERT INTO schema_migrations VALUES ($((10#$n)), '${v#*_}', 1)"
done
sqlite3 "$T/up.db" "INSERT INTO sites (id, domain, root_path, status, created_at, updated_at) VALUES (1, 'up.example', '/x', 'running', 1, 1);
INSERT INTO managed_databases (id, engine, name, owner, site_id, charset, created_at, server_id, hosts, reader, updated_at)
VALUES (1, 'mysql', 'shop', 'shop', 1, 'utf8mb4', 10, 1, 'localhost', 'shop_ro', 11), (2, 'postgresql', 'blog', 'blog', NULL, 'UTF8', 12, 2, '', NULL, 13), (7, 'mysql', 'gone', 'gone', NULL, 'utf8mb4', 14, 1, 'localhost', NULL, 15);
DELETE FROM managed_databases WHERE id = 7;"
sqlite3 -separator '|' "$T/up.db" "SELECT * FROM managed_databases ORDER BY id" > "$T/up.before"
rc=0; A c-up db status > "$T/up.st" 2>&1 || rc=$?
check "c-up: an SQLite panel at 0018 has 0019 pending (and only it)" bash -c "[ $rc = 2 ] && grep -q '0019_database_names.*PENDING' '$T/up.st' && [ \$(grep -c PENDING '$T/up.st') = 1 ]"
check "c-up: db migrate applies 0019" A c-up db migrate
check "c-up: db status is clean afterwards" A c-up db status
check "c-up: every row kept with its id and values" diff -u "$T/up.before" <(sqlite3 -separator '|' "$T/up.db" "SELECT * FROM managed_databases ORDER BY id")
check "c-up: no table of the rebuild is left behind" test "$(sqlite3 "$T/up.db" "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'managed_databases_%'")" = 0
check "c-up: the next id is 8 (the counter carried over)" test "$(sqlite3 "$T/up.db" "INSERT INTO managed_databases (engine, name, owner, charset, created_at, server_id) VALUES ('mysql', 'shop', 'shop', 'utf8mb4', 1, 2) RETURNING id")" = 8
check "c-up: shop on server 2 beside shop on server 1; twice on server 1 refused" \
	bash -c "! sqlite3 '$T/up.db' \"INSERT INTO managed_databases (engine, name, owner, charset, created_at, server_id) VALUES ('mysql', 'shop', 'x', 'utf8mb4', 1, 1)\" 2>/dev/null"
check "c-up: the site's foreign key still holds (deleting the site unlinks the database)" \
	test "$(sqlite3 "$T/up.db" "PRAGMA foreign_keys=ON; DELETE FROM sites WHERE id = 1; SELECT COALESCE(site_id, 'null') FROM managed_databases WHERE id = 1")" = null
check "c-up: the integrity check passes" test "$(sqlite3 "$T/up.db" 'PRAGMA integrity_check')" = ok

# 2b. the monitoring history and alert rules on each server (check_metrics
# empties its tables before and after, so the copies below start clean)
for b in mysql postgresql; do
	case $b in
	mysql) dsn=$MYSQL_DSN pw=$MYSQL_PASSWORD_FILE ;;
	postgresql) dsn=$PG_DSN pw=$PG_PASSWORD_FILE ;;
	esac
	AAPANEL_TEST_DSN=$dsn AAPANEL_TEST_DB_PASSWORD_FILE=$pw CK_FORK=yes "$SRC/build/tests/check_metrics" > "$T/check_metrics.$b" 2>&1
	rc=$?
	check "monitoring history and alerts on $b: $(grep -a 'Checks:' "$T/check_metrics.$b" | tail -1)" test "$rc" = 0
	[ "$rc" = 0 ] || grep -a ':F:\|:E:' "$T/check_metrics.$b" | head -20
done

# 3. db copy SQLite → PostgreSQL and → MariaDB, identical data
sqlite3 "$T/src.db" <<'SQL'
INSERT INTO users (id, username, password_hash, role, disabled, language, created_at, updated_at, password_changed_at, last_login_at, last_login_addr)
VALUES (1, 'admin', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', 'admin', 0, 'ar', 1700000000, 1700000001, 1700000002, NULL, NULL),
       (2, 'مشغل', '$argon2id$x', 'operator', 1, NULL, 1700000100, 1700000100, 1700000100, 1700000200, '2001:db8::1');
INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, addr, user_agent)
VALUES ('aa11', 1, 'csrf-1', 1, 2, 3, '127.0.0.1', 'Mozilla/5.0 "quoted" \ back');
INSERT INTO settings (name, value, updated_at) VALUES ('panel.title', 'لوحة تحكم الخادم 🚀', 5), ('empty', '', 6);
INSERT INTO sites (domain, aliases, root_path, status, created_at, updated_at) VALUES ('example.com', NULL, '/var/www/example', 'running', 10, 11), ('مثال.شبكة', 'www.مثال.شبكة', '/var/www/x', 'stopped', 12, 13);
INSERT INTO managed_databases (engine, name, owner, site_id, charset, created_at) VALUES ('mysql', 'shop', 'shop', 1, 'utf8mb4', 20);
INSERT INTO cron_jobs (name, schedule, kind, target, enabled, created_at) VALUES ('backup', '0 3 * * *', 'backup', 'site:1', 1, 30);
INSERT INTO firewall_rules (action, proto, port_from, port_to, source, comment, enabled, position, created_at) VALUES ('allow', 'tcp', 22, 22, '10.0.0.0/8', 'ssh', 1, 1, 40);
INSERT INTO certificates (domain, san, issuer, not_before, not_after, auto_renew, created_at) VALUES ('example.com', 'www.example.com', 'Pebble', 100, 200, 1, 50);
INSERT INTO metric_sources (id, host, kind, name) VALUES (1, 'web1', 'host', ''), (2, 'web1', 'fs', '/srv/My Backups');
INSERT INTO metric_host (res, at, src, cpu, load1, mem_used, mem_total) VALUES (0, 60, 1, 12.5, 0.25, 1073741824, 25769803776), (60, 60, 1, 0.1, 1e-300, NULL, 9007199254740993);
INSERT INTO metric_dev (res, at, src, a, b, c, d) VALUES (0, 60, 2, 1, 2, NULL, 4);
INSERT INTO alert_channels (id, name, kind, target, secret, enabled, created_at) VALUES (1, 'ops', 'webhook', 'https://hooks.example/x', 'sixteen chars ok', 1, 5);
INSERT INTO alert_rules (id, metric, target, threshold, duration, channel_id, enabled, created_at) VALUES (1, 'disk_space', '/', 90, 300, 1, 1, 6);
INSERT INTO alert_events (id, rule_id, host, subject, rule_text, value, peak, started_at, resolved_at) VALUES (1, 1, 'web1', '/', 'Disk space of / above 90 %', 91.5, 97, 7, 8);
INSERT INTO alert_outbox (host, event_id, channel_id, kind, subject, body, payload, created_at, attempts, next_at, sent_at) VALUES ('web1', 1, 1, 'firing', 's', 'b', '{}', 7, 1, 7, 7);
INSERT INTO audit_log (at, actor, via, action, target, outcome, before_json, after_json, prev_hash, row_hash) VALUES (70, 'admin', 'cli', 'user.add', 'مشغل', 'ok', NULL, '{"role":"operator"}', '00', 'ab');
INSERT INTO login_attempts (username, addr, at, success) VALUES ('admin', '127.0.0.1', 80, 0);
INSERT INTO api_tokens (user_id, name, token_hash, scope, allow_cidr, created_at) VALUES (1, 'ci', 'th1', 'read', '127.0.0.0/8', 90);
-- regression: recovery codes and the audit chain's head were not copied
INSERT INTO recovery_codes (user_id, code_hash, used_at) VALUES (1, 'rc1', NULL), (1, 'rc2', 95);
UPDATE audit_head SET last_hash = 'ab', rows_count = 1;
INSERT INTO idempotency_keys (user_id, key_hash, route, request_hash, status, body, created_at) VALUES (1, 'kh', 'POST /users', 'rh', 201, '{"id":2,"username":"مشغل"}', 99);
SQL
dump() { # sqlite file → every panel table, row by row
	for t in users sessions api_tokens audit_log settings login_attempts sites managed_databases cron_jobs firewall_rules certificates recovery_codes audit_head metric_sources metric_host metric_dev alert_channels alert_rules alert_events alert_outbox idempotency_keys cron_runs; do
		echo "== $t"; sqlite3 -header -separator '|' "$1" "SELECT * FROM $t ORDER BY 1"
	done
}
dump "$T/src.db" > "$T/src.dump"
for c in c-pg c-my; do
	case $c in c-pg) dsn=$PG_DSN pw=$PG_PASSWORD_FILE ;; c-my) dsn=$MYSQL_DSN pw=$MYSQL_PASSWORD_FILE ;; esac
	rc=0; A c-sqlite db copy --from "sqlite:///$T/src.db" --to "$dsn" --to-password-file "$pw" > "$T/copy.$c" 2>&1 || rc=$?
	check "$c: db copy from SQLite succeeds and verifies counts" test "$rc" = 0
	check "$c: copy report says verified" grep -q 'copy verified' "$T/copy.$c"
	# round trip back into a fresh SQLite file and compare every row
	rm -f "$T/back.db"
	A c-sqlite db copy --from "$dsn" --from-password-file "$pw" --to "sqlite:///$T/back.db" > "$T/copyback.$c" 2>&1
	dump "$T/back.db" > "$T/back.dump"
	check "$c: SQLite → $c → SQLite gives identical rows" diff -u "$T/src.dump" "$T/back.dump"
	rc=0; A c-sqlite db copy --from "sqlite:///$T/src.db" --to "$dsn" --to-password-file "$pw" > "$T/again" 2>&1 || rc=$?
	check "$c: copy into a non-empty target is refused" test "$rc" = 1
	check "$c: and says why" grep -q 'already holds' "$T/again"
	check "$c: --force replaces the target's data" quiet A c-sqlite db copy --from "sqlite:///$T/src.db" --to "$dsn" --to-password-file "$pw" --force
done
check "PostgreSQL holds the Arabic text byte-exact" bash -c "PGPASSWORD=\$(cat '$PG_PASSWORD_FILE') psql -qtA -h 127.0.0.1 -p $PG_PORT -U aapanel aapanel -c \"SELECT value FROM settings WHERE name='panel.title'\" | grep -qx 'لوحة تحكم الخادم 🚀'"
check "a new row after the copy gets a fresh id on PostgreSQL" bash -c "PGPASSWORD=\$(cat '$PG_PASSWORD_FILE') psql -qtA -h 127.0.0.1 -p $PG_PORT -U aapanel aapanel -c \"INSERT INTO sites (domain, root_path, created_at, updated_at) VALUES ('new.example', '/x', 1, 1) RETURNING id\" | grep -qx 3"

# 4. outage: the pool on PostgreSQL, then on MariaDB; kill the server while it serves
outage() { # conf kill-fn restart-fn name
	local c=$1 sock="$T/var/run/$1.sock"
	"$BIN" --profile test --config "$T/$c/aapanel.cfg" --root "$SRC" serve 2>>"$T/pool.log" &
	POOL_PID=$!
	for _ in $(seq 1 100); do [ -S "$sock" ] && break; sleep 0.05; done
	"$SRC/scripts/nginx-conf.sh" "$T/nginx" "$PORT" "$sock" "$SRC/static"
	nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -e "$T/nginx/error.log" &
	NGINX_PID=$!
	for _ in $(seq 1 100); do curl -s -o /dev/null "$(url /healthz)" && break; sleep 0.05; done
	it_user_c() { printf '%s\n' 'correct horse battery staple' | "$BIN" --profile test --config "$T/$c/aapanel.cfg" --root "$SRC" user add "$1" --role admin --password-stdin >/dev/null 2>&1 || true; }
	it_user_c outage1
	check "$4: sign in" test "$(it_login "$T/jar.$c" outage1 'correct horse battery staple')" = 303
	check "$4: home page 200 with the database up" test "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar.$c" "$(url /)")" = 200
	# the lists' keyset and filter queries on this backend (JSON, as a browser session asks for it)
	j() { curl -s -H 'Accept: application/json' -b "$T/jar.$c" "$(url "$1")"; }
	check "$4: /users?role=admin&disabled=false&limit=1 answers a page and a next link" \
		bash -c "jq -e '(.items | length) == 1 and .items[0].role == \"admin\" and (.next == null or (.next | test(\"cursor=\")))' <<<'$(j '/users?role=admin&disabled=false&limit=1')' >/dev/null"
	first_site=$(j '/sites?limit=1')
	check "$4: /sites?limit=1 answers a page of the sites by id and a next link (the helper not running: served null)" \
		bash -c "jq -e '(.items | length) == 1 and .items[0].id == 1 and .items[0].served == null and (.next | test(\"cursor=1\$\"))' <<<'$first_site' >/dev/null"
	check "$4: ... its next page starts after it" \
		bash -c "jq -e '(.items | length) == 1 and .items[0].id > 1' <<<'$(j "$(jq -r .next <<<"$first_site" | sed 's|^/api/v1||')")' >/dev/null"
	check "$4: /tokens?user=outage1&active=true answers a list" \
		bash -c "jq -e '.items | type == \"array\"' <<<'$(j '/tokens?user=outage1&active=true')' >/dev/null"
	tok=$(A $c token create --user outage1 --name idem --scope admin 2>/dev/null | grep -o 'apn_[0-9a-f]*' || true)
	idem() { curl -s -D "$T/idem.h" -H "Authorization: Bearer $tok" -H 'Idempotency-Key: same-key' \
		-d username=idem-$c -d role=viewer -d 'password=correct horse battery staple' "$(url /api/v1/users)"; }
	first=$(idem | jq -r .id); again=$(idem | jq -r .id)
	check "$4: a create retried with its Idempotency-Key answers the first user ($first, $again)" \
		bash -c "[ -n '$first' ] && [ '$first' != null ] && [ '$first' = '$again' ] && grep -qi '^idempotent-replayed: true' '$T/idem.h'"
	check "$4: /audit?limit=2&cursor=1000000 answers older entries" \
		bash -c "jq -e '(.items | length) <= 2' <<<'$(j '/audit?limit=2&cursor=1000000')' >/dev/null"
	pids=$(A $c status | awk 'NR>2 {print $1}' | sort)
	$2
	code=$(curl -s -o "$T/body" -w '%{http_code}' -b "$T/jar.$c" "$(url /)")
	check "$4: database down → home page 503" test "$code" = 503
	check "$4: the 503 page says the database is unavailable" grep -q 'database is unavailable' "$T/body"
	curl -s -o "$T/h" -w '%{http_code}' "$(url /healthz)" > "$T/hc"
	check "$4: /healthz says db down with 503" bash -c "[ \$(cat '$T/hc') = 503 ] && jq -e '.db==\"down\"' '$T/h' >/dev/null"
	check "$4: JSON clients get a 503 error object" bash -c "curl -s -b '$T/jar.$c' -H 'Accept: application/json' '$(url /)' | jq -e '.error.status==503' >/dev/null"
	$3
	back=""
	for i in $(seq 1 60); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar.$c" "$(url /)")" = 200 ] && { back=$i; break; }
		sleep 0.25
	done
	check "$4: pages come back by themselves after the restart (${back:-never} polls)" test -n "$back"
	check "$4: /healthz ok again" bash -c "curl -s '$(url /healthz)' | jq -e '.db==\"ok\"' >/dev/null"
	check "$4: no worker lost or replaced" test "$(A $c status | awk 'NR>2 {print $1}' | sort)" = "$pids"
	kill -QUIT "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null; NGINX_PID=""
	kill -TERM "$POOL_PID"; wait "$POOL_PID" 2>/dev/null; POOL_PID=""
}
outage c-pg db_kill_postgres db_restart_postgres PostgreSQL
outage c-my db_kill_mariadb db_restart_mariadb MariaDB
it_summary
