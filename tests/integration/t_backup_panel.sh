#!/usr/bin/env bash
# The panel's own backup (issue 18): its SQLite database (a consistent copy
# made while the pool runs) and configuration files, with and without the
# secret key (the snapshot's file list proves which), to a local restic
# repository; restored into a new folder (never over the running panel):
# sqlite3 opens the copy and finds the same users and audit rows. Browsing a
# snapshot and downloading one file through the API and the page,
# byte-identical; hostile paths and ids refused with 400 naming the field;
# no repository password or secret key in any argv, page or answer.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites_lib.sh"
it_setup 'pool = { request_timeout = 20; }; monitor = { interval = 1; send_timeout = 5; };'
sites_setup 'system_users = false;'
sed -i "s/^helper = { /helper = { job_timeout = 600; /; s/timeout_ms = 5000;/timeout_ms = 20000;/" "$T/conf/profiles/test.cfg"
it_start_pool
sites_start_nginx
sites_start_helper
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
ran() { "$@" > "$T/ran.log" 2>&1 || { sed 's/^/    | /' "$T/ran.log" | tail -n 8; return 1; }; }
it_user admin admin 'correct horse battery staple'
it_user oper operator 'operator horse battery staple'
it_user view viewer 'viewer horse battery staple'
DB="$T/var/aapanel.db"
BKD="$SB/etc/aapanel/backups"

check "a local destination" ran A backup-dest add loc --url local:/srv/backups/loc
PW=$(cat "$BKD/loc/password")
KEY=$(cat "$T/var/secret_key")
# argv watcher: every process's command line, sampled while runs go on
: > "$T/argv.log"; touch "$T/watch"
( while [ -e "$T/watch" ]; do { cat /proc/[0-9]*/cmdline 2>/dev/null || true; } | tr '\0' ' ' >> "$T/argv.log"; echo >> "$T/argv.log"; sleep 0.02; done ) &
WATCH_PID=$!

# ---------------------------------------------------------------- bad input (CLI)
rc=0; A backup run --panel 2>"$T/err" >/dev/null || rc=$?
check "backup run --panel without --to: exit 2 naming to" bash -c "[ $rc = 2 ] && grep -q ': to:' '$T/err'"
rc=0; A backup run --panel --site x.test --to loc 2>"$T/err" >/dev/null || rc=$?
check "--panel with --site: exit 2" test "$rc" = 2
rc=0; A backup run --site x.test --with-secret --to loc 2>"$T/err" >/dev/null || rc=$?
check "--with-secret without --panel: exit 2 naming with-secret" bash -c "[ $rc = 2 ] && grep -q 'with-secret' '$T/err'"
rc=0; A backup run --panel --to nosuch 2>"$T/err" >/dev/null || rc=$?
check "an unknown destination: exit 2 naming dest" bash -c "[ $rc = 2 ] && grep -q 'dest' '$T/err'"

# ---------------------------------------------------------------- without the secret key
check "the panel is backed up (no secret key)" ran A backup run --panel --to loc --keep-last 3 --json
jq . "$T/ran.log" > "$T/run1.json" 2>/dev/null || true
check "... the run is done, tagged panel" jqe '.state == "done" and .target_kind == "panel" and (.snapshot | test("^[0-9a-f]{8,}$"))' "$T/run1.json"
S1=$(jq -r .snapshot "$T/run1.json")
A backup snapshots --from loc --panel --json > "$T/snaps.json"
check "... one snapshot tagged panel" jqe '.snapshots | length == 1 and .[0].tags == ["panel"]' "$T/snaps.json"
P1=$(jq -r '.snapshots[0].paths[0]' "$T/snaps.json")
A backup ls --from loc --snapshot "$S1" --path "$P1" --json > "$T/ls1.json"
A backup ls --from loc --snapshot "$S1" --path "$P1/config" --json > "$T/ls1c.json"
check "... it holds the database, the manifest and the configuration" jqe '[.entries[].name] | index("database.sqlite") != null and index("MANIFEST.json") != null and index("config") != null' "$T/ls1.json"
check "... the configuration files: the base file and the profile" jqe '[.entries[].name] | index("aapanel.cfg") != null and index("profile-test.cfg") != null' "$T/ls1c.json"
check "... and NOT the secret key" jqe '[.entries[].name] | index("secret_key") == null' "$T/ls1.json"
A backup get --from loc --snapshot "$S1" --path "$P1/MANIFEST.json" > "$T/manifest1.json"
check "... its manifest says sqlite, no secret" jqe '.backend == "sqlite" and .secret == false and (.files | index("database.sqlite") != null)' "$T/manifest1.json"
check "the staging folder is gone" test ! -e "$BKD/.dumps/panel"

