#!/usr/bin/env bash
# Scheduled tasks (issue 17): the real cron daemon (/usr/sbin/cron -f) in a
# private mount namespace this test creates (unshare -m; a temp dir bound
# over /etc/cron.d — the helper's cron_dir in the test's sandbox —, an empty
# /var/spool/cron, an empty /etc/crontab and its own /run, so the machine's
# cron files are never read nor written), the helper writing the cron file,
# and the recorder `aapanel task run ID` that every line runs. Seen: a task
# runs on schedule and its output (hostile-looking words passed literally,
# no shell) is recorded; one times out and is recorded as timeout; one still
# running when it is due again is skipped and recorded as skipped; a command
# runs as the user it names; hostile input in every field is refused naming
# the field (CLI exit 2; API 400) and changes nothing (cron file, specs,
# rows); disable/enable/remove change the cron file; the audit log has
# before/after.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites_lib.sh"
it_setup "tasks = { recorder = \"$SRC/build/aapanel\"; keep_runs = 5; };"
sites_setup
CRON_D="$SB/etc/cron.d"
mkdir -p "$CRON_D" "$T/spool/crontabs" "$T/run"
: > "$T/crontab"
export BIN SRC T
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
db() { sqlite3 "$T/var/aapanel.db" "$@"; }
CRON_NS_PID=""
# cron's jobs (CRON, sh, the recorder) are its children: the whole tree goes, by PID.
kill_tree() { local c; for c in $(pgrep -P "$1"); do kill_tree "$c"; done; kill -TERM "$1" 2>/dev/null || true; }
cron_stop() {
	[ -n "$CRON_NS_PID" ] || return 0
	kill_tree "$CRON_NS_PID"
	for _ in $(seq 1 100); do kill -0 "$CRON_NS_PID" 2>/dev/null || break; sleep 0.05; done
	kill -KILL "$CRON_NS_PID" 2>/dev/null || true
	wait "$CRON_NS_PID" 2>/dev/null || true
	CRON_NS_PID=""
}
tasks_teardown() { local rc=$?; cron_stop; set +e; (exit "$rc"); sites_teardown; }
trap tasks_teardown EXIT
it_start_pool
sites_start_nginx
sites_start_helper
it_user admin admin 'correct horse battery staple'
TOKEN=$(A token create --user admin --scope write --name t | tail -1)
cron_sum() { cat "$CRON_D/aapanel" 2>/dev/null | sha256sum; }
tasks_n() { db "SELECT COUNT(*) FROM cron_jobs"; }

# ---- adding tasks
check "task add: a command every minute (exit 0, --json names it)" \
	bash -c "$(declare -f A); A task add hello --schedule '* * * * *' --command '/bin/echo hello from cron; \$(id) \`id\` | \"two words\"' --json > '$T/add.json'"
check "the answer is the task: name, schedule, command, user nobody, next run in the future" \
	jqe --arg now "$(date +%s)" '.name == "hello" and .schedule == "* * * * *" and .user == "nobody" and (.command | startswith("/bin/echo")) and (.next_run | fromdateiso8601) > ($now | tonumber)' "$T/add.json"
check "task add: one that outlives its 2 s timeout" A task add slow --schedule '* * * * *' --command '/bin/sleep 30' --timeout 2
check "task add: a long one for the overlap" A task add long --schedule '* * * * *' --command '/bin/sleep 70' --timeout 120
check "task add: whoami as nobody, disabled" A task add whoami --schedule '@daily' --command '/usr/bin/id -un' --user nobody --disabled
check "task add: a URL, every 5 minutes" A task add ping --schedule '*/5 * * * *' --url "http://127.0.0.1:$PORT/healthz" --disabled
check "the cron file exists, 0644, with a line per enabled task (3)" \
	bash -c "[ \$(stat -c %a '$CRON_D/aapanel') = 644 ] && [ \$(grep -c ' task run ' '$CRON_D/aapanel') = 3 ]"
