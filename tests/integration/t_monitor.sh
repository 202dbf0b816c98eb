#!/usr/bin/env bash
# Monitoring through the real nginx, pool and sampler (monitor.interval 1 s):
#  - the live stream: an anonymous client gets 401 and no stream; a signed-in
#    one gets a new reading within two intervals, served by the sampler
#    (no worker is busy while streams are open);
#  - the values shown match /proc; history is recorded; /api/v1/metrics and
#    /api/v1/system; `aapanel status --system`; the dashboard renders charts;
#  - the master restarts a sampler that dies;
#  - alerts: a rule fires once per episode and recovers, to a loopback SMTP
#    server (STARTTLS, login from a file) and a loopback webhook receiver
#    (signature checked) started here; a channel's test button.
. "$(dirname "$0")/lib.sh"
SMTP_PID="" HOOK_PID=""
stop_sinks() { for p in $SMTP_PID $HOOK_PID; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }
SMTP_PORT=$(it_free_port)
HOOK_PORT=$(it_free_port)
D=$(mktemp -d /tmp/aapanel-mon.XXXXXX)
mkdir -p "$D/mail"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/key.pem" -out "$D/cert.pem" -days 1 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1
printf 'alerts\nmail password\n' > "$D/smtp-login"
chmod 600 "$D/smtp-login"
it_setup "monitor = { interval = 1; smtp_url = \"smtp://127.0.0.1:$SMTP_PORT\"; smtp_from = \"panel@example.com\";
  smtp_credentials_file = \"$D/smtp-login\"; ca_file = \"$D/cert.pem\"; send_timeout = 5; };"
trap 'rc=$?; stop_sinks; rm -rf "$D"; (exit $rc); it_teardown' EXIT
python3 "$SRC/tests/integration/smtp_sink.py" "$SMTP_PORT" "$D/mail" "$D/cert.pem" "$D/key.pem" &
SMTP_PID=$!
python3 "$SRC/tests/integration/hook_sink.py" "$HOOK_PORT" "$D/hooks" 'a shared secret of the test' &
HOOK_PID=$!
# The panel runs in a zone away from UTC (no summer time): charts label its local times.
TZ=Asia/Kolkata it_start_pool
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

# ---------------------------------------------------------------- the live stream
code=$(curl -s -o "$T/anon" -w '%{http_code}' -m 5 "$(url /events/metrics)")
check "an anonymous stream request gets 401 (got $code)" test "$code" = 401
check "and no stream" bash -c "! grep -q '^event:' '$T/anon'"
code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 -H 'Cookie: aapanel=0000' "$(url /events/metrics)")
check "a made-up session cookie gets 401 too (got $code)" test "$code" = 401
timeout 2.6 curl -sN -b "$J" "$(url /events/metrics)" > "$T/stream" || true
n=$(grep -c '^event: metrics' "$T/stream" || true)
check "a signed-in stream gets the reading at once and a new one within two intervals ($n events in 2.6 s)" test "$n" -ge 2
first=$(grep -m1 '^data:' "$T/stream" | sed 's/^data: //' | jq -r .time)
last=$(grep '^data:' "$T/stream" | tail -1 | sed 's/^data: //' | jq -r .time)
check "the readings move on ($first → $last)" test "$last" -gt "$first"
# Open streams hold no worker: with 20 open, every worker is idle and pages answer.
streams=()
for i in $(seq 1 20); do timeout 6 curl -sN -b "$J" "$(url /events/metrics)" > /dev/null 2>&1 & streams+=($!); done
sleep 1.5
busy=$(A status --json | jq '[.workers[] | select(.state == "busy")] | length')
check "20 open streams keep no worker busy (busy: $busy)" test "$busy" -le 1
check "pages answer meanwhile" test "$(curl -s -o /dev/null -w '%{http_code}' -b "$J" "$(url /)")" = 200
for p in "${streams[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done