# ---------------------------------------------------------------- with the secret key
A backup run --panel --with-secret --to loc --json > "$T/run2.json" 2> "$T/run2.err"
check "with --with-secret: done, with a warning on stderr" bash -c "jq -e '.state == \"done\"' '$T/run2.json' >/dev/null && grep -q 'warning: this backup holds the panel.s secret key' '$T/run2.err'"
check "... the run says it holds the secret key" jqe '.message == "includes the secret key"' "$T/run2.json"
S2=$(jq -r .snapshot "$T/run2.json")
A backup ls --from loc --snapshot "$S2" --path "$P1" --json > "$T/ls2.json"
check "... the snapshot holds the secret key" jqe '[.entries[].name] | index("secret_key") != null' "$T/ls2.json"
check "... audited: backup.run of panel with secret true" test "$(sqlite3 "$DB" "SELECT COUNT(*) FROM audit_log WHERE action = 'backup.run' AND target = 'panel' AND after_json LIKE '%\"secret\": true%'")" -ge 1 -o \
	"$(sqlite3 "$DB" "SELECT COUNT(*) FROM audit_log WHERE action = 'backup.run' AND target = 'panel' AND after_json LIKE '%\"secret\":true%'")" -ge 1
A backup list --panel --json > "$T/list.json"
check "backup list --panel: both runs" jqe '.items | length == 2 and all(.target == "panel")' "$T/list.json"

# ---------------------------------------------------------------- restore into a new folder
rc=0; A backup restore --panel --from loc --snapshot "$S1" 2>"$T/err" >/dev/null || rc=$?
check "restore --panel without --to-dir: exit 2 naming to-dir" bash -c "[ $rc = 2 ] && grep -q 'to-dir' '$T/err'"
rc=0; A backup restore --panel --from loc --snapshot "$S1" --to-dir ../etc 2>"$T/err" >/dev/null || rc=$?
check "... a hostile folder name: exit 2 naming new_dir" bash -c "[ $rc = 2 ] && grep -q 'new_dir' '$T/err'"
sqlite3 "$DB" "SELECT id, username, role, password_hash FROM users ORDER BY id" > "$T/users.now"
check "the panel is restored into a new folder" ran A backup restore --panel --from loc --snapshot "$S1" --to-dir first
R="$BKD/.panel-restores/first"
check "... the folder holds the database and the configuration" test -f "$R/database.sqlite" -a -f "$R/config/aapanel.cfg" -a -f "$R/MANIFEST.json"
check "... sqlite3 opens it: the same users" test "$(sqlite3 "$R/database.sqlite" "SELECT id, username, role, password_hash FROM users ORDER BY id")" = "$(cat "$T/users.now")"
check "... integrity ok" test "$(sqlite3 "$R/database.sqlite" "PRAGMA integrity_check")" = ok
N1=$(sqlite3 "$R/database.sqlite" "SELECT COUNT(*) FROM audit_log")
check "... the audit rows up to the backup, identical" test "$(sqlite3 "$R/database.sqlite" "SELECT id, action, target FROM audit_log ORDER BY id")" = "$(sqlite3 "$DB" "SELECT id, action, target FROM audit_log WHERE id <= (SELECT MAX(id) FROM audit_log) ORDER BY id LIMIT $N1")"
check "... no secret key in a backup made without it" test ! -e "$R/secret_key"
check "... the configuration byte-identical" cmp -s "$R/config/aapanel.cfg" "$T/conf/aapanel.cfg"
check "... the running panel's database untouched" test "$(sqlite3 "$DB" "PRAGMA integrity_check")" = ok
rc=0; A backup restore --panel --from loc --snapshot "$S1" --to-dir first 2>"$T/err" >/dev/null || rc=$?
check "restoring into an existing folder is refused (the folder exists)" bash -c "[ $rc != 0 ] && grep -q 'exists' '$T/err'"
check "the secret snapshot restored into another folder" ran A backup restore --panel --from loc --snapshot "$S2" --to-dir second
check "... holds the secret key, the panel's own" test "$(cat "$BKD/.panel-restores/second/secret_key")" = "$KEY"
check "... 0600" test "$(stat -c %a "$BKD/.panel-restores/second/secret_key")" = 600

