#!/usr/bin/env bash
# Backups on a schedule (issue 18): the scheduled-tasks module's own kinds
# "backup" and "backup_check", made through the API and the CLI, on the
# tasks and backups pages; the recorder the cron line runs (`aapanel task
# run ID`) makes a restic snapshot through the helper's backup.run job,
# recorded as a backup run (naming its task) and as the task's run, and
# applies the task's retention; an integrity check runs restic check; the
# backups page and API say when a schedule's last backup is overdue, and a
# backup_age rule without a threshold fires through a webhook channel when
# the last backup is older than the schedule's interval plus
# backups.alert_margin; hostile schedules and targets are refused naming
# the field (API 400, CLI exit 2) and leave nothing behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites_lib.sh"
it_setup "pool = { request_timeout = 20; }; monitor = { interval = 1; send_timeout = 5; }; tasks = { recorder = \"$SRC/build/aapanel\"; }; backups = { alert_margin = 60; };"
sites_setup 'system_users = false;'
D=$(mktemp -d /tmp/aapanel-bks.XXXXXX)
HOOK_PID=""
bks_teardown() {
	local rc=$?
	[ -n "$HOOK_PID" ] && kill "$HOOK_PID" 2>/dev/null && { wait "$HOOK_PID" 2>/dev/null || true; }
	rm -rf "$D"
	(exit "$rc")
	sites_teardown
}
trap bks_teardown EXIT
it_start_pool
sites_start_nginx
sites_start_helper
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
db() { sqlite3 "$T/var/aapanel.db" "$@"; }
ran() { "$@" > "$T/ran.log" 2>&1 || { sed 's/^/    | /' "$T/ran.log" | tail -n 8; return 1; }; }
it_user admin admin 'correct horse battery staple'
it_user viewer viewer 'correct horse battery staple'
TOKEN=$(A token create --user admin --scope write --name t | tail -1)
api() { # METHOD PATH [JSON]: the answer in $T/api.json, the status printed
	curl -s -o "$T/api.json" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/json' ${3:+--data-binary "$3"} "$(url "$2")"
}

check "a site to back up" ran A site add shop.test --type static
check "a second site" ran A site add blog.test --type static
WEB="$SB/var/www/shop.test/public"
echo "v1" > "$WEB/index.html"
head -c 100000 /dev/urandom > "$WEB/data.bin"
check "a local destination" ran A backup-dest add loc --url local:/srv/backups/loc

# ---------------------------------------------------------------- hostile input
N0=$(db "SELECT COUNT(*) FROM cron_jobs")
bad() { # FIELD JSON: 400 naming the field
	local st f
	st=$(api POST /api/v1/tasks "$2")
	f=$(jq -r '.error.field // empty' "$T/api.json")
	[ "$st" = 400 ] && [ "$f" = "$1" ] || { echo "    $st $f: $(cat "$T/api.json")"; return 1; }
}
check "API: a schedule with a command smuggled in is refused naming schedule" \
	bad schedule '{"name":"b1","kind":"backup","site":"shop.test","dest":"loc","schedule":"0 3 * * * /bin/sh"}'
check "API: a schedule with ; is refused naming schedule" \
	bad schedule '{"name":"b1","kind":"backup","site":"shop.test","dest":"loc","schedule":"* * * * *; id"}'
check "API: @reboot is refused naming schedule" \
	bad schedule '{"name":"b1","kind":"backup","site":"shop.test","dest":"loc","schedule":"@reboot"}'
check "API: a site with shell characters is refused naming site" \
	bad site '{"name":"b1","kind":"backup","site":"shop.test;id","dest":"loc","schedule":"@daily"}'
check "API: a site that does not exist is refused naming site" \
	bad site '{"name":"b1","kind":"backup","site":"nope.test","dest":"loc","schedule":"@daily"}'
check "API: a database name with a quote is refused naming database" \
	bad database "{\"name\":\"b1\",\"kind\":\"backup\",\"database\":\"x'y\",\"dest\":\"loc\",\"schedule\":\"@daily\"}"
check "API: a database that does not exist is refused naming database" \
	bad database '{"name":"b1","kind":"backup","database":"nodb","dest":"loc","schedule":"@daily"}'
check "API: a destination with .. is refused naming dest" \
	bad dest '{"name":"b1","kind":"backup","site":"shop.test","dest":"../x","schedule":"@daily"}'
