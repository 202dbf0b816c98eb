#!/usr/bin/env bash
# A site's files jobs and their page (issue 16, docs/files.md), the real
# helper, pool and nginx: a copy of a tree of 20,000 files (a helper job)
# waited for files.job_wait_ms only (0 here), then
#  - from the page: 303 to the job's page (/sites/{id}/files/jobs/{job}), which
#    shows its progress bar (polled), then done, with a link back to the folder;
#    in Arabic, right to left;
#  - through the API: 202 with the job's id, state and url; the job resource
#    rises in progress and ends done with its entries; the copy identical;
#  - another site's page for that job, or an unknown job: 404 naming job;
#  - a viewer reads the job page, cannot start a copy (403).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites_lib.sh"
# files.job_wait_ms 0: every copy goes to its job page (the default 2 s: t_files.sh's copies answer at once).
it_setup 'pool = { workers = 2; request_timeout = 30; }; files = { job_wait_ms = 0; };'
sites_setup 'system_users = false;'
it_start_pool
sites_start_nginx 64m 60
sites_start_helper
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
it_user admin admin 'correct horse battery staple'
it_user watcher viewer 'correct horse battery staple'
TOKEN=$(A token create --user admin --scope write --name t | tail -1)
VTOKEN=$(A token create --user watcher --scope read --name v | tail -1)
code=$(api POST /sites '{"domain":"jobs.test","kind":"static"}')
check "a static site (got $code)" test "$code" = 201
SID=$(jq -r .id "$T/api.json")
code=$(api POST /sites '{"domain":"other.test","kind":"static"}')
check "another site (got $code)" test "$code" = 201
SID2=$(jq -r .id "$T/api.json")
R="$SB/var/www/jobs.test/public"
J="$T/jar" VJ="$T/vjar"
it_login "$J" admin 'correct horse battery staple' >/dev/null
it_login "$VJ" watcher 'correct horse battery staple' >/dev/null
ORIGIN="http://127.0.0.1:$PORT"

python3 - "$R/tree" <<'PY'
import os, sys
top = sys.argv[1]
for i in range(100):
    d = os.path.join(top, "d%02d" % i)
    os.makedirs(d)
    for j in range(200):
        with open(os.path.join(d, "f%03d.txt" % j), "w") as f:
            f.write("%d %d\n" % (i, j))
PY
copy_form() { # JAR TO → status (Location in $T/loc)
	curl -s -o "$T/page.html" -w '%{http_code} %{redirect_url}' -b "$1" -H "Origin: $ORIGIN" \
		--data-urlencode "csrf=$(csrf_of "$1")" --data-urlencode path=tree --data-urlencode "to=$2" \
		"$(url "/sites/$SID/files/copy")" > "$T/out"
	cut -d' ' -f2- "$T/out" > "$T/loc"
	cut -d' ' -f1 "$T/out"
}
# poll_job SITE JOB → the states and progress seen, one "state progress" a line, in $T/progress
poll_job() {
	: > "$T/progress"
	for _ in $(seq 1 1200); do
		curl -s -o "$T/job.json" -H "Authorization: Bearer $TOKEN" "$(url "/api/v1/sites/$1/files/jobs/$2")"
		jq -r '"\(.job.state) \(.job.progress)"' "$T/job.json" >> "$T/progress"
		grep -q '^\(done\|failed\|timeout\)' "$T/progress" && break
		sleep 0.05
	done
}

# ------------------------------------------------------------------ the page: 303 to the job's page
code=$(copy_form "$VJ" tree-viewer)
check "a viewer cannot start a copy: 403 (got $code)" bash -c "[ $code = 403 ] && [ ! -e '$R/tree-viewer' ]"
code=$(copy_form "$J" tree2)
LOC=$(cat "$T/loc")
check "a copy of 20,000 files from the page: 303 to its job page (got $code, $LOC)" \
	bash -c "[ $code = 303 ] && echo '$LOC' | grep -Eq '/sites/$SID/files/jobs/[0-9]+\$'"
JOB=$(echo "$LOC" | sed -n 's|.*/files/jobs/\([0-9]*\).*|\1|p')
code=$(curl -s -o "$T/jobpage.html" -w '%{http_code}' -b "$J" "$LOC")
check "... the job page, running: a progress bar polled live (got $code)" \
	bash -c "[ $code = 200 ] && grep -q '<progress id=\"job-progress\"' '$T/jobpage.html' && grep -q \"data-job-poll=\\\"/api/v1/sites/$SID/files/jobs/$JOB\\\"\" '$T/jobpage.html' && grep -q 'Copying' '$T/jobpage.html' && grep -q 'http-equiv=\"refresh\"' '$T/jobpage.html'"
