#!/usr/bin/env bash
# `aapanel alert` against a real pool, nginx and sampler:
#  - a rule added by the command is in GET /api/v1/alerts and on /alerts,
#    and its --json is the API's AlertRule, member for member;
#  - bad values exit 2 naming the field, with the same field and reason the
#    API answers for the same values (one table, both sides);
#  - enable, disable and remove work, show in the API and are audited (via cli);
#  - an unknown or malformed id exits 2;
#  - a webhook's secret cannot be given on argv (no such option, no
#    abbreviation, not echoed), and the secret file (or stdin) works: the
#    test message the command queues reaches a loopback receiver signed with it;
#  - the secret is in no output and no audit row; history --json is the API's list.
. "$(dirname "$0")/lib.sh"
HOOK_PID=""
HOOK_PORT=$(it_free_port)
D=$(mktemp -d /tmp/aapanel-acli.XXXXXX)
SECRET='the webhook secret of t_alert_cli'
it_setup "monitor = { interval = 1; send_timeout = 5; };"
trap 'rc=$?; kill -TERM $HOOK_PID 2>/dev/null || true; wait $HOOK_PID 2>/dev/null || true; rm -rf "$D"; (exit $rc); it_teardown' EXIT
python3 "$SRC/tests/integration/hook_sink.py" "$HOOK_PORT" "$D/hooks" "$SECRET" &
HOOK_PID=$!
it_start_pool
it_start_nginx
DB="$T/var/aapanel.db"
PW='correct horse battery staple'
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
it_user admin admin "$PW"
J="$T/jar"
check "the admin signs in" test "$(it_login "$J" admin "$PW")" = 303
ORIGIN="http://127.0.0.1:$PORT"
api() { # METHOD PATH [curl args]: JSON with the session and its CSRF token
	local m=$1 p=$2
	shift 2
	curl -s -b "$J" -H "Origin: $ORIGIN" -H 'Accept: application/json' -H "X-CSRF-Token: $(csrf_of "$J")" -X "$m" "$@" "$(url "$p")"
}
audits() { sqlite3 "$DB" "SELECT COUNT(*) FROM audit_log WHERE action = '$1' AND via = 'cli' AND actor LIKE 'cli:%'"; }

# ---------------------------------------------------------------- a rule from the command line
rc=0; A alert rule add --metric disk_space --target / --threshold 85 --duration 10 --json > "$T/rule.json" 2>"$T/err" || rc=$?
check "alert rule add exits 0 (rc $rc)" test "$rc" = 0
RID=$(jq -r .id "$T/rule.json")
check "and prints the AlertRule ($RID)" jqe '.id > 0 and .metric == "disk_space" and .target == "/" and .threshold == 85 and .duration == 10 and .channel == null and .enabled == true and (.created | test("Z$"))' "$T/rule.json"
api GET /api/v1/alerts > "$T/alerts.json"
check "the rule is in GET /api/v1/alerts" jqe --argjson id "$RID" '[.rules[] | select(.id == $id)] | length == 1' "$T/alerts.json"
check "--json is what the API answers for it, member for member" jqe --argjson id "$RID" --slurpfile c "$T/rule.json" \
	'(.rules[] | select(.id == $id)) == $c[0]' "$T/alerts.json"
curl -s -b "$J" "$(url /alerts)" > "$T/alerts.html"
check "and on the alerts page, in words" grep -q 'Disk space of / above 85 % for 10 min' "$T/alerts.html"
check "alert rule list shows it" bash -c "$(declare -f A); BIN='$BIN' T='$T' SRC='$SRC'; A alert rule list | grep -q '^$RID .*Disk space of / above 85 % for 10 min'"
check "the add is audited (via cli)" test "$(audits alert.rule.add)" = 1

