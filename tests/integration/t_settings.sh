#!/usr/bin/env bash
# The Settings screen's changes, for real: the helper (as you, beneath a
# sandbox in $T), the dev nginx and the pool. What an operator would notice:
#  - the port moves: nginx serves the panel on the new port and no longer on
#    the old one; a port in use or below 1024 is refused, naming the field;
#  - nginx refusing the change (its -t fails) puts the old include back, the
#    old port keeps answering, and the answer carries nginx's own message;
#  - an allowed-addresses list without the admin's own address is refused;
#  - a shorter idle timeout really ends a session idle that long;
#  - a new entrance moves the panel (and its static files) and the old one
#    answers 404;
#  - every change is audited, and `aapanel settings show|set` sees the same.
. "$(dirname "$0")/lib.sh"
it_setup "auth = { lockout_threshold = 50; };
$IT_MANAGED
"'helper = { socket = "@T@/var/run/aapanel-helper.sock"; sandbox_root = "@T@/var/sandbox"; timeout_ms = 30000; };'
HS="$T/var/run/aapanel-helper.sock"
mkdir -p "$T/var/sandbox/etc/aapanel" "$T/var/sandbox/etc/nginx"
# The panel's own origin named with its port, as scripts/setup-https.sh writes it: after a port
# move the same host is accepted at the new port (issue 9), no other port is.
sed -i "s|^panel = { settings_file = \([^;]*\); };|panel = { settings_file = \1; origins = \"http://127.0.0.1:$PORT\"; };|" \
	"$T/conf/profiles/test.cfg"
grep -q "origins = \"http://127.0.0.1:$PORT\"" "$T/conf/profiles/test.cfg" || { echo "t_settings: panel.origins not set"; exit 1; }
it_start_helper "$HS"
it_start_pool
it_start_nginx
DB="$T/var/aapanel.db"
PW='correct horse battery staple'
J="$T/jar"
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
it_user admin admin "$PW"
check "the admin signs in" test "$(it_login "$J" admin "$PW")" = 303
BASE=""
# post PATH [curl args]: a form POST (browser), body in $T/out, headers in $T/hdr.
post() {
	local p=$1
	shift
	curl -s -o "$T/out" -D "$T/hdr" -w '%{http_code}' -b "$J" -c "$J" -H "Origin: http://127.0.0.1:$PORT" \
		--data-urlencode "csrf=$(csrf_of "$J" "$BASE")" "$@" "$(url "$BASE$p")"
}
# jpost PATH [curl args]: the same as a JSON client, answer in $T/out.json.
jpost() {
	local p=$1
	shift
	curl -s -o "$T/out.json" -w '%{http_code}' -b "$J" -H "Origin: http://127.0.0.1:$PORT" -H 'Accept: application/json' \
		-H "X-CSRF-Token: $(csrf_of "$J" "$BASE")" "$@" "$(url "$BASE$p")"
}
location() { awk 'tolower($1) == "location:" {print $2}' "$T/hdr" | tr -d '\r'; }
settings() { curl -s -b "$J" -H 'Accept: application/json' "$(url "$BASE/settings")"; }
listen_port() { sed -n '1s/.* port=\([0-9]*\) .*/\1/p' "$T/var/sandbox/etc/nginx/listen.conf"; }
# wait_for CMD...: up to 10 s for CMD to succeed (nginx and the pool reload asynchronously)
wait_for() { for _ in $(seq 1 100); do "$@" && return 0; sleep 0.1; done; return 1; }
answers() { curl -s -o /dev/null -m 2 "http://127.0.0.1:$1$2"; }
refuses() { ! curl -s -o /dev/null -m 2 "http://127.0.0.1:$1/"; }

settings > "$T/s.json"
check "GET /settings: the port nginx serves, the address, the entrance" \
	jqe --argjson p "$PORT" '.port == $p and .address == "127.0.0.1" and .base_path == "/" and .movable and (.tls | not)' "$T/s.json"
check "the HTTPS section says how to turn it on" bash -c "curl -s -b '$J' '$(url /settings)' | grep -q 'scripts/setup-https.sh DOMAIN EMAIL'"

# ------------------------------------------------------------ the lock-out guards
code=$(jpost /settings/access --data-urlencode allow=10.9.9.0/24)
check "an allowed-addresses list without the admin's own address: refused ($code)" test "$code" = 409
check "naming the field and the address" jqe '.error.field == "allow" and (.error.reason | contains("127.0.0.1"))' "$T/out.json"
code=$(post /settings/access --data-urlencode allow=10.9.9.0/24 --data-urlencode confirmed=yes)
check "in the browser: the same form, the reason by the field ($code)" \
	bash -c "[ $code = 409 ] && grep -q 'id=\"f-allow-error\"' '$T/out' && grep -qF 'value=\"10.9.9.0/24\"' '$T/out'"
