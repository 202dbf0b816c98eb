#!/usr/bin/env bash
# Backups and restore (issue 18) with restic, through the CLI and the helper:
# a site with a linked MariaDB and a linked PostgreSQL database (servers
# started here, dbservers.sh) backed up to a local repository, its files
# changed and deleted and its rows changed and deleted, restored: files
# byte-identical, rows identical, the replaced files in the site's trash.
# The same to an SFTP destination (an OpenSSH server started here on
# loopback with its own host key and an authorized key) and to an S3
# endpoint (s3rver from tests/s3, on loopback). A destination that fails
# mid-backup: the run fails with the reason, the earlier snapshots are
# intact, the next run succeeds; a cancelled run likewise. The repository
# password and the S3 keys are in no process's argv (sampled from
# /proc/*/cmdline during runs), log or audit row. Retention on snapshots
# with made-up dates keeps exactly what the policy says.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites_lib.sh"
. "$(dirname "$0")/dbservers.sh"
it_setup 'pool = { request_timeout = 20; }; monitor = { interval = 1; send_timeout = 5; };'
sites_setup 'system_users = false;'
# Listing snapshots is not a job: it may take the helper's whole timeout on a loaded machine.
sed -i "s/^helper = { /helper = { job_timeout = 600; /; s/timeout_ms = 5000;/timeout_ms = 20000;/" "$T/conf/profiles/test.cfg"
D=$(mktemp -d /tmp/aapanel-bk.XXXXXX)
chmod 0755 "$D"
SSHD_PID="" S3_PID="" HOOK_PID=""
bk_teardown() {
	local rc=$?
	[ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null && { wait "$SSHD_PID" 2>/dev/null || true; }
	[ -n "$S3_PID" ] && kill "$S3_PID" 2>/dev/null && { wait "$S3_PID" 2>/dev/null || true; }
	[ -n "$HOOK_PID" ] && kill "$HOOK_PID" 2>/dev/null && { wait "$HOOK_PID" 2>/dev/null || true; }
	db_stop_all || true
	rm -rf "$D"
	(exit "$rc")
	sites_teardown
}
trap bk_teardown EXIT
check "MariaDB starts on loopback" db_start_mariadb "$D/my"
check "PostgreSQL starts on loopback" db_start_postgres "$D/pg"
[ -n "${MYSQL_PID:-}" ] && [ -n "${PG_PID:-}" ] || exit 1
APW=$(openssl rand -hex 16)
_db_my_sql "CREATE USER 'dbadmin'@'127.0.0.1' IDENTIFIED BY '$APW'; GRANT ALL ON *.* TO 'dbadmin'@'127.0.0.1' WITH GRANT OPTION;"
runuser -u postgres -- "$PG_BIN/psql" -X -q -h "$D/pg" -p "$PG_PORT" -U postgres -d postgres \
	-c "CREATE ROLE dbadmin SUPERUSER LOGIN PASSWORD '$APW'" >/dev/null
printf '%s\n' "$APW" > "$D/admin.pw"

it_start_pool
sites_start_nginx
sites_start_helper
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
# ran COMMAND...: it succeeded (its output shown when it did not)
ran() { "$@" > "$T/ran.log" 2>&1 || { sed 's/^/    | /' "$T/ran.log" | tail -n 8; return 1; }; }
quiet A dbserver add my --dsn "mysql://dbadmin@127.0.0.1:$MYSQL_PORT/mysql" --password-file "$D/admin.pw"
quiet A dbserver add pg --dsn "postgresql://dbadmin@127.0.0.1:$PG_PORT/postgres" --password-file "$D/admin.pw"
check "a site to back up" ran A site add shop.test --type static
check "a MariaDB database linked to it" ran A database add shopdb --server my --site shop.test
check "a PostgreSQL database linked to it" ran A database add shoppg --server pg --site shop.test
check "a PostgreSQL database of its own" ran A database add blogpg --server pg
check "an empty one to restore into" ran A database add blogcopy --server pg
mysql_q() { MYSQL_PWD=$APW mariadb --no-defaults -N -B -h 127.0.0.1 -P "$MYSQL_PORT" -u dbadmin -e "$1" shopdb; }
pg_q() { PGPASSWORD=$APW "$PG_BIN/psql" -X -q -A -t -h 127.0.0.1 -p "$PG_PORT" -U dbadmin -d "${2:-shoppg}" -c "$1"; }
mysql_q "CREATE TABLE t (id INT PRIMARY KEY, a TEXT, b BLOB) DEFAULT CHARSET=utf8mb4; INSERT INTO t VALUES (1,'مرحبا',UNHEX('00FF10')),(2,'two',NULL),(3,'three','x');"
pg_q "CREATE TABLE t (id int PRIMARY KEY, a text, b bytea); INSERT INTO t VALUES (1,'مرحبا','\\x00ff10'),(2,'two',NULL),(3,'three','x');" >/dev/null
pg_q "CREATE TABLE posts (id int PRIMARY KEY, title text); INSERT INTO posts VALUES (1,'أول'),(2,'second');" blogpg >/dev/null
my_rows() { mysql_q "SELECT id, a, HEX(b) FROM t ORDER BY id"; }
pg_rows() { pg_q "SELECT id, a, encode(b, 'hex') FROM t ORDER BY id"; }
my_rows > "$T/my.rows"; pg_rows > "$T/pg.rows"
check "... rows in both" test "$(wc -l < "$T/my.rows")$(wc -l < "$T/pg.rows")" = 33

WEB="$SB/var/www/shop.test/public"
mkdir -p "$WEB/img/deep" "$WEB/اسم عربي"
printf 'hello\r\nworld\n' > "$WEB/index.html"
head -c 300000 /dev/urandom > "$WEB/img/photo.bin"
echo deep > "$WEB/img/deep/x.txt"
echo عربي > "$WEB/اسم عربي/ملف.txt"
chmod 0640 "$WEB/img/deep/x.txt"
tree_sum() { (cd "$1" && find . -path ./.aapanel-trash -prune -o -printf '%p %y %m %s\n' | LC_ALL=C sort && find . -type f -exec sha256sum {} + | LC_ALL=C sort); }
tree_sum "$WEB" > "$T/web.sum"

# ---------------------------------------------------------------- bad input
rc=0; A backup-dest add loc --url 'local:relative/x' 2>"$T/err" >/dev/null || rc=$?
check "a relative local path is refused (exit 2, naming url)" test "$rc" = 2
check "... naming url" grep -q "url" "$T/err"
rc=0; A backup-dest add 'Bad;Name' --url 'local:/srv/x' 2>"$T/err" >/dev/null || rc=$?
check "a bad name is refused (exit 2, naming name)" test "$rc$(grep -c 'name' "$T/err")" = 21
rc=0; A backup-dest add s3x --url 's3:http://example.com/bucket' 2>"$T/err" >/dev/null || rc=$?
check "plain-http S3 to another host is refused (exit 2)" test "$rc" = 2
rc=0; A backup-dest add sx --url 'sftp:root@host:/x y' 2>"$T/err" >/dev/null || rc=$?
check "a path with a space is refused (exit 2)" test "$rc" = 2
check "nothing was recorded" test "$(sqlite3 "$T/var/aapanel.db" 'SELECT COUNT(*) FROM backup_destinations')" = 0

# ---------------------------------------------------------------- local destination
check "a local destination is added (repository created)" ran A backup-dest add loc --url local:/srv/backups/loc --json
BKD="$SB/etc/aapanel/backups"
check "... its password is a helper-only file (0600 in a 0700 directory)" \
	test "$(stat -c %a "$BKD/loc/password") $(stat -c %a "$BKD/loc") $(wc -c < "$BKD/loc/password")" = "600 700 64"
check "... the repository is there" test -f "$SB/srv/backups/loc/config"
PW=$(cat "$BKD/loc/password")
rc=0; A backup-dest add loc --url local:/srv/backups/other 2>"$T/err" >/dev/null || rc=$?
check "the same name again is refused (exit 2)" test "$rc" = 2
A backup-dest list --json > "$T/l.json"
check "backup-dest list --json names it with its kind and URL" jqe '.items | length == 1 and .[0].name == "loc" and .[0].kind == "local" and .[0].url == "local:/srv/backups/loc"' "$T/l.json"

# argv watcher: every process's command line, sampled while runs go on
watch_argv() {
	: > "$T/argv.log"
	( while [ -e "$T/watch" ]; do { cat /proc/[0-9]*/cmdline 2>/dev/null || true; } | tr '\0' ' ' >> "$T/argv.log"; echo >> "$T/argv.log"; sleep 0.02; done ) &
	WATCH_PID=$!
}
touch "$T/watch"; watch_argv
check "a site backup to the local destination succeeds" ran A backup run --site shop.test --to loc --keep-last 5 --json
A backup list --site shop.test --json > "$T/runs.json"
check "... recorded done with its snapshot" jqe '.items[0].state == "done" and .items[0].action == "backup" and (.items[0].snapshot | test("^[0-9a-f]{8,}$"))' "$T/runs.json"
SNAP1=$(jq -r '.items[0].snapshot' "$T/runs.json")
A backup snapshots --from loc --site shop.test --json > "$T/snaps.json"
check "... one snapshot tagged with the site, holding its files and the dumps" jqe '.snapshots | length == 1 and (.[0].tags == ["site:shop.test"]) and (.[0].paths | length == 2)' "$T/snaps.json"
A backup ls --from loc --snapshot "$SNAP1" --path "$(jq -r '.snapshots[0].paths[] | select(contains(".dumps"))' "$T/snaps.json")" --json > "$T/ls.json"
check "... the dumps of both linked databases are in it" jqe '[.entries[].name] | index("my.shopdb.sql") != null and index("pg.shoppg.sql") != null' "$T/ls.json"
A backup get --from loc --snapshot "$SNAP1" --path "$WEB/img/photo.bin" > "$T/photo.got"
check "one file downloaded from the snapshot is byte-identical" cmp -s "$T/photo.got" "$WEB/img/photo.bin"
rm -f "$T/watch"; wait "$WATCH_PID" 2>/dev/null || true
check "the argv watcher saw restic run" grep -q "restic backup" "$T/argv.log"
check "... and never the repository password" bash -c "! grep -qF '$PW' '$T/argv.log'"

# change and delete, then restore into place
printf 'defaced\n' > "$WEB/index.html"
rm -rf "$WEB/img/deep" "$WEB/اسم عربي"
echo new > "$WEB/added.txt"
mysql_q "UPDATE t SET a = 'changed' WHERE id = 1; DELETE FROM t WHERE id = 3; INSERT INTO t VALUES (9,'nine',NULL);"
pg_q "UPDATE t SET a = 'changed' WHERE id = 1; DELETE FROM t WHERE id = 3; INSERT INTO t VALUES (9,'nine',NULL);" >/dev/null
my_rows > "$T/my.changed"
check "... the rows differ now" bash -c "! cmp -s '$T/my.changed' '$T/my.rows'"
check "restore into place succeeds" ran A backup restore --from loc --snapshot "$SNAP1" --site shop.test --json
tree_sum "$WEB" > "$T/web.after"
check "... the files are byte-identical to the backup (names, modes, sizes, contents)" cmp -s "$T/web.sum" "$T/web.after"
check "... the MariaDB rows are identical" cmp -s "$T/my.rows" <(my_rows)
check "... the PostgreSQL rows are identical" cmp -s "$T/pg.rows" <(pg_rows)
check "... the replaced files are in the site's trash" bash -c "grep -l . '$SB'/var/www/shop.test/.aapanel-trash/*/item/added.txt >/dev/null"
check "... no staging folder is left" bash -c "! ls -a '$SB/var/www/shop.test' | grep -q aapanel-restore"
check "... nor a dump in the helper's directory" bash -c "! find '$BKD/.dumps' -name '*.sql' 2>/dev/null | grep -q ."
check "restore to a new folder" ran A backup restore --from loc --snapshot "$SNAP1" --site shop.test --to-dir restored-copy
check "... holds the same files" cmp -s "$T/web.sum" <(tree_sum "$SB/var/www/shop.test/restored-copy")
rc=0; A backup restore --from loc --snapshot "$SNAP1" --site shop.test --to-dir restored-copy 2>"$T/err" >/dev/null || rc=$?
check "... a folder that exists is refused" test "$rc" != 0
rc=0; A backup restore --from loc --snapshot 'zz;rm' --site shop.test 2>"$T/err" >/dev/null || rc=$?
check "a malformed snapshot id is refused (exit 2, naming snapshot)" test "$rc$(grep -c snapshot "$T/err")" = 21

# a database alone, restored into another database
check "a database alone is backed up" ran A backup run --database blogpg --to loc
SNAPDB=$(A backup list --database blogpg --json | jq -r '.items[0].snapshot')
pg_q "DELETE FROM posts" blogpg
check "... restored into a new database" ran A backup restore --from loc --snapshot "$SNAPDB" --database blogpg --into blogcopy
check "... the new database has its rows" test "$(pg_q 'SELECT title FROM posts ORDER BY id' blogcopy | tr '\n' ,)" = "أول,second,"
check "... restored into place" ran A backup restore --from loc --snapshot "$SNAPDB" --database blogpg
check "... the rows are back" test "$(pg_q 'SELECT count(*) FROM posts' blogpg)" = 2
check "an integrity check with a read subset passes" ran A backup check --from loc --subset 50

# ---------------------------------------------------------------- SFTP destination
# An OpenSSH server of this test: its own host key, one authorized key, loopback only.
SSH_PORT=$(it_free_port)
mkdir -p "$D/ssh" "$D/sftp"
ssh-keygen -q -t ed25519 -N '' -f "$D/ssh/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$D/ssh/client_key"
cp "$D/ssh/client_key.pub" "$D/ssh/authorized_keys"
cat > "$D/ssh/sshd_config" <<CFG
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $D/ssh/host_key
AuthorizedKeysFile $D/ssh/authorized_keys
PidFile none
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
LogLevel ERROR
CFG
[ -d /run/sshd ] || mkdir -m 0755 /run/sshd # sshd's privilege separation directory
start_sshd() {
	/usr/sbin/sshd -D -e -f "$D/ssh/sshd_config" 2>>"$D/ssh/log" &
	SSHD_PID=$!
	for _ in $(seq 1 100); do
		ss -Htln "sport = :$SSH_PORT" | grep -q . && return 0
		kill -0 "$SSHD_PID" 2>/dev/null || { cat "$D/ssh/log"; return 1; }
		sleep 0.05
	done
	return 1
}
descendants() { local p; for p in $(ps -o pid= --ppid "$1" 2>/dev/null || true); do echo "$p"; descendants "$p"; done; }
stop_sshd() { # the server and every session it forked, by PID
	local kids
	kids=$(descendants "$SSHD_PID")
	kill -KILL $kids 2>/dev/null || true
	kill "$SSHD_PID" 2>/dev/null || true
	wait "$SSHD_PID" 2>/dev/null || true
	SSHD_PID=""
}
check "an OpenSSH server starts on loopback" start_sshd
echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$D/ssh/host_key.pub")" > "$D/ssh/known_hosts"
echo "[127.0.0.1]:$SSH_PORT $(ssh-keygen -q -t ed25519 -N '' -f "$D/ssh/other" <<<y >/dev/null; cut -d' ' -f1,2 "$D/ssh/other.pub")" > "$D/ssh/wrong_hosts"
rc=0; A backup-dest add wrong --url "sftp://root@127.0.0.1:$SSH_PORT$D/sftp/wrong" --ssh-key-file "$D/ssh/client_key" --known-hosts-file "$D/ssh/wrong_hosts" 2>"$T/err" >/dev/null || rc=$?
check "an SFTP server whose host key is not the one given is refused (exit 2, restic's reason)" \
	test "$rc" = 2 -a "$(grep -c 'url: restic init: .*sftp' "$T/err")" = 1
check "... nothing was recorded for it" test "$(sqlite3 "$T/var/aapanel.db" "SELECT COUNT(*) FROM backup_destinations WHERE name = 'wrong'")" = 0
check "... and the helper kept no files of it" test ! -e "$BKD/wrong"
check "an SFTP destination is added (key authentication, the panel's known_hosts)" \
	ran A backup-dest add off --url "sftp://root@127.0.0.1:$SSH_PORT$D/sftp/repo" --ssh-key-file "$D/ssh/client_key" --known-hosts-file "$D/ssh/known_hosts"
check "... the repository is on the server" test -f "$D/sftp/repo/config"
check "... the key is a helper-only file" test "$(stat -c %a "$BKD/off/ssh_key")" = 600
check "a site backup over SFTP succeeds" ran A backup run --site shop.test --to off
SNAPS1=$(A backup list --site shop.test --json | jq -r '.items[0].snapshot')
printf 'defaced\n' > "$WEB/index.html"; rm -rf "$WEB/img"
mysql_q "DELETE FROM t"
check "restore from SFTP into place succeeds" ran A backup restore --from off --snapshot "$SNAPS1" --site shop.test
check "... the files are byte-identical" cmp -s "$T/web.sum" <(tree_sum "$WEB")
check "... the rows are identical" cmp -s "$T/my.rows" <(my_rows)

# A destination that fails mid-backup: the server stops while a large backup runs.
head -c 80000000 /dev/urandom > "$WEB/big.bin"
rc=0; A backup run --site shop.test --to off --no-wait --json > "$T/run.json" 2>"$T/err" || rc=$?
RUN=$(jq -r .id "$T/run.json")
check "a large backup over SFTP starts (--no-wait)" test "$rc" = 0
for _ in $(seq 1 200); do
	p=$(A backup list --site shop.test --json | jq -r ".items[] | select(.id == $RUN) | .progress")
	[ "${p:-0}" -ge 12 ] && break
	sleep 0.1
done
check "... its progress is reported from restic's JSON status lines" test "${p:-0}" -ge 12
stop_sshd
for _ in $(seq 1 900); do
	st=$(A backup list --site shop.test --json | jq -r ".items[] | select(.id == $RUN) | .state")
	[ "$st" = running ] || break
	sleep 0.1
done
A backup list --site shop.test --json | jq ".items[] | select(.id == $RUN)" > "$T/failed.json"
check "... the run ends failed when the server goes away" jqe '.state == "failed"' "$T/failed.json"
check "... with restic's reason" jqe '.message | test("restic backup")' "$T/failed.json"
check "the server comes back" start_sshd
A backup snapshots --from off --site shop.test --json > "$T/snaps.json"
check "... the earlier snapshot is intact" jqe --arg s "$SNAPS1" '[.snapshots[].short_id] == [$s]' "$T/snaps.json"
check "... and the repository checks clean" ran A backup check --from off --subset 100
check "the next run succeeds" ran A backup run --site shop.test --to off
check "... a second snapshot" test "$(A backup snapshots --from off --site shop.test --json | jq '.snapshots | length')" = 2

# Cancel: a running backup stops and is recorded failed, cancelled; the next one works.
rc=0; A backup run --site shop.test --to loc --no-wait --json > "$T/run.json" 2>"$T/err" || rc=$?
RUN=$(jq -r .id "$T/run.json")
it_user canceller operator 'correct horse battery staple'
J="$T/jar"
check "an operator signs in" test "$(it_login "$J" canceller 'correct horse battery staple')" = 303
code=$(curl -s -o /dev/null -D "$T/hdr" -w '%{http_code}' -b "$J" -c "$J" -H "Origin: $(url '')" \
	--data-urlencode "csrf=$(csrf_of "$J")" "$(url "/backups/runs/$RUN/cancel")")
loc=$(awk 'tolower($1) == "location:" {print $2}' "$T/hdr" | tr -d '\r')
check "a running backup is cancelled from its page's form: 303 back to the run ($code $loc)" \
	test "$code $loc" = "303 /backups/runs/$RUN"
curl -s -b "$J" -c "$J" "$(url "$loc")" > "$T/p1.html"
check "... whose page says so once" grep -q 'class="flash flash-ok"' "$T/p1.html"
curl -s -b "$J" -c "$J" "$(url "$loc")" > "$T/p2.html"
check "... and not after a reload" bash -c "! grep -q 'class=\"flash' '$T/p2.html'"
A backup list --site shop.test --json | jq ".items[] | select(.id == $RUN)" > "$T/cancel.json"
check "... recorded failed: cancelled" jqe '.state == "failed" and (.message | test("cancelled"))' "$T/cancel.json"
rm -f "$WEB/big.bin"
check "... the next backup to that destination succeeds" ran A backup run --site shop.test --to loc
check "... an integrity check after it passes" ran A backup check --from loc --subset 10

# ---------------------------------------------------------------- S3 destination
S3_PORT=$(it_free_port)
S3_ID="AK$(openssl rand -hex 8 | tr a-f A-F)"
S3_SECRET=$(openssl rand -hex 20)
mkdir -p "$D/s3data"
printf '%s\n%s\n' "$S3_ID" "$S3_SECRET" > "$D/s3.keys"
[ -d "$SRC/tests/s3/node_modules/s3rver" ] || echo "tests/s3/node_modules missing: npm ci --prefix tests/s3 (scripts/install-deps.sh)"
# TLS with a certificate of its own (the destination is given its CA, restic --cacert).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/s3.key" -out "$D/s3.crt" \
	-days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
node "$SRC/tests/s3/serve.js" "$D/s3data" "$S3_PORT" "$D/s3.keys" "$D/s3.key" "$D/s3.crt" > "$D/s3.log" 2>&1 &
S3_PID=$!
s3_up() { for _ in $(seq 1 200); do grep -q listening "$D/s3.log" 2>/dev/null && return 0; kill -0 "$S3_PID" 2>/dev/null || return 1; sleep 0.05; done; return 1; }
check "an S3 endpoint (s3rver) starts on loopback" s3_up
touch "$T/watch"; watch_argv
check "an S3 destination is added (keys from a file)" ran A backup-dest add cloud --url "s3:https://127.0.0.1:$S3_PORT/backups/aapanel" --keys-file "$D/s3.keys" --region us-east-1 --ca-file "$D/s3.crt"
check "... the keys are in a helper-only credentials file" test "$(stat -c %a "$BKD/cloud/credentials")" = 600
check "... the repository is in the bucket" test -n "$(find "$D/s3data/backups" -path '*aapanel/config*' | head -1)"
check "a site backup to S3 succeeds" ran A backup run --site shop.test --to cloud
SNAP3=$(A backup list --site shop.test --json | jq -r '.items[0].snapshot')
rm -rf "$WEB"/*
mysql_q "DELETE FROM t"; pg_q "DELETE FROM t" >/dev/null
check "restore from S3 into place succeeds" ran A backup restore --from cloud --snapshot "$SNAP3" --site shop.test
rm -f "$T/watch"; wait "$WATCH_PID" 2>/dev/null || true
check "... the files are byte-identical" cmp -s "$T/web.sum" <(tree_sum "$WEB")
check "... the MariaDB rows" cmp -s "$T/my.rows" <(my_rows)
check "... the PostgreSQL rows" cmp -s "$T/pg.rows" <(pg_rows)
check "the argv watcher saw restic talk to S3" grep -q "s3:https://127.0.0.1:$S3_PORT" "$T/argv.log"
check "... and never the S3 keys" bash -c "! grep -qF -e '$S3_SECRET' -e '$S3_ID' '$T/argv.log'"

# ---------------------------------------------------------------- the screens and the API
it_user admin admin 'correct horse battery staple'
it_user oper operator 'correct horse battery staple'
it_user view viewer 'correct horse battery staple'
TOKEN=$(A token create --user admin --scope write --name t | tail -1)
OPTOKEN=$(A token create --user oper --scope write --name o | tail -1)
VTOKEN=$(A token create --user view --scope read --name v | tail -1)
check "GET /api/v1/backups answers (200)" test "$(api GET /backups)" = 200
check "... each site and database with its last successful backup and age" \
	jqe '([.targets[] | select(.kind == "site" and .target == "shop.test" and .last_ok != null and .age >= 0)] | length == 1) and ([.targets[] | select(.kind == "database" and .target == "blogpg" and .last_ok != null)] | length == 1)' "$T/api.json"
check "... a database never backed up says so (null)" jqe '.targets[] | select(.target == "blogcopy") | .last_ok == null' "$T/api.json"
check "... the runs, newest first" jqe '.runs | length >= 10 and .[0].id > .[1].id' "$T/api.json"
cp "$T/api.json" "$T/pages.txt"
check "GET /api/v1/backup-destinations lists the three" test "$(api GET /backup-destinations)" = 200
check "... names, kinds and URLs only" jqe '[.items[].name] == ["cloud","loc","off"] and ([.items[].kind] | sort) == ["local","s3","sftp"] and (.items[0] | keys) == ["created","kind","name","url"]' "$T/api.json"
cat "$T/api.json" >> "$T/pages.txt"
check "a backup through the API starts (201)" test "$(api POST /backups '{"kind":"site","target":"shop.test","dest":"loc","keep_last":10}')" = 201
RID=$(jq -r .id "$T/api.json")
for _ in $(seq 1 200); do
	api GET "/backups/runs/$RID" >/dev/null
	[ "$(jq -r .state "$T/api.json")" = running ] || break
	sleep 0.1
done
check "... and ends done with its snapshot" jqe '.state == "done" and .progress == 100 and (.snapshot | length >= 8)' "$T/api.json"
ASNAP=$(jq -r .snapshot "$T/api.json")
check "an unknown site is a 400 naming site" test "$(api POST /backups '{"kind":"site","target":"nope.test","dest":"loc"}')$(jq -r .error.field "$T/api.json")" = 400site
check "an unknown destination is a 400 naming dest" test "$(api POST /backups '{"kind":"site","target":"shop.test","dest":"nope"}')$(jq -r .error.field "$T/api.json")" = 400dest
check "a hostile destination URL is a 400 naming url" test "$(api POST /backup-destinations '{"name":"x","url":"local:/srv/x;reboot"}')$(jq -r .error.field "$T/api.json")" = 400url
check "an operator may back up (201)" test "$(TOKEN=$OPTOKEN api POST /backups '{"kind":"database","target":"blogpg","dest":"loc"}')" = 201
check "... but not restore (403)" test "$(TOKEN=$OPTOKEN api POST /backups/restore "{\"dest\":\"loc\",\"snapshot\":\"$ASNAP\",\"kind\":\"site\",\"target\":\"shop.test\",\"confirmed\":true}")" = 403
check "... nor add a destination (403)" test "$(TOKEN=$OPTOKEN api POST /backup-destinations '{"name":"x","url":"local:/srv/x"}')" = 403
check "a viewer sees the backups (200)" test "$(TOKEN=$VTOKEN api GET /backups)" = 200
check "... and may not start one (403)" test "$(TOKEN=$VTOKEN api POST /backups '{"kind":"site","target":"shop.test","dest":"loc"}')" = 403
echo changed > "$WEB/index.html"
check "a restore through the API, confirmed, starts (201)" test "$(api POST /backups/restore "{\"dest\":\"loc\",\"snapshot\":\"$ASNAP\",\"kind\":\"site\",\"target\":\"shop.test\",\"confirmed\":true}")" = 201
RID=$(jq -r .id "$T/api.json")
for _ in $(seq 1 200); do
	api GET "/backups/runs/$RID" >/dev/null
	[ "$(jq -r .state "$T/api.json")" = running ] || break
	sleep 0.1
done
check "... and ends done: the files are the snapshot's again" test "$(jq -r .state "$T/api.json")$(cat "$WEB/index.html" | head -c 5)" = "donehello"
J="$T/jar"
check "the admin signs in" test "$(it_login "$J" admin 'correct horse battery staple')" = 303
page() { curl -s -b "$J" -c "$J" "$(url "$1")"; }
page /backups > "$T/p.html"; cat "$T/p.html" >> "$T/pages.txt"
check "the Backups page shows the site with its last backup and a restore button" \
	bash -c "grep -q 'shop.test' '$T/p.html' && grep -q 'action=\"/backups/restore\"' '$T/p.html' && grep -q '<time' '$T/p.html'"
page "/backups/runs/$RID" > "$T/p.html"; cat "$T/p.html" >> "$T/pages.txt"
check "a run's page shows its result" grep -q 'badge-ok' "$T/p.html"
page /backup-destinations > "$T/p.html"; cat "$T/p.html" >> "$T/pages.txt"
check "the destinations page lists them with the add form" bash -c "grep -q 's3:https://127.0.0.1' '$T/p.html' && grep -q 'name=\"ssh_key\"' '$T/p.html'"
curl -s -b "$J" -c "$J" -H 'Accept-Language: ar' --cookie "lang=ar" "$(url /backups)" > "$T/p.html"
check "... in Arabic, right to left" grep -q 'dir="rtl"' "$T/p.html"
CSRF=$(csrf_of "$J")
rc=$(curl -s -o "$T/p.html" -w '%{http_code}' -b "$J" -c "$J" -H "Origin: $(url '')" --data-urlencode "csrf=$CSRF" \
	--data "dest=loc&snapshot=$ASNAP&kind=site&target=shop.test" "$(url /backups/restore)")
check "a restore from the browser asks first (confirmation page)" test "$rc" = 200 -a "$(grep -c 'confirmed' "$T/p.html")" -ge 1

# ---------------------------------------------------------------- a stale backup raises an alert
HOOK_PORT=$(it_free_port)
HSECRET='the webhook secret of t_backups'
python3 "$SRC/tests/integration/hook_sink.py" "$HOOK_PORT" "$D/hooks" "$HSECRET" &
HOOK_PID=$!
hook_up() { for _ in $(seq 1 200); do ss -Htln "sport = :$HOOK_PORT" | grep -q . && return 0; sleep 0.05; done; return 1; }
check "a webhook receiver listens (hook_sink.py)" hook_up
printf '%s\n' "$HSECRET" > "$D/hook.secret"
check "a webhook alert channel" ran A alert channel add hook --webhook "http://127.0.0.1:$HOOK_PORT/alert/tok" --secret-file "$D/hook.secret"
check "a rule: blogpg's last successful backup older than 24 h" ran A alert rule add --metric backup_age --target blogpg --threshold 24
check "... the rule reads as such" bash -c "$(declare -f A); BIN='$BIN' T='$T' SRC='$SRC'; A alert rule list | grep -q 'Last successful backup of blogpg older than 24 h'"
# Its backups made three days ago (made-up dates, as a schedule that stopped would leave them).
sqlite3 "$T/var/aapanel.db" "UPDATE backup_runs SET started_at = started_at - 259200, ended_at = ended_at - 259200 WHERE target = 'blogpg'"
fired=""
for i in $(seq 1 300); do # the sampler judges every second (monitor.interval 1) and sends from its outbox
	[ -s "$D/hooks" ] && [ "$(jq -s 'map(select(.event == "firing")) | length' "$D/hooks")" -ge 1 ] && { fired=$i; break; }
	sleep 0.2
done
check "the stale backup raises the alert through the channel (firing, signed)" \
	bash -c "[ -n '$fired' ] && jq -e -s 'map(select(.event == \"firing\")) | length == 1 and all(.valid)' '$D/hooks' >/dev/null"
check "... naming the database and how old its last backup is" bash -c "grep -q 'Backup of blogpg is stale' '$D/hooks'"
check "a fresh backup of it" ran A backup run --database blogpg --to loc
rec=""
for i in $(seq 1 300); do
	[ -s "$D/hooks" ] && [ "$(jq -s 'map(select(.event == "resolved")) | length' "$D/hooks")" -ge 1 ] && { rec=$i; break; }
	sleep 0.2
done
check "... resolves the alert" test -n "$rec"

# ---------------------------------------------------------------- secrets nowhere
PWS=$(cat "$BKD"/*/password)
sqlite3 "$T/var/aapanel.db" .dump > "$T/db.dump"
check "the audit log recorded the changes" test "$(sqlite3 "$T/var/aapanel.db" "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'backup%'")" -ge 10
leak=0
for f in "$T/db.dump" "$T/helper.log" "$T/pool.log" "$T/pages.txt"; do
	for s in $PWS "$S3_SECRET" "$S3_ID" "$(sed -n 2p "$D/ssh/client_key")"; do
		grep -qF -- "$s" "$f" && { echo "    $s in $f"; leak=1; }
	done