check "API: an unknown destination is refused naming dest" \
	bad dest '{"name":"b1","kind":"backup","site":"shop.test","dest":"other","schedule":"@daily"}'
check "API: no site nor database is refused naming site" \
	bad site '{"name":"b1","kind":"backup","dest":"loc","schedule":"@daily"}'
check "API: keep_last 5000 is refused naming keep_last" \
	bad keep_last '{"name":"b1","kind":"backup","site":"shop.test","dest":"loc","schedule":"@daily","keep_last":5000}'
check "API: a check's subset 101 is refused naming subset" \
	bad subset '{"name":"c1","kind":"backup_check","dest":"loc","schedule":"@weekly","subset":101}'
check "API: an unknown kind is refused naming kind" \
	bad kind '{"name":"b1","kind":"backup; id","site":"shop.test","dest":"loc","schedule":"@daily"}'
refuse() { # FIELD ARGS...: exit 2 naming the field
	local f=$1 rc=0; shift
	A task add "$@" > /dev/null 2> "$T/err" || rc=$?
	[ "$rc" = 2 ] && grep -q ": $f: " "$T/err" || { echo "    rc=$rc: $(cat "$T/err")"; return 1; }
}
check "CLI: a bad schedule exits 2 naming schedule" refuse schedule b2 --kind backup --site shop.test --to loc --schedule '61 * * * *'
check "CLI: a hostile site exits 2 naming site" refuse site b2 --kind backup --site '$(id)' --to loc --schedule @daily
check "CLI: --site and --database together exit 2" refuse database b2 --kind backup --site shop.test --database x --to loc --schedule @daily
check "CLI: a negative --keep-last exits 2 naming it" refuse keep-last b2 --kind backup --site shop.test --to loc --schedule @daily --keep-last -1
check "CLI: --subset on a backup exits 2" refuse subset b2 --kind backup --site shop.test --to loc --schedule @daily --subset 5
check "nothing was recorded, no line in the cron file" \
	bash -c "[ \$(sqlite3 '$T/var/aapanel.db' 'SELECT COUNT(*) FROM cron_jobs') = $N0 ] && ! grep -q ' task run ' '$SB/etc/cron.d/aapanel' 2>/dev/null"

# ---------------------------------------------------------------- schedules through the API and the CLI
st=$(api POST /api/v1/tasks '{"name":"shop-nightly","kind":"backup","site":"shop.test","dest":"loc","schedule":"@daily","keep_last":2}')
check "API: a backup schedule for shop.test is made (201)" test "$st" = 201
check "... the answer is the task: kind backup, its site, destination and retention, no command" \
	jqe '.kind == "backup" and .target_kind == "site" and .target == "shop.test" and .dest == "loc" and .keep_last == 2 and .command == null and .user == null and .schedule == "0 0 * * *"' "$T/api.json"
SID=$(jq -r .id "$T/api.json")
check "CLI: a backup schedule for blog.test (exit 0)" ran A task add blog-hourly --kind backup --site blog.test --to loc --schedule '0 * * * *' --keep-daily 3 --json
BID=$(jq -r .id "$T/ran.log")
check "CLI: an integrity check, weekly by default" ran A task add loc-check --kind backup_check --to loc --subset 20 --json
CID=$(jq -r .id "$T/ran.log")
check "... its schedule is @weekly and it reads 20 %" jqe '.schedule == "0 0 * * 0" and .subset == 20 and .kind == "backup_check"' "$T/ran.log"
check "the cron file has a line per schedule, each the recorder's task run ID" \
	bash -c "for i in $SID $BID $CID; do grep -Eq ' task run '\$i'\$' '$SB/etc/cron.d/aapanel' || exit 1; done"
check "no site name or destination is in the cron file (the helper's copy says kind only)" \
	bash -c "! grep -q 'shop.test\|loc' '$SB/etc/cron.d/aapanel' && jq -e '.kind == \"backup\" and (has(\"argv\") | not) and (has(\"user\") | not)' '$SB/etc/aapanel/tasks/$SID.json' >/dev/null"