ESC_SRC=$(printf '%s' "$SRC" | sed 's/[.]/\\./g'); ESC_T=$(printf '%s' "$T" | sed 's/[.]/\\./g')
check "every cron line is fixed parts only: schedule, user, recorder, profile, config, root, task run ID" \
	bash -c "grep -v '^#' '$CRON_D/aapanel' | grep -v '^[A-Z]*=' | grep -Evq '^[0-9a-z*/,-]+( [0-9a-z*/,-]+){4} root $ESC_SRC/build/aapanel --profile test --config $ESC_T/conf/aapanel\\.cfg --root $ESC_SRC task run [0-9]+\$' && exit 1 || exit 0"
check "no command text is in the cron file (it is in the helper's copy only)" \
	bash -c "! grep -q 'echo\|sleep' '$CRON_D/aapanel' && grep -q 'bin.*echo' '$SB/etc/aapanel/tasks/1.json'"
check "the helper's copy is 0600 in a 0700 directory" \
	bash -c "[ \$(stat -c %a '$SB/etc/aapanel/tasks/1.json') = 600 ] && [ \$(stat -c %a '$SB/etc/aapanel/tasks') = 700 ]"

# ---- hostile input: every field, exit 2 naming it, nothing changes
SUM0=$(cron_sum); N0=$(tasks_n); SPECS0=$(ls "$SB/etc/aapanel/tasks" | sort | tr '\n' ' ')
refuse() { # FIELD ARGS...: exit 2 and the field named on stderr
	local f=$1; shift
	A task add "$@" > /dev/null 2> "$T/err"; local rc=$?
	[ "$rc" = 2 ] && grep -q ": $f: " "$T/err" || { echo "    rc=$rc: $(cat "$T/err")"; return 1; }
}
for n in '../x' 'a;b' 'A' '$(id)' '12' $'x\ny' "$(printf 'x%.0s' $(seq 1 70))" 'exаmple'; do
	check "name '$n' refused naming name" refuse name "$n" --schedule '* * * * *' --command /bin/true
done
for s in '61 * * * *' '* 24 * * *' '* * 0 * *' '* * * 13 *' '* * * * 8' '* * * * * /bin/sh' '* * * *' '@reboot' '* * * * *; id' $'* * * * *\n* * * * * root /bin/sh' '5/10 * * * *' '* * * * 1%2'; do
	check "schedule '$s' refused naming schedule" refuse schedule ok1 --schedule "$s" --command /bin/true
done
check "a refused minute names the minute" bash -c "$(declare -f A); A task add ok1 --schedule '61 * * * *' --command /bin/true 2>&1 | grep -q 'the minute (1st part)'"
check "a refused weekday names the day of the week" bash -c "$(declare -f A); A task add ok1 --schedule '* * * * 9' --command /bin/true 2>&1 | grep -q 'day of the week (5th part)'"
for c in 'rm -rf /' 'bin/true' '/bin/../bin/sh' $'/bin/echo \nid' "/bin/echo 'open" '/bin/echo "open' "/bin/echo \\" "\$(id)" '`id`' ';id' '/bin/echo	a' $'/bin/echo \x01'; do
	case $c in *'	'*) continue ;; esac
	check "command '$c' refused naming command" refuse command ok1 --schedule '* * * * *' --command "$c"
done
for u in 'file:///etc/passwd' 'javascript:alert(1)' 'http://' 'http://a b' 'http://x/"' $'http://x/\ny' 'ftp://x'; do
	check "url '$u' refused naming url" refuse url ok1 --schedule '* * * * *' --url "$u"
done
for u in 'root' '../x' 'a;b' 'Nobody' 'nosuchuser17'; do
	check "user '$u' refused naming user" refuse user ok1 --schedule '* * * * *' --command /bin/true --user "$u"
done
for t in 0 -1 99999 abc; do
	check "timeout '$t' refused naming timeout" refuse timeout ok1 --schedule '* * * * *' --command /bin/true --timeout "$t"
