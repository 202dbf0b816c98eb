#!/usr/bin/env bash
# Files jobs followed by the CLI and cancelled (issue 16, docs/files.md): the
# real helper (root), pool and nginx, a site with its own system user in this
# test's private mount namespace (a copy of /etc bind-mounted, as
# t_files_owner_tree.sh), files.job_wait_ms 0 (every job outlives the wait).
#  - `aapanel files copy` and `files chown --recursive` follow the job to its
#    end: exit 0 and the copy identical; on a terminal (script(1)) the
#    progress rises on stderr, otherwise one line at the end; --json prints
#    the job object; --no-wait prints the job's id at once;
#  - SIGINT while waiting: exit 1, "stopped waiting", the job goes on;
#  - the job page's Cancel button: an operator sees it and cancels a running
#    copy (the job cancelled, its partly made copy gone from the disk, the
#    page says Cancelled, in Arabic too); a viewer sees no button and gets 403;
#  - the API's cancel of a recursive chown: cancelled, the entries changed so
#    far reported and exactly those changed on the disk;
#  - cancelling a finished job: 409 naming the job (page, API, CLI exit 2);
#  - `aapanel files job-cancel` on a running copy; every cancel audited.
if [ -z "${AAPANEL_SITES_NS:-}" ]; then
	exec unshare --mount --propagation private env AAPANEL_SITES_NS=1 bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites_lib.sh"
it_setup 'pool = { workers = 2; request_timeout = 30; }; files = { job_wait_ms = 0; };'
sites_setup 'system_users = true; nginx_group = "www-data";'
mkdir "$T/etc"
cp -a /etc/. "$T/etc/"
mount --bind "$T/etc" /etc
it_start_pool
sites_start_nginx 64m 60
sites_start_helper
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
it_user admin admin 'correct horse battery staple'
it_user oper operator 'correct horse battery staple'
it_user watcher viewer 'correct horse battery staple'
TOKEN=$(A token create --user admin --scope write --name t | tail -1)
VTOKEN=$(A token create --user watcher --scope read --name v | tail -1)
code=$(api POST /sites '{"domain":"cancel.test","kind":"static"}')
check "a static site with its own system user (got $code)" test "$code" = 201
SID=$(jq -r .id "$T/api.json")
user=$(sqlite3 "$T/var/aapanel.db" "SELECT system_user FROM sites WHERE id = $SID")
R="$SB/var/www/cancel.test/public"
J="$T/jar" VJ="$T/vjar"
it_login "$J" oper 'correct horse battery staple' >/dev/null
it_login "$VJ" watcher 'correct horse battery staple' >/dev/null
ORIGIN="http://127.0.0.1:$PORT"

# A tree of 10,000 files in 50 folders (10,051 entries with the folders and the top) to copy,
# one of 40,000 (40,201 entries) for the owner changes (fast per entry: a cancel needs many).
python3 - "$R" <<'PY'
import os, sys
for name, dirs in (("tree", 50), ("big", 200)):
    for i in range(dirs):
        d = os.path.join(sys.argv[1], name, "d%03d" % i)
        os.makedirs(d)
        for j in range(200):
            with open(os.path.join(d, "f%03d.txt" % j), "w") as f:
                f.write("%d %d\n" % (i, j) * 64)
PY
chown -R 0:0 "$R/tree" "$R/big"
job_state() { # JOB → "state progress" through the API
	curl -s -o "$T/job.json" -H "Authorization: Bearer $TOKEN" "$(url "/api/v1/sites/$SID/files/jobs/$1")"
	jq -r '"\(.job.state) \(.job.progress)"' "$T/job.json"
}
wait_end() { # JOB: until it is neither queued nor running (60 s at most)
	for _ in $(seq 1 600); do
		case "$(job_state "$1")" in queued*|running*) sleep 0.1 ;; *) return 0 ;; esac
	done
	return 1
}
wait_progress() { # JOB PERCENT: until it runs past PERCENT
	for _ in $(seq 1 600); do
		set -- "$1" "$2" "$(job_state "$1")"
		case "$3" in running*) [ "${3#running }" -ge "$2" ] && return 0 ;; queued*) ;; *) return 1 ;; esac
		sleep 0.05
	done
	return 1
}

