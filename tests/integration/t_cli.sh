#!/usr/bin/env bash
# The command line: help, config check (exit codes, FILE:LINE: KEY: REASON),
# config show masking the secret, production secret rules.
. "$(dirname "$0")/lib.sh"
KEYDIR=$(mktemp -d /tmp/aapanel-key.XXXXXX)
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$KEYDIR/key"; chmod 600 "$KEYDIR/key"
it_setup "security = { secret_key_file = \"$KEYDIR/key\"; };"
mv "$KEYDIR/key" "$T/key"; rmdir "$KEYDIR"
sed -i "s|$KEYDIR/key|$T/key|" "$T/conf/profiles/test.cfg"
A=("$BIN" --profile test --config "$(it_cfg)" --root "$SRC")

out=$("$BIN" --help)
for c in serve config status help alert; do
	check "--help lists $c" grep -q "^  $c " <<<"$out"
	check "help $c documents it" bash -c "'$BIN' help $c | grep -q 'usage: aapanel'"
done
check "unknown command exits 2" bash -c "'$BIN' frobnicate; test \$? -eq 2"
check "--version prints the version" bash -c "'$BIN' --version | grep -qE '^aapanel [0-9]+\.[0-9]+\.[0-9]+'"

check "config check passes on the test config" "${A[@]}" config check
check "shipped development config is valid" "$BIN" --root "$SRC" --profile development config check

cp "$T/conf/profiles/test.cfg" "$T/good.cfg"
printf 'pool = { workers = "three"; wokers = 2; };\n' >> "$T/conf/profiles/test.cfg"
rc=0; "${A[@]}" config check > "$T/out" 2>&1 || rc=$?
check "invalid config exits 1" test "$rc" = 1
check "type error reported as file:line: key: reason" grep -qE "profiles/test.cfg:[0-9]+: pool.workers: " "$T/out"
check "typo reported with a suggestion" grep -qE "profiles/test.cfg:[0-9]+: .*wokers.*did you mean" "$T/out"
cp "$T/good.cfg" "$T/conf/profiles/test.cfg"

key=$(cat "$T/key")
"${A[@]}" config show > "$T/show"
check "config show prints the effective configuration" grep -q 'request_timeout' "$T/show"
check "config show names the key file" grep -q "$T/key" "$T/show"
check "config show never prints the secret" test "$(grep -c "$key" "$T/show")" = 0

# production refuses to start without a secret key
mkdir -p "$T/prod/profiles"
cp "$SRC/conf/aapanel.cfg" "$T/prod/aapanel.cfg"
printf 'security = { secret_key_file = ""; };\npaths = { var_dir = "%s/pv"; run_dir = "%s/pv/run"; log_dir = "%s/pv/log"; };\n' "$T" "$T" "$T" > "$T/prod/profiles/production.cfg"
rc=0; CREDENTIALS_DIRECTORY='' "$BIN" --profile production --config "$T/prod/aapanel.cfg" --root "$SRC" config check > "$T/out" 2>&1 || rc=$?
check "production without a secret key is invalid" test "$rc" = 1
check "and says why" grep -qi 'secret key' "$T/out"
mkdir -p "$T/creds"; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$T/creds/aapanel-secret"; chmod 600 "$T/creds/aapanel-secret"
check "production accepts the systemd credential" env CREDENTIALS_DIRECTORY="$T/creds" "$BIN" --profile production --config "$T/prod/aapanel.cfg" --root "$SRC" config check

# A change and its audit row are one transaction (issue 19): with the audit
# log refusing rows (a trigger in this test's own panel database), the
# change is not recorded either, and the command says so with exit 1.
DB="$T/var/aapanel.db"
PW='correct horse battery staple'
rc=0; printf '%s\n' "$PW" | "${A[@]}" user add alice --role admin --password-stdin > "$T/out" 2>&1 || rc=$?
check "user add exits 0 (rc $rc)" test "$rc" = 0
check "... audited in the same commit: user.add alice via cli" \
	test "$(sqlite3 "$DB" "SELECT COUNT(*) FROM audit_log WHERE action = 'user.add' AND target = 'alice' AND via = 'cli' AND outcome = 'ok'")" = 1
rc=0; "${A[@]}" alert rule add --metric disk_space --target / --threshold 85 --duration 10 > "$T/out" 2>&1 || rc=$?
check "alert rule add exits 0 and is audited (rc $rc)" \
	test "$rc" = 0 -a "$(sqlite3 "$DB" "SELECT COUNT(*) FROM audit_log WHERE action = 'alert.rule.add'")" = 1
rules=$(sqlite3 "$DB" "SELECT COUNT(*) FROM alert_rules")
n=$(sqlite3 "$DB" "SELECT COUNT(*) FROM audit_log")
sqlite3 "$DB" "CREATE TRIGGER t_cli_no_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'refused by t_cli.sh'); END;"
rc=0; printf '%s\n' "$PW" | "${A[@]}" user add bob --role viewer --password-stdin > "$T/out" 2> "$T/err" || rc=$?
check "with the audit log refusing: user add exits 1 (rc $rc)" test "$rc" = 1
check "... and says the change was not done, and why" \
	grep -q "user.add bob: not done: the audit log could not be written (.*refused by t_cli.sh.*); nothing of this change was recorded" "$T/err"
check "... prints no success" test ! -s "$T/out"
check "... no user bob" test "$(sqlite3 "$DB" "SELECT COUNT(*) FROM users WHERE username = 'bob'")" = 0
rc=0; "${A[@]}" user disable alice > "$T/out" 2> "$T/err" || rc=$?
check "user disable exits 1 (rc $rc), alice still enabled" \
	test "$rc" = 1 -a "$(sqlite3 "$DB" "SELECT disabled FROM users WHERE username = 'alice'")" = 0
rc=0; "${A[@]}" token create --user alice --name ci --scope read > "$T/out" 2> "$T/err" || rc=$?
check "token create exits 1 (rc $rc), no token, no token printed" \
	test "$rc" = 1 -a "$(sqlite3 "$DB" "SELECT COUNT(*) FROM api_tokens")" = 0 -a ! -s "$T/out"
rc=0; "${A[@]}" alert rule add --metric disk_space --target / --threshold 90 --duration 10 > "$T/out" 2> "$T/err" || rc=$?
check "alert rule add exits 1 (rc $rc), no new rule" \
	test "$rc" = 1 -a "$(sqlite3 "$DB" "SELECT COUNT(*) FROM alert_rules")" = "$rules"
check "no audit row was written meanwhile" test "$(sqlite3 "$DB" "SELECT COUNT(*) FROM audit_log")" = "$n"
sqlite3 "$DB" "DROP TRIGGER t_cli_no_audit;"
rc=0; printf '%s\n' "$PW" | "${A[@]}" user add bob --role viewer --password-stdin > "$T/out" 2>&1 || rc=$?
check "the audit log writable again: user add bob exits 0, audited (rc $rc)" \
	test "$rc" = 0 -a "$(sqlite3 "$DB" "SELECT COUNT(*) FROM audit_log WHERE action = 'user.add' AND target = 'bob'")" = 1
check "audit verify: the chain intact" "${A[@]}" audit verify

it_summary
