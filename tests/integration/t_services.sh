#!/usr/bin/env bash
# Services (issue 17): the whitelisted systemd units through the helper
# (sd-bus, sd-journal), the API, the page and `aapanel service`.
#  1. Here, where PID 1 is not systemd: the page, the API and the CLI say
#     "systemd is not available here" (a state: 200, exit 0), an action is
#     refused, nothing breaks.
#  2. Under a real systemd, PID 1 of a new PID + mount + network namespace
#     with private /run, /tmp, /var/log and /etc/systemd/system and a
#     target of the test's own units only
#     (/work/shared/reference/systemd-namespace.md); the helper runs in
#     its mount namespace (as root: PID 1's private socket), the panel and
#     nginx outside, talking to it over the test directory (bind-mounted at
#     the same path inside; PID 1 logs to its journal, so the unit's page
#     has its Started/Stopped lines as on a real server). The list shows the whitelisted units (a
#     pattern expanded) with their state; stop, start, restart change the
#     state and the main PID as systemctl inside sees them; reload, enable
#     and disable; the unit's journal lines appear; a protected unit needs
#     its typed name; a unit outside the whitelist and hostile names are a
#     400 naming the field and nothing changes; every change is audited
#     with before and after.
. "$(dirname "$0")/lib.sh"
it_setup 'helper = { socket = "@T@/var/run/helper.sock"; sandbox_root = "@T@/var/sandbox"; };
services = { units = "t-web.service, t-idle*.service, t-guard.service"; protected = "t-guard.service"; journal_lines = 20; action_timeout = 20; operator_units = "t-web.service"; };
pool = { request_timeout = 30; };'
SD="" UNS=""
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }

ns_stop() {
	[ -n "$SD" ] || return 0
	kill -s SIGRTMIN+4 "$SD" 2>/dev/null || true
	for _ in $(seq 1 100); do kill -0 "$UNS" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$SD" "$UNS" 2>/dev/null || true
	wait "$UNS" 2>/dev/null || true
	SD="" UNS=""
}
s_teardown() {
	local rc=$?
	set +e
	[ "$rc" -eq 0 ] || FAIL=$((FAIL + 1))
	if [ -n "$SD" ] && [ "$FAIL" -ne 0 ]; then
		echo "--- journal of the namespace (last 30 lines)"
		nsenter -t "$SD" -m -p -- journalctl --no-pager -n 30 -o cat 2>/dev/null
		echo "--- helper log"; tail -n 20 "$T/helper.log" 2>/dev/null
	fi
	if [ -n "$HELPER_PID" ]; then
		kill -TERM "$HELPER_PID" 2>/dev/null
		for _ in $(seq 1 50); do kill -0 "$HELPER_PID" 2>/dev/null || break; sleep 0.1; done
		wait "$HELPER_PID" 2>/dev/null; HELPER_PID=""
	fi
	[ -n "${NSE:-}" ] && wait "$NSE" 2>/dev/null
	ns_stop
	[ -n "${TU:-}" ] && rm -rf "$TU"
	true
	it_teardown
}
trap s_teardown EXIT

it_start_pool
it_start_nginx
it_start_helper "$T/var/run/helper.sock"
it_user admin admin 'correct horse battery staple'
it_user viewer viewer 'correct horse battery staple'
it_user operator operator 'correct horse battery staple'
TOKEN=$(A token create --user admin --scope write --name t | tail -1)
VTOKEN=$(A token create --user viewer --scope read --name v | tail -1)
OTOKEN=$(A token create --user operator --scope write --name o | tail -1)
api() { # api METHOD PATH [JSON] -> body in $T/r.json, status printed
	local m=$1 p=$2 d=${3:-}
	if [ -n "$d" ]; then
		curl -s -o "$T/r.json" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $TOKEN" \
			-H 'Content-Type: application/json' --data-binary "$d" "$(url "/api/v1$p")"
	else
		curl -s -o "$T/r.json" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $TOKEN" "$(url "/api/v1$p")"
	fi
}