# The same bad values, to the command and to the API: the same field, the same reason.
bad=(
	"metric=cpux threshold=90"
	"metric=cpu threshold=abc"
	"metric=cpu threshold=190"
	"metric=cpu threshold=-1"
	"threshold=90"
	"metric=cpu"
	"metric=cpu threshold=90 target=/"
	"metric=cpu threshold=90 duration=99999"
	"metric=cpu threshold=90 duration=x"
	"metric=cpu threshold=90 channel=999"
	"metric=load threshold=1e999"
)
for row in "${bad[@]}"; do
	args=() data=()
	for kv in $row; do args+=("--${kv%%=*}" "${kv#*=}"); data+=(--data-urlencode "$kv"); done
	rc=0; A alert rule add "${args[@]}" > /dev/null 2> "$T/err" || rc=$?
	api POST /api/v1/alerts/rules "${data[@]}" > "$T/apierr.json"
	want=$(jq -r '"\(.error.field): \(.error.reason)"' "$T/apierr.json")
	got=$(sed -n 's/^aapanel alert rule add: //p' "$T/err")
	check "[$row] exits 2 ($rc) with the API's field and reason ($want)" test "$rc" = 2 -a "$got" = "$want" -a "$want" != "null: null"
done
check "no rule was added by those" test "$(sqlite3 "$DB" 'SELECT COUNT(*) FROM alert_rules')" = 1

# ---------------------------------------------------------------- enable, disable, remove
A alert rule disable "$RID" --json > "$T/off.json"
check "disable answers the rule, off" jqe '.enabled == false' "$T/off.json"
check "the API shows it off" jqe --argjson id "$RID" '(.rules[] | select(.id == $id)).enabled == false' <(api GET /api/v1/alerts)
A alert rule enable "$RID" > "$T/on.txt"
check "enable says so" grep -q "is on" "$T/on.txt"
check "the API shows it on" jqe --argjson id "$RID" '(.rules[] | select(.id == $id)).enabled == true' <(api GET /api/v1/alerts)
check "both are audited with before and after" test "$(sqlite3 "$DB" "SELECT COUNT(*) FROM audit_log WHERE via = 'cli' AND ((action = 'alert.rule.disable' AND before_json = '{\"enabled\":true}' AND after_json = '{\"enabled\":false}') OR (action = 'alert.rule.enable' AND after_json = '{\"enabled\":true}')) AND target = '$RID'")" = 2
for verb in enable disable remove show; do
	rc=0; A alert rule $verb 9999 > /dev/null 2> "$T/err" || rc=$?
	check "rule $verb of an unknown id exits 2 naming the id ($rc)" bash -c "[ $rc = 2 ] && grep -q 'id: no such alert rule' '$T/err'"
done
rc=0; A alert rule enable abc > /dev/null 2> "$T/err" || rc=$?
check "a malformed id exits 2 ($rc)" bash -c "[ $rc = 2 ] && grep -q 'id: must be an integer' '$T/err'"
A alert rule remove "$RID" > /dev/null
check "remove: the rule is gone from the API" jqe '.rules | length == 0' <(api GET /api/v1/alerts)
check "and the removal is audited with what it was" test "$(sqlite3 "$DB" "SELECT COUNT(*) FROM audit_log WHERE via = 'cli' AND action = 'alert.rule.delete' AND target = '$RID' AND before_json LIKE '%disk_space%'")" = 1

