#!/usr/bin/env bash
# The API as a contract, through the real nginx and pool: the OpenAPI 3.1
# document (served, and shipped as docs/openapi.json) validated by an npm
# validator and up to date with the route table; then tests/api/contract.mjs
# — every route in the document, every GET's live answer and every error
# answer validated against it, every POST by a scenario, no view-only
# member in any answer, 1,000 users walked by next while users are added,
# creates retried with an Idempotency-Key, and monitoring (the sampler at a
# 1 s interval, so history has points; alert episodes made here to page), and websites (the
# privileged helper on a sandbox and the test's nginx serving its vhosts, as t_forms.sh; with
# the helper stopped at the end, the list still answers and a change is a 503). Fails (never
# skips) when node or tests/api/node_modules are missing (scripts/install-deps.sh installs them).
# Certificates: one uploaded before the walk (made here with openssl), and the contract's
# issuance and forced renewal against pebble on loopback (acme_lib.sh; never Let's Encrypt).
# Databases: a throwaway MariaDB (dbservers.sh) with a server and a database made before the
# walk, and the contract's own server, database, password change, link and drops on it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites_lib.sh"
. "$(dirname "$0")/acme_lib.sh"
MODS="$SRC/tests/api/node_modules"
# The firewall's rules go to a network namespace of the test's (lib.sh deletes IT_NETNS).
IT_NETNS="aptest-api-$$"
ip netns add "$IT_NETNS"
it_setup "monitor = { interval = 1; };
firewall = { netns = \"/run/netns/$IT_NETNS\"; confirm_seconds = 30; };
$IT_MANAGED"
sites_setup
# files.roots, for the admins' other roots (GET /files/roots/{root}…): one, with a file a.
echo 'files = { roots = "www:/srv/www"; };' >> "$T/conf/profiles/test.cfg"
mkdir -p "$SB/srv/www" && printf 'a\n' > "$SB/srv/www/a"
# log.file, for the admins' log routes (GET /logs/{which}).
sed -i "s|^log = { level = \"info\"; };|log = { level = \"info\"; file = \"$T/var/log/aapanel.log\"; };|" "$T/conf/profiles/test.cfg"
mkdir -p "$T/var/log"
HTTPS_PORT=$(it_free_port)
check "pebble and its DNS start, the certs config points at them" acme_start "https_port = $HTTPS_PORT;"
. "$(dirname "$0")/dbservers.sh"
DBD=$(mktemp -d /tmp/aapanel-apidb.XXXXXX)
chmod 0755 "$DBD"
api_teardown() { local rc=$?; db_stop_all || true; rm -rf "$DBD"; (exit "$rc"); sites_teardown; }
trap api_teardown EXIT
check "MariaDB starts for the databases' scenarios" db_start_mariadb "$DBD/my"
DBPW=$(openssl rand -hex 16)
printf '%s\n' "$DBPW" > "$DBD/admin.pw"
_db_my_sql "CREATE USER 'dbadmin'@'127.0.0.1' IDENTIFIED BY '$DBPW'; GRANT ALL ON *.* TO 'dbadmin'@'127.0.0.1' WITH GRANT OPTION;"
check "node is installed" command -v node
check "the API test's modules are installed (npm ci --prefix tests/api)" \
	test -f "$MODS/@apidevtools/swagger-parser/package.json" -a -f "$MODS/ajv/package.json"
[ "$FAIL" -eq 0 ] || exit 1
it_start_pool
sites_start_nginx
sites_start_helper
DB="$T/var/aapanel.db"
PW='correct horse battery staple'
A() { "$BIN" --profile test --config "$(it_cfg)" --root "$SRC" "$@"; }

# ---- the shipped document
A openapi > "$T/doc.json"
check "docs/openapi.json is what 'aapanel openapi' makes of the route table (regenerate: build/aapanel openapi > docs/openapi.json)" \
	diff -q "$T/doc.json" "$SRC/docs/openapi.json"
node "$SRC/tests/api/validate.mjs" "$SRC/docs/openapi.json" > "$T/validate.out" 2>&1 || true
cat "$T/validate.out"
check "docs/openapi.json validates as OpenAPI 3.1" grep -q '^  ok ' "$T/validate.out"
check "it has no test-only route" bash -c "! jq -e '.paths | keys[] | select(startswith(\"/_test\"))' '$SRC/docs/openapi.json' >/dev/null"
rc=0; A openapi --base nope > /dev/null 2> "$T/err" || rc=$?
check "aapanel openapi --base without a leading / is exit 2 with the reason" \
	bash -c "[ $rc = 2 ] && grep -q -- '--base: must start with /' '$T/err'"

# ---- the data the contract walks: 1,000 users made here, straight into the table
it_user admin admin "$PW"
TOKEN=$(A token create --user admin --name contract --scope admin 2>/dev/null | grep -o 'apn_[0-9a-f]*')
check "an admin token for the contract test" test -n "$TOKEN"
hash=$(sqlite3 "$DB" "SELECT password_hash FROM users WHERE username = 'admin'")
{
	echo "BEGIN;"
	for i in $(seq 1 1000); do
		echo "INSERT INTO users (username, password_hash, role, created_at, updated_at, password_changed_at) VALUES ('bulk-$i', '$hash', 'viewer', 1, 1, 1);"
	done
	echo "COMMIT;"
} | sqlite3 "$DB"
# alert episodes for the history's pages: two still firing, one of them about the host itself
{
	echo "BEGIN;"
	for i in 1 2 3 4 5; do
		resolved=$([ "$i" -ge 4 ] && echo NULL || echo $((1800000000 + i * 600 + 300)))
		subject=$([ "$i" = 5 ] && echo "" || echo "/srv")
		echo "INSERT INTO alert_events (rule_id, host, subject, rule_text, value, peak, started_at, resolved_at) VALUES (NULL, 'web1', '$subject', 'Disk space above 90 %', 91.$i, 97.25, $((1800000000 + i * 600)), $resolved);"
	done
	echo "COMMIT;"
} | sqlite3 "$DB"
# sites for GET /sites/{id} and the list's pages (the contract makes and deletes its own)
rc=0
A site add one.api.test --type static > /dev/null || rc=$?
A site add two.api.test --type static --alias www.two.api.test > /dev/null || rc=$?
check "two sites before the walk (aapanel site add)" bash -c "[ $rc = 0 ] && [ \$(sqlite3 '$DB' 'SELECT COUNT(*) FROM sites') = 2 ]"
# a file named a in the first one's document root: the walk reads /sites/{id}/files/content?path=a
printf 'a\n' > "$SB/var/www/one.api.test/public/a"
# a certificate for GET /certificates/{id}: one.api.test's, self-signed, uploaded
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=one.api.test -addext subjectAltName=DNS:one.api.test \
	-keyout "$T/one.key" -out "$T/one.pem" 2>/dev/null
jq -n --rawfile c "$T/one.pem" --rawfile k "$T/one.key" '{domain:"one.api.test",cert:$c,key:$k}' > "$T/one.json"
code=$(curl -s -o "$T/up.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
	--data-binary @"$T/one.json" "$(url /api/v1/certificates)")
check "a certificate before the walk (one.api.test's, uploaded: $code)" test "$code" = 201
# a database server and a database for GET /databases/{id}
rc=0
A dbserver add apidb --dsn "mysql://dbadmin@127.0.0.1:$MYSQL_PORT/" --password-file "$DBD/admin.pw" > /dev/null || rc=$?
A database add apidb_one --server apidb --site one.api.test > /dev/null || rc=$?
check "a database server and a database before the walk (aapanel dbserver add, database add)" test "$rc" = 0
check "a scheduled task before the walk (aapanel task add)" quiet A task add walk-task --schedule '@daily' --command /bin/true
check "a backup destination before the walk (aapanel backup-dest add)" quiet A backup-dest add walk --url local:/srv/walk-backups
check "a backup run before the walk (aapanel backup run)" quiet A backup run --site one.api.test --to walk
check "5 alert episodes before the walk" test "$(sqlite3 "$DB" 'SELECT COUNT(*) FROM alert_events')" = 5
PRE_MAX_ID=$(sqlite3 "$DB" "SELECT MAX(id) FROM users")
PRE_COUNT=$(sqlite3 "$DB" "SELECT COUNT(*) FROM users")
check "1,001 users before the walk" test "$PRE_COUNT" = 1001
# a browser session of the admin, for the session scenarios
check "the admin signs in with a browser too" test "$(it_login "$T/jar" admin "$PW")" = 303
curl -s -H "Authorization: Bearer $TOKEN" "$(url /api/v1/openapi.json)" | jq -S . > "$T/served.json"
A openapi --testing | jq -S . > "$T/doc-test.json"
check "the served document is 'aapanel openapi --testing' (the test profile's table)" \
	diff -q "$T/served.json" "$T/doc-test.json"
A routes --json > "$T/routes.json"

ORIGIN="http://127.0.0.1:$PORT" TOKEN="$TOKEN" \
	ADMIN=admin PASSWORD="$PW" ROUTES="$T/routes.json" \
	PRE_MAX_ID="$PRE_MAX_ID" PRE_COUNT="$PRE_COUNT" \
	MYSQL_ADMIN_DSN="mysql://dbadmin@127.0.0.1:$MYSQL_PORT/" MYSQL_ADMIN_PASSWORD="$DBPW" \
	node "$SRC/tests/api/contract.mjs" > "$T/contract.out" 2>&1 || true
cat "$T/contract.out"
check "the contract test ran to its end" grep -q '^contract: ' "$T/contract.out"
PASS=$((PASS + $(grep -c '^  ok ' "$T/contract.out" || true)))
FAIL=$((FAIL + $(grep -c '^  FAIL ' "$T/contract.out" || true)))
# The helper down: the list still answers (each site not known to be served), a change is a 503.
sites_stop_helper
curl -s -o "$T/b" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$(url /api/v1/sites)" > "$T/code"
check "the helper stopped: GET /sites is still a SiteList, served null (not known) on every site" \
	bash -c "[ \"\$(cat '$T/code')\" = 200 ] && jq -e '(keys == [\"items\", \"next\"]) and (.items | length) >= 2 and all(.items[]; .served == null)' '$T/b' >/dev/null"
curl -s -o "$T/b" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
	-d '{"domain":"down.api.test","kind":"static"}' "$(url /api/v1/sites)" > "$T/code"
check "... POST /sites is a 503 Error: unavailable, the helper not reachable" \
	bash -c "[ \"\$(cat '$T/code')\" = 503 ] && jq -e '(keys == [\"error\"]) and .error.status == 503 and .error.code == \"unavailable\" and (.error.request_id | length) > 0' '$T/b' >/dev/null"
check "... and leaves no row" test "$(sqlite3 "$DB" "SELECT COUNT(*) FROM sites WHERE domain = 'down.api.test'")" = 0
# With the pool stopped nginx answers the API, still with the error document.
kill -TERM "$POOL_PID"; wait "$POOL_PID" 2>/dev/null || true; POOL_PID=""
curl -s -D "$T/h" -o "$T/b" -H "Authorization: Bearer $TOKEN" "$(url /api/v1/users)"
check "the pool stopped: 502 and the Error document from nginx (code unavailable, nginx's request id)" \
	bash -c "grep -q '^HTTP/1.1 502' '$T/h' && jq -e '(keys == [\"error\"]) and .error.status == 502 and .error.code == \"unavailable\" and (.error.request_id | test(\"^[0-9a-f]{32}$\"))' '$T/b' >/dev/null"
check "no worker died" bash -c "! grep -E 'worker [0-9]+ (died|exited)' '$T/pool.log'"
check "the panel logged no answer that missed its schema" bash -c "! grep -q 'does not match schema' '$T/pool.log'"
check "the idempotency table keeps hashes, never a password or a token" \
	bash -c "! sqlite3 '$DB' 'SELECT * FROM idempotency_keys' | grep -qE 'horse|apn_[0-9a-f]{64}'"
it_summary