# ---------------------------------------------------------------- values and history
api GET /api/v1/system > "$T/sys.json"
mem=$(awk '/^MemTotal:/ {print $2 * 1024}' /proc/meminfo)
check "memory total matches /proc/meminfo" jqe --argjson m "$mem" '.memory.total == $m' "$T/sys.json"
check "CPU count matches nproc" jqe --argjson n "$(nproc)" '.cpu.count == $n and (.cpu.cores | length) == $n' "$T/sys.json"
check "the root filesystem is listed with its space" jqe '[.filesystems[] | select(.mount == "/" and .total > 0)] | length == 1' "$T/sys.json"
l1=$(cut -d' ' -f1 /proc/loadavg)
check "load within 2 of /proc/loadavg ($l1)" jqe --argjson l "$l1" '(.load[0] - $l) | (. < 2 and . > -2)' "$T/sys.json"
check "the reading comes from the running sampler" jqe '.live == true and .cpu.total != null' "$T/sys.json"
check "its time is RFC 3339 UTC, within a few seconds of now" jqe --argjson now "$(date +%s)" \
	'(.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")) and ((.time | fromdateiso8601) - $now | fabs) < 15' "$T/sys.json"
sleep 1
api GET '/api/v1/metrics?range=1h&series=cpu,mem_used,fs:/' > "$T/metrics.json"
check "history: the CPU series has points {at, values}" jqe '.series[0].name == "cpu" and .series[0].columns == ["cpu"] and (.series[0].points | length) >= 1 and (.series[0].points | map(.values[0]) | any(. != null)) and (.series[0].points[0].at | test("Z$"))' "$T/metrics.json"
check "history: the root filesystem's series has used and total" jqe '.series[2].columns == ["used","total","inodes_used","inodes_total"] and (.series[2].points | length) >= 1 and (.series[2].points[-1].values[1] > 0)' "$T/metrics.json"
check "history: from and to are RFC 3339, an hour apart" jqe '((.to | fromdateiso8601) - (.from | fromdateiso8601)) == 3600' "$T/metrics.json"
check "an unknown range is refused (400)" test "$(api GET '/api/v1/metrics?range=2y' -o /dev/null -w '%{http_code}')" = 400
check "an unknown series is refused (400)" test "$(api GET '/api/v1/metrics?series=nope' -o /dev/null -w '%{http_code}')" = 400
check "raw rows were stored" test "$(sqlite3 "$DB" 'SELECT COUNT(*) FROM metric_host WHERE res = 0')" -ge 2
A status --system --json > "$T/cli.json"
check "aapanel status --system --json shows the same server, as the API does" jqe --argjson m "$mem" '.memory.total == $m and .live == true and (.time | test("Z$"))' "$T/cli.json"
check "aapanel status --system prints lines for a person" bash -c "A() { \"$BIN\" --profile test --config '$T/conf/aapanel.cfg' --root '$SRC' \"\$@\"; }; A status --system | grep -q '^cpu .* on [0-9]* cores'"
curl -s -b "$J" "$(url /)" > "$T/home.html"
check "the dashboard draws its charts as SVG" bash -c "[ \$(grep -c '<polyline class=\"line' '$T/home.html') -ge 8 ]"
grep -m1 -A40 'id="chart-cpu"' "$T/home.html" > "$T/cpu-chart"
t1=$(grep -o -m1 'data-t1="[0-9]*"' "$T/cpu-chart" | sed 's/.*"\([0-9]*\)"/\1/')
last_x=$(grep 'class="axis axis-x"' "$T/cpu-chart" | tail -1 | sed 's/.*>\([^<]*\)<.*/\1/')
check "the charts' time axis is in the server's zone, not UTC (ends $last_x at $t1)" \
	test "$last_x" = "$(TZ=Asia/Kolkata date -d "@$t1" +%H:%M)" -a "$last_x" != "$(TZ=UTC date -d "@$t1" +%H:%M)"