"$SEND" --call "$HS" task.exec "{\"id\":$SID}" > "$T/exec.json" 2>&1 || true
EJOB=$(jq -r '.result.job // empty' "$T/exec.json")
exec_refused() {
	for _ in $(seq 1 50); do
		"$SEND" --call "$HS" job.status "{\"id\":$EJOB}" > "$T/exec.json" 2>&1 || true
		grep -q 'not task.exec' "$T/exec.json" && return 0
		sleep 0.1
	done
	cat "$T/exec.json"; return 1
}
check "the helper refuses task.exec of a backup task (it runs as backup.run)" exec_refused

st=$(api GET /api/v1/tasks)
check "API: the task list (200, its schema) has the schedules with their site, destination and retention" \
	bash -c "[ '$st' = 200 ] && jq -e '[.items[] | select(.kind == \"backup\")] | length == 2 and (.[] | select(.name == \"shop-nightly\") | .target == \"shop.test\" and .dest == \"loc\" and .keep_last == 2)' '$T/api.json' >/dev/null"
it_login "$T/jar" admin 'correct horse battery staple' >/dev/null
curl -s -b "$T/jar" "$(url /tasks)" > "$T/tasks.html"
check "the tasks page lists the three schedules" \
	bash -c "grep -q 'shop-nightly' '$T/tasks.html' && grep -q 'blog-hourly' '$T/tasks.html' && grep -q 'loc-check' '$T/tasks.html'"
check "... and offers the backup and integrity-check forms" \
	bash -c "grep -q 'id=\"backup-heading\"' '$T/tasks.html' && grep -q 'name=\"kind\" value=\"backup_check\"' '$T/tasks.html'"
curl -s -b "$T/jar" "$(url '/tasks?site=shop.test')" > "$T/tasks2.html"
check "the backups page's Schedule link fills the form in with the site" grep -q 'name="site" type="text" maxlength="253" value="shop.test"' "$T/tasks2.html"
curl -s -b "$T/jar" "$(url /backups)" > "$T/backups.html"
check "the backups page shows each site's schedule" \
	bash -c "grep -q '<code dir=\"ltr\">0 0 \* \* \*</code>' '$T/backups.html' && grep -q '<code dir=\"ltr\">0 \* \* \* \*</code>' '$T/backups.html' && grep -q 'tasks?site=shop.test#backup-heading' '$T/backups.html'"
check "... and the integrity check" grep -q '<code dir="ltr">0 0 \* \* 0</code>' "$T/backups.html"
curl -s -b "$T/jar" -b lang=ar "$(url /backups)" > "$T/backups.ar.html"
check "... in Arabic too" grep -q 'الجداول' "$T/backups.ar.html"

# A refused backup schedule from the page: the form again with the reason and the value kept.
CSRF=$(csrf_of "$T/jar")
curl -s -b "$T/jar" -c "$T/jar" -H "Origin: http://127.0.0.1:$PORT" -o "$T/form.html" \
	--data-urlencode "csrf=$CSRF" --data-urlencode kind=backup --data-urlencode name=pg1 \
	--data-urlencode site=nope.test --data-urlencode dest=loc --data-urlencode 'schedule=0 3 * * *' "$(url /tasks)"
check "a refused schedule from the page shows the backup form again with the reason and the site kept" \
	bash -c "grep -q 'id=\"b-site-error\">no such site' '$T/form.html' && grep -q 'value=\"nope.test\"' '$T/form.html'"

# ---------------------------------------------------------------- running the schedule
check "the recorder runs shop-nightly as cron would (task run ID, exit 0)" ran A task run "$SID"
check "... a backup run recorded done with a snapshot, naming its task" \
	test "$(db "SELECT COUNT(*) FROM backup_runs WHERE action = 'backup' AND target = 'shop.test' AND state = 'done' AND snapshot IS NOT NULL AND task_id = $SID")" = 1
check "... the task's run is ok and points at that backup run" \
	test "$(db "SELECT r.state || ' ' || (r.backup_run_id = b.id) FROM cron_runs r JOIN backup_runs b ON b.task_id = r.cron_job_id WHERE r.cron_job_id = $SID")" = "ok 1"
A backup snapshots --from loc --site shop.test --json > "$T/snaps.json"
check "... the snapshot is in the repository, tagged with the site" jqe '.snapshots | length == 1 and .[0].tags == ["site:shop.test"]' "$T/snaps.json"
echo "v2" > "$WEB/index.html"
check "a second scheduled run (exit 0)" ran A task run "$SID"
echo "v3" > "$WEB/index.html"
st=$(api POST "/api/v1/tasks/$SID/run" '{}')
check "a third through the API's Run now (200, the run names its backup run)" \
	bash -c "[ '$st' = 200 ] && jq -e '.backup_run > 0 and .state == \"running\"' '$T/api.json' >/dev/null"