# ------------------------------------------------------------------ the CLI follows the job
t0=$(date +%s%N)
rc=0; A files copy cancel.test tree tree-cli 2>"$T/cli.err" >"$T/cli.out" || rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "aapanel files copy of 10,000 files: followed to its end past files.job_wait_ms 0 (rc $rc, $ms ms: $(cat "$T/cli.err"))" \
	bash -c "[ $rc = 0 ] && grep -Eq '^aapanel files copy: job [0-9]+ done: 10051 entries\$' '$T/cli.err' && [ \$(wc -l < '$T/cli.err') = 1 ] && [ $ms -gt 500 ]"
check "... stderr not a terminal: no progress drawn" bash -c "! grep -q \$'\\r' '$T/cli.err'"
check "... the copy identical (diff -r)" diff -r "$R/tree" "$R/tree-cli"
check "... audited: files.copy ok with its job and entries" \
	bash -c "sqlite3 '$T/var/aapanel.db' \"SELECT after_json FROM audit_log WHERE action = 'files.copy' AND outcome = 'ok'\" | grep -q '\"state\":\"done\".*\"entries\":10051'"
rm -rf "$R/tree-cli"

# On a terminal (script(1) gives the CLI one): the progress on stderr, rising.
rc=0; script -qefc "$BIN --profile test --config $T/conf/aapanel.cfg --root $SRC files copy cancel.test tree tree-tty" "$T/tty.log" >/dev/null || rc=$?
seen=$(tr '\r' '\n' < "$T/tty.log" | sed -n 's/^copy: job [0-9]* *\([0-9]*\)%.*/\1/p' | sort -un | tr '\n' ' ')
check "... on a terminal: the progress drawn on stderr, rising (rc $rc; seen: $seen)" \
	bash -c "[ $rc = 0 ] && [ \$(echo '$seen' | wc -w) -ge 3 ] && grep -q 'done: 10051 entries' '$T/tty.log'"
rm -rf "$R/tree-tty"

rc=0; A files copy cancel.test tree tree-json --json 2>"$T/cli.err" >"$T/cli.json" || rc=$?
check "... --json: the final job object (rc $rc)" \
	bash -c "[ $rc = 0 ] && jq -e '.state == \"done\" and .kind == \"copy\" and .progress == 100 and .result.entries == 10051 and .site == $SID and .error == null' '$T/cli.json' >/dev/null"
rm -rf "$R/tree-json"

t0=$(date +%s%N)
rc=0; NJ=$(A files copy cancel.test tree tree-nw --no-wait 2>"$T/cli.err") || rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "... --no-wait: the job's id printed at once (rc $rc, '$NJ', $ms ms)" \
	bash -c "[ $rc = 0 ] && echo '$NJ' | grep -Eq '^[0-9]+\$' && [ $ms -lt 3000 ]"
st=$(job_state "$NJ")
check "... the job still running then ($st)" bash -c "echo '$st' | grep -Eq '^(queued|running) '"
wait_end "$NJ"
rc=0; A files job cancel.test "$NJ" --json > "$T/cli.json" || rc=$?
check "... aapanel files job SITE JOB --json: done (rc $rc)" \
	bash -c "[ $rc = 0 ] && jq -e --argjson j '$NJ' '.id == \$j and .state == \"done\" and .result.entries == 10051' '$T/cli.json' >/dev/null"
rm -rf "$R/tree-nw"

# Ctrl-C while waiting: the waiting stops, the job goes on.
# The program itself in the background (a shell function's subshell would take the signal).
"$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" files copy cancel.test big tree-int 2>"$T/int.err" >/dev/null & CLI=$!
for _ in $(seq 1 100); do [ -d "$R/tree-int" ] && break; sleep 0.05; done
sleep 0.3
kill -INT "$CLI"
rc=0; wait "$CLI" || rc=$?
IJ=$(sed -n 's/.*stopped waiting; job \([0-9]*\) goes on.*/\1/p' "$T/int.err")
check "... SIGINT: exit 1, stopped waiting, the job named (rc $rc: $(cat "$T/int.err"))" \
	bash -c "[ $rc = 1 ] && [ -n '$IJ' ] && grep -q 'aapanel files job-cancel cancel.test $IJ' '$T/int.err'"