poll_job "$SID" "$JOB"
check "... the job ends done, 100 % ($(tail -1 "$T/progress"))" grep -q '^done 100$' "$T/progress"
check "... its progress seen rising on the way ($(grep '^running' "$T/progress" | awk '{print $2}' | sort -un | tr '\n' ' '))" \
	bash -c "[ \"\$(grep '^running' '$T/progress' | awk '\$2 > 0 && \$2 < 100 {print \$2}' | sort -u | wc -l)\" -ge 2 ]"
code=$(curl -s -o "$T/jobpage.html" -w '%{http_code}' -b "$J" "$LOC")
check "... the page then: done, no progress bar (got $code)" \
	bash -c "[ $code = 200 ] && grep -q 'The job is done.' '$T/jobpage.html' && ! grep -q 'job-progress' '$T/jobpage.html'"
check "... its entries: 20,101 (the folder, 100 folders, 20,000 files)" grep -q '>20101<' "$T/jobpage.html"
check "... a link back to the folder ($(grep -o 'href="[^"]*files[^"]*"' "$T/jobpage.html" | head -3 | tr '\n' ' '))" \
	grep -q "href=\"/sites/$SID/files?path=\"" "$T/jobpage.html"
code=$(curl -s -o "$T/vjob.html" -w '%{http_code}' -b "$VJ" "$LOC")
check "... a viewer reads it (got $code)" bash -c "[ $code = 200 ] && grep -q 'The job is done.' '$T/vjob.html'"
code=$(curl -s -o "$T/arjob.html" -w '%{http_code}' -b "$J" -b lang=ar "$LOC")
check "... in Arabic, right to left: done (got $code)" \
	bash -c "[ $code = 200 ] && grep -q 'dir=\"rtl\"' '$T/arjob.html' && grep -q 'اكتملت المهمة.' '$T/arjob.html' && grep -q 'العودة' '$T/arjob.html'"
check "... the copy identical (diff -r)" diff -r "$R/tree" "$R/tree2"
check "... audited: files.copy ok with its job" bash -c "sqlite3 '$T/var/aapanel.db' \"SELECT after_json FROM audit_log WHERE action = 'files.copy' AND outcome = 'ok'\" | grep -q '\"job\":$JOB'"

# ------------------------------------------------------------------ another site, an unknown job
code=$(curl -s -o "$T/other.html" -w '%{http_code}' -b "$J" "$(url "/sites/$SID2/files/jobs/$JOB")")
check "the job on another site's page: 404 (got $code)" test "$code" = 404
code=$(curl -s -o "$T/api.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$(url "/api/v1/sites/$SID2/files/jobs/$JOB")")
check "... through the API: 404 naming job (got $code)" \
	bash -c "[ $code = 404 ] && jq -e '.error.field == \"job\"' '$T/api.json' >/dev/null"
code=$(curl -s -o "$T/api.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$(url "/api/v1/sites/$SID/files/jobs/12345")")
check "an unknown job: 404 naming job (got $code)" \
	bash -c "[ $code = 404 ] && jq -e '.error.field == \"job\"' '$T/api.json' >/dev/null"

# ------------------------------------------------------------------ the API: 202 with the job
code=$(api POST "/sites/$SID/files/copy" '{"path":"tree","to":"tree3"}')
cp "$T/api.json" "$T/started.json"
check "a copy through the API: 202 with the job's id, state and url (got $code)" \
	bash -c "[ $code = 202 ] && jq -e --arg s '$SID' '(.job.id | type == \"number\") and (.job.state == \"running\" or .job.state == \"queued\") and .job.url == \"/sites/\(\$s)/files/jobs/\(.job.id)\" and .job.kind == \"copy\" and .path == \"tree3\"' '$T/started.json' >/dev/null"
AJOB=$(jq -r .job.id "$T/started.json")
code=$(curl -s -o "$T/api.json" -w '%{http_code}' -H "Authorization: Bearer $VTOKEN" "$(url "/api/v1$(jq -r .job.url "$T/started.json")")")
check "... its url is the job resource, a viewer's token reads it (got $code)" \
	bash -c "[ $code = 200 ] && jq -e --argjson j '$AJOB' '.job.id == \$j and .job.site == $SID' '$T/api.json' >/dev/null"
code=$(curl -s -o "$T/api.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $VTOKEN" -H 'Content-Type: application/json' \
	--data-binary '{"path":"tree","to":"tree4"}' "$(url "/api/v1/sites/$SID/files/copy")")
check "... a viewer's token cannot start one: 403 (got $code)" bash -c "[ $code = 403 ] && [ ! -e '$R/tree4' ]"
poll_job "$SID" "$AJOB"
check "... the job resource ends done with its entries ($(tail -1 "$T/progress"))" \
	bash -c "grep -q '^done 100$' '$T/progress' && jq -e '.job.result.entries == 20101 and .job.error == null' '$T/job.json' >/dev/null"
check "... the copy identical" diff -r "$R/tree" "$R/tree3"

it_summary
