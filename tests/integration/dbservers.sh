# shellcheck shell=bash
# dbservers.sh — throwaway MariaDB and PostgreSQL servers for the tests.
#
# Source it, then:
#   D=$(mktemp -d /tmp/aapanel-db.XXXXXX); trap 'db_stop_all; rm -rf "$D"' EXIT
#   db_start_mariadb "$D/my" || exit 1    # exports MYSQL_DSN, MYSQL_PASSWORD_FILE ...
#   db_start_postgres "$D/pg" || exit 1   # exports PG_DSN, PG_PASSWORD_FILE ...
#
# Each server lives in its own directory on a random free loopback port
# with its socket in that directory, so the system instances (3306/5432 and
# their default sockets) are never touched. Every wait is bounded; failures
# print the server's log tail and return 1 (callers fail, never skip).
# Processes are stopped by PID only; db_stop_all belongs in the EXIT trap.
#
# Run by hand: bash tests/integration/dbservers.sh selftest

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

_DB_MY_DIR="" _DB_MY_USER="" _DB_PG_DIR=""

# A random port in 20000–50000 that nothing uses (any TCP state).
db_free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 30001))
		ss -Htan "sport = :$p or dport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return 0; }
	done
	echo "dbservers: no free port found" >&2
	return 1
}

# Password: 32 hex characters, written 0600 before it is filled.
_db_new_password() {
	local f=$1
	(umask 077 && : > "$f") || return 1
	chmod 0600 "$f" || return 1
	if command -v openssl >/dev/null 2>&1; then
		openssl rand -hex 16 > "$f" || return 1
	else
		od -An -tx1 -N16 /dev/urandom | tr -d ' \n' > "$f" && echo >> "$f" || return 1
	fi
	[ -s "$f" ] || { echo "dbservers: could not generate a password" >&2; return 1; }
}

# True while pid runs (a zombie child of this shell is reaped and counts as gone).
_db_alive() {
	local pid=$1 state
	[ -n "$pid" ] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) || return 1
	if [ "$state" = Z ]; then
		wait "$pid" 2>/dev/null || true
		return 1
	fi
	return 0
}

# _db_wait_gone PID SECONDS — poll until pid is gone; 1 if it is still there.
_db_wait_gone() {
	local pid=$1 n=$(($2 * 20))
	for _ in $(seq 1 "$n"); do
		_db_alive "$pid" || return 0
		sleep 0.05
	done
	_db_alive "$pid" && return 1
	return 0
}

_db_fail() {
	local what=$1 log=$2
	echo "dbservers: $what" >&2
	if [ -f "$log" ]; then
		echo "--- $log (last 30 lines)" >&2
		tail -n 30 "$log" >&2
	fi
	return 1
}

# ---------------------------------------------------------------- MariaDB

_db_my_admin() {
	timeout 10 mariadb-admin --no-defaults --connect-timeout=2 -S "$_DB_MY_DIR/mysql.sock" -uroot "$@"
}

_db_my_sql() {
	timeout 20 mariadb --no-defaults --connect-timeout=5 -S "$_DB_MY_DIR/mysql.sock" -uroot -N -B -e "$1"
}

