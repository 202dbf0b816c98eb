#!/usr/bin/env bash
# The log viewer for real (issue 16, docs/files.md "Logs"): the panel's pool
# (3 workers), the privileged helper, the sampler and the test's nginx.
#  - follow: a request made to the site appears in an open live stream
#    (Server-Sent Events from the sampler, the log's descriptor handed on by
#    the worker nginx asked with auth_request) within 2 s; 12 followers hold
#    no worker (the pool answers at once with all of them open); a stream
#    without a session or for another site's log is refused; the follow
#    page names its stream and still works without script;
#  - rotations: .1 and .N.gz listed and read (zlib in the worker, no gzip
#    program), searched, downloaded as they are; a .gz that is not gzip
#    refused; an absent rotation 404;
#  - the panel's and the helper's own log (log.file, through the helper) for
#    admins only, their lines told apart, a .gz rotation read;
#  - request ids: a change's audit row carries its request's id (the
#    X-Request-Id answered), the audit page links it to the panel's log and
#    the log's line links back to the audit page filtered by it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites_lib.sh"
it_setup 'pool = { workers = 3; max_workers = 3; };'
sed -i "s|^log = { level = \"info\"; };|log = { level = \"info\"; file = \"$T/var/log/aapanel.log\"; };|" "$T/conf/profiles/test.cfg"
mkdir -p "$T/var/log"
sites_setup 'system_users = false;'
it_start_pool
sites_start_nginx
sites_start_helper
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
it_user admin admin 'correct horse battery staple'
it_user watcher viewer 'correct horse battery staple'
it_user oper operator 'correct horse battery staple'
TOKEN=$(A token create --user admin --scope write --name t | tail -1)
ATOKEN=$(A token create --user admin --scope admin --name a | tail -1)
# aapi METHOD PATH: the API with the admin-scoped token (the admin areas: audit, the panel's logs).
aapi() { curl -s -o "$T/api.json" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $ATOKEN" "$(url "/api/v1$2")"; }

code=$(api POST /sites '{"domain":"logs.test","kind":"static"}')
check "a site whose logs to read (got $code)" test "$code" = 201
SID=$(jq -r .id "$T/api.json")
site_get logs.test /first >/dev/null
JAR="$T/jar" VJAR="$T/vjar"
it_login "$JAR" admin 'correct horse battery staple' >/dev/null
it_login "$VJAR" watcher 'correct horse battery staple' >/dev/null
ALOG="$SB/var/log/nginx/logs.test.access.log"
for _ in $(seq 1 40); do [ -s "$ALOG" ] && break; sleep 0.05; done

# ------------------------------------------------------------------ follow: the live stream
code=$(curl -s -D "$T/hdr" -o "$T/page.html" -w '%{http_code}' -b "$VJAR" "$(url "/sites/$SID/logs/access?follow=true")")
size=$(stat -c %s "$ALOG")
check "the follow page names its live stream from the size shown, and its script (got $code)" \
	bash -c "[ $code = 200 ] && grep -q 'data-log-stream=\"/events/sites/$SID/logs/access?from=$size\"' '$T/page.html' && grep -q 'js/logs.js' '$T/page.html'"
check "... without script it reloads itself (<noscript> refresh), no Refresh header for script" \
	bash -c "grep -q '<noscript><meta http-equiv=\"refresh\" content=\"2\"></noscript>' '$T/page.html' && ! grep -qi '^Refresh:' '$T/hdr'"
code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 "$(url "/events/sites/$SID/logs/access")")
check "a stream without a session: 401 (got $code)" test "$code" = 401
code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 -b "$VJAR" "$(url "/events/sites/999/logs/access")")
check "a stream of a site that does not exist: 403 (got $code)" test "$code" = 403
code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 -b "$VJAR" "$(url "/events/sites/$SID/logs/passwd")")
check "a stream of a log that is not access or error: 404 (got $code)" test "$code" = 404
code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 -b "$VJAR" -H 'X-Aapanel-Stream: 00000000000000000000000000000000' "$(url "/events/log")")
check "the sampler's own path is not reachable with a made-up token (got $code)" bash -c "[ $code = 403 ] || [ $code = 404 ] || [ $code = 401 ]"