# ---------------------------------------------------------------- the API
TOKEN=$(A token create --user admin --scope write --name t | tail -1)
OPTOKEN=$(A token create --user oper --scope write --name o | tail -1)
VTOKEN=$(A token create --user view --scope read --name v | tail -1)
api_as() { local tok=$1 m=$2 p=$3; shift 3; curl -s -o "$T/api.json" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $tok" \
	-H 'Content-Type: application/json' ${1:+--data-binary "$1"} "$(url "/api/v1$p")"; }
check "GET /api/v1/backups: the panel with its last successful backup and age" \
	bash -c "[ \"\$(TOKEN=$TOKEN; $(declare -f api_as url); PORT=$PORT T=$T; api_as $TOKEN GET /backups)\" = 200 ] && jq -e '.panel.last_ok != null and .panel.age >= 0 and .panel.last_dest == \"loc\"' '$T/api.json' >/dev/null"
check "an operator may not back up the panel (403)" test "$(api_as "$OPTOKEN" POST /backups/panel '{"dest":"loc"}')" = 403
check "a viewer neither (403)" test "$(api_as "$VTOKEN" POST /backups/panel '{"dest":"loc"}')" = 403
code=$(api_as "$TOKEN" POST /backups/panel '{"dest":"../loc"}')
check "a hostile destination name: 400 naming dest" bash -c "[ $code = 400 ] && grep -q '\"dest\"' '$T/api.json'"
code=$(api_as "$TOKEN" POST /backups/panel '{"dest":"loc","secret":false,"keep_last":2}')
check "POST /api/v1/backups/panel: 201, a running run" bash -c "[ $code = 201 ] && jq -e '.target_kind == \"panel\" and .state == \"running\"' '$T/api.json' >/dev/null"
RID=$(jq -r .id "$T/api.json")
for _ in $(seq 1 200); do api_as "$TOKEN" GET "/backups/runs/$RID" >/dev/null; [ "$(jq -r .state "$T/api.json")" = running ] || break; sleep 0.1; done
check "... it ends done with its snapshot" jqe '.state == "done" and (.snapshot | length) >= 8' "$T/api.json"
S3=$(jq -r .snapshot "$T/api.json")
check "... retention keep_last 2 left two panel snapshots" test "$(A backup snapshots --from loc --panel --json | jq '.snapshots | length')" = 2
for bad in '{"dest":"loc","snapshot":"zz;rm","new_dir":"x"}:snapshot' '{"dest":"loc","snapshot":"'"$S3"'","new_dir":"../../etc"}:new_dir' \
	'{"dest":"loc","snapshot":"'"$S3"'","new_dir":".hidden"}:new_dir' '{"dest":"loc","snapshot":"'"$S3"'"}:new_dir'; do
	body=${bad%:*} field=${bad##*:}
	code=$(api_as "$TOKEN" POST /backups/panel/restore "$body")
	check "restore refused with 400 naming $field: $body" bash -c "[ $code = 400 ] && grep -q '\"$field\"' '$T/api.json'"
done
code=$(api_as "$TOKEN" POST /backups/panel/restore '{"dest":"loc","snapshot":"'"$S3"'","new_dir":"viaapi"}')
RID=$(jq -r .id "$T/api.json")
for _ in $(seq 1 200); do api_as "$TOKEN" GET "/backups/runs/$RID" >/dev/null; [ "$(jq -r .state "$T/api.json")" = running ] || break; sleep 0.1; done
check "POST /api/v1/backups/panel/restore: done, the new folder named" bash -c "[ $code = 201 ] && jq -e '.state == \"done\" and (.message | test(\"restored into .*/.panel-restores/viaapi\"))' '$T/api.json' >/dev/null"
check "... sqlite3 opens the copy: the same users" test "$(sqlite3 "$BKD/.panel-restores/viaapi/database.sqlite" "SELECT id, username, role, password_hash FROM users ORDER BY id")" = "$(cat "$T/users.now")"

# ---------------------------------------------------------------- the page
J="$T/jar"
check "the admin signs in" test "$(it_login "$J" admin 'correct horse battery staple')" = 303
page() { curl -s -b "$J" -c "$J" "$(url "$1")"; }
page /backups > "$T/p.html"; cat "$T/p.html" >> "$T/pages.txt"
check "the Backups page: a row for the panel with its last backup" bash -c "grep -A3 'class=\"panel-row\"' '$T/p.html' | grep -q '<time'"
check "... Back up now with the secret-key checkbox and its warning" bash -c "grep -q 'action=\"/backups/panel\"' '$T/p.html' && grep -q 'name=\"secret\"' '$T/p.html' && grep -q 'can sign in as any user' '$T/p.html'"
check "... panel runs restore into a new folder" bash -c "grep -q 'action=\"/backups/panel/restore\"' '$T/p.html' && grep -q 'name=\"new_dir\"' '$T/p.html'"
CSRF=$(csrf_of "$J")
code=$(curl -s -o "$T/p.html" -w '%{http_code}' -b "$J" -c "$J" -H "Origin: $(url '')" --data-urlencode "csrf=$CSRF" \
	--data "dest=loc&secret=1" "$(url /backups/panel)")
check "Back up now from the browser (secret included): to the run's page" test "$code" = 303
for _ in $(seq 1 200); do [ "$(A backup list --panel --json | jq -r '.items[0].state')" = running ] || break; sleep 0.1; done
check "... done, and the run says it includes the secret key" jqe '.items[0].state == "done" and .items[0].message == "includes the secret key"' <(A backup list --panel --json)
check "... audited with secret true, via ui" test "$(sqlite3 "$DB" "SELECT COUNT(*) FROM audit_log WHERE action = 'backup.run' AND target = 'panel' AND via = 'ui' AND after_json LIKE '%secret%true%'")" -ge 1
curl -s -b "$J" -c "$J" --cookie "lang=ar" "$(url /backups)" > "$T/p.html"
check "... in Arabic, right to left" bash -c "grep -q 'dir=\"rtl\"' '$T/p.html' && grep -q 'اللوحة نفسها' '$T/p.html'"


# ---------------------------------------------------------------- browse and download (API, page)
code=$(api_as "$VTOKEN" GET "/backups/snapshots?dest=loc&kind=panel")
check "GET /api/v1/backups/snapshots?kind=panel (a viewer): the panel's snapshots" bash -c "[ $code = 200 ] && jq -e '.items | length >= 2 and all(.tags == [\"panel\"])' '$T/api.json' >/dev/null"
code=$(api_as "$VTOKEN" GET "/backups/snapshots/$S3/tree?dest=loc&path=$(jq -rn --arg p "$P1" '$p|@uri')")
check "GET …/tree: the snapshot's folder, folders first" bash -c "[ $code = 200 ] && jq -e '.items[0].name == \"config\" and .items[0].type == \"dir\" and ([.items[].name] | index(\"database.sqlite\") != null) and .parent != null' '$T/api.json' >/dev/null"
code=$(api_as "$VTOKEN" GET "/backups/snapshots/$S3/file?dest=loc&path=$(jq -rn --arg p "$P1/config/aapanel.cfg" '$p|@uri')")
check "a viewer may not download a file of a snapshot (403)" test "$code" = 403
code=$(api_as "$OPTOKEN" GET "/backups/snapshots/$S3/file?dest=loc&path=$(jq -rn --arg p "$P1/config/aapanel.cfg" '$p|@uri')")
check "an operator neither (403)" test "$code" = 403
code=$(curl -s -o "$T/dl.cfg" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$(url "/api/v1/backups/snapshots/$S3/file?dest=loc&path=$(jq -rn --arg p "$P1/config/aapanel.cfg" '$p|@uri')")")
check "an admin downloads one file through the API: byte-identical" bash -c "[ $code = 200 ] && cmp -s '$T/dl.cfg' '$T/conf/aapanel.cfg'"
code=$(curl -s -o "$T/dl.sqlite" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$(url "/api/v1/backups/snapshots/$S3/file?dest=loc&path=$(jq -rn --arg p "$P1/database.sqlite" '$p|@uri')")")
check "... the database copy too: byte-identical to the restored one" bash -c "[ $code = 200 ] && cmp -s '$T/dl.sqlite' '$BKD/.panel-restores/viaapi/database.sqlite'"
check "... audited as backup.download" test "$(sqlite3 "$DB" "SELECT COUNT(*) FROM audit_log WHERE action = 'backup.download' AND outcome = 'ok'")" -ge 2
# hostile ids and paths: 400 naming the field, nothing run
for bad in "/backups/snapshots/zz..zz/tree?dest=loc:snapshot" "/backups/snapshots/$S3/tree?dest=loc&path=..%2Fetc:path" \
	"/backups/snapshots/$S3/tree?dest=loc&path=%2Fa%2F..%2F..%2Fetc:path" "/backups/snapshots/$S3/file?dest=loc&path=relative:path" \
	"/backups/snapshots/$S3/file?dest=loc&path=%2Fx%0Ay:path" "/backups/snapshots/$S3/file?dest=..%2Floc&path=%2Fx:dest" \
	"/backups/snapshots?dest=loc&kind=site:target" "/backups/snapshots?dest=loc&kind=site&target=%3Cscript%3E:target"; do
	u=${bad%:*} field=${bad##*:}
	code=$(api_as "$TOKEN" GET "$u")
	# a bad path segment is the router's 404 (naming it); a bad query field a 400
	want=400; [ "$field" = snapshot ] && want=404
	check "refused with $want naming $field: $u" bash -c "[ $code = $want ] && grep -q '\"$field\"' '$T/api.json'"
done
# A snapshot with hostile names, made with restic itself (its page escapes them).
EVIL="$T/evil"; mkdir -p "$EVIL/<img src=x onerror=alert(1)>"; printf 'evil\n' > "$EVIL/<img src=x onerror=alert(1)>/x&y\"z'.txt"
restic -q -r "$SB/srv/backups/loc" --password-file "$BKD/loc/password" --no-cache backup --tag site:evil.test --host aapanel "$EVIL" >/dev/null
SE=$(A backup snapshots --from loc --site evil.test --json | jq -r '.snapshots[0].id')
page "/backups/snapshots?dest=loc" > "$T/p.html"; cat "$T/p.html" >> "$T/pages.txt"
check "the snapshots page lists them with a link to each tree" bash -c "grep -q '/backups/snapshots/$SE/tree?dest=loc' '$T/p.html' && grep -q 'site:evil.test' '$T/p.html'"
page "/backups/snapshots/$SE/tree?dest=loc&path=$(jq -rn --arg p "$EVIL/<img src=x onerror=alert(1)>" '$p|@uri')" > "$T/p.html"; cat "$T/p.html" >> "$T/pages.txt"
check "the tree page: breadcrumbs with the names escaped" bash -c "grep -q 'class=\"breadcrumbs\"' '$T/p.html' && grep -qF '&lt;img src=x onerror=alert(1)&gt;' '$T/p.html' && ! grep -qF '<img src=x' '$T/p.html'"
check "... the file's name escaped, with its download link" bash -c "grep -qF 'x&amp;y&quot;z&#39;.txt' '$T/p.html' || grep -qF 'x&amp;y&#34;z&#39;.txt' '$T/p.html' || grep -qF 'x&amp;y&quot;z&#x27;.txt' '$T/p.html'"
DL=$(grep -o 'href="[^"]*/file?[^"]*"' "$T/p.html" | head -1 | sed 's/^href="//; s/"$//; s/&amp;/\&/g')
check "... the page's download link gives the file byte-identical" bash -c "curl -s -b '$J' '$(url '')$DL' > '$T/dl.txt' && cmp -s '$T/dl.txt' '$EVIL/<img src=x onerror=alert(1)>/x&y\"z'\''.txt'"

# ---------------------------------------------------------------- a stalled destination holds nobody
check "a second local destination" ran A backup-dest add slow --url local:/srv/backups/slow
KEYF=$(ls "$SB/srv/backups/slow/keys/" | head -1)
mv "$SB/srv/backups/slow/keys/$KEYF" "$T/slow.key"; mkfifo "$SB/srv/backups/slow/keys/$KEYF"
( rc=0; A backup snapshots --from slow --json > "$T/slow.out" 2> "$T/slow.err" || rc=$?; echo "$rc" > "$T/slow.rc" ) &
SLOW_PID=$!
sleep 1.5
t0=$(date +%s%N)
"$SEND" --call "$HS" helper.ping > "$T/ping.json"
t1=$(date +%s%N)
check "while restic hangs on the stalled destination, the helper answers another call at once" bash -c "[ ! -e '$T/slow.rc' ] && jq -e '.ok == true' '$T/ping.json' >/dev/null && [ $(( (t1 - t0) / 1000000 )) -lt 1000 ]"
code=$(api_as "$TOKEN" GET "/backups/snapshots?dest=loc&kind=panel")
check "... and another listing, of the working destination" test "$code" = 200
check "... the stalled listing is still pending" test ! -e "$T/slow.rc"
# unstall it: a writer opens and closes the pipe, restic reads nothing and fails
: > "$SB/srv/backups/slow/keys/$KEYF"
wait "$SLOW_PID" 2>/dev/null || true
check "... then it ends, failed with restic's reason" bash -c "[ \"\$(cat '$T/slow.rc')\" != 0 ] && grep -q 'restic snapshots: Fatal' '$T/slow.err'"
rm -f "$SB/srv/backups/slow/keys/$KEYF"; mv "$T/slow.key" "$SB/srv/backups/slow/keys/$KEYF"


# ---------------------------------------------------------------- a stale panel backup raises the alert
HOOK_PORT=$(it_free_port)
HSECRET='the webhook secret of t_backup_panel'
python3 "$SRC/tests/integration/hook_sink.py" "$HOOK_PORT" "$T/hooks" "$HSECRET" &
HOOK_PID=$!; sites_bg "$HOOK_PID"
hook_up() { for _ in $(seq 1 200); do ss -Htln "sport = :$HOOK_PORT" | grep -q . && return 0; sleep 0.05; done; return 1; }
check "a webhook receiver listens (hook_sink.py)" hook_up
printf '%s\n' "$HSECRET" > "$T/hook.secret"
check "a webhook alert channel" ran A alert channel add hook --webhook "http://127.0.0.1:$HOOK_PORT/alert/tok" --secret-file "$T/hook.secret"
check "a backup_age rule targets the panel" ran A alert rule add --metric backup_age --target panel --threshold 24
sqlite3 "$DB" "UPDATE backup_runs SET started_at = started_at - 259200, ended_at = ended_at - 259200 WHERE target_kind = 'panel'"
fired=""
for i in $(seq 1 150); do
	[ -s "$T/hooks" ] && [ "$(jq -s 'map(select(.event == "firing")) | length' "$T/hooks")" -ge 1 ] && { fired=$i; break; }
	sleep 0.2
done
check "... the panel's stale backup fires it, naming the panel" bash -c "[ -n '$fired' ] && grep -q 'Backup of panel is stale' '$T/hooks'"
kill "$HOOK_PID" 2>/dev/null; wait "$HOOK_PID" 2>/dev/null || true

# ---------------------------------------------------------------- secrets nowhere
rm -f "$T/watch"; wait "$WATCH_PID" 2>/dev/null || true
check "the argv watcher saw restic back the panel up" grep -q "restic backup --json --host aapanel --tag panel" "$T/argv.log"
leak=0
for s in "$PW" "$KEY"; do
	for f in "$T/argv.log" "$T/pages.txt" "$T/helper.log" "$T/pool.log"; do grep -qF -- "$s" "$f" && { echo "    secret in $f"; leak=1; }; done
	sqlite3 "$DB" .dump | grep -qF -- "$s" && { echo "    secret in the panel's database"; leak=1; }
done
check "the repository password and the secret key in no argv, page, log or database row" test "$leak" = 0

it_summary
