#!/usr/bin/env bash
# A site that stops answering raises an alert (issue 14's site rule): a
# reverse-proxy site made through the helper and served by the test's nginx,
# a site_down rule, and the sampler's site watch (monitor.interval 1 s):
#  - while the upstream answers, nothing fires;
#  - the upstream killed (nginx answers 502): one firing call to a loopback
#    webhook receiver, with the reason, and the episode on the history page;
#  - an upstream that accepts but never answers: "timed out" past the
#    rule's threshold (a second site, its own episode);
#  - each upstream back: one recovery call each;
#  - a disabled site is not watched; a bad target is refused naming it;
#  - the messages in the language of monitor.language (Arabic here; English
#    is t_monitor.sh's): whole sentences from po/ar.po, values filled in.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites_lib.sh"
HOOK_PORT=$(it_free_port)
it_setup "monitor = { interval = 1; send_timeout = 5; language = \"ar\"; };"
sites_setup
D="$T/hooks.d"
mkdir -p "$D"
SECRET='the webhook secret of t_site_alerts'
python3 "$SRC/tests/integration/hook_sink.py" "$HOOK_PORT" "$D/hooks" "$SECRET" &
sites_bg $!
it_start_pool
sites_start_nginx
sites_start_helper
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
UP=$(it_free_port) UP2=$(it_free_port) HANG=$(it_free_port)
start_up() { python3 "$SRC/tests/integration/upstream.py" tcp "$1" & UP_PID=$!; sites_bg $UP_PID
	for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && break; sleep 0.05; done; }
start_up "$UP"
SHOP_UP=$UP_PID
start_up "$UP2"
# An upstream that takes connections and never answers.
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64); held = []
while True: c, _ = s.accept(); held.append(c)
' "$HANG" &
HANG_PID=$!
sites_bg $HANG_PID

rc=0; A site add shop.test --type proxy --upstream "http://127.0.0.1:$UP" > "$T/out" 2>&1 || rc=$?
check "a proxy site shop.test (exit $rc)" test "$rc" = 0
rc=0; A site add slow.test --type proxy --upstream "http://127.0.0.1:$UP2" > "$T/out" 2>&1 || rc=$?
check "a proxy site slow.test (exit $rc)" test "$rc" = 0
rc=0; A site add off.test --type proxy --upstream "http://127.0.0.1:1" > "$T/out" 2>&1 || rc=$?
check "a proxy site off.test to a closed port (exit $rc)" test "$rc" = 0
A site disable off.test > /dev/null 2>&1
# Four more sites that will hang with slow.test: probed eight at a time, the
# five hanging ones cost a round one timeout (2 s), not five (10 s).
for n in 2 3 4 5; do
	rc=0; A site add "slow$n.test" --type proxy --upstream "http://127.0.0.1:$UP2" > "$T/out" 2>&1 || rc=$?
	check "a proxy site slow$n.test (exit $rc)" test "$rc" = 0
done
check "shop.test answers through nginx" test "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: shop.test' "http://127.0.0.1:$PORT/")" = 200

printf '%s\n' "$SECRET" > "$T/secret"
A alert channel add hook --webhook "http://127.0.0.1:$HOOK_PORT/alert" --secret-file "$T/secret" > /dev/null
rc=0; A alert rule add --metric site_down --target 'bad name!' --threshold 2 > /dev/null 2> "$T/err" || rc=$?
check "a target that is not a domain: exit 2 (rc $rc)" test "$rc" = 2
check "naming the field and the reason ($(cat "$T/err"))" grep -q "target.*must be a domain name" "$T/err"
rc=0; A alert rule add --metric site_down --threshold 90 > /dev/null 2> "$T/err" || rc=$?
check "a threshold over 60 s: exit 2 (rc $rc)" test "$rc" = 2
rc=0; A alert rule add --metric site_down --threshold 2 --json > "$T/rule.json" 2> "$T/err" || rc=$?
check "a site_down rule for every site, 2 s (exit $rc)" test "$rc" = 0
check "its text says what it watches" jqe '.metric == "site_down" and .threshold == 2' "$T/rule.json"

reload_nginx() { nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -e "$T/nginx/error.log" -s reload; }
events() { # EVENT DOMAIN: how many calls
	[ -f "$D/hooks" ] || { echo 0; return; }
	jq -s --arg e "$1" --arg d "$2" 'map(.body |= fromjson | select(.event == $e and .body.subject == $d)) | length' "$D/hooks"
}
sleep 4 # four readings with every site answering
check "while the sites answer, nothing fires" test "$(events firing shop.test)$(events firing slow.test)" = 00