st=$(job_state "$IJ")
check "... the job goes on ($st)" bash -c "echo '$st' | grep -Eq '^(queued|running) '"
rc=0; A files job-cancel cancel.test "$IJ" > "$T/cc.out" 2>"$T/cc.err" || rc=$?
check "aapanel files job-cancel SITE JOB: exit 0, cancelled, the partial copy removed (rc $rc: $(cat "$T/cc.out"))" \
	bash -c "[ $rc = 0 ] && grep -q '^job $IJ cancelled: the job was cancelled' '$T/cc.out' && grep -q '\"removed\":true' '$T/cc.out' && [ ! -e '$R/tree-int' ]"
rc=0; A files job-cancel cancel.test "$IJ" 2>"$T/cc.err" || rc=$?
check "... again: exit 2 (a 409), the job named ($(cat "$T/cc.err"))" \
	bash -c "[ $rc = 2 ] && grep -q 'job $IJ has ended already (cancelled)' '$T/cc.err'"
rc=0; A files job cancel.test "$IJ" > "$T/cc.out" || rc=$?
check "... aapanel files job shows it cancelled" bash -c "[ $rc = 0 ] && grep -q '^job $IJ copy cancelled' '$T/cc.out'"
rm -rf "$R/tree-int"
rc=0; A files job-cancel cancel.test abc 2>"$T/cc.err" || rc=$?
check "... a job that is not a number: exit 2 with the reason" bash -c "[ $rc = 2 ] && grep -q 'job: must be' '$T/cc.err'"
rc=0; A files rm cancel.test tree --no-wait 2>"$T/cc.err" || rc=$?
check "... --no-wait on what is not a job: exit 2" bash -c "[ $rc = 2 ] && grep -q 'only for a job' '$T/cc.err'"

ln "$R/big/d000/f000.txt" "$R/big/d199/hard.txt"
rc=0; A files chown cancel.test big site --recursive 2>"$T/cli.err" || rc=$?
check "aapanel files chown --recursive of a tree with a hard link: the job refuses it, exit 2 naming it (rc $rc: $(cat "$T/cli.err"))" \
	bash -c "[ $rc = 2 ] && grep -Eq 'big/d(000/f000|199/hard)[.]txt' '$T/cli.err' && [ -z \"\$(find '$R/big' ! -uid 0)\" ]"
rm "$R/big/d199/hard.txt"
rc=0; A files chown cancel.test big site --recursive --json > "$T/cli.json" 2>"$T/cli.err" || rc=$?
check "aapanel files chown --recursive --json of 40,201 entries: followed to its end, done (rc $rc)" \
	bash -c "[ $rc = 0 ] && jq -e '.state == \"done\" and .kind == \"chown\" and .result.entries == 40201' '$T/cli.json' >/dev/null && [ -z \"\$(find '$R/big' ! -user '$user')\" ]"
chown -R 0:0 "$R/big"

# ------------------------------------------------------------------ the page's Cancel button
code=$(api POST "/sites/$SID/files/copy" '{"path":"tree","to":"tree-page"}')
PJ=$(jq -r .job.id "$T/api.json")
check "a copy through the API: 202, job $PJ (got $code)" test "$code" = 202
wait_progress "$PJ" 3 || true
LOC=$(url "/sites/$SID/files/jobs/$PJ")
code=$(curl -s -o "$T/vpage.html" -w '%{http_code}' -b "$VJ" "$LOC")
check "... a viewer's job page: running, no Cancel button (got $code)" \
	bash -c "[ $code = 200 ] && grep -q 'job-progress' '$T/vpage.html' && ! grep -q 'files/jobs/$PJ/cancel' '$T/vpage.html'"
code=$(curl -s -o "$T/v.out" -w '%{http_code}' -b "$VJ" -H "Origin: $ORIGIN" \
	--data-urlencode "csrf=$(csrf_of "$VJ")" "$LOC/cancel")