# Start mariadbd on MYSQL_PORT in _DB_MY_DIR as _DB_MY_USER and wait for it.
_db_my_launch() {
	local d=$_DB_MY_DIR
	# InnoDB log written at every commit (a SIGKILL loses nothing), flushed
	# to disk once a second (only a machine crash could lose that second).
	mariadbd --no-defaults --user="$_DB_MY_USER" --datadir="$d/data" \
		--socket="$d/mysql.sock" --port="$MYSQL_PORT" --bind-address=127.0.0.1 \
		--pid-file="$d/mysql.pid" --log-error="$d/mysql.err" --skip-name-resolve \
		--innodb-buffer-pool-size=32M --max-allowed-packet=64M \
		--character-set-server=utf8mb4 --collation-server=utf8mb4_bin \
		--skip-log-bin --innodb-flush-log-at-trx-commit=2 \
		</dev/null >/dev/null 2>&1 &
	MYSQL_PID=$!
	# Not a job: bash reaps it quietly instead of printing "Killed".
	disown "$MYSQL_PID"
	export MYSQL_PID
	local end=$((SECONDS + 30))
	while [ "$SECONDS" -lt "$end" ]; do
		if ! _db_alive "$MYSQL_PID"; then
			MYSQL_PID=""
			return 2
		fi
		# ping answers "alive" even when access is denied; we need the socket up.
		_db_my_admin ping >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# db_start_mariadb DIR — see the header. Returns 1 (with the log tail) on failure.
db_start_mariadb() {
	local d=${1:?db_start_mariadb DIR} pw rc attempt
	mkdir -p "$d" || return 1
	d=$(cd "$d" && pwd) || return 1
	if [ -n "${MYSQL_PID:-}" ] && _db_alive "$MYSQL_PID"; then
		echo "dbservers: MariaDB already running (pid $MYSQL_PID)" >&2
		return 1
	fi
	_DB_MY_DIR=$d _DB_MY_USER=root
	if [ ${#d} -gt 90 ]; then
		echo "dbservers: $d is too long for a unix socket path" >&2
		return 1
	fi
	if ! timeout 120 mariadb-install-db --no-defaults --user=root --datadir="$d/data" \
		--auth-root-authentication-method=socket --skip-test-db >"$d/install.log" 2>&1; then
		_db_fail "mariadb-install-db failed" "$d/install.log"
		return 1
	fi
	for attempt in 1 2 3; do
		MYSQL_PORT=$(db_free_port) || return 1
		export MYSQL_PORT
		_db_my_launch
		rc=$?
		[ "$rc" -eq 0 ] && break
		if [ "$rc" -eq 2 ] && [ "$_DB_MY_USER" = root ] &&
			grep -qi "root" "$d/mysql.err" 2>/dev/null &&
			! grep -qi "already in use" "$d/mysql.err" 2>/dev/null; then
			# Root refused (hardened build): run as mysql, which must own the dir.
			chown -R mysql: "$d" && _DB_MY_USER=mysql
			continue
		fi
		# Lost the race for the port: try another one.
		[ "$rc" -eq 2 ] && grep -qi "already in use" "$d/mysql.err" 2>/dev/null && continue
		[ "$rc" -eq 1 ] && db_kill_mariadb
		_db_fail "MariaDB did not start (attempt $attempt)" "$d/mysql.err"
		return 1
	done
	if [ "$rc" -ne 0 ]; then
		_db_fail "MariaDB did not start" "$d/mysql.err"
		return 1
	fi

	_db_new_password "$d/mysql.password" || { db_stop_mariadb; return 1; }
	pw=$(tr -d '\n' < "$d/mysql.password")
	# pw is hex only, so it can sit inside the quotes.
	if ! _db_my_sql "CREATE DATABASE aapanel CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
		CREATE USER 'aapanel'@'localhost' IDENTIFIED BY '$pw';
		CREATE USER 'aapanel'@'127.0.0.1' IDENTIFIED BY '$pw';
		GRANT ALL ON aapanel.* TO 'aapanel'@'localhost';
		GRANT ALL ON aapanel.* TO 'aapanel'@'127.0.0.1';" >"$d/setup.log" 2>&1; then
		_db_fail "MariaDB setup (database/user) failed" "$d/setup.log"
		db_stop_mariadb
		return 1
	fi
	export MYSQL_DSN="mysql://aapanel@127.0.0.1:$MYSQL_PORT/aapanel"
	export MYSQL_SOCKET_DSN="mysql://aapanel@localhost/aapanel?socket=$d/mysql.sock"
	export MYSQL_PASSWORD_FILE="$d/mysql.password"
	return 0
}

# Graceful stop: SIGTERM is mariadbd's shutdown; SIGKILL after 30 s.
db_stop_mariadb() {
	local pid=${MYSQL_PID:-}
	[ -n "$pid" ] || return 0
	if _db_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		if ! _db_wait_gone "$pid" 30; then
			echo "dbservers: MariaDB (pid $pid) ignored SIGTERM for 30 s; killing" >&2
			kill -KILL "$pid" 2>/dev/null || true
			_db_wait_gone "$pid" 10 || { echo "dbservers: MariaDB pid $pid survives SIGKILL" >&2; return 1; }
		fi
	fi
	MYSQL_PID=""
	return 0
}

# Abrupt death (outage tests): no shutdown, InnoDB recovers on restart.
db_kill_mariadb() {
	local pid=${MYSQL_PID:-}
	[ -n "$pid" ] || return 0
	kill -KILL "$pid" 2>/dev/null || true
	_db_wait_gone "$pid" 10 || { echo "dbservers: MariaDB pid $pid survives SIGKILL" >&2; return 1; }
	MYSQL_PID=""
	return 0
}

# Same port, same data directory, same users (stops it first if running).
db_restart_mariadb() {
	local rc
	[ -n "$_DB_MY_DIR" ] || { echo "dbservers: MariaDB was never started" >&2; return 1; }
	db_stop_mariadb || return 1
	_db_my_launch
	rc=$?
	if [ "$rc" -ne 0 ]; then
		[ "$rc" -eq 1 ] && db_kill_mariadb
		_db_fail "MariaDB did not restart on port $MYSQL_PORT" "$_DB_MY_DIR/mysql.err"
		return 1
	fi
	return 0
}

# ------------------------------------------------------------- PostgreSQL

_db_pg() {
	runuser -u postgres -- "$@"
}

_db_pg_ctl() {
	_db_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$_DB_PG_DIR/pg.log" "$@"
}

_db_pg_postmaster_pid() {
	head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null
}

_db_pg_launch() {
	if ! _db_pg_ctl -w -t 30 start >/dev/null 2>&1; then
		PG_PID=$(_db_pg_postmaster_pid)
		return 1
	fi
	PG_PID=$(_db_pg_postmaster_pid)
	export PG_PID
	return 0
}

# db_start_postgres DIR — see the header. Returns 1 (with the log tail) on failure.
db_start_postgres() {
	local d=${1:?db_start_postgres DIR} pw attempt ok=0
	mkdir -p "$d" || return 1
	d=$(cd "$d" && pwd) || return 1
	if [ -n "${PG_DATA:-}" ] && [ -f "$PG_DATA/postmaster.pid" ] &&
		_db_alive "$(head -n 1 "$PG_DATA/postmaster.pid")"; then
		echo "dbservers: PostgreSQL already running in $PG_DATA" >&2
		return 1
	fi
	[ -x "$PG_BIN/initdb" ] || { echo "dbservers: $PG_BIN/initdb missing (postgresql-15)" >&2; return 1; }
	# initdb refuses root: the postgres user owns DIR (root can still use it).
	chown postgres: "$d" || return 1
	if ! runuser -u postgres -- test -w "$d"; then
		echo "dbservers: postgres cannot write $d (is a parent directory private?)" >&2
		return 1
	fi
	_DB_PG_DIR=$d
	export PG_DATA="$d/data"
	if ! timeout 120 runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DATA" -U postgres \
		--auth-local=peer --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
		>"$d/initdb.log" 2>&1; then
		_db_fail "initdb failed" "$d/initdb.log"
		return 1
	fi
	for attempt in 1 2 3; do
		PG_PORT=$(db_free_port) || return 1
		export PG_PORT
		# In postgresql.conf so a restart keeps port, socket and settings.
		# fsync=off survives a process crash (the page cache stays);
		# synchronous_commit=off would not: a commit acknowledged just before
		# db_kill_postgres could vanish, so outage tests would be flaky.
		cat >>"$PG_DATA/postgresql.conf" <<EOF
# dbservers.sh (attempt $attempt)
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$d'
password_encryption = 'scram-sha-256'
fsync = off
full_page_writes = off
shared_buffers = 16MB
max_connections = 50
EOF
		if _db_pg_launch; then
			ok=1
			break
		fi
		if [ -n "${PG_PID:-}" ] && _db_alive "$PG_PID"; then
			db_kill_postgres
			break
		fi
		grep -qi "already in use" "$d/pg.log" 2>/dev/null || break
	done
	if [ "$ok" -ne 1 ]; then
		_db_fail "PostgreSQL did not start" "$d/pg.log"
		return 1
	fi

	_db_new_password "$d/pg.password" || { db_stop_postgres; return 1; }
	pw=$(tr -d '\n' < "$d/pg.password")
	# Peer auth over our own socket as the postgres superuser; pw is hex only.
	if ! timeout 20 runuser -u postgres -- "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
		-h "$d" -p "$PG_PORT" -U postgres -d postgres \
		-c "CREATE ROLE aapanel LOGIN PASSWORD '$pw'" \
		-c "CREATE DATABASE aapanel OWNER aapanel ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' TEMPLATE template0" \
		>"$d/setup.log" 2>&1; then
		_db_fail "PostgreSQL setup (role/database) failed" "$d/setup.log"
		db_stop_postgres
		return 1
	fi
	export PG_DSN="postgresql://aapanel@127.0.0.1:$PG_PORT/aapanel"
	export PG_PASSWORD_FILE="$d/pg.password"
	return 0
}

# After pg_ctl gave up: kill the postmaster and its children by PID.
_db_pg_force_kill() {
	local pid=$1 kids
	[ -n "$pid" ] || return 0
	kids=$(pgrep -P "$pid" 2>/dev/null || true)
	kill -KILL "$pid" $kids 2>/dev/null || true
	_db_wait_gone "$pid" 10
}

_db_pg_stop() {
	local mode=$1 pid
	[ -n "$_DB_PG_DIR" ] && [ -f "$PG_DATA/postmaster.pid" ] || return 0
	pid=$(_db_pg_postmaster_pid)
	_db_alive "$pid" || return 0
	if ! _db_pg_ctl -m "$mode" -w -t 30 stop >/dev/null 2>&1 || ! _db_wait_gone "$pid" 10; then
		echo "dbservers: pg_ctl stop -m $mode failed; killing postmaster $pid" >&2
		_db_pg_force_kill "$pid" || { echo "dbservers: postmaster $pid survives SIGKILL" >&2; return 1; }
	fi
	PG_PID=""
	return 0
}

db_stop_postgres() { _db_pg_stop fast; }
# Immediate mode: no checkpoint, crash recovery on the next start.
db_kill_postgres() { _db_pg_stop immediate; }

db_restart_postgres() {
	[ -n "$_DB_PG_DIR" ] || { echo "dbservers: PostgreSQL was never started" >&2; return 1; }
	db_stop_postgres || return 1
	if ! _db_pg_launch; then
		_db_fail "PostgreSQL did not restart on port $PG_PORT" "$_DB_PG_DIR/pg.log"
		[ -n "${PG_PID:-}" ] && _db_alive "$PG_PID" && db_kill_postgres
		return 1
	fi
	return 0
}

# For EXIT traps: stop whatever this shell started; never fails loudly twice.
db_stop_all() {
	local rc=0
	db_stop_mariadb || rc=1
	db_stop_postgres || rc=1
	return $rc
}

# ------------------------------------------------------------ self-test

_db_selftest() {
	local d fails=0 pw out
	d=$(mktemp -d /tmp/aapanel-dbsrv.XXXXXX) || return 1
	trap 'db_stop_all; rm -rf "$d"' EXIT
	chmod 0755 "$d"

	db_start_mariadb "$d/my" || { echo "FAIL start mariadb"; return 1; }
	echo "mariadb: pid $MYSQL_PID port $MYSQL_PORT dsn $MYSQL_DSN"
	pw=$(cat "$MYSQL_PASSWORD_FILE")
	out=$(MYSQL_PWD=$pw timeout 10 mariadb --no-defaults -h 127.0.0.1 -P "$MYSQL_PORT" -u aapanel \
		-N -B -e "SELECT @@character_set_database, CURRENT_USER()" aapanel 2>&1)
	echo "  tcp:    $out"
	[[ $out == utf8mb4*aapanel@127.0.0.1 ]] || { echo "FAIL mariadb tcp login"; fails=$((fails + 1)); }
	out=$(MYSQL_PWD=$pw timeout 10 mariadb --no-defaults -S "$d/my/mysql.sock" -u aapanel \
		-N -B -e "SELECT CURRENT_USER()" aapanel 2>&1)
	echo "  socket: $out"
	[ "$out" = "aapanel@localhost" ] || { echo "FAIL mariadb socket login"; fails=$((fails + 1)); }
	MYSQL_PWD=wrong timeout 10 mariadb --no-defaults -h 127.0.0.1 -P "$MYSQL_PORT" -u aapanel \
		-e "SELECT 1" aapanel >/dev/null 2>&1 && { echo "FAIL mariadb accepted a wrong password"; fails=$((fails + 1)); }
	[ "$(stat -c %a "$MYSQL_PASSWORD_FILE")" = 600 ] || { echo "FAIL mysql.password mode"; fails=$((fails + 1)); }

	db_start_postgres "$d/pg" || { echo "FAIL start postgres"; return 1; }
	echo "postgres: pid $PG_PID port $PG_PORT dsn $PG_DSN"
	out=$(PGPASSWORD=$(cat "$PG_PASSWORD_FILE") timeout 10 "$PG_BIN/psql" -X -At \
		"$PG_DSN" -c "SELECT current_user, pg_encoding_to_char(encoding), datcollate FROM pg_database WHERE datname = current_database()" 2>&1)
	echo "  tcp:    $out"
	[ "$out" = "aapanel|UTF8|C.UTF-8" ] || { echo "FAIL psql login"; fails=$((fails + 1)); }
	PGPASSWORD=wrong timeout 10 "$PG_BIN/psql" -X -At "$PG_DSN" -c "SELECT 1" >/dev/null 2>&1 &&
		{ echo "FAIL postgres accepted a wrong password"; fails=$((fails + 1)); }
	[ "$(stat -c %a "$PG_PASSWORD_FILE")" = 600 ] || { echo "FAIL pg.password mode"; fails=$((fails + 1)); }

	# Crash and restart keep port and data.
	PGPASSWORD=$(cat "$PG_PASSWORD_FILE") timeout 10 "$PG_BIN/psql" -X -q "$PG_DSN" -c "CREATE TABLE keep(x int); INSERT INTO keep VALUES (7)" || fails=$((fails + 1))
	db_kill_postgres && db_restart_postgres || { echo "FAIL postgres kill/restart"; fails=$((fails + 1)); }
	out=$(PGPASSWORD=$(cat "$PG_PASSWORD_FILE") timeout 10 "$PG_BIN/psql" -X -At "$PG_DSN" -c "SELECT x FROM keep" 2>&1)
	[ "$out" = 7 ] || { echo "FAIL postgres data after restart: $out"; fails=$((fails + 1)); }
	MYSQL_PWD=$pw timeout 10 mariadb --no-defaults -h 127.0.0.1 -P "$MYSQL_PORT" -u aapanel aapanel \
		-e "CREATE TABLE keep(x int) ENGINE=InnoDB; INSERT INTO keep VALUES (7)" || fails=$((fails + 1))
	db_kill_mariadb && db_restart_mariadb || { echo "FAIL mariadb kill/restart"; fails=$((fails + 1)); }
	out=$(MYSQL_PWD=$pw timeout 10 mariadb --no-defaults -h 127.0.0.1 -P "$MYSQL_PORT" -u aapanel -N -B aapanel -e "SELECT x FROM keep" 2>&1)
	[ "$out" = 7 ] || { echo "FAIL mariadb data after restart: $out"; fails=$((fails + 1)); }

	db_stop_all || fails=$((fails + 1))
	if pgrep -f "$d" >/dev/null; then
		echo "FAIL processes left:"; pgrep -af "$d"; fails=$((fails + 1))
	fi
	trap - EXIT
	rm -rf "$d"
	[ "$fails" -eq 0 ] && echo "selftest: ok" || echo "selftest: $fails failure(s)"
	[ "$fails" -eq 0 ]
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case "${1:-}" in
	selftest) _db_selftest; exit $? ;;
	*) echo "usage: source $0 (functions db_*), or: bash $0 selftest" >&2; exit 2 ;;
	esac
fi