check "and no settings file was written" test ! -e "$T/var/sandbox/etc/aapanel/settings.cfg"
BUSY=$(it_free_port)
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); time.sleep(120)' "$BUSY" &
BUSY_PID=$!
wait_for bash -c "ss -Hltn 'sport = :$BUSY' | grep -q ."
code=$(jpost /settings/listen --data-urlencode "port=$BUSY")
check "a port another program listens on: refused ($code)" \
	bash -c "[ $code = 409 ] && jq -e '.error.field == \"port\"' '$T/out.json' >/dev/null"
# The helper checks again (the worker's check was a moment ago).
hcall() { "$SRC/build/tests/helper_send" --call --timeout 20000 "$HS" panel.listen "$1" > "$T/h.json" || true; }
hcall "{\"address\":\"127.0.0.1\",\"port\":$BUSY,\"base_path\":\"/\"}"
check "the helper refuses the busy port too, naming it" \
	jqe '.ok == false and .error.field == "port" and (.error.reason | test("in use"))' "$T/h.json"
# An address nginx cannot bind (not this machine's): nginx -t says so, or (a port taken between
# nginx -t and the reload) the reload keeps the old configuration, said only in nginx's error
# log, and the helper sees nothing listen there within 5 s. Either way the files go back.
hcall "{\"address\":\"192.0.2.77\",\"port\":$(it_free_port),\"base_path\":\"/\"}"
check "an address nginx could not take is a failure, saying so" \
	jqe '.ok == false and (.error.reason | test("bind\\(\\) to 192.0.2.77:[0-9]+ failed|did not start listening on 192.0.2.77 port"))' "$T/h.json"
check "the listen file is back as it was" test "$(listen_port)" = "$PORT"
check "and the panel still answers on its port" answers "$PORT" /login
kill "$BUSY_PID" 2>/dev/null; wait "$BUSY_PID" 2>/dev/null || true
code=$(jpost /settings/listen --data-urlencode port=80)
check "a privileged port: refused ($code)" bash -c "[ $code = 400 ] && jq -e '.error.field == \"port\"' '$T/out.json' >/dev/null"
check "the listen include is untouched" test "$(listen_port)" = "$PORT"

# ------------------------------------------------------------ the port moves
NEW=$(it_free_port)
code=$(post /settings/listen --data-urlencode "port=$NEW")
check "without confirmation: the confirmation page names the new address ($code)" \
	bash -c "[ $code = 200 ] && grep -q 'class=\"confirm-form\"' '$T/out' && grep -q '127.0.0.1:$NEW/' '$T/out'"
check "and nothing moved" test "$(listen_port)" = "$PORT"
code=$(post /settings/listen --data-urlencode "port=$NEW" --data-urlencode confirmed=yes)
check "confirmed: 303 to the panel's new address ($code)" test "$code:$(location)" = "303:http://127.0.0.1:$NEW/settings"
check "nginx serves the panel on the new port" wait_for answers "$NEW" /login
check "and no longer on the old one" wait_for refuses "$PORT"
OLD=$PORT PORT=$NEW
check "the page there says where the panel is now" bash -c "curl -s -b '$J' -c '$J' '$(url /settings)' | grep -q 'flash-ok'"
code=$(jpost /settings/listen --data-urlencode "port=$NEW")
check "a form from the new address is accepted although panel.origins names the old port ($code)" test "$code" = 200
OTHER=$(it_free_port)
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$J" -H "Origin: http://127.0.0.1:$OTHER" -H 'Accept: application/json' \
	-H "X-CSRF-Token: $(csrf_of "$J" "$BASE")" --data-urlencode "port=$NEW" "$(url /settings/listen)")
check "one from another port of the same host is still refused ($code)" test "$code" = 403
check "audited, before and after" test "$(sqlite3 "$DB" "SELECT before_json || ' ' || after_json FROM audit_log WHERE action = 'settings.listen' AND outcome = 'ok'")" = \
	"{\"address\":\"127.0.0.1\",\"port\":$OLD} {\"address\":\"127.0.0.1\",\"port\":$NEW}"

# ------------------------------------------------------------ nginx refuses: rolled back
cp "$T/nginx/nginx.conf" "$T/nginx.conf.good"
echo 'aapanel_no_such_directive on;' >> "$T/nginx/nginx.conf"
cp "$T/var/sandbox/etc/nginx/listen.conf" "$T/listen.before"
THIRD=$(it_free_port)
code=$(jpost /settings/listen --data-urlencode "port=$THIRD")
check "nginx -t fails: the change is refused with nginx's own message ($code)" \
	bash -c "[ $code = 422 ] && jq -e '.error.reason | contains(\"aapanel_no_such_directive\")' '$T/out.json' >/dev/null"
check "the previous include is back, byte for byte" cmp -s "$T/listen.before" "$T/var/sandbox/etc/nginx/listen.conf"
check "the current port keeps answering" answers "$PORT" /login
check "the refused one never did" refuses "$THIRD"
cp "$T/nginx.conf.good" "$T/nginx/nginx.conf"
check "the failure is audited" test "$(sqlite3 "$DB" "SELECT COUNT(*) FROM audit_log WHERE action = 'settings.listen' AND outcome = 'failed'")" = 1

