#!/usr/bin/env bash
# The log viewer for real (issue 16, docs/files.md "Logs"): the panel's pool
# (3 workers), the privileged helper, the sampler and the test's nginx.
#  - follow: a request made to the site appears in an open live stream
#    (Server-Sent Events from the sampler, the log's descriptor handed on by
#    the worker nginx asked with auth_request) within 2 s; 12 followers hold
#    no worker (the pool answers at once with all of them open); a stream
#    without a session or for another site's log is refused; the follow
#    page names its stream and still works without script;
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites_lib.sh"
it_setup 'pool = { workers = 3; max_workers = 3; };'
sites_setup 'system_users = false;'
it_start_pool
sites_start_nginx
sites_start_helper
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
it_user admin admin 'correct horse battery staple'
it_user watcher viewer 'correct horse battery staple'
TOKEN=$(A token create --user admin --scope write --name t | tail -1)

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

it_summary