check "... a viewer's cancel: 403, the job goes on (got $code, $(job_state "$PJ"))" \
	bash -c "[ $code = 403 ] && jq -e '.job.state == \"running\"' '$T/job.json' >/dev/null"
code=$(curl -s -o "$T/page.html" -w '%{http_code}' -b "$J" "$LOC")
check "... an operator's job page: the Cancel button, a POST form with its CSRF token (got $code)" \
	bash -c "[ $code = 200 ] && grep -q 'action=\"/sites/$SID/files/jobs/$PJ/cancel\"' '$T/page.html' && grep -A1 'files/jobs/$PJ/cancel' '$T/page.html' | grep -q 'name=\"csrf\"'"
code=$(curl -s -o "$T/c.out" -w '%{http_code}' -b "$J" -H "Origin: $ORIGIN" --data-urlencode "path=" "$LOC/cancel")
check "... without its CSRF token: refused, the job goes on (got $code, $(job_state "$PJ"))" \
	bash -c "([ $code = 403 ] || [ $code = 400 ]) && jq -e '.job.state == \"running\"' '$T/job.json' >/dev/null"
made=$(find "$R/tree-page" 2>/dev/null | wc -l)
code=$(curl -s -o "$T/c.out" -w '%{http_code} %{redirect_url}' -b "$J" -H "Origin: $ORIGIN" \
	--data-urlencode "csrf=$(csrf_of "$J")" "$LOC/cancel")
check "... the operator cancels: 303 back to the job page (got $code; $made entries were made)" \
	bash -c "echo '$code' | grep -q '^303 .*/sites/$SID/files/jobs/$PJ' && [ $made -gt 0 ]"
st=$(job_state "$PJ")
check "... the job cancelled ($st): its result names the copy, removed" \
	bash -c "echo '$st' | grep -q '^cancelled ' && jq -e '.job.error == \"the job was cancelled\" and .job.result.to == \"tree-page\" and .job.result.removed == true and .job.result.entries > 0 and .job.result.entries < 10051' '$T/job.json' >/dev/null"
check "... on the disk: nothing of the partly made copy left, the source whole" \
	bash -c "[ ! -e '$R/tree-page' ] && [ \$(find '$R/tree' | wc -l) = 10051 ] && ! ls -a '$R' | grep -v '^tree\$' | grep -q tree"
code=$(curl -s -o "$T/page.html" -w '%{http_code}' -b "$J" "$LOC")
check "... the page: Cancelled, the copy removed, no failure, no button (got $code)" \
	bash -c "[ $code = 200 ] && grep -q '<strong>Cancelled</strong>' '$T/page.html' && grep -q 'The partly made copy was removed' '$T/page.html' && ! grep -q 'The job failed' '$T/page.html' && ! grep -q '/cancel\"' '$T/page.html'"
code=$(curl -s -o "$T/arpage.html" -w '%{http_code}' -b "$J" -b lang=ar "$LOC")
check "... in Arabic, right to left: ألغيت (got $code)" \
	bash -c "[ $code = 200 ] && grep -q 'dir=\"rtl\"' '$T/arpage.html' && grep -q '<strong>أُلغيت</strong>' '$T/arpage.html' && grep -q 'أُزيلت النسخة' '$T/arpage.html'"
code=$(curl -s -o "$T/c.html" -w '%{http_code}' -b "$J" -H "Origin: $ORIGIN" \
	--data-urlencode "csrf=$(csrf_of "$J")" "$LOC/cancel")
check "... cancelled again from the page: 409, the job named (got $code)" \
	bash -c "[ $code = 409 ] && grep -q 'job $PJ has ended already (cancelled)' '$T/c.html'"
check "... audited: files.job_cancel ok with the result" \
	bash -c "sqlite3 '$T/var/aapanel.db' \"SELECT after_json FROM audit_log WHERE action = 'files.job_cancel' AND outcome = 'ok'\" | grep -q '\"job\":$PJ.*\"removed\":true'"

