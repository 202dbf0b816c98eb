#!/usr/bin/env bash
# A followed log after logrotate (issue 16, docs/files.md "Logs"): the real
# pool, helper, sampler and the test's nginx serving the site.
#  - a viewer follows the site's access log; the log is renamed (as logrotate
#    does: access.log -> access.log.1) and nginx told to reopen its logs
#    (USR1, logrotate's postrotate), which makes a new file;
#  - a request made to the old file between the rename and the reopen, and
#    requests made after it to the new file, all appear in the same open
#    stream, in order, within 2 s; a second rotation as well;
#  - a log renamed with no new file yet: the stream waits, nothing fails;
#  - the sampler reopened it through the helper (logs.open): a symlink put
#    in the log's place is not followed (the stream stays on the old file).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites_lib.sh"
it_setup 'pool = { workers = 2; };'
sites_setup 'system_users = false;'
it_start_pool
sites_start_nginx
sites_start_helper
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
it_user watcher viewer 'correct horse battery staple'
it_user admin admin 'correct horse battery staple'
TOKEN=$(A token create --user admin --scope write --name t | tail -1)
code=$(api POST /sites '{"domain":"rot.test","kind":"static"}')
check "a site whose log to follow (got $code)" test "$code" = 201
SID=$(jq -r .id "$T/api.json")
site_get rot.test /first >/dev/null
VJAR="$T/vjar"
it_login "$VJAR" watcher 'correct horse battery staple' >/dev/null
ALOG="$SB/var/log/nginx/rot.test.access.log"
for _ in $(seq 1 40); do [ -s "$ALOG" ] && break; sleep 0.05; done

curl -sN -b "$VJAR" "$(url "/events/sites/$SID/logs/access")" > "$T/stream" 2>/dev/null &
SPID=$!
sites_bg "$SPID"
for _ in $(seq 1 100); do grep -q '^retry:' "$T/stream" 2>/dev/null && break; sleep 0.02; done
check "the stream is open" grep -q '^retry: 2000' "$T/stream"
# seen MARK: within 2 s in the stream? (ms in $ms)
seen() {
	local t0 i
	t0=$(date +%s%N)
	for i in $(seq 1 200); do grep -q "$1" "$T/stream" && { ms=$(( ($(date +%s%N) - t0) / 1000000 )); return 0; }; sleep 0.01; done
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	return 1
}
site_get rot.test /before-rotation >/dev/null
check "a request before any rotation appears" seen before-rotation
ino0=$(stat -c %i "$ALOG")
mv "$ALOG" "$ALOG.1"
site_get rot.test /into-the-old-file >/dev/null
kill -USR1 "$NGINX_PID"
for _ in $(seq 1 100); do [ -e "$ALOG" ] && break; sleep 0.02; done
check "logrotate's way: renamed, nginx reopened, a new file ($ino0 -> $(stat -c %i "$ALOG" 2>/dev/null))" \
	bash -c "[ -e '$ALOG' ] && [ \"\$(stat -c %i '$ALOG')\" != '$ino0' ]"
sleep 0.1
site_get rot.test /into-the-new-file >/dev/null
check "a request after the rotation appears in the same stream, from the new file (${ms:-?} ms)" seen into-the-new-file
check "... so does the one written to the old file between rename and reopen, before it" \
	bash -c "grep -q into-the-old-file '$T/stream' && [ \"\$(grep -n into-the-old-file '$T/stream' | cut -d: -f1)\" -lt \"\$(grep -n into-the-new-file '$T/stream' | cut -d: -f1)\" ]"
check "... the new file's line is in the new file" grep -q into-the-new-file "$ALOG"
check "... the sampler says it followed the new one" grep -q "rot.test's access log rotated" "$T/pool.log"
# A second rotation, the file this time renamed with no new one for a while.
mv "$ALOG" "$ALOG.2"
sleep 1.5
kill -0 "$SPID" 2>/dev/null
check "a log renamed with no new file yet: the stream stays open" kill -0 "$SPID"
kill -USR1 "$NGINX_PID"
for _ in $(seq 1 100); do [ -e "$ALOG" ] && break; sleep 0.02; done
sleep 0.1
site_get rot.test /second-rotation >/dev/null
check "... after the second rotation a new request appears too (${ms:-?} ms)" seen second-rotation
# A symlink in the log's place: the helper refuses it, the stream is not moved onto it.
printf 'CANARY-SECRET line\n' > "$T/secret.log"
mv "$ALOG" "$ALOG.3"
ln -s "$T/secret.log" "$ALOG"
sleep 1.5
printf 'CANARY-SECRET more\n' >> "$T/secret.log"
sleep 0.6
check "a symlink put in the log's place is not followed (no line of its target)" bash -c "! grep -q CANARY-SECRET '$T/stream'"
check "... the sampler said why (the helper refused it)" grep -q "cannot be opened again" "$T/pool.log"
it_summary