# ---- 1. no systemd here
check "PID 1 here is not systemd (the premise of part 1)" test ! -d /run/systemd/system
st=$(api GET /services)
check "GET /api/v1/services without systemd: 200 (a state, not an error; got $st)" test "$st" = 200
check "it says systemd is not available, with the reason, and lists nothing" \
	jqe '.available == false and (.reason | test("systemd is not running here")) and .units == [] and (.configured | index("t-web.service") != null)' "$T/r.json"
JAR="$T/jar"
check "admin signs in" test "$(it_login "$JAR" admin 'correct horse battery staple')" = 303
curl -s -b "$JAR" -o "$T/page.html" "$(url /services)"
check "the Services page says so in words" grep -q 'systemd is not available here.' "$T/page.html"
check "the page is in the sidebar, marked current" grep -q 'aria-current="page"[^>]*>Services\|href="[^"]*/services"[^>]*aria-current' "$T/page.html"
curl -s -b "$JAR" -b lang=ar -o "$T/page.ar.html" "$(url /services)"
check "and in Arabic" grep -q 'مدير خدمات النظام غير متاح هنا' "$T/page.ar.html"
rc=0; A service list > "$T/o.txt" 2>&1 || rc=$?
check "aapanel service list: 'systemd is not available here' and exit 0 (got $rc)" \
	bash -c "[ $rc -eq 0 ] && grep -q 'systemd is not available here' '$T/o.txt'"
A service list --json > "$T/cl.json"
check "aapanel service list --json: available false" jqe '.available == false' "$T/cl.json"
st=$(api POST /service-actions '{"name":"t-web.service","action":"start"}')
check "an action without systemd is refused (501, got $st), not a crash" test "$st" = 501
kill -TERM "$HELPER_PID"; wait "$HELPER_PID" 2>/dev/null || true; HELPER_PID=""
rm -f "$T/var/run/helper.sock"