for _ in $(seq 1 300); do # each look settles the run (as the page and the API do)
	[ "$(curl -s -H "Authorization: Bearer $TOKEN" "$(url "/api/v1/tasks/$SID")" | jq -r '.runs[0].state')" != running ] &&
		[ "$(db "SELECT COUNT(*) FROM backup_runs WHERE task_id = $SID AND state = 'running'")" = 0 ] && break
	sleep 0.2
done
curl -s -H "Authorization: Bearer $TOKEN" "$(url "/api/v1/tasks/$SID")" > "$T/task.json"
check "... settled from the backup run: three ok runs in the task's history" jqe '[.runs[] | select(.state == "ok")] | length == 3' "$T/task.json"
A backup snapshots --from loc --site shop.test --json > "$T/snaps.json"
check "retention (keep_last 2) applied after the backup: two snapshots left" jqe '.snapshots | length == 2' "$T/snaps.json"
A backup list --site shop.test --json > "$T/runs.json"
check "the backups runs list has the three scheduled runs" jqe '[.items[] | select(.action == "backup" and .state == "done")] | length == 3' "$T/runs.json"
check "the integrity check runs on schedule (exit 0), recorded as a check run" ran A task run "$CID"
check "... restic check done for loc" test "$(db "SELECT state FROM backup_runs WHERE action = 'check' AND task_id = $CID")" = done

# ---------------------------------------------------------------- overdue and the alert
api GET /api/v1/backups > /dev/null
check "the overview says shop.test's schedule is on time, blog.test never backed up but not yet due" \
	jqe '(.schedules[] | select(.name == "shop-nightly") | .overdue == false and .interval == 86400) and (.schedules[] | select(.name == "blog-hourly") | .overdue == false and .last_ok == null)' "$T/api.json"
HOOK_PORT=$(it_free_port)
HSECRET='the webhook secret of t_backup_sched'
python3 "$SRC/tests/integration/hook_sink.py" "$HOOK_PORT" "$D/hooks" "$HSECRET" &
HOOK_PID=$!
hook_up() { for _ in $(seq 1 200); do ss -Htln "sport = :$HOOK_PORT" | grep -q . && return 0; sleep 0.05; done; return 1; }
check "a webhook receiver listens" hook_up
printf '%s\n' "$HSECRET" > "$D/hook.secret"
check "a webhook alert channel" ran A alert channel add hook --webhook "http://127.0.0.1:$HOOK_PORT/alert/tok" --secret-file "$D/hook.secret"
check "a backup_age rule without a threshold (0: from the schedule)" ran A alert rule add --metric backup_age --threshold 0
check "... reads as such" bash -c "$(declare -f A); BIN='$BIN' T='$T' SRC='$SRC'; A alert rule list | grep -q 'older than its schedule allows'"
sleep 3
check "nothing fires while the backups are on time" bash -c "[ ! -s '$D/hooks' ]"
# shop.test's backups made 86400 + 30 s ago: still within @daily plus the 60 s margin
db "UPDATE backup_runs SET started_at = started_at - 86430, ended_at = ended_at - 86430 WHERE target = 'shop.test'"
sleep 3
check "a backup 24 h + 30 s old is within @daily + 60 s: silent" bash -c "[ ! -s '$D/hooks' ]"
db "UPDATE backup_runs SET started_at = started_at - 60, ended_at = ended_at - 60 WHERE target = 'shop.test'"
fired=""
for i in $(seq 1 200); do
	[ -s "$D/hooks" ] && [ "$(jq -s 'map(select(.event == "firing")) | length' "$D/hooks")" -ge 1 ] && { fired=$i; break; }
	sleep 0.1
done
check "24 h + 90 s old: the alert fires through the channel (signed)" \
	bash -c "[ -n '$fired' ] && jq -e -s 'map(select(.event == \"firing\")) | length == 1 and all(.valid)' '$D/hooks' >/dev/null"
check "... naming shop.test (blog.test, made minutes ago, is not due)" \
	bash -c "grep -q 'shop.test' '$D/hooks' && ! grep -q 'blog.test' '$D/hooks'"