tok=$(curl -s -D - -o /dev/null -b "$VJAR" "$(url "/api/v1/sites/$SID/logs/access/stream")" | tr -d '\r' | awk 'tolower($1) == "x-aapanel-stream:" {print $2}')
code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 -b "$VJAR" -H "X-Aapanel-Stream: $tok" "$(url "/events/log")")
check "a token asked for directly cannot be replayed from the browser (got ${tok:+a token, }$code)" bash -c "[ -n '$tok' ] && [ $code = 403 ]"
# A viewer follows; a request to the site appears within 2 s.
site_get logs.test "/between-page-and-stream" >/dev/null
sleep 0.1
curl -sN -b "$VJAR" "$(url "/events/sites/$SID/logs/access?from=$size")" > "$T/stream" 2>/dev/null &
SPID=$!
sites_bg "$SPID"
for _ in $(seq 1 100); do grep -q '^retry:' "$T/stream" 2>/dev/null && break; sleep 0.02; done
check "the stream is open (text/event-stream from the sampler)" grep -q '^retry: 2000' "$T/stream"
MARK="livemark$$x$RANDOM"
t0=$(date +%s%N)
site_get logs.test "/$MARK" >/dev/null
seen=0
for _ in $(seq 1 200); do grep -q "$MARK" "$T/stream" && { seen=1; break; }; sleep 0.01; done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "a request to the site appears in the open stream within 2 s (${ms} ms)" bash -c "[ $seen = 1 ] && [ $ms -lt 2000 ]"
check "... as an event of lines with the log's offset as its id" bash -c "grep -q '^event: lines' '$T/stream' && grep -Eq '^id: [0-9]+$' '$T/stream' && grep -q '^data: .*$MARK' '$T/stream'"
# From the size the page showed: the request made before the stream opened is there too.
check "... from the page's size: a request between the page and the stream is not lost" grep -q "data: .*GET /between-page-and-stream" "$T/stream"
check "... and nothing the page already showed is sent again" bash -c "! grep -q 'GET /first' '$T/stream'"
# A reconnection resumes from its last event.
last=$(grep -E '^id: ' "$T/stream" | tail -1 | cut -d' ' -f2)
site_get logs.test "/after-$MARK" >/dev/null
sleep 0.3
timeout 1.5 curl -sN -b "$VJAR" -H "Last-Event-ID: $last" "$(url "/events/sites/$SID/logs/access")" > "$T/again" 2>/dev/null || true
check "a reconnection with Last-Event-ID gets what came after it, not before" \
	bash -c "grep -q 'after-$MARK' '$T/again' && ! grep -q 'data: .*GET /$MARK ' '$T/again'"

# Twelve followers at once (the pool has 3 workers): the pool still answers at once.
F=()
for i in $(seq 1 12); do
	curl -sN -b "$VJAR" "$(url "/events/sites/$SID/logs/access")" > "$T/f$i" 2>/dev/null &
	F+=($!)
done
sites_bg "${F[@]}"
for _ in $(seq 1 200); do
	n=0; for i in $(seq 1 12); do grep -q '^retry:' "$T/f$i" 2>/dev/null && n=$((n + 1)); done
	[ "$n" = 12 ] && break; sleep 0.02
done
check "12 followers are connected ($n)" test "$n" = 12
t0=$(date +%s%N)
okn=0
for i in $(seq 1 15); do
	c=$(curl -s -o /dev/null -w '%{http_code}' -m 5 -H "Authorization: Bearer $TOKEN" "$(url "/api/v1/sites/$SID")")
	[ "$c" = 200 ] && okn=$((okn + 1))
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "with them open, 15 requests to the pool of 3 workers all answer (${okn}/15 in ${ms} ms)" bash -c "[ $okn = 15 ] && [ $ms -lt 5000 ]"
busy=$(A status | awk 'NR>2 && $1 ~ /^[0-9]+$/ && $2 != "idle"' | wc -l)
check "... and no worker is busy with a stream (${busy} not idle)" test "$busy" -le 1
MARK2="fanout$$x$RANDOM"
site_get logs.test "/$MARK2" >/dev/null
for _ in $(seq 1 200); do
	n=0; for i in $(seq 1 12); do grep -q "$MARK2" "$T/f$i" && n=$((n + 1)); done
	[ "$n" = 12 ] && break; sleep 0.01