# ------------------------------------------------------------------ packing and extracting cancelled
code=$(api POST "/sites/$SID/files/archive" '{"path":"big","to":"big.tar","format":"tar"}')
KJ=$(jq -r .job.id "$T/api.json")
wait_progress "$KJ" 0 || true # a packing reports no progress on the way: cancelled early in its run
sleep 0.3
code=$(api POST "/sites/$SID/files/jobs/$KJ/cancel")
check "a packing cancelled through the API: cancelled, what it wrote removed ($code, $(jq -c .job.result "$T/api.json"))" \
	bash -c "[ $code = 200 ] && jq -e '.job.state == \"cancelled\" and .job.kind == \"archive\" and .job.result.to == \"big.tar\" and .job.result.removed == true' '$T/api.json' >/dev/null"
check "... on the disk: no archive, no hidden temporary file ($(ls -A "$R" | tr '\n' ' '))" \
	bash -c "[ ! -e '$R/big.tar' ] && ! ls -A '$R' | grep -q '^[.]'"
code=$(api POST "/sites/$SID/files/archive" '{"path":"big","to":"big.tar","format":"tar"}')
KJ=$(jq -r .job.id "$T/api.json")
wait_end "$KJ" || true
code=$(api POST "/sites/$SID/files/extract" '{"path":"big.tar","to":"unpacked"}')
XJ=$(jq -r .job.id "$T/api.json")
wait_progress "$XJ" 3 || true
code=$(api POST "/sites/$SID/files/jobs/$XJ/cancel")
check "an extraction cancelled through the API: cancelled, what it unpacked removed ($code, $(jq -c .job.result "$T/api.json"))" \
	bash -c "[ $code = 200 ] && jq -e '.job.state == \"cancelled\" and .job.kind == \"extract\" and .job.result.removed == true' '$T/api.json' >/dev/null"
check "... on the disk: no folder, no hidden one ($(ls -A "$R" | tr '\n' ' '))" \
	bash -c "[ ! -e '$R/unpacked' ] && ! ls -A '$R' | grep -q '^[.]'"
rm -f "$R/big.tar"

# ------------------------------------------------------------------ the API's cancel of a recursive chown
code=$(api POST "/sites/$SID/files/chown" '{"path":"big","owner":"site","recursive":true}')
CJ=$(jq -r .job.id "$T/api.json")
check "a recursive chown through the API: 202, job $CJ (got $code)" test "$code" = 202
wait_progress "$CJ" 2 || true
code=$(curl -s -o "$T/api.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $VTOKEN" "$(url "/api/v1/sites/$SID/files/jobs/$CJ/cancel")")
check "... a viewer's token cannot cancel it: 403 (got $code)" test "$code" = 403
code=$(api POST "/sites/$SID/files/jobs/$CJ/cancel")
cp "$T/api.json" "$T/cancelled.json"
changed=$(find "$R/big" -user "$user" | wc -l)
check "... POST /api/v1/sites/{id}/files/jobs/{job}/cancel: 200, cancelled, the entries changed so far ($code, $(jq -c .job.result "$T/cancelled.json"), $changed on the disk)" \
	bash -c "[ $code = 200 ] && jq -e --argjson n '$changed' '.job.state == \"cancelled\" and .job.result.total == 40201 and .job.result.entries == \$n and \$n < 40201 and \$n > 0' '$T/cancelled.json' >/dev/null"
code=$(api POST "/sites/$SID/files/jobs/$CJ/cancel")
check "... cancelled again: 409 naming job (got $code)" \
	bash -c "[ $code = 409 ] && jq -e --arg j '$CJ' '.error.field == \"job\" and (.error.reason | test(\"job \" + \$j + \" has ended already\"))' '$T/api.json' >/dev/null"
code=$(api POST "/sites/$SID/files/jobs/$NJ/cancel")
check "... a finished (done) job: 409 naming it (got $code)" \
	bash -c "[ $code = 409 ] && jq -e '.error.field == \"job\" and (.error.reason | test(\"has ended already \\\\(done\\\\)\"))' '$T/api.json' >/dev/null"
code=$(api POST "/sites/$SID/files/jobs/99999/cancel")
check "... an unknown job: 404 naming job (got $code)" \
	bash -c "[ $code = 404 ] && jq -e '.error.field == \"job\"' '$T/api.json' >/dev/null"

it_summary