# ---- 2. a real systemd in namespaces of our own, with the test's units
U="$T/units"; mkdir -p "$U"
cat > "$U/t.target" <<'UNIT'
[Unit]
Description=aaPanel services test target
Wants=t-web.service t-guard.service t-outside.service
UNIT
cat > "$U/t-web.service" <<'UNIT'
[Unit]
Description=Test web service
[Service]
ExecStartPre=/bin/echo t-web says hello from its start
ExecStart=/bin/sleep infinity
ExecReload=/bin/echo t-web reloaded its configuration
[Install]
WantedBy=multi-user.target
UNIT
cat > "$U/t-idle1.service" <<'UNIT'
[Unit]
Description=Test idle service (matched by a pattern)
[Service]
ExecStart=/bin/sleep infinity
UNIT
cat > "$U/t-guard.service" <<'UNIT'
[Unit]
Description=Test protected service
[Service]
ExecStart=/bin/sleep infinity
UNIT
cat > "$U/t-outside.service" <<'UNIT'
[Unit]
Description=Test service outside the whitelist
[Service]
ExecStart=/bin/sleep infinity
UNIT
# The helper's own units too (conf/systemd/aapanel-helper.{socket,service}, every
# restriction kept; drop-ins as t_helper_units.sh's: a test profile, the panel
# user nobody): its configuration outside /tmp, which the unit makes private.
case "$SRC" in
/tmp/* | /var/tmp/*) not_ok "the checkout $SRC is under /tmp: the helper's unit (PrivateTmp=) cannot see it"; exit 1 ;;
esac
TU=$(mktemp -d "$SRC/build/t-services.XXXXXX")
chmod 0755 "$TU"
mkdir -p "$TU/conf/profiles" "$TU/sandbox" "$U/aapanel-helper.service.d" "$U/aapanel-helper.socket.d"
cp "$SRC/conf/aapanel.cfg" "$TU/conf/aapanel.cfg"
USOCK=/run/aapanel-helper/aapanel-helper.sock
cat > "$TU/conf/profiles/test.cfg" <<CFG
paths = { var_dir = "$TU/var"; run_dir = "$TU/var"; log_dir = "$TU/var"; };
log = { level = "info"; };
helper = { socket = "$USOCK"; panel_user = "nobody"; sandbox_root = "$TU/sandbox"; };
services = { units = "t-web.service, t-idle*.service, t-guard.service"; protected = "t-guard.service"; action_timeout = 20; };
CFG
cp "$SRC/conf/systemd/aapanel-helper.service" "$SRC/conf/systemd/aapanel-helper.socket" "$U/"
printf '[Service]\nExecStart=\nExecStart=%s --profile test --config %s --root %s\nEnvironment=ASAN_OPTIONS=detect_leaks=0\n' \
	"$SRC/build/aapanel-helper" "$TU/conf/aapanel.cfg" "$SRC" > "$U/aapanel-helper.service.d/test.conf"
printf '[Socket]\nSocketGroup=nogroup\n' > "$U/aapanel-helper.socket.d/test.conf"
sed -i 's/^Wants=t-web.service t-guard.service t-outside.service$/Wants=t-web.service t-guard.service t-outside.service aapanel-helper.socket/' "$U/t.target"
cat > "$T/boot.sh" <<SH
mount --make-rprivate /
mount -t tmpfs tmpfs /run
mkdir -p /run/systemd/system /run/t-keep
mount --bind "$T" /run/t-keep
mount -t tmpfs tmpfs /tmp
mkdir -p "$T"
mount --move /run/t-keep "$T"
mount -t tmpfs tmpfs /var/log
mount -t tmpfs tmpfs /etc/systemd/system
cp -r "$U"/. /run/systemd/system/
exec env container=other /lib/systemd/systemd --system --unit=t.target --log-target=journal --log-level=info
SH
setsid unshare --fork --pid --mount --mount-proc --net sh "$T/boot.sh" > "$T/systemd.log" 2>&1 < /dev/null &
UNS=$!
for _ in $(seq 1 50); do SD=$(pgrep -P "$UNS" || true); [ -n "$SD" ] && break; sleep 0.1; done
check "systemd runs as PID 1 of its own namespace (host pid ${SD:-none})" test -n "$SD"
[ -n "$SD" ] || { cat "$T/systemd.log"; exit 1; }
ns() { nsenter -t "$SD" -m -p -- "$@"; }
for _ in $(seq 1 100); do [ "$(ns systemctl is-active t-web.service 2>/dev/null)" = active ] && break; sleep 0.1; done
check "the test's units run inside (t-web, t-guard, t-outside)" \
	bash -c "for u in t-web t-guard t-outside; do [ \"\$(nsenter -t $SD -m -p -- systemctl is-active \$u.service)\" = active ] || exit 1; done"
check "and nothing of the machine's: no nginx, no database in there" \
	bash -c "! nsenter -t $SD -m -p -- systemctl list-units --state=running --no-legend | grep -qE 'nginx|mariadb|postgres|ssh'"
# The helper in systemd's mount and PID namespaces (its /run: PID 1's private
# socket, which wants a peer it can see), as root. nsenter forks it: HELPER_PID
# is the helper itself (nsenter's child), stopped by it_teardown.
nsenter -t "$SD" -m -p -- "$SRC/build/aapanel-helper" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" 2>>"$T/helper.log" &
NSE=$!
for _ in $(seq 1 200); do [ -S "$T/var/run/helper.sock" ] && break; sleep 0.05; done
HELPER_PID=$(pgrep -P "$NSE" || true)
check "the helper in the namespace serves on the test directory's socket" test -S "$T/var/run/helper.sock"

pid_of() { ns systemctl show -p MainPID --value "$1"; }
state_of() { ns systemctl is-active "$1" 2>/dev/null || true; }

st=$(api GET /services)
check "GET /api/v1/services: 200, available (got $st)" bash -c "[ $st = 200 ] && jq -e '.available == true and .reason == null' '$T/r.json' >/dev/null"
check "it lists exactly the whitelisted units, the pattern expanded (t-guard, t-idle1, t-web)" \
	jqe '[.units[].name] | sort == ["t-guard.service","t-idle1.service","t-web.service"]' "$T/r.json"
pid1=$(pid_of t-web.service)
check "t-web: active, running, its main PID as systemd has it ($pid1), a since time" \
	jqe --argjson p "$pid1" '.units[] | select(.name == "t-web.service") | .active_state == "active" and .sub_state == "running" and .main_pid == $p and (.since | test("^20[0-9-]+T"))' "$T/r.json"
check "t-idle1: inactive, no main PID; t-guard protected, t-web not" \
	jqe '(.units[] | select(.name == "t-idle1.service") | .active_state == "inactive" and .main_pid == null) and (.units[] | select(.name == "t-guard.service") | .protected) and (.units[] | select(.name == "t-web.service") | .protected | not)' "$T/r.json"
check "t-outside (running, not whitelisted) is not listed" jqe '[.units[].name] | index("t-outside.service") == null' "$T/r.json"
curl -s -b "$JAR" -o "$T/page.html" "$(url /services)"
check "the page shows the units with their state" bash -c "grep -q 't-web.service' '$T/page.html' && grep -q 'Running' '$T/page.html' && ! grep -q 'systemd is not available' '$T/page.html'"

# stop / start / restart: the state and the main PID change in the system
st=$(api POST /service-actions '{"name":"t-web.service","action":"stop"}')
check "stop t-web: 200 (got $st), after: inactive, no main PID" \
	bash -c "[ $st = 200 ] && jq -e '.result == \"done\" and .before.active_state == \"active\" and .after.active_state == \"inactive\" and .after.main_pid == null' '$T/r.json' >/dev/null"
check "systemctl inside sees t-web inactive" test "$(state_of t-web.service)" = inactive
st=$(api POST /service-actions '{"name":"t-web","action":"start"}')
pid2=$(pid_of t-web.service)
check "start t-web (a bare name): 200 (got $st), active with a new main PID ($pid1 -> $pid2)" \
	bash -c "[ $st = 200 ] && [ '$(state_of t-web.service)' = active ] && [ '$pid2' != 0 ] && [ '$pid2' != '$pid1' ] && jq -e --argjson p '$pid2' '.after.main_pid == \$p' '$T/r.json' >/dev/null"
st=$(api POST /service-actions '{"name":"t-web.service","action":"restart"}')
pid3=$(pid_of t-web.service)
check "restart t-web: 200 (got $st), still active, the main PID changed again ($pid2 -> $pid3)" \
	bash -c "[ $st = 200 ] && [ '$(state_of t-web.service)' = active ] && [ '$pid3' != '$pid2' ] && jq -e --argjson a '$pid2' --argjson b '$pid3' '.before.main_pid == \$a and .after.main_pid == \$b' '$T/r.json' >/dev/null"
st=$(api POST /service-actions '{"name":"t-web.service","action":"reload"}')
check "reload t-web: 200 (got $st), same main PID" bash -c "[ $st = 200 ] && [ '$(pid_of t-web.service)' = '$pid3' ]"
st=$(api POST /service-actions '{"name":"t-idle1.service","action":"reload"}')
check "reload of a stopped unit: systemd's refusal, 422 with its message (got $st)" \
	bash -c "[ $st = 422 ] && jq -e '.error.reason | test(\"systemd\")' '$T/r.json' >/dev/null"

# the journal
sleep 0.5
st=$(api GET /services/t-web.service)
check "GET /api/v1/services/t-web.service: 200 with the unit (got $st)" \
	bash -c "[ $st = 200 ] && jq -e '.unit.name == \"t-web.service\" and .unit.active_state == \"active\"' '$T/r.json' >/dev/null"
check "its journal has the unit's own lines (ExecStartPre's, ExecReload's)" \
	jqe '([.journal[].message] | any(test("t-web says hello"))) and ([.journal[].message] | any(test("t-web reloaded")))' "$T/r.json"
check "and systemd's about it (Stopped / Started)" jqe '[.journal[].message] | any(test("Stopped|Started"))' "$T/r.json"
check "at most services.journal_lines (20) lines, each with a time" jqe '(.journal | length) <= 20 and all(.journal[]; .time | test("^20"))' "$T/r.json"
curl -s -b "$JAR" -o "$T/unit.html" "$(url /services/t-web.service)"
check "the unit's page shows the journal" grep -q 't-web says hello' "$T/unit.html"
check "the page of a unit outside the whitelist is a 404" test "$(curl -s -o /dev/null -w '%{http_code}' -b "$JAR" "$(url /services/t-outside.service)")" = 404

# the page's form, as a browser sends it (CSRF token, cookie)
tok=$(csrf_of "$JAR")
st=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -b "$JAR" -c "$JAR" -H "Origin: http://127.0.0.1:$PORT" -d "csrf=$tok" -d name=t-web.service -d action=restart "$(url /service-actions)")
pid4=$(pid_of t-web.service)
check "the page's Restart button: 303 back to the unit's page ($st), a new main PID ($pid3 -> $pid4)" \
	bash -c "[[ '$st' == '303 '*'/services/t-web.service' ]] && [ '$pid4' != '$pid3' ] && [ '$(state_of t-web.service)' = active ]"
pid3=$pid4
curl -s -b "$JAR" -c "$JAR" -o "$T/unit.html" "$(url /services/t-web.service)"
check "and the page says it was done" grep -q "systemd carried out the action on <bdi>t-web.service</bdi>" "$T/unit.html"
curl -s -b "$JAR" -c "$JAR" -o "$T/unit2.html" "$(url /services/t-web.service)"
check "a reload shows it no more (post/redirect/get)" bash -c "! grep -q 'class=\"flash' '$T/unit2.html'"
curl -s -b "$JAR" -o "$T/guard.html" "$(url /services/t-guard.service)"
check "a protected unit's page asks for its name to stop it" grep -q 'name="confirm"' "$T/guard.html"
tok=$(csrf_of "$JAR")
st=$(curl -s -o "$T/guard.html" -w '%{http_code}' -b "$JAR" -H "Origin: http://127.0.0.1:$PORT" -d "csrf=$tok" -d name=t-guard.service -d action=stop "$(url /service-actions)")
check "the form's Stop without the name: 400, the page again with the reason at the field, still running" \
	bash -c "[ $st = 400 ] && grep -q 'f-confirm-error' '$T/guard.html' && grep -q 'type the unit' '$T/guard.html' && [ '$(state_of t-guard.service)' = active ]"

# enable / disable (the namespace's own /etc/systemd/system)
st=$(api POST /service-actions '{"name":"t-web.service","action":"enable"}')
check "enable t-web: 200 (got $st), unit file enabled, as systemctl sees it" \
	bash -c "[ $st = 200 ] && jq -e '.before.unit_file_state == \"disabled\" and .after.unit_file_state == \"enabled\"' '$T/r.json' >/dev/null && [ \"\$(nsenter -t $SD -m -p -- systemctl is-enabled t-web.service)\" = enabled ]"
st=$(api POST /service-actions '{"name":"t-web.service","action":"disable"}')
check "disable t-web: 200 (got $st), disabled again" \
	bash -c "[ $st = 200 ] && [ \"\$(nsenter -t $SD -m -p -- systemctl is-enabled t-web.service || true)\" = disabled ]"

# the protected unit: its typed name
gpid=$(pid_of t-guard.service)
st=$(api POST /service-actions '{"name":"t-guard.service","action":"stop"}')
check "stop t-guard without confirm: 400 naming confirm (got $st), still running" \
	bash -c "[ $st = 400 ] && jq -e '.error.field == \"confirm\"' '$T/r.json' >/dev/null && [ '$(state_of t-guard.service)' = active ] && [ '$(pid_of t-guard.service)' = '$gpid' ]"
st=$(api POST /service-actions '{"name":"t-guard.service","action":"stop","confirm":"t-web.service"}')
check "with another unit's name: 400 naming confirm (got $st), still running" \
	bash -c "[ $st = 400 ] && jq -e '.error.field == \"confirm\"' '$T/r.json' >/dev/null && [ '$(state_of t-guard.service)' = active ]"
st=$(api POST /service-actions '{"name":"t-guard.service","action":"restart"}')
check "restart needs no confirmation: 200 (got $st)" test "$st" = 200
st=$(api POST /service-actions '{"name":"t-guard.service","action":"stop","confirm":"t-guard.service"}')
check "with its name typed: stopped (200, got $st)" bash -c "[ $st = 200 ] && [ '$(state_of t-guard.service)' = inactive ]"
rc=0; A service stop t-guard.service > "$T/o.txt" 2>&1 || rc=$?
check "CLI: stop of a protected unit without --confirm: exit 2 naming confirm (got $rc)" \
	bash -c "[ $rc -eq 2 ] && grep -q 'confirm:' '$T/o.txt'"
rc=0; A service start t-guard --json > "$T/o.txt" 2>"$T/o.err" || rc=$?
check "CLI: start t-guard --json: exit 0, after active (got $rc)" \
	bash -c "[ $rc -eq 0 ] && jq -e '.after.active_state == \"active\"' '$T/o.txt' >/dev/null && [ '$(state_of t-guard.service)' = active ]"
rc=0; A service stop t-guard --confirm t-guard.service > "$T/o.txt" 2>&1 || rc=$?
check "CLI: stop t-guard --confirm t-guard.service: exit 0, inactive (got $rc)" \
	bash -c "[ $rc -eq 0 ] && [ '$(state_of t-guard.service)' = inactive ]"

# outside the whitelist, hostile names: 400 naming the field, nothing changes
opid=$(pid_of t-outside.service)
wpid=$(pid_of t-web.service)
hostile=('"t-outside.service"' '"nginx; rm"' '"../x"' '"$(id)"' '"t-web.service\u0000x"' "\"$(printf 'a%.0s' $(seq 1 200)).service\"" '"t-web.service\nx"' '"`id`"' '"t-wеb.service"' '""')
for h in "${hostile[@]}"; do
	st=$(api POST /service-actions "{\"name\":$h,\"action\":\"stop\"}")
	check "name ${h:0:40}: 400 naming name (got $st)" \
		bash -c "[ $st = 400 ] && jq -e '.error.field == \"name\"' '$T/r.json' >/dev/null"
done
st=$(api POST /service-actions '{"name":"t-web.service","action":"kill"}')
check "an unknown action: 400 naming action (got $st)" bash -c "[ $st = 400 ] && jq -e '.error.field == \"action\"' '$T/r.json' >/dev/null"
st=$(api POST /service-actions '{"name":"t-guard.service","action":"stop","confirm":"$(id)"}')
check "a hostile confirm: 400 naming confirm (got $st)" bash -c "[ $st = 400 ] && jq -e '.error.field == \"confirm\"' '$T/r.json' >/dev/null"
check "nothing changed: t-outside and t-web still run with the same main PIDs" \
	bash -c "[ '$(state_of t-outside.service)' = active ] && [ '$(pid_of t-outside.service)' = '$opid' ] && [ '$(pid_of t-web.service)' = '$wpid' ]"
rc=0; A service stop 't-outside.service' > "$T/o.txt" 2>&1 || rc=$?
check "CLI: stop t-outside: exit 2 naming name (got $rc)" bash -c "[ $rc -eq 2 ] && grep -q 'name:' '$T/o.txt'"
rc=0; A service restart 'nginx; rm' > "$T/o.txt" 2>&1 || rc=$?
check "CLI: restart 'nginx; rm': exit 2 naming name (got $rc)" bash -c "[ $rc -eq 2 ] && grep -q 'name:' '$T/o.txt'"
check "t-outside still runs after the CLI's refusals" test "$(pid_of t-outside.service)" = "$opid"
# The helper refuses on its own too (the panel's checks bypassed): the job fails naming the field.
hjob() { # hjob ARGS_JSON -> the finished job's status in $T/h.json
	local id
	"$SRC/build/tests/helper_send" --call "$T/var/run/helper.sock" service.control "$1" > "$T/h0.json" || true
	id=$(jq -r '.result.job // empty' "$T/h0.json")
	[ -n "$id" ] || { cp "$T/h0.json" "$T/h.json"; return 0; }
	for _ in $(seq 1 100); do
		"$SRC/build/tests/helper_send" --call "$T/var/run/helper.sock" job.status "{\"id\":$id}" > "$T/h.json" || true
		jq -e '.result.state == "done" or .result.state == "failed"' "$T/h.json" > /dev/null && return 0
		sleep 0.05
	done
}
hjob '{"name":"t-outside.service","action":"stop"}'
check "helper: service.control of t-outside refused naming name" jqe '.result.state == "failed" and .result.error.field == "name"' "$T/h.json"
hjob '{"name":"t-guard.service","action":"disable"}'
check "helper: disable of t-guard without confirm refused naming confirm" jqe '.result.state == "failed" and .result.error.field == "confirm"' "$T/h.json"
"$SRC/build/tests/helper_send" --call "$T/var/run/helper.sock" service.control '{"name":"nginx; rm","action":"stop"}' > "$T/h.json" || true
check "helper: a hostile name refused before any job, naming name" jqe '.ok == false and .error.field == "name"' "$T/h.json"
check "t-outside still runs" test "$(state_of t-outside.service)" = active

# permissions
st=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $VTOKEN" -H 'Content-Type: application/json' \
	--data-binary '{"name":"t-web.service","action":"stop"}' "$(url /api/v1/service-actions)")
check "a viewer may look but not act: 403 (got $st), t-web still runs" bash -c "[ $st = 403 ] && [ '$(state_of t-web.service)' = active ]"
# Operators: restart and reload, of services.operator_units (t-web here) only.
oact() { curl -s -o "$T/o.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $OTOKEN" -H 'Content-Type: application/json' \
	--data-binary "$1" "$(url /api/v1/service-actions)"; }
wpid=$(pid_of t-web.service)
st=$(oact '{"name":"t-web.service","action":"stop"}')
check "an operator may not stop t-web (only restart or reload): 403 (got $st), same main PID" \
	bash -c "[ $st = 403 ] && [ '$(pid_of t-web.service)' = '$wpid' ] && jq -e '.error.reason | test(\"services.operator_units\")' '$T/o.json' >/dev/null"
gpid=$(pid_of t-guard.service)
st=$(oact '{"name":"t-guard.service","action":"restart"}')
check "nor restart t-guard, which is not in services.operator_units: 403 (got $st), same main PID" \
	bash -c "[ $st = 403 ] && [ '$(pid_of t-guard.service)' = '$gpid' ]"
st=$(oact '{"name":"t-web.service","action":"restart"}')
check "but restarts t-web, which is: 200 (got $st), a new main PID" \
	bash -c "[ $st = 200 ] && [ '$(pid_of t-web.service)' != '$wpid' ] && [ '$(state_of t-web.service)' = active ]"
check "the operator's restart is audited as theirs" \
	bash -c "sqlite3 '$T/var/aapanel.db' \"SELECT COUNT(*) FROM audit_log WHERE action = 'service.restart' AND target = 't-web.service' AND outcome = 'ok' AND actor = 'operator'\" | grep -qx 1"
it_login "$T/ojar" operator 'correct horse battery staple' >/dev/null
check "the operator's page of t-web offers Restart and Reload, not Stop" \
	bash -c "curl -s -b '$T/ojar' '$(url /services/t-web.service)' > '$T/o.html'; grep -q 'value=\"restart\"' '$T/o.html' && grep -q 'value=\"reload\"' '$T/o.html' && ! grep -q 'value=\"stop\"' '$T/o.html'"
check "... and of t-guard no action at all" \
	bash -c "! curl -s -b '$T/ojar' '$(url /services/t-guard.service)' | grep -q 'value=\"restart\"'"
wpid=$(pid_of t-web.service)
st=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $VTOKEN" "$(url /api/v1/services)")
check "and the viewer sees the list (200, got $st)" test "$st" = 200

# the CLI's reads
A service list --json > "$T/cl.json"
check "aapanel service list --json: the units with their state" \
	jqe '.available and ([.units[].name] | sort == ["t-guard.service","t-idle1.service","t-web.service"]) and (.units[] | select(.name == "t-web.service") | .active_state == "active")' "$T/cl.json"
A service status t-web --json > "$T/cs.json"
check "aapanel service status t-web --json: the unit and its journal" \
	jqe '.unit.name == "t-web.service" and ([.journal[].message] | any(test("t-web says hello")))' "$T/cs.json"
A service list > "$T/cl.txt"
check "aapanel service list: a table with t-web active" grep -qE '^t-web.service +active +running' "$T/cl.txt"

# ---- 3. the same operations from the helper under its own hardened unit
# (socket-activated as root with the unit's capabilities, seccomp filter,
# ProtectSystem=strict, IP to localhost only), asked as the panel's uid.
ucall() { ns setpriv --reuid=65534 --regid=65534 --clear-groups -- "$SRC/build/tests/helper_send" --call --timeout 5000 "$USOCK" "$@" || true; }
ucall service.list > "$T/u.json"
check "under aapanel-helper.service: service.list reads systemd (the test's units, t-web active)" \
	jqe '.ok and .result.available and ([.result.units[].name] | sort == ["t-guard.service","t-idle1.service","t-web.service"]) and (.result.units[] | select(.name == "t-web.service") | .active_state == "active")' "$T/u.json"
umain=$(ns systemctl show -p MainPID --value aapanel-helper.service)
check "... the helper under its unit: seccomp filter, the sites' and the firewall's capabilities only" \
	bash -c "[ \"\$(nsenter -t $SD -m -p -- grep -E '^Seccomp:' /proc/$umain/status | awk '{print \$2}')\" = 2 ] && [ \"\$(nsenter -t $SD -m -p -- grep -E '^CapEff:' /proc/$umain/status | awk '{print \$2}')\" = 000000000000100b ]"
before=$(pid_of t-web.service)
job=$(ucall service.control '{"name":"t-web.service","action":"restart"}' | jq -r '.result.job // empty')
for _ in $(seq 1 100); do
	ucall job.status "{\"id\":${job:-0}}" > "$T/u.json"
	jqe '.result.state == "done" or .result.state == "failed" or .ok == false' "$T/u.json" && break
	sleep 0.1
done
check "... service.control restarts t-web (job done, a new main PID: $before -> $(pid_of t-web.service))" \
	bash -c "jq -e '.result.state == \"done\" and .result.result.after.active_state == \"active\"' '$T/u.json' >/dev/null && [ '$(pid_of t-web.service)' != '$before' ]"
ucall service.status '{"name":"t-web.service"}' > "$T/u.json"
check "... service.status reads the journal (the unit's own lines)" \
	jqe '.ok and ([.result.journal[].message] | any(test("t-web says hello")))' "$T/u.json"

# the audit log: before and after
n=$(sqlite3 "$T/var/aapanel.db" "SELECT count(*) FROM audit_log WHERE action LIKE 'service.%' AND outcome = 'ok'")
check "every change is audited ($n rows of service.* ok, want >= 10: 6 API changes of t-web, 2 of t-guard, 2 by the CLI)" test "$n" -ge 10
check "the stop of t-web is audited with before active and after inactive" \
	bash -c "sqlite3 '$T/var/aapanel.db' \"SELECT before_json || ' ' || after_json FROM audit_log WHERE action = 'service.stop' AND target = 't-web.service'\" | grep -q '\"active_state\":\"active\".*\"active_state\":\"inactive\"'"
check "refusals changed nothing and left no ok row for t-outside" \
	test "$(sqlite3 "$T/var/aapanel.db" "SELECT count(*) FROM audit_log WHERE target = 't-outside.service'")" = 0
it_summary