# ---------------------------------------------------------------- channels and the secret
rc=0; A alert channel add hook --webhook "http://127.0.0.1:$HOOK_PORT/alert/tok" --secret "$SECRET" > "$T/out" 2> "$T/err" || rc=$?
check "a secret on argv is impossible: --secret is no option (exit $rc)" bash -c "[ $rc = 2 ] && grep -q 'unknown option --secret' '$T/err'"
check "and the value is not echoed" bash -c "! grep -qF '$SECRET' '$T/err' '$T/out'"
rc=0; A alert channel add hook --webhook "http://127.0.0.1:$HOOK_PORT/alert/tok" "--secret=$SECRET" > "$T/out" 2> "$T/err" || rc=$?
check "nor --secret=VALUE, and it is not echoed (exit $rc)" bash -c "[ $rc = 2 ] && ! grep -qF '$SECRET' '$T/err' '$T/out'"
rc=0; A alert channel add hook --webhook "http://127.0.0.1:$HOOK_PORT/alert/tok" --secret-f "$T/nofile" > /dev/null 2> "$T/err" || rc=$?
check "nor an abbreviation of --secret-file (exit $rc)" test "$rc" = 2
check "nothing was added by those" test "$(sqlite3 "$DB" 'SELECT COUNT(*) FROM alert_channels')" = 0
printf '%s\n' "$SECRET" > "$D/secret"
chmod 600 "$D/secret"
A alert channel add hook --webhook "http://127.0.0.1:$HOOK_PORT/alert/tok" --secret-file "$D/secret" --json > "$T/hook.json"
HID=$(jq -r .id "$T/hook.json")
check "the secret file works: a webhook channel ($HID)" jqe '.id > 0 and .kind == "webhook" and .name == "hook"' "$T/hook.json"
check "its target shows the host only, as the API does" jqe --argjson p "$HOOK_PORT" '.target == "http://127.0.0.1:\($p)/…"' "$T/hook.json"
check "--json is the API's AlertChannel, member for member" jqe --argjson id "$HID" --slurpfile c "$T/hook.json" \
	'(.channels[] | select(.id == $id)) == $c[0]' <(api GET /api/v1/alerts)
