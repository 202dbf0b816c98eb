#!/usr/bin/env bash
# The panel's and the helper's own log read from the systemd journal (issue 16,
# docs/files.md "Logs"), log.file = "" as under systemd in production: a real
# systemd, PID 1 of its own PID + mount + network namespaces
# (/work/shared/reference/systemd-namespace.md), runs its journald (on a tmpfs
# over /var/log/journal: never the machine's journal), the pool as
# aapanel-t.service (log.panel_unit names it) and the helper under the shipped aapanel-helper.service and
# .socket (drop-ins change only the binary and the socket's group). nginx and
# curl are the test's, outside, on loopback, to the pool's socket in $T.
#  - a line the panel logs (a refused path with a marker and markup in it)
#    appears on the admin's /logs/panel page, escaped, found by search;
#  - the JSON answer says source "journal", its lines are the unit's only;
#  - the level filter: level=error leaves the info line out, level=info keeps it
#    (journald's PRIORITY from the "<N>" the panel writes on its stream);
#  - pages from the end: the answer's `older` cursor and `before=` it (a bad one 400);
#  - the helper's log is its unit's lines only;
#  - an operator and a viewer get 403; a rotation is 404 (the journal has none);
#  - follow (the live stream, the sampler asking the helper for the entries
#    after a cursor): the page names its stream from its newest entry; a line
#    the pool logs after the follower connected appears within 2 s (timed);
#    level=warn and search= hold in the stream; a reconnection goes on from its
#    Last-Event-ID; no session 401, an operator and a viewer 403; a bad cursor 400.
. "$(dirname "$0")/lib.sh"
NSOCK=/run/aapanel-helper/aapanel-helper.sock
it_setup "helper = { socket = \"$NSOCK\"; panel_user = \"root\"; sandbox_root = \"@T@/var/sandbox\"; };"
# Outside /tmp (the helper's unit has PrivateTmp=, the namespace its own /tmp): $T moves
# beneath build/, as t_helper_units.sh's does; it_teardown removes it.
case "$SRC" in
/tmp/* | /var/tmp/*) not_ok "the checkout $SRC is under /tmp: a namespace with its own /tmp cannot see it"; exit 1 ;;
esac
TOLD=$T
T=$(mktemp -d "$SRC/build/t-logs-journal.XXXXXX")
chmod 0755 "$T"
cp -a "$TOLD/." "$T/"
sed -i "s|$TOLD|$T|g" "$T/conf/profiles/test.cfg"
rm -rf "$TOLD"
UNITS="$SRC/conf/systemd"
# The pool's unit under another name than the shipped one: log.panel_unit names it (the pages
# read and follow that unit's lines).
PUNIT=aapanel-t.service
sed -i "s|^log = { level = \"info\"; };|log = { level = \"info\"; panel_unit = \"$PUNIT\"; };|" "$T/conf/profiles/test.cfg"
grep -q "panel_unit = \"$PUNIT\"" "$T/conf/profiles/test.cfg" || { not_ok "log.panel_unit set in the test's profile"; exit 1; }
HELPER="$SRC/build/aapanel-helper"
SD="" UNSHARE="" FPIDS=""
j_teardown() {
	local rc=$?
	for p in $FPIDS; do kill "$p" 2>/dev/null || true; done
	if [ -n "$SD" ] && kill -0 "$SD" 2>/dev/null; then
		kill -s SIGRTMIN+4 "$SD" 2>/dev/null || true
		for _ in $(seq 1 100); do kill -0 "$SD" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$SD" 2>/dev/null || true
	fi
	[ -n "$UNSHARE" ] && { kill "$UNSHARE" 2>/dev/null || true; }
	if [ "$rc" -ne 0 ] || [ "$FAIL" -ne 0 ]; then
		echo "--- systemd (last 20 lines)"; tail -n 20 "$T/systemd.log" 2>/dev/null || true
	fi
	set +e
	(exit "$rc")
	it_teardown
}
trap j_teardown EXIT
mkdir -p "$T/var/sandbox" "$T/var/log" "$T/units/aapanel-helper.service.d" "$T/units/aapanel-helper.socket.d"
cp "$UNITS/aapanel-helper.service" "$UNITS/aapanel-helper.socket" "$T/units/"
cat > "$T/units/aapanel-helper.service.d/test.conf" <<UNIT
[Service]
ExecStart=
ExecStart=$HELPER --profile test --config $T/conf/aapanel.cfg --root $SRC
Environment=ASAN_OPTIONS=detect_leaks=0
UNIT
cat > "$T/units/aapanel-helper.socket.d/test.conf" <<UNIT
[Socket]
SocketGroup=root
UNIT
# The pool as its production unit's name (the journal's _SYSTEMD_UNIT); root here (no user www).
cat > "$T/units/$PUNIT" <<UNIT
[Unit]
Description=aaPanel pool (test)
[Service]
Type=simple
ExecStart=$BIN --profile test --config $T/conf/aapanel.cfg --root $SRC serve
UNIT
cat > "$T/units/t.target" <<UNIT
[Unit]
Description=logs from the journal test
Wants=aapanel-helper.socket $PUNIT
UNIT
# Private /run and /tmp, the journal on a tmpfs (never the machine's).
cat > "$T/boot.sh" <<SH
set -e
mount --make-rprivate /
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mkdir -p /var/log/journal
mount -t tmpfs tmpfs /var/log/journal
mkdir -p /run/systemd/system
cp -r "$T/units/." /run/systemd/system/
exec env container=other /lib/systemd/systemd --system --unit=t.target --log-target=console --log-level=notice
SH
setsid unshare --fork --pid --mount --mount-proc --net sh "$T/boot.sh" > "$T/systemd.log" 2>&1 < /dev/null &
UNSHARE=$!
for _ in $(seq 1 100); do
	SD=$(ps -o pid= --ppid "$UNSHARE" | tr -d ' ' | head -1)
	[ -n "$SD" ] && break
	sleep 0.05
done
ns() { nsenter -t "$SD" -m -p -- "$@"; }
up=""
for _ in $(seq 1 150); do
	[ "$(ns systemctl is-active $PUNIT 2>/dev/null)" = active ] && [ -S "$T/var/run/aapanel.sock" ] && { up=1; break; }
	sleep 0.1
done
check "systemd in a namespace (pid ${SD:-?}) runs $PUNIT, its socket in \$T" test -n "$up"
check "... and its journald" test "$(ns systemctl is-active systemd-journald.service 2>/dev/null)" = active
check "the panel logs to the journal there (log.file is \"\")" \
	bash -c "nsenter -t $SD -m -p -- journalctl -q -u $PUNIT -o cat 2>/dev/null | grep -q ' master\['"
it_start_nginx
it_user admin admin 'correct horse battery staple'
it_user oper operator 'correct horse battery staple'
it_user watcher viewer 'correct horse battery staple'
JAR="$T/jar" OJAR="$T/ojar" VJAR="$T/vjar"
it_login "$JAR" admin 'correct horse battery staple' >/dev/null
it_login "$OJAR" oper 'correct horse battery staple' >/dev/null
it_login "$VJAR" watcher 'correct horse battery staple' >/dev/null
ATOKEN=$("$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" token create --user admin --scope admin --name a | tail -1)
aapi() { curl -s -o "$T/api.json" -w '%{http_code}' -H "Authorization: Bearer $ATOKEN" "$(url "/api/v1$1")"; }

# A line the panel logs: a refused path (its field named) with a marker and markup in it.
MARK="jmark$RANDOM$RANDOM"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$JAR" "$(url "/logs/$MARK%3Cb%3Ex")")
check "a refused log name: 404 and logged (got $code)" bash -c "[ $code = 404 ] || [ $code = 400 ]"
for _ in $(seq 1 50); do
	ns journalctl -q -u $PUNIT -o cat 2>/dev/null | grep -q "$MARK" && break
	sleep 0.1
done
check "... the line is in the journal" bash -c "nsenter -t $SD -m -p -- journalctl -q -u $PUNIT -o cat | grep -q '$MARK'"
code=$(curl -s -o "$T/page.html" -w '%{http_code}' -b "$JAR" "$(url "/logs/panel?search=$MARK")")
check "the admin's logs page shows that line from the journal (got $code)" \
	bash -c "[ $code = 200 ] && grep -q '$MARK' '$T/page.html' && grep -q 'systemd journal' '$T/page.html'"
check "... escaped (no <b> of the request in the page)" \
	bash -c "grep '$MARK' '$T/page.html' | grep -q '&lt;b&gt;' && ! grep -q '$MARK<b>' '$T/page.html'"
check "... no download link (the journal is not a file)" bash -c "[ $code = 200 ] && ! grep -q '/logs/panel/download' '$T/page.html'"
code=$(aapi "/logs/panel?search=$MARK&lines=10")
check "the API: source journal, the one line found (got $code)" \
	jqe '.source == "journal" and (.lines | length) == 1 and (.lines[0] | contains(" worker[")) and .rotations == []' "$T/api.json"
code=$(aapi "/logs/panel?lines=100")
check "the panel's log holds the pool's lines, none of the helper's (got $code)" \
	jqe '(.lines | length) > 1 and any(.lines[]; contains(" master[")) and all(.lines[]; contains(" helper[") | not)' "$T/api.json"
code=$(aapi "/logs/panel?search=$MARK&level=error")
check "level=error leaves the info line out (got $code)" jqe '.source == "journal" and (.lines | length) == 0' "$T/api.json"
code=$(aapi "/logs/panel?search=$MARK&level=info")
check "level=info keeps it (journald's PRIORITY is the panel's level) (got $code)" jqe '(.lines | length) == 1' "$T/api.json"
# A warning: a worker killed (a process of this test's pool, by its PID), the master says so.
MAIN=$(ns systemctl show -p MainPID --value $PUNIT)
WPID=$(ns ps -o pid= --ppid "$MAIN" | tr -d ' ' | head -1)
[ -n "$WPID" ] && ns kill -KILL "$WPID"
for _ in $(seq 1 50); do
	ns journalctl -q -u $PUNIT -o cat 2>/dev/null | grep -q "worker $WPID died" && break
	sleep 0.1
done
code=$(aapi "/logs/panel?search=worker%20$WPID%20died&level=warn")
check "level=warn finds the master's warning about worker ${WPID:-?} (got $code)" 	jqe '(.lines | length) == 1 and (.lines[0] | test("^[0-9-]+T[0-9:.]+Z warn master\\["))' "$T/api.json"
check "... journald took its PRIORITY (4) from the line's <4>, and stripped it" 	bash -c "nsenter -t $SD -m -p -- journalctl -q -u $PUNIT -p warning -o cat | grep -q 'worker $WPID died'"
code=$(aapi "/logs/panel?search=worker%20$WPID%20died&level=error")
check "... level=error leaves it out (got $code)" jqe '(.lines | length) == 0' "$T/api.json"
code=$(aapi "/logs/panel?lines=3")
check "lines=3: the newest three at most (got $code)" jqe '(.lines | length) <= 3 and (.lines | length) > 0' "$T/api.json"
# Pages from the end: the newest 2, then the 2 before them by the answer's cursor.
aapi "/logs/panel?lines=4" >/dev/null; cp "$T/api.json" "$T/four.json"
code=$(aapi "/logs/panel?lines=2"); cp "$T/api.json" "$T/p1.json"
OLDER=$(jq -r '.older // empty' "$T/p1.json")
check "lines=2: two lines and a cursor for the older ones (got $code)" \
	bash -c "[ $code = 200 ] && [ -n '$OLDER' ] && jq -e '(.lines | length) == 2' '$T/p1.json' >/dev/null"
code=$(curl -s -o "$T/api.json" -w '%{http_code}' -G -H "Authorization: Bearer $ATOKEN" --data-urlencode "before=$OLDER" --data lines=2 "$(url /api/v1/logs/panel)")
check "before=<cursor>: the two before them; both pages are the newest four (got $code)" \
	bash -c "[ $code = 200 ] && [ \"\$(jq -c '.lines' '$T/api.json' '$T/p1.json' | jq -sc 'add')\" = \"\$(jq -c '.lines' '$T/four.json')\" ]"
code=$(curl -s -o "$T/page.html" -w '%{http_code}' -b "$JAR" "$(url "/logs/panel?lines=2")")
check "the page links the older entries by that cursor (got $code)" \
	bash -c "[ $code = 200 ] && grep -q 'href=\"/logs/panel?lines=2&amp;before=s%3D' '$T/page.html'"
code=$(aapi "/logs/panel?before=%3Cscript%3E")
check "a before that is not a cursor: 400 naming before (got $code)" bash -c "[ $code = 400 ] && grep -q '\"before\"' '$T/api.json'"
code=$(aapi "/logs/helper?lines=100")
check "the helper's log: its unit's lines only (got $code)" \
	jqe '.source == "journal" and (.lines | length) > 0 and all(.lines[]; contains(" helper[") or (contains(" master[") | not))' "$T/api.json"
code=$(aapi "/logs/panel?rotation=1")
check "a rotation of the journal: 404 naming the field (got $code)" bash -c "[ $code = 404 ] && grep -q '\"rotation\"' '$T/api.json'"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$OJAR" "$(url /logs/panel)")
code2=$(curl -s -o /dev/null -w '%{http_code}' -b "$VJAR" "$(url /logs/helper)")
cp "$T/api.json" "$T/rot.json"
check "an operator and a viewer may not read them: 403 ($code, $code2)" bash -c "[ $code = 403 ] && [ $code2 = 403 ]"
# ------------------------------------------------------------------ follow: the live stream
code=$(aapi "/logs/panel?lines=5")
NEWEST=$(jq -r '.newest // empty' "$T/api.json")
check "the answer names the unit's newest entry, a follower's start (got $code)" bash -c "[ $code = 200 ] && [[ '$NEWEST' == s=* ]]"
code=$(curl -s -o "$T/page.html" -w '%{http_code}' -b "$JAR" "$(url "/logs/panel?follow=true&level=info")")
check "the follow page names its stream from its newest entry, with its level, and its script (got $code)" \
	bash -c "[ $code = 200 ] && grep -q 'data-log-stream=\"/events/logs/panel?after=s%3D[0-9a-f]*%3Bi%3D[^\"]*&amp;level=info\"' '$T/page.html' && grep -q 'js/logs.js' '$T/page.html'"
code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 "$(url /events/logs/panel)")
check "the stream without a session: 401 (got $code)" test "$code" = 401
code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 -b "$OJAR" "$(url /events/logs/panel)")
code2=$(curl -s -o /dev/null -w '%{http_code}' -m 5 -b "$VJAR" "$(url /events/logs/helper)")
check "an operator's and a viewer's stream: 403 ($code, $code2)" bash -c "[ $code = 403 ] && [ $code2 = 403 ]"
code=$(curl -s -o "$T/api.json" -w '%{http_code}' -H "Authorization: Bearer $ATOKEN" "$(url "/api/v1/logs/panel/stream?after=s%3D1%3B%24(id)")")
check "a stream after something that is not a cursor: 400 naming after (got $code)" bash -c "[ $code = 400 ] && grep -q '\"after\"' '$T/api.json'"
# Three followers: all from the newest entry, one level=warn, one search=.
curl -sN -b "$JAR" "$(url "/events/logs/panel?after=$(jq -rn --arg c "$NEWEST" '$c|@uri')")" > "$T/js-all" 2>/dev/null &
FPIDS="$FPIDS $!"
curl -sN -b "$JAR" "$(url "/events/logs/panel?level=warn")" > "$T/js-warn" 2>/dev/null &
FPIDS="$FPIDS $!"
FMARK="jfollow$RANDOM$RANDOM"
curl -sN -b "$JAR" "$(url "/events/logs/panel?search=$FMARK-yes")" > "$T/js-search" 2>/dev/null &
FPIDS="$FPIDS $!"
for _ in $(seq 1 200); do
	[ "$(grep -l '^retry: 2000' "$T/js-all" "$T/js-warn" "$T/js-search" 2>/dev/null | wc -l)" = 3 ] && break
	sleep 0.02
done
check "three streams are open (text/event-stream from the sampler)" \
	bash -c "grep -q '^retry: 2000' '$T/js-all' && grep -q '^retry: 2000' '$T/js-warn' && grep -q '^retry: 2000' '$T/js-search'"
check "... and the lines the page showed are not sent again" bash -c "sleep 0.6; ! grep -q '$MARK' '$T/js-all'"
t0=$(date +%s%N)
curl -s -o /dev/null -b "$JAR" "$(url "/logs/$FMARK-yes%3Ci%3Ex")"
seen=0
for _ in $(seq 1 300); do grep -q "$FMARK-yes" "$T/js-all" && { seen=1; break; }; sleep 0.01; done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "# a line the pool logged appeared in the follow stream after ${ms} ms"
check "a line the pool logs after the follower connected is in the stream within 2 s (${ms} ms)" bash -c "[ $seen = 1 ] && [ $ms -lt 2000 ]"
check "... as an event of lines, the journal's cursor its id, the text as it was logged (<i> unchanged: the page adds it as text)" \
	bash -c "grep -q '^event: lines' '$T/js-all' && grep -Eq '^id: s=[0-9a-f]+;i=[0-9a-f]+;' '$T/js-all' && grep -q '^data: .* worker\[.*$FMARK-yes<i>x' '$T/js-all'"
curl -s -o /dev/null -b "$JAR" "$(url "/logs/$FMARK-no")"
for _ in $(seq 1 200); do grep -q "$FMARK-no" "$T/js-all" && break; sleep 0.01; done
check "search= holds in the stream: its line, not the other" \
	bash -c "grep -q '$FMARK-no' '$T/js-all' && grep -q '$FMARK-yes' '$T/js-search' && ! grep -q '$FMARK-no' '$T/js-search'"
# A warning (a worker of this test's pool killed, by its PID) and the info lines above.
MAIN=$(ns systemctl show -p MainPID --value $PUNIT)
WPID=$(ns ps -o pid= --ppid "$MAIN" | tr -d ' ' | head -1)
[ -n "$WPID" ] && ns kill -KILL "$WPID"
for _ in $(seq 1 300); do grep -q "worker $WPID died" "$T/js-warn" && break; sleep 0.01; done
check "level=warn holds in the stream: the master's warning about worker ${WPID:-?}, none of the info lines" \
	bash -c "grep -q 'worker $WPID died' '$T/js-warn' && ! grep -q '$FMARK' '$T/js-warn' && ! grep -q ' info ' '$T/js-warn'"
# A reconnection: from its last event on, nothing before it again.
last=$(grep -E '^id: ' "$T/js-all" | tail -1 | cut -d' ' -f2)
curl -s -o /dev/null -b "$JAR" "$(url "/logs/$FMARK-again")"
sleep 0.3
timeout 2 curl -sN -b "$JAR" -H "Last-Event-ID: $last" "$(url "/events/logs/panel?after=$(jq -rn --arg c "$NEWEST" '$c|@uri')")" > "$T/js-again" 2>/dev/null || true
check "a reconnection with Last-Event-ID gets what came after it, not before" \
	bash -c "grep -q '$FMARK-again' '$T/js-again' && ! grep -q '$FMARK-yes' '$T/js-again'"
# A stale or foreign cursor from the browser: the stream goes on from the unit's end.
timeout 2 curl -sN -b "$JAR" -H "Last-Event-ID: s=0123;i=1;b=0;m=1;t=1;x=1" "$(url "/events/logs/helper")" > "$T/js-stale" 2>/dev/null || true
check "a Last-Event-ID that is no cursor of this journal: the stream stays open (from the end)" grep -q '^retry: 2000' "$T/js-stale"
check "... the helper refused that cursor (its log says so: logs.journal, after)" \
	bash -c "nsenter -t $SD -m -p -- journalctl -q -u aapanel-helper.service -o cat | grep -q 'logs.journal id=[0-9]*: .*after'"
code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 -b "$JAR" -H "X-Aapanel-Stream: 0123456789abcdef0123456789abcdef" "$(url /events/log)")
check "the sampler's own path with a made-up token: refused (got $code)" bash -c "[ $code = 403 ] || [ $code = 404 ] || [ $code = 401 ]"
for p in $FPIDS; do kill "$p" 2>/dev/null || true; done
FPIDS=""
[ "$FAIL" -ne 0 ] && { echo "--- last answer"; cat "$T/api.json"; echo; nsenter -t "$SD" -m -p -- journalctl -q -u aapanel-helper.service --no-pager | tail -n 15; nsenter -t "$SD" -m -p -- systemctl status aapanel-helper.socket --no-pager | tail -n 5; }
it_summary