# ------------------------------------------------------------ the session timeout
age() { sqlite3 "$DB" "UPDATE sessions SET last_seen_at = last_seen_at - $1"; }
signed_in() { [ "$(curl -s -o /dev/null -w '%{http_code}' -b "$J" -H 'Accept: application/json' "$(url "$BASE/account")")" = 200 ]; }
age 100
check "idle 100 s under the default 1800 s timeout: still signed in" signed_in
code=$(post /settings/sessions --data-urlencode idle_timeout=60 --data-urlencode absolute_timeout=600)
check "a shorter idle timeout: 303 ($code)" test "$code:$(location)" = "303:/settings"
check "the pool reloads it" wait_for bash -c "curl -s -b '$J' -H 'Accept: application/json' '$(url /settings)' | jq -e '.idle_timeout == 60' >/dev/null"
check "the settings layer holds it" grep -q 'idle_timeout = 60;' "$T/var/sandbox/etc/aapanel/settings.cfg"
age 100
signed_out() { ! signed_in; }
check "idle 100 s now: the session has ended" signed_out
check "the change is audited" test "$(sqlite3 "$DB" "SELECT after_json FROM audit_log WHERE action = 'settings.sessions'")" = '{"idle_timeout":60,"absolute_timeout":600}'
check "the admin signs in again" test "$(it_login "$J" admin "$PW")" = 303
code=$(jpost /settings/sessions --data-urlencode idle_timeout=900 --data-urlencode absolute_timeout=300)
check "an absolute timeout below the idle one: 400 naming it ($code)" \
	bash -c "[ $code = 400 ] && jq -e '.error.field == \"absolute_timeout\"' '$T/out.json' >/dev/null"

# ------------------------------------------------------------ the entrance
code=$(post /settings/entrance --data-urlencode base_path=/hidden-panel --data-urlencode confirmed=yes)
check "a new entrance: 303 to it ($code)" test "$code:$(location)" = "303:http://127.0.0.1:$PORT/hidden-panel/settings"
check "the one-time message is set under the new entrance" grep -qi '^set-cookie: aapanel_flash=[0-9a-f]*\.[0-9a-f]*; Path=/hidden-panel/;' "$T/hdr"
check "the panel answers beneath it" wait_for bash -c "[ \$(curl -s -o /dev/null -w '%{http_code}' -b '$J' '$(url /hidden-panel/settings)') = 200 ]"
curl -s -b "$J" -c "$J" "$(url /hidden-panel/settings)" > "$T/moved.html"
check "and the page there shows it" grep -q "The panel moved to .*127.0.0.1:[0-9]*/hidden-panel/" "$T/moved.html"
status() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$(url "$1")")" = "$2" ]; }
check "and its static files (nginx follows the entrance)" wait_for status /hidden-panel/static/css/app.css 200
# (nginx's old workers finish what they hold for a moment after a reload: the
# state a person sees is the one that settles, within wait_for's 10 s)
check "the old entrance is gone (404)" wait_for bash -c "[ \$(curl -s -o /dev/null -w '%{http_code}' -b '$J' '$(url /settings)') = 404 ]"
check "static files outside it too (404)" wait_for status /static/css/app.css 404
BASE=/hidden-panel
settings > "$T/s.json"
check "GET /settings there says so" jqe '.base_path == "/hidden-panel" and (.url | endswith("/hidden-panel/"))' "$T/s.json"

# ------------------------------------------------------------ allowed addresses, with our own
code=$(post /settings/access --data-urlencode "allow=127.0.0.1, 10.0.0.0/8" --data-urlencode confirmed=yes)
check "a list with the admin's own address: 303 ($code)" test "$code" = 303
check "the pool reloads it" wait_for bash -c "curl -s -b '$J' -H 'Accept: application/json' '$(url "$BASE/settings")' | jq -e '.allow == \"127.0.0.1, 10.0.0.0/8\"' >/dev/null"
check "and the admin still reaches the panel" test "$(curl -s -o /dev/null -w '%{http_code}' -b "$J" "$(url "$BASE/settings")")" = 200

# ------------------------------------------------------------ the CLI sees the same
A settings show --json > "$T/cli.json" 2>"$T/cli.err"
check "aapanel settings show --json: the entrance, the list, the port" \
	jqe --argjson p "$PORT" '.base_path == "/hidden-panel" and .allow == "127.0.0.1, 10.0.0.0/8" and .port == $p' "$T/cli.json"
A settings set session.idle_timeout 5 2>"$T/cli.err" >/dev/null && rc=0 || rc=$?
check "aapanel settings set with a bad value: exit 2, the key and the reason ($rc)" \
	bash -c "[ $rc = 2 ] && grep -q 'session.idle_timeout' '$T/cli.err' && grep -q 'between 60 and 86400' '$T/cli.err'"
A settings set session.absolute_timeout 7200 >/dev/null 2>"$T/cli.err" && rc=0 || rc=$?
check "aapanel settings set session.absolute_timeout 7200: exit 0 ($rc)" test "$rc" = 0
check "the layer holds it" grep -q 'absolute_timeout = 7200;' "$T/var/sandbox/etc/aapanel/settings.cfg"
it_summary