done
check "no repository password, S3 key or SSH key in the panel's database, audit rows, logs, pages or answers" test "$leak" = 0

# ---------------------------------------------------------------- retention on made-up dates
# Snapshots dated by restic backup --time, then the helper's backup.forget with a policy:
# keep-daily 3 and keep-monthly 2 keep the newest of the last 3 days that have one and
# the newest of the last 2 months that have one — exactly these 4.
mkdir -p "$D/ret"; echo x > "$D/ret/f"
OWN=$(A backup snapshots --from loc --site shop.test --json | jq '.snapshots | length')
for t in "2026-01-10 12:00:00" "2026-01-10 08:00:00" "2026-01-09 12:00:00" "2026-01-08 12:00:00" \
	"2026-01-07 12:00:00" "2025-12-20 12:00:00" "2025-12-05 12:00:00"; do
	restic -q -r "$SB/srv/backups/loc" --password-file "$BKD/loc/password" --no-cache backup \
		--time "$t" --tag site:ret.test --host aapanel "$D/ret" >/dev/null
done
"$SEND" --call --timeout 20000 "$HS" backup.forget '{"dest":"loc","tag":"site:ret.test","keep_daily":3,"keep_monthly":2}' > "$T/f.json"
FJOB=$(jq -r .result.job "$T/f.json")
for _ in $(seq 1 300); do
	"$SEND" --call "$HS" job.status "{\"id\":$FJOB}" > "$T/fs.json"
	[ "$(jq -r .result.state "$T/fs.json")" = running ] || break
	sleep 0.1
done
check "retention ran" jqe '.result.state == "done" and .result.result.kept == 4 and .result.result.removed == 3' "$T/fs.json"
A backup snapshots --from loc --site ret.test --json | jq -r '[.snapshots[].time[0:16]] | sort | join(",")' > "$T/kept"
check "... it kept exactly the policy's snapshots" test "$(cat "$T/kept")" = "2025-12-20T12:00,2026-01-08T12:00,2026-01-09T12:00,2026-01-10T12:00"
check "... and left the site's own snapshots alone" test "$(A backup snapshots --from loc --site shop.test --json | jq '.snapshots | length')" = "$OWN"

it_summary