done
check "a second task named hello is refused (exit 2)" refuse name hello --schedule '* * * * *' --command /bin/true
check "after every refusal: the cron file, the helper's copies and the rows are as before" \
	bash -c "[ \"\$(cat '$CRON_D/aapanel' | sha256sum)\" = '$SUM0' ] && [ \$(sqlite3 '$T/var/aapanel.db' 'SELECT COUNT(*) FROM cron_jobs') = $N0 ] && [ \"\$(ls '$SB/etc/aapanel/tasks' | sort | tr '\n' ' ')\" = '$SPECS0' ]"

# ---- the API: the same refusals, a 400 naming the field, nothing changed
api_refuse() { # FIELD JSON
	local st; st=$(api POST /tasks "$2")
	[ "$st" = 400 ] && jq -e --arg f "$1" '.error.field == $f' "$T/api.json" >/dev/null || { echo "    $st $(cat "$T/api.json")"; return 1; }
}
while IFS='|' read -r f body; do
	check "API: $f refused with a 400 naming it ($body)" api_refuse "$f" "$body"
done <<'ROWS'
name|{"name":"a;b","schedule":"* * * * *","command":"/bin/true"}
name|{"name":"x\ny","schedule":"* * * * *","command":"/bin/true"}
schedule|{"name":"api1","schedule":"* * * * * /bin/sh","command":"/bin/true"}
schedule|{"name":"api1","schedule":"*/5 * * * *\n* * * * * root id","command":"/bin/true"}
schedule|{"name":"api1","schedule":"* 99 * * *","command":"/bin/true"}
command|{"name":"api1","schedule":"* * * * *","command":"$(reboot)"}
command|{"name":"api1","schedule":"* * * * *","command":"/bin/echo\nid"}
command|{"name":"api1","schedule":"* * * * *","command":"/bin/echo \u0000"}
url|{"name":"api1","schedule":"* * * * *","kind":"url","url":"file:///etc/shadow"}
user|{"name":"api1","schedule":"* * * * *","command":"/bin/true","user":"root"}
user|{"name":"api1","schedule":"* * * * *","command":"/bin/true","user":"../etc"}
timeout|{"name":"api1","schedule":"* * * * *","command":"/bin/true","timeout":0}
kind|{"name":"api1","schedule":"* * * * *","kind":"shell","command":"/bin/true"}
ROWS
check "API: a bad schedule's reason names the part" bash -c "[ \"\$(curl -s -X POST -H 'Authorization: Bearer $TOKEN' -H 'Content-Type: application/json' --data-binary '{\"name\":\"api1\",\"schedule\":\"* 99 * * *\",\"command\":\"/bin/true\"}' '$(url /api/v1/tasks)' | jq -r .error.reason)\" = 'the hour (2nd part) must be 0-23: *, n, a-b, */n, a-b/n or a list of them' ]"
check "after the API's refusals too: the cron file and the rows are as before" \
	bash -c "[ \"\$(cat '$CRON_D/aapanel' | sha256sum)\" = '$SUM0' ] && [ \$(sqlite3 '$T/var/aapanel.db' 'SELECT COUNT(*) FROM cron_jobs') = $N0 ]"
check "API: GET /tasks/preview?schedule=0 3 * * * gives five runs a day apart" bash -c "
	curl -s -H 'Authorization: Bearer $TOKEN' '$(url '/api/v1/tasks/preview?schedule=0%203%20*%20*%20*')' |
	jq -e '(.next_runs | length) == 5 and ((.next_runs[1] | fromdateiso8601) - (.next_runs[0] | fromdateiso8601)) == 86400' >/dev/null"
it_login "$T/jar" admin 'correct horse battery staple' >/dev/null
check "the Tasks page says the cron file is in the sandbox, and where" bash -c "
	curl -s -b '$T/jar' '$(url /tasks)' | grep -q 'Development sandbox' && curl -s -b '$T/jar' '$(url /tasks)' | grep -qF '$CRON_D/aapanel'"