kill -TERM "$SHOP_UP"; wait "$SHOP_UP" 2>/dev/null || true
fired=""
for i in $(seq 1 60); do [ "$(events firing shop.test)" -ge 1 ] && { fired=$i; break; }; sleep 0.25; done
check "the upstream gone: shop.test's alert reached the webhook (${fired:-no})" test -n "$fired"
check "signed, with nginx's 502 as the reason" \
	jqe -s 'map(.body |= fromjson | select(.event == "firing" and .body.subject == "shop.test")) | .[0] | .valid and .body.reason == "HTTP 502" and .body.language == "ar"' "$D/hooks"
check "in Arabic: the subject and the rule's words" \
	jqe -s 'map(.body |= fromjson | select(.event == "firing" and .body.subject == "shop.test")) | .[0].body | .message == "[aaPanel \(.host)] الموقع shop.test لا يستجيب: HTTP 502" and .rule.text == "مواقع لا تستجيب خلال 2 ث فورًا"' "$D/hooks"
check "the disabled site raised nothing" test "$(events firing off.test)" = 0
check "nor slow.test, whose upstream still answers" test "$(events firing slow.test)" = 0
# slow.test now goes to the upstream that never answers.
slow_all() { for d in slow slow2 slow3 slow4 slow5; do sed -i "s|$1|$2|" "$SB/etc/nginx/aapanel/sites/$d.test.conf"; done; }
slow_all "127.0.0.1:$UP2" "127.0.0.1:$HANG"
reload_nginx
hung_at=$(date +%s%N)
fired=""
for i in $(seq 1 80); do [ "$(events firing slow.test)" -ge 1 ] && { fired=$i; break; }; sleep 0.25; done
check "an upstream that never answers: slow.test fires too (${fired:-no})" test -n "$fired"
all=""
for i in $(seq 1 80); do
	n=0; for d in slow slow2 slow3 slow4 slow5; do [ "$(events firing $d.test)" -ge 1 ] && n=$((n + 1)); done
	[ "$n" = 5 ] && { all=$(( ($(date +%s%N) - hung_at) / 1000000 )); break; }; sleep 0.25
done
# Sequential probes would need five timeouts (10 s) for the last one.
check "the five hanging sites all fired within 8 s, probed together (${all:-no} ms)" \
	test -n "$all" -a "${all:-99999}" -lt 8000
check "timed out past the rule's 2 s" \
	jqe -s 'map(.body |= fromjson | select(.event == "firing" and .body.subject == "slow.test")) | .[0].body.reason | test("timed out|answered in")' "$D/hooks"
sleep 3
check "once per episode: one firing call for each site" test "$(events firing shop.test)$(events firing slow.test)" = 11
J="$T/jar"
it_user admin admin 'correct horse battery staple'
it_login "$J" admin 'correct horse battery staple' > /dev/null
curl -s -b "$J" "$(url /alerts/history)" > "$T/history.html"
curl -s -o /dev/null -b "$J" -c "$J" -H "Origin: http://127.0.0.1:$PORT" --data-urlencode "csrf=$(csrf_of "$J")" \
	--data-urlencode lang=ar "$(url /lang)"
A alert rule add --metric cpu --threshold 99 --duration 2 > /dev/null
A alert rule add --metric load --threshold 90 --duration 5 > /dev/null
curl -s -b "$J" -c "$J" "$(url /alerts)" > "$T/alerts-ar.html"
check "Arabic durations take Arabic plural forms: two minutes, five minutes" \
	bash -c "grep -q 'لمدة دقيقتين' '$T/alerts-ar.html' && grep -q 'لمدة 5 دقائق' '$T/alerts-ar.html'"
check "the Alerts page in Arabic names the rule in Arabic" grep -q 'مواقع لا تستجيب خلال 2 ث فورًا' "$T/alerts-ar.html"
check "the history page shows shop.test's episode still firing" bash -c "grep -q 'shop.test' '$T/history.html' && grep -q 'Still firing' '$T/history.html'"

start_up "$UP"
slow_all "127.0.0.1:$HANG" "127.0.0.1:$UP2"
reload_nginx
rec=""
for i in $(seq 1 80); do [ "$(events resolved shop.test)" -ge 1 ] && [ "$(events resolved slow.test)" -ge 1 ] && { rec=$i; break; }; sleep 0.25; done
check "both back: one recovery call each (${rec:-no})" test -n "$rec"
check "the recovery says it answers again" \
	jqe -s 'map(.body |= fromjson | select(.event == "resolved" and .body.subject == "shop.test")) | .[0].body.message | endswith("عاد إلى طبيعته: الموقع shop.test يستجيب مجددًا")' "$D/hooks"
check "both episodes are closed" \
	test "$(sqlite3 "$T/var/aapanel.db" "SELECT COUNT(*) FROM alert_events WHERE resolved_at IS NOT NULL AND subject IN ('shop.test','slow.test')")" = 2
it_summary