check "the caption names the zone" grep -q 'Times in <bdi dir="ltr" translate="no">IST, UTC+05:30</bdi>' "$T/home.html"
check "the script gets its offset (for live labels)" grep -q 'data-tzoff="19800"' "$T/home.html"
check "the dashboard's charts are live (1 h) and name the stream" bash -c "grep -q 'data-live=\"1\"' '$T/home.html' && grep -q 'data-stream=\"/events/metrics\"' '$T/home.html'"
# A worker keeps the dashboard it built for the sampler's last reading and builds
# it again for the next one (issue 19): every view after a new reading shows it.
# (The page in a file first: grep -m1 on curl's pipe could end curl mid-page, and with pipefail the script.)
home_t1() { curl -s -b "$J" -o "$T/t1.html" "$(url /)"; grep -o -m1 'data-t1="[0-9]*"' "$T/t1.html" | sed 's/[^"]*"\([0-9]*\)"/\1/'; }
home_time() { api GET / | jq -r .now.time; }
before=$(for _ in 1 2 3 4 5 6; do home_t1; done | sort -n | tail -1)
tb=$(for _ in 1 2 3 4 5 6; do home_time; done | sort | tail -1)
sleep 2.5
after=$(for _ in 1 2 3 4 5 6; do home_t1; done | sort -n | head -1)
ta=$(for _ in 1 2 3 4 5 6; do home_time; done | sort | head -1)
check "after the sampler's next reading every view's charts end later ($before → $after)" test "${after:-0}" -gt "${before:-0}"
check "and every view shows the newer reading ($tb → $ta)" test -n "$tb" -a "$ta" \> "$tb"
check "the disks and network page answers" test "$(curl -s -o /dev/null -w '%{http_code}' -b "$J" "$(url /monitor?range=24h)")" = 200
api GET /api/v1/monitor > "$T/devs.json"
check "its resource: the root filesystem's history, values as stored (bytes), no chart" jqe '([.filesystems[] | select(.name == "/")] | length == 1) and (.filesystems[0].columns | length) == 4 and (has("charts") | not)' "$T/devs.json"
curl -s -b "$J" "$(url '/monitor/processes?q=aapanel&sort=memory&order=desc')" > "$T/procs.html"
check "the process list finds the panel's own processes" grep -q 'aapanel-sampler\|aapanel-worker' "$T/procs.html"
api GET '/api/v1/monitor/processes?q=aapanel&sort=memory&order=desc' > "$T/procs.json"
check "and answers them as JSON, largest first, CPU known (live)" jqe '.live and .matched > 0 and (.processes | length) == .matched and ([.processes[].rss] == ([.processes[].rss] | sort | reverse)) and all(.processes[]; .cpu != null)' "$T/procs.json"

# ---------------------------------------------------------------- the sampler is supervised
spid=$(for c in /proc/[0-9]*; do [ "$(cat "$c/comm" 2>/dev/null)" = aapanel-sampler ] && awk '{print $4}' "$c/stat" | grep -qx "$POOL_PID" && basename "$c"; done | head -1 || true)
check "the sampler runs as a child of the master ($spid)" test -n "$spid"
kill -KILL "$spid"
back=""
for i in $(seq 1 40); do
	timeout 1.5 curl -sN -b "$J" "$(url /events/metrics)" > "$T/again" 2>/dev/null || true
	if grep -q '^event: metrics' "$T/again"; then back=$i; break; fi
	sleep 0.25
done
check "after it was killed the master starts it again and the stream comes back (${back:-never})" test -n "$back"

# ---------------------------------------------------------------- alerts
hook=$(api POST /api/v1/alerts/channels --data-urlencode name=hook --data-urlencode kind=webhook \
	--data-urlencode "url=http://127.0.0.1:$HOOK_PORT/alert" --data-urlencode 'secret=a shared secret of the test')