FORM_ST=$(curl -s -o "$T/form.html" -w '%{http_code}' -b "$T/jar" -c "$T/jar" -H "Origin: http://127.0.0.1:$PORT" \
	--data-urlencode "csrf=$(csrf_of "$T/jar")" --data-urlencode name=formtask --data-urlencode 'schedule=* 25 * * *' \
	--data-urlencode command=/bin/true "$(url /tasks)")
check "the form with a bad hour: 400, the form again with the hour named next to the schedule, the value kept" \
	bash -c "[ '$FORM_ST' = 400 ] && grep -q 'id=\"f-schedule-error\">the hour (2nd part)' '$T/form.html' && grep -qF 'value=\"* 25 * * *\"' '$T/form.html'"

# ---- run now, by hand: as its user, output recorded
check "task run whoami: exit 0" A task run whoami --json
check "it ran as nobody (id -un printed nobody), recorded as a manual run" \
	bash -c "[ \"\$(sqlite3 '$T/var/aapanel.db' \"SELECT trigger_kind || ' ' || state || ' ' || exit_code || ' ' || trim(output) FROM cron_runs WHERE cron_job_id = 4\")\" = 'manual ok 0 nobody' ]"
check "task run of a failing program exits 1 and records failed with its status" bash -c "$(declare -f A)
	A task add fails --schedule '@daily' --command '/bin/false' --disabled >/dev/null && ! A task run fails >/dev/null &&
	[ \"\$(sqlite3 '$T/var/aapanel.db' \"SELECT state || ' ' || exit_code FROM cron_runs WHERE cron_job_id = (SELECT id FROM cron_jobs WHERE name = 'fails')\")\" = 'failed 1' ]"
check "a URL task: curl fetches /healthz, its body recorded" bash -c "$(declare -f A)
	A task run ping >/dev/null && sqlite3 '$T/var/aapanel.db' \"SELECT output FROM cron_runs WHERE cron_job_id = 5\" | grep -q '\"status\"'"

# ---- the real cron daemon
A task run long > "$T/long.out" 2>&1 &
LONG_PID=$!
sites_bg "$LONG_PID"
sleep 1
unshare -m --propagation private bash -c '
	mount --bind "$1" /etc/cron.d && mount --bind "$2" /var/spool/cron &&
	mount --bind "$3" /etc/crontab && mount --bind "$4" /run && exec /usr/sbin/cron -f -L 15' \
	cron "$CRON_D" "$T/spool" "$T/crontab" "$T/run" > "$T/cron.log" 2>&1 &
CRON_NS_PID=$!
sleep 1
check "cron runs in its own mount namespace (its /etc/cron.d is the sandbox's)" \
	bash -c "kill -0 $CRON_NS_PID && [ \"\$(readlink /proc/$CRON_NS_PID/ns/mnt)\" != \"\$(readlink /proc/self/ns/mnt)\" ] && [ -e /proc/$CRON_NS_PID/root/etc/cron.d/aapanel ] && [ ! -e /etc/cron.d/aapanel ]"
run_of() { db "SELECT state || '|' || exit_code || '|' || IFNULL(output, '') FROM cron_runs WHERE cron_job_id = $1 AND trigger_kind = 'schedule' ORDER BY id LIMIT 1"; }
for _ in $(seq 1 130); do
	[ -n "$(run_of 1)" ] && [ "$(run_of 2 | cut -d'|' -f1)" = timeout ] && [ -n "$(run_of 3)" ] && break
	sleep 1
done
if [ -z "$(run_of 1)" ]; then
	echo "--- cron file"; cat "$CRON_D/aapanel"; echo "--- cron log"; cat "$T/cron.log"
	echo "--- the line by hand"; env -i /bin/sh -c "$(grep 'task run 1$' "$CRON_D/aapanel" | cut -d' ' -f7-)"
fi
check "cron ran hello on schedule: ok, exit 0" bash -c "[ \"\$(sqlite3 '$T/var/aapanel.db' \"SELECT state || ' ' || exit_code FROM cron_runs WHERE cron_job_id = 1 AND trigger_kind = 'schedule' ORDER BY id LIMIT 1\")\" = 'ok 0' ]"
check "its output is recorded, the shell's characters printed as words, not run" \
	bash -c "[ \"\$(sqlite3 '$T/var/aapanel.db' \"SELECT output FROM cron_runs WHERE cron_job_id = 1 ORDER BY id LIMIT 1\")\" = 'hello from cron; \$(id) \`id\` | two words' ]"
check "start and end are recorded, end >= start, within the minute cron started it" \
	bash -c "sqlite3 '$T/var/aapanel.db' \"SELECT ended_at >= started_at AND started_at % 60 < 20 FROM cron_runs WHERE cron_job_id = 1 AND trigger_kind = 'schedule' ORDER BY id LIMIT 1\" | grep -qx 1"
check "slow ran past its 2 s timeout: recorded timeout, killed within a few seconds" \
	bash -c "sqlite3 '$T/var/aapanel.db' \"SELECT state = 'timeout' AND ended_at - started_at BETWEEN 2 AND 6 FROM cron_runs WHERE cron_job_id = 2 AND trigger_kind = 'schedule' ORDER BY id LIMIT 1\" | grep -qx 1"
check "long, still running by hand when cron's minute came, was skipped and recorded as skipped" \
	bash -c "[ \"\$(sqlite3 '$T/var/aapanel.db' \"SELECT state FROM cron_runs WHERE cron_job_id = 3 AND trigger_kind = 'schedule' ORDER BY id LIMIT 1\")\" = skipped ]"
check "the run by hand was going then: the skipped one started within it (one run at a time)" \
	bash -c "sqlite3 '$T/var/aapanel.db' \"SELECT COUNT(*) FROM cron_runs m, cron_runs s WHERE m.cron_job_id = 3 AND s.cron_job_id = 3 AND m.trigger_kind = 'manual' AND s.state = 'skipped' AND s.started_at BETWEEN m.started_at AND IFNULL(m.ended_at, s.started_at)\" | grep -qx 1"
check "task list shows last run, result, duration and next run" \
	bash -c "$(declare -f A); A task list | grep -E '^1 +hello +\* \* \* \* \* +on +ok +[0-9-]+ [0-9:]+ [A-Z]+ +[0-9]+s +[0-9-]+ '"
check "task list --json: each item has last_state, last_duration, next_run" \
	bash -c "$(declare -f A); A task list --json | jq -e '.items[0] | .last_state == \"ok\" and (.last_duration | type) == \"number\" and (.next_run | fromdateiso8601) > 0' >/dev/null"
check "task show --json: the history (newest first) with output and the next five runs, a minute apart" \
	bash -c "$(declare -f A); A task show hello --json | jq -e '(.runs | length) >= 1 and .runs[0].output != null and (.next_runs | length) == 5 and ((.next_runs[1] | fromdateiso8601) - (.next_runs[0] | fromdateiso8601)) == 60 and .task.name == \"hello\"' >/dev/null"
check "the task's page (English and Arabic): its next runs, the history with the recorded output" bash -c "
	curl -s -b '$T/jar' '$(url /tasks/1)' > '$T/task1.html' && grep -q '<h2>Next runs</h2>' '$T/task1.html' &&
	[ \$(grep -c '<li><time' '$T/task1.html') -ge 5 ] && grep -qF 'hello from cron; \$(id)' '$T/task1.html' &&
	curl -s -b '$T/jar' -b lang=ar '$(url /tasks/1)' | grep -q 'مواعيد التشغيل القادمة'"
cron_stop

# ---- enable, disable, remove
check "task disable hello: its line leaves the cron file" bash -c "$(declare -f A); A task disable hello >/dev/null && ! grep -q ' task run 1\$' '$CRON_D/aapanel'"
check "task enable hello: it is back" bash -c "$(declare -f A); A task enable hello >/dev/null && grep -q ' task run 1\$' '$CRON_D/aapanel'"
check "task remove slow: line, copy and rows gone" bash -c "$(declare -f A); A task remove slow >/dev/null && ! grep -q ' task run 2\$' '$CRON_D/aapanel' && [ ! -e '$SB/etc/aapanel/tasks/2.json' ] && [ \$(sqlite3 '$T/var/aapanel.db' 'SELECT COUNT(*) FROM cron_runs WHERE cron_job_id = 2') = 0 ]"
check "task remove of an unknown task: exit 2 naming it" bash -c "$(declare -f A); A task remove nosuch 2>&1 >/dev/null | grep -q 'name: no such task'; [ \${PIPESTATUS[0]} = 2 ]"
check "the audit log has each change with before and after" \
	bash -c "[ \$(sqlite3 '$T/var/aapanel.db' \"SELECT COUNT(*) FROM audit_log WHERE action = 'task.disable' AND before_json LIKE '%\\\"enabled\\\":true%' AND after_json LIKE '%\\\"enabled\\\":false%'\") = 1 ] && [ \$(sqlite3 '$T/var/aapanel.db' \"SELECT COUNT(*) FROM audit_log WHERE action IN ('task.create', 'task.remove', 'task.enable', 'task.run')\") -ge 8 ]"
# ---- old runs pruned (tasks.keep_runs = 5), a run by "Run now" refreshing its page
A task add quick --schedule '@daily' --command '/bin/true' --disabled --json > "$T/quick.json"
QID=$(jq -r '.id' "$T/quick.json")
for _ in 1 2 3 4 5 6 7; do A task run quick >/dev/null 2>&1 || true; done
check "7 runs of quick, tasks.keep_runs = 5: the newest 5 are kept" \
	bash -c "[ \"\$(sqlite3 '$T/var/aapanel.db' 'SELECT COUNT(*) || \" \" || MIN(id) FROM cron_runs WHERE cron_job_id = $QID')\" = \"5 \$(sqlite3 '$T/var/aapanel.db' 'SELECT id FROM cron_runs WHERE cron_job_id = $QID ORDER BY id DESC LIMIT 1 OFFSET 4')\" ]"
check "... and the other tasks' runs are not touched" \
	bash -c "[ \$(sqlite3 '$T/var/aapanel.db' 'SELECT COUNT(*) FROM cron_runs WHERE cron_job_id = 1') -ge 1 ]"
A task add nap --schedule '@daily' --command '/bin/sleep 4' --timeout 20 --disabled --json > "$T/nap.json"
NID=$(jq -r '.id' "$T/nap.json")
st=$(curl -s -o "$T/run.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
	-d '{}' "$(url "/api/v1/tasks/$NID/run")")
check "Run now (API): 200, the run is going" bash -c "[ $st = 200 ] && jq -e '.state == \"running\"' '$T/run.json' >/dev/null"
curl -s -b "$T/jar" "$(url "/tasks/$NID")" > "$T/nap1.html"
check "while it runs, the task's page refreshes itself: a noscript refresh and the poll of its JSON" \
	bash -c "grep -q '<noscript><meta http-equiv=\"refresh\" content=\"5\"></noscript>' '$T/nap1.html' && grep -q 'data-run-poll=\"[^\"]*/api/v1/tasks/$NID\"' '$T/nap1.html'"
check "... in Arabic too" bash -c "curl -s -b '$T/jar' -b lang=ar '$(url "/tasks/$NID")' | grep -q 'تتحدّث هذه الصفحة من تلقاء نفسها'"
check "the JSON app.js polls says a run is going" \
	bash -c "curl -s -H 'Authorization: Bearer $TOKEN' '$(url "/api/v1/tasks/$NID")' | jq -e '[.runs[].state] | index(\"running\") != null' >/dev/null"
sleep 5
curl -s -b "$T/jar" "$(url "/tasks/$NID")" > "$T/nap2.html"
check "once it ended the page no longer refreshes and shows the run succeeded" \
	bash -c "! grep -q 'http-equiv=\"refresh\"' '$T/nap2.html' && ! grep -q 'data-run-poll' '$T/nap2.html' && grep -q 'badge-ok' '$T/nap2.html'"
it_summary