done
check "a new request reaches all 12 followers ($n)" test "$n" = 12
for p in "${F[@]}"; do kill "$p" 2>/dev/null || true; done

# ------------------------------------------------------------------ rotations, .gz read in-process
ROT="$SB/var/log/nginx/logs.test.access.log"
printf '10.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "GET /rotated-one HTTP/1.1" 200 1\n' > "$ROT.1"
{ for i in $(seq 1 3000); do printf '10.0.0.2 - - [01/Jan/2026:00:00:00 +0000] "GET /zipped-%d HTTP/1.1" 200 1\n' "$i"; done; } > "$T/two.log"
python3 -c 'import gzip,sys; open(sys.argv[2],"wb").write(gzip.compress(open(sys.argv[1],"rb").read()))' "$T/two.log" "$ROT.2.gz"
printf 'this is not gzip at all\n' > "$ROT.3.gz"
code=$(api GET "/sites/$SID/logs/access")
check "the log lists its rotations: .1, .2.gz, .3.gz (got $code)" \
	jqe '[.rotations[] | "\(.rotation):\(.gzip)"] == ["1:false","2:true","3:true"] and .rotation == 0' "$T/api.json"
code=$(api GET "/sites/$SID/logs/access?rotation=1")
check "rotation 1 (.1) is read (got $code)" jqe '.rotation == 1 and (.lines | length) == 1 and (.lines[0] | contains("/rotated-one"))' "$T/api.json"
code=$(api GET "/sites/$SID/logs/access?rotation=2&lines=5")
check "rotation 2 (.2.gz) is read decompressed: its last 5 lines (got $code)" \
	jqe '(.lines | length) == 5 and (.lines[4] | contains("/zipped-3000 ")) and (.lines[0] | contains("/zipped-2996 "))' "$T/api.json"