check "the secret is stored as read from the file (its first line)" test "$(sqlite3 "$DB" "SELECT secret FROM alert_channels WHERE id = $HID")" = "$SECRET"
short=$(printf 'too short\n' | A alert channel add h2 --webhook http://127.0.0.1:1/ --secret-file - 2>&1 >/dev/null; echo "rc=$?")
check "a short secret from stdin exits 2 naming the secret ($short)" bash -c "grep -q 'secret: a webhook needs a shared secret of at least 16' <<<'$short' && grep -q 'rc=2' <<<'$short'"
printf 'another secret from stdin\n' | A alert channel add h2 --webhook http://127.0.0.1:1/x --secret-file - > /dev/null
check "a secret from stdin works" test "$(sqlite3 "$DB" "SELECT secret FROM alert_channels WHERE name = 'h2'")" = 'another secret from stdin'
rc=0; A alert channel add h3 --webhook http://127.0.0.1:1/ --secret-file "$D/missing" > /dev/null 2> "$T/err" || rc=$?
check "a missing secret file exits 2 naming the secret ($rc)" bash -c "[ $rc = 2 ] && grep -q 'secret: cannot read' '$T/err'"
rc=0; A alert channel add mail --email not-an-address > /dev/null 2> "$T/err" || rc=$?
want=$(api POST /api/v1/alerts/channels --data-urlencode name=mail --data-urlencode kind=email --data-urlencode email=not-an-address | jq -r '"\(.error.field): \(.error.reason)"')
check "a bad address exits 2 with the API's reason ($want)" bash -c "[ $rc = 2 ] && grep -qF 'alert channel add: $want' '$T/err'"
A alert channel add mail --email ops@example.com > /dev/null
rc=0; A alert channel add mail --email ops@example.com > /dev/null 2> "$T/err" || rc=$?
check "a name in use exits 2 naming the name ($rc)" bash -c "[ $rc = 2 ] && grep -q 'name: ' '$T/err'"
check "channel list shows both webhooks and the address" bash -c "$(declare -f A); BIN='$BIN' T='$T' SRC='$SRC'; out=\$(A alert channel list); grep -q '^$HID .*hook .*webhook' <<<\"\$out\" && grep -q 'ops@example.com' <<<\"\$out\""
A alert channel test "$HID" > /dev/null
got=""
for i in $(seq 1 40); do
	[ "$(sqlite3 "$DB" "SELECT last_test_ok FROM alert_channels WHERE id = $HID")" = 1 ] && { got=$i; break; }
	sleep 0.25
done
check "channel test: the sampler delivered it (${got:-no})" test -n "$got"
check "signed with the secret from the file" jqe -s 'map(select(.event == "test")) | length == 1 and all(.valid)' "$D/hooks"
check "channel show tells the outcome" jqe '.last_test.delivered == true and .last_test.error == null' <(A alert channel show "$HID" --json)
for verb in test remove show; do
	rc=0; A alert channel $verb 9999 > /dev/null 2> "$T/err" || rc=$?
	check "channel $verb of an unknown id exits 2 ($rc)" bash -c "[ $rc = 2 ] && grep -q 'id: no such channel' '$T/err'"
done
A alert channel remove "$(sqlite3 "$DB" "SELECT id FROM alert_channels WHERE name = 'mail'")" > /dev/null
check "channel remove: gone from the API" jqe '[.channels[] | select(.name == "mail")] | length == 0' <(api GET /api/v1/alerts)
check "channel add, test and remove are audited by name" test "$(sqlite3 "$DB" "SELECT COUNT(*) FROM audit_log WHERE via = 'cli' AND ((action = 'alert.channel.add' AND target IN ('hook', 'h2', 'mail')) OR (action = 'alert.channel.test' AND target = 'hook') OR (action = 'alert.channel.delete' AND target = 'mail'))")" = 5
check "the secrets are in no audit row" bash -c "sqlite3 '$DB' 'SELECT * FROM audit_log' > '$T/audit.txt' && [ \$(wc -l < '$T/audit.txt') -ge 10 ] && ! grep -qF -e '$SECRET' -e 'another secret from stdin' '$T/audit.txt'"
check "the audit chain is intact" quiet A audit verify
A alert list --json > "$T/all.json"
check "alert list --json is GET /api/v1/alerts" jqe --slurpfile a <(api GET /api/v1/alerts) '. == $a[0]' "$T/all.json"
check "and has no secret" bash -c "! grep -qF '$SECRET' '$T/all.json' && ! grep -q 'another secret' '$T/all.json'"

# ---------------------------------------------------------------- history
now=$(date +%s)
sqlite3 "$DB" "INSERT INTO alert_events (rule_id, host, subject, rule_text, value, peak, started_at, resolved_at) VALUES
	(NULL, 'h', '/', 'Disk space of / above 85 % at once', 91.5, 93, $((now - 600)), $((now - 60))),
	(NULL, 'h', '', 'CPU above 90 % at once', 97, 99, $((now - 30)), NULL)"
A alert history --json > "$T/hist.json"
check "history --json is GET /api/v1/alerts/history" jqe --slurpfile a <(api GET /api/v1/alerts/history) '. == $a[0]' "$T/hist.json"
check "newest first, the open one unresolved" jqe '(.items | length) == 2 and .items[0].resolved == null and .items[1].subject == "/" and .next == null' "$T/hist.json"
A alert history --limit 1 --json > "$T/h1.json"
check "a page of one links the next page as the API does" jqe --slurpfile a <(api GET '/api/v1/alerts/history?limit=1') '. == $a[0] and (.next | test("^/api/v1/alerts/history\\?limit=1&cursor=[0-9]+$"))' "$T/h1.json"
check "history prints lines for a person" bash -c "$(declare -f A); BIN='$BIN' T='$T' SRC='$SRC'; A alert history | grep -q 'still firing .*CPU above 90'"
rc=0; A alert history --limit 0 > /dev/null 2> "$T/err" || rc=$?
check "history --limit 0 exits 2 naming the limit ($rc)" bash -c "[ $rc = 2 ] && grep -q 'limit: must be an integer between 1 and 500' '$T/err'"
rc=0; A alert rule list --metric cpu > /dev/null 2>&1 || rc=$?
check "an option another command takes exits 2 ($rc)" test "$rc" = 2
it_summary