HOOK_ID=$(jq -r .id <<<"$hook")
mail=$(api POST /api/v1/alerts/channels --data-urlencode name=mail --data-urlencode kind=email --data-urlencode email=ops@example.com)
MAIL_ID=$(jq -r .id <<<"$mail")
check "two channels were added ($HOOK_ID, $MAIL_ID)" test "$HOOK_ID" -gt 0 -a "$MAIL_ID" -gt 0
check "a webhook without a secret is refused" jqe '.error.field == "secret"' <(api POST /api/v1/alerts/channels --data-urlencode name=bad --data-urlencode kind=webhook --data-urlencode url=http://127.0.0.1:1/)
# The test button: queued by the worker, sent by the sampler.
api POST "/api/v1/alerts/channels/$HOOK_ID/test" > /dev/null
api POST "/api/v1/alerts/channels/$MAIL_ID/test" > /dev/null
ok_test=""
for i in $(seq 1 40); do
	[ "$(sqlite3 "$DB" 'SELECT COUNT(*) FROM alert_channels WHERE last_test_ok = 1')" = 2 ] && { ok_test=$i; break; }
	sleep 0.25
done
check "both test messages were delivered (${ok_test:-no})" test -n "$ok_test"
check "the webhook's test call is signed" jqe -s 'map(select(.event == "test")) | length == 1 and all(.valid)' "$D/hooks"
check "the test e-mail went over STARTTLS with the login from the file" bash -c "grep -l 'Subject: .*Test message' '$D'/mail/*.eml | xargs grep -q '^X-Sink: tls=1 user=alerts'"
# A certificate expiring in 3 days and a rule for 14: the episode starts.
now=$(date +%s)
sqlite3 "$DB" "INSERT INTO certificates (domain, not_after, created_at) VALUES ('shop.example', $((now + 3 * 86400)), $now)"
api POST /api/v1/alerts/rules --data-urlencode metric=cert_expiry --data-urlencode threshold=14 --data-urlencode duration=0 > "$T/rule.json"
check "the rule was added (201, the AlertRule)" jqe '.id > 0 and .metric == "cert_expiry" and .threshold == 14 and .target == null and .channel == null' "$T/rule.json"
check "and is in the audit log" test "$(sqlite3 "$DB" "SELECT COUNT(*) FROM audit_log WHERE action = 'alert.rule.add'")" = 1
fired=""
for i in $(seq 1 40); do
	[ "$(jq -s 'map(select(.event == "firing")) | length' "$D/hooks")" -ge 1 ] && [ "$(grep -l 'expires in' "$D"/mail/*.eml 2>/dev/null | wc -l)" -ge 1 ] && { fired=$i; break; }
	sleep 0.25
done
check "the alert reached the webhook and the mailbox (${fired:-no})" test -n "$fired"
sleep 3 # three more readings with the condition still true
check "once per episode: one firing call" jqe -s 'map(select(.event == "firing")) | length == 1 and all(.valid)' "$D/hooks"
check "once per episode: one firing e-mail" test "$(grep -l 'expires in' "$D"/mail/*.eml | wc -l)" = 1
check "the e-mail names the certificate" bash -c "grep -q 'Subject: \[aaPanel .*\] Certificate of shop.example expires in 3 days' '$D'/mail/*.eml"
check "the episode is in the history page" bash -c "curl -s -b '$J' '$(url /alerts/history)' | grep -q 'Still firing'"
# Renewed: it recovers, once.
sqlite3 "$DB" "UPDATE certificates SET not_after = $((now + 80 * 86400)) WHERE domain = 'shop.example'"
rec=""
for i in $(seq 1 40); do
	[ "$(jq -s 'map(select(.event == "resolved")) | length' "$D/hooks")" -ge 1 ] && [ "$(grep -l 'Recovered' "$D"/mail/*.eml 2>/dev/null | wc -l)" -ge 1 ] && { rec=$i; break; }
	sleep 0.25
done
check "the recovery reached both (${rec:-no})" test -n "$rec"
sleep 2
check "one recovery call, one recovery e-mail" bash -c "[ \$(jq -s 'map(select(.event == \"resolved\")) | length' '$D/hooks') = 1 ] && [ \$(grep -l Recovered '$D'/mail/*.eml | wc -l) = 1 ]"
check "the episode is closed" test "$(sqlite3 "$DB" "SELECT COUNT(*) FROM alert_events WHERE resolved_at IS NOT NULL AND subject = 'shop.example'")" = 1
it_summary