code=$(api GET "/sites/$SID/logs/access?rotation=2&search=/zipped-1234%20")
check "... and searched (got $code)" jqe '(.lines | length) == 1 and (.lines[0] | contains("/zipped-1234 "))' "$T/api.json"
code=$(curl -s -o "$T/rot.gz" -D "$T/rot.hdr" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$(url "/api/v1/sites/$SID/logs/access/download?rotation=2")")
check "... downloaded as it is, a .gz (got $code)" bash -c "[ $code = 200 ] && cmp -s '$T/rot.gz' '$ROT.2.gz' && grep -qi 'filename=\"logs.test.access.log.2.gz\"' '$T/rot.hdr'"
code=$(api GET "/sites/$SID/logs/access?rotation=3")
check "a .gz that is not gzip: 400 naming rotation (got $code)" bash -c "[ $code = 400 ] && jq -e '.error.field == \"rotation\"' '$T/api.json' >/dev/null"
code=$(api GET "/sites/$SID/logs/access?rotation=5")
check "a rotation that is not there: 404 (got $code)" test "$code" = 404
code=$(api GET "/sites/$SID/logs/access?rotation=10")
check "rotation 10: 400 (got $code)" test "$code" = 400
ln -s /etc/passwd "$ROT.4"
code=$(api GET "/sites/$SID/logs/access?rotation=4")
check "a rotation that is a symlink (to /etc/passwd) is not followed (got $code)" bash -c "[ $code = 404 ] && ! grep -q 'root:' '$T/api.json'"
rm -f "$ROT.4"
code=$(curl -s -o "$T/page.html" -w '%{http_code}' -b "$VJAR" "$(url "/sites/$SID/logs/access?rotation=2&lines=3")")
check "the page links the rotations and shows the .gz's lines (got $code)" \
	bash -c "[ $code = 200 ] && grep -q 'logs/access?rotation=1\"' '$T/page.html' && grep -q '<strong dir=\"ltr\">.2.gz</strong>' '$T/page.html' && grep -q '/zipped-3000 ' '$T/page.html'"

# ------------------------------------------------------------------ the panel's and the helper's logs
code=$(aapi GET "/logs/panel?lines=50")
check "an admin reads the panel's log (got $code)" \
	jqe '.which == "panel" and (.lines | length) > 0 and all(.lines[]; contains(" helper[") | not) and any(.lines[]; contains(" master["))' "$T/api.json"
code=$(aapi GET "/logs/helper?lines=50")
check "... and the helper's, only its lines (got $code)" \
	jqe '.which == "helper" and (.lines | length) > 0 and all(.lines[]; contains(" helper["))' "$T/api.json"
it_login "$T/ojar" oper 'correct horse battery staple' >/dev/null
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$VJAR" "$(url /logs/panel)")
code2=$(curl -s -o /dev/null -w '%{http_code}' -b "$T/ojar" "$(url /logs/helper)")
check "viewers and operators may not read them: 403 ($code, $code2)" bash -c "[ $code = 403 ] && [ $code2 = 403 ]"
printf '2026-01-01T00:00:00.000Z info master[1] old: from-the-gz-rotation\n' | python3 -c 'import gzip,sys; sys.stdout.buffer.write(gzip.compress(sys.stdin.buffer.read()))' > "$T/var/log/aapanel.log.1.gz"
code=$(aapi GET "/logs/panel?rotation=1")
check "... a .gz rotation of log.file is read (got $code)" jqe '.rotation == 1 and (.lines | length) == 1 and (.lines[0] | contains("from-the-gz-rotation"))' "$T/api.json"
code=$(curl -s -o "$T/plog" -w '%{http_code}' -H "Authorization: Bearer $ATOKEN" "$(url /api/v1/logs/panel/download)")
check "... and downloaded (got $code)" bash -c "[ $code = 200 ] && head -c 200 '$T/plog' | grep -q 'master\['"

# ------------------------------------------------------------------ request ids: audit row <-> log lines
code=$(curl -s -D "$T/chg.hdr" -o "$T/chg.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
	-H 'Content-Type: application/json' --data-binary '{"domain":"second.test","kind":"static"}' "$(url /api/v1/sites)")
RID=$(grep -i '^X-Request-Id:' "$T/chg.hdr" | tr -d '\r' | awk '{print $2}')
check "a change answers its request id (got $code, $RID)" bash -c "[ $code = 201 ] && [ -n '$RID' ]"
code=$(aapi GET "/audit?request=$RID")
check "the audit log has that request's row with its id (got $code)" \
	jqe --arg r "$RID" '(.items | length) >= 1 and all(.items[]; .request_id == $r) and any(.items[]; .action == "site.add")' "$T/api.json"
code=$(aapi GET "/audit?request=not-hex")
check "... a request id that is not hex: 400 naming request (got $code)" bash -c "[ $code = 400 ] && jq -e '.error.field == \"request\"' '$T/api.json' >/dev/null"
out=$(A audit verify 2>&1 || true)
check "... the chain is intact with the new column (aapanel audit verify: $out)" bash -c "grep -q intact <<< \"\$1\"" _ "$out"
curl -s -o "$T/audit.html" -b "$JAR" "$(url "/audit?request=$RID")"
check "the audit page links the row to the panel's log lines of its request" grep -q "href=\"/logs/panel?search=$RID\"" "$T/audit.html"
code=$(curl -s -o "$T/plog.html" -w '%{http_code}' -b "$JAR" "$(url "/logs/panel?search=$RID")")
check "the panel's log has the request's line, its id linking back to the audit page (got $code)" \
	bash -c "[ $code = 200 ] && grep -q 'audit: site.add ok' '$T/plog.html' && grep -q 'href=\"/audit?request=$RID\"' '$T/plog.html'"

it_summary