api GET /api/v1/backups > /dev/null
check "the overview says shop.test's schedule is overdue" jqe '.schedules[] | select(.name == "shop-nightly") | .overdue == true' "$T/api.json"
curl -s -b "$T/jar" "$(url /backups)" > "$T/backups.html"
check "... and the page shows it" grep -q 'badge-danger">Overdue' "$T/backups.html"
check "the next scheduled run" ran A task run "$SID"
rec=""
for i in $(seq 1 200); do
	[ "$(jq -s 'map(select(.event == "resolved")) | length' "$D/hooks")" -ge 1 ] && { rec=$i; break; }
	sleep 0.1
done
check "... resolves the alert" test -n "$rec"

# ---------------------------------------------------------------- restore progress
# restic 0.14 prints none for restores: the helper reports the bytes written into the
# staging folder against the files' size in the snapshot, shown by the run's progress bar.
head -c 250M /dev/zero | openssl enc -aes-128-ctr -nosalt -pass pass:bks -pbkdf2 2>/dev/null > "$WEB/big.bin"
check "a backup with a 250 MB file" ran A backup run --site shop.test --to loc --json
RSNAP=$(jq -r .snapshot "$T/ran.log")
check "a restore into a new folder starts (no wait)" \
	ran A backup restore --from loc --snapshot "$RSNAP" --site shop.test --to-dir restored --files-only --no-wait --json
RRUN=$(jq -r .id "$T/ran.log")
: > "$T/progress"
page_bar=""
for _ in $(seq 1 600); do
	api GET "/api/v1/backups/runs/$RRUN" > /dev/null
	jq -r '"\(.state) \(.progress)"' "$T/api.json" >> "$T/progress"
	if [ -z "$page_bar" ] && jqe '.state == "running" and .progress > 20 and .progress < 70' "$T/api.json"; then
		curl -s -b "$T/jar" "$(url "/backups/runs/$RRUN")" > "$T/run.html"
		grep -Eq '<progress[^>]* value="(2[1-9]|[3-6][0-9])"' "$T/run.html" && page_bar=1
	fi
	jqe '.state != "running"' "$T/api.json" && break
	sleep 0.1
done
check "the restore's progress moved between 20 and 70 while restic wrote ($(sort -u "$T/progress" | tr '\n' ',' | cut -c1-120))" \
	bash -c "grep -Eq '^running (2[1-9]|[3-6][0-9])\$' '$T/progress'"
check "... and the run's page showed it in its progress bar" test -n "$page_bar"
check "... the restore ended done, the file byte-identical" \
	bash -c "tail -1 '$T/progress' | grep -q '^done 100' && cmp -s '$WEB/big.bin' '$SB/var/www/shop.test/restored/big.bin'"
rm -rf "$WEB/big.bin" "$SB/var/www/shop.test/restored"

# ---------------------------------------------------------------- permissions, audit
it_login "$T/vjar" viewer 'correct horse battery staple' >/dev/null
VCSRF=$(csrf_of "$T/vjar")
st=$(curl -s -o /dev/null -w '%{http_code}' -b "$T/vjar" -H "Origin: http://127.0.0.1:$PORT" --data-urlencode "csrf=$VCSRF" \
	--data-urlencode kind=backup --data-urlencode name=v1 --data-urlencode site=shop.test --data-urlencode dest=loc \
	--data-urlencode schedule=@daily "$(url /tasks)")
check "a viewer may not schedule a backup (403)" test "$st" = 403
check "the schedules are audited (task.create with the target, no secret)" \
	test "$(db "SELECT COUNT(*) FROM audit_log WHERE action = 'task.create' AND after_json LIKE '%\"target\":\"shop.test\"%'")" = 1
PW=$(cat "$SB/etc/aapanel/backups/loc/password")
check "the repository password is in no task row, run, copy or cron line" \
	bash -c "! { db() { sqlite3 '$T/var/aapanel.db' \"\$@\"; }; sqlite3 '$T/var/aapanel.db' .dump; cat '$SB/etc/aapanel/tasks/'*.json '$SB/etc/cron.d/aapanel'; } | grep -qF '$PW'"
check "remove a schedule: its cron line goes" \
	bash -c "$(declare -f A); BIN='$BIN' T='$T' SRC='$SRC'; A task remove blog-hourly >/dev/null && ! grep -Eq ' task run $BID\$' '$SB/etc/cron.d/aapanel'"
it_summary
