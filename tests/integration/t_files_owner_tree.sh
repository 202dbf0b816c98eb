#!/usr/bin/env bash
# The owner of a folder's contents (issue 16, docs/files.md): files.chown_tree,
# a helper job with progress, the real helper (root), pool and nginx, a site
# with its own system user in this test's private mount namespace (a copy of
# /etc bind-mounted, as t_files_owner.sh).
#  - a root-owned tree (folders, files, links) given to the site's user:
#    everything in it changed, links changed themselves and never followed
#    (a link to an outside file and one to an outside folder: those stay
#    root's); the audit row counts the entries;
#  - a hard-linked file anywhere in the tree refuses the whole job naming it,
#    before anything changed;
#  - a large tree (40,000 entries) as a job: job.status shows its progress
#    rising, then done;
#  - a viewer may not; the form and the CLI (--recursive).
if [ -z "${AAPANEL_SITES_NS:-}" ]; then
	exec unshare --mount --propagation private env AAPANEL_SITES_NS=1 bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites_lib.sh"
it_setup 'pool = { workers = 2; };'
sites_setup 'system_users = true; nginx_group = "www-data";'
mkdir "$T/etc"
cp -a /etc/. "$T/etc/"
mount --bind "$T/etc" /etc
it_start_pool
sites_start_nginx
sites_start_helper
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
it_user admin admin 'correct horse battery staple'
it_user watcher viewer 'correct horse battery staple'
TOKEN=$(A token create --user admin --scope write --name t | tail -1)
VIEWER=$(A token create --user watcher --scope read --name v | tail -1)
code=$(api POST /sites '{"domain":"tree.test","kind":"static"}')
check "a static site with its own system user (got $code)" test "$code" = 201
SID=$(jq -r .id "$T/api.json")
user=$(sqlite3 "$T/var/aapanel.db" "SELECT system_user FROM sites WHERE id = $SID")
R="$SB/var/www/tree.test/public"
mkdir -p "$R/app/a/b/c" "$R/app/d" "$T/outdir"
for f in app/x.txt app/a/y.txt app/a/b/z.txt app/a/b/c/w.txt app/d/v.txt; do printf 'x\n' > "$R/$f"; done
printf 'CANARY\n' > "$T/outside.txt"
printf 'CANARY\n' > "$T/outdir/in.txt"
ln -s "$T/outside.txt" "$R/app/a/link-out"
ln -s "$T/outdir" "$R/app/d/dir-out"
ln -s ../x.txt "$R/app/a/link-in"
chown -R 0:0 "$R/app" "$T/outside.txt" "$T/outdir"
chown -h 0:0 "$R/app/a/link-out" "$R/app/d/dir-out" "$R/app/a/link-in"
ln "$T/outside.txt" "$R/app/a/b/hard.txt"
outside_owners() { stat -c %u:%g "$T/outside.txt" "$T/outdir" "$T/outdir/in.txt" | tr '\n' ' '; }
chown_api() { # path token → status
	curl -s -o "$T/api.json" -w '%{http_code}' -X POST -H "Authorization: Bearer ${2:-$TOKEN}" -H 'Content-Type: application/json' \
		--data-binary "{\"path\":\"$1\",\"owner\":\"site\",\"recursive\":true}" "$(url "/api/v1/sites/$SID/files/chown")"
}
code=$(chown_api app)
check "a hard-linked file in the tree: 400 naming it (got $code)" \
	bash -c "[ $code = 400 ] && jq -e '.error.reason | test(\"app/a/b/hard.txt\")' '$T/api.json' >/dev/null"
check "... nothing changed: every entry still root's" bash -c "[ -z \"\$(find '$R/app' ! -uid 0)\" ]"
rm "$R/app/a/b/hard.txt"
code=$(chown_api app "$VIEWER")
check "a viewer may not: 403 (got $code)" test "$code" = 403
code=$(chown_api app)
check "the tree given to the site's user: 200 (got $code)" test "$code" = 200
check "... every folder, file and link in it the user's (and the folder itself)" \
	bash -c "[ -z \"\$(find '$R/app' ! -user '$user')\" ] && [ \"\$(stat -c %U '$R/app')\" = '$user' ]"
check "... links changed themselves, not followed: outside stays root's ($(outside_owners))" \
	test "$(outside_owners)" = "0:0 0:0 0:0 "
check "... the audit row: recursive, 13 entries" bash -c "sqlite3 '$T/var/aapanel.db' \"SELECT after_json FROM audit_log WHERE action = 'files.chown' AND outcome = 'ok'\" | grep -q '\"recursive\":true,\"entries\":13'"
code=$(chown_api ../../../outside.txt)
check "a path out of the root: 400, outside unchanged (got $code)" bash -c "[ $code = 400 ] && [ '$(outside_owners)' = '0:0 0:0 0:0 ' ]"

# A large tree: a job whose progress rises.
python3 - "$R/big" <<'PY'
import os, sys
top = sys.argv[1]
for i in range(200):
    d = os.path.join(top, "d%03d" % i)
    os.makedirs(d)
    for j in range(200):
        open(os.path.join(d, "f%03d" % j), "w").close()
PY
chown -R 0:0 "$R/big"
"$SEND" --call "$HS" files.chown_tree '{"domain":"tree.test","path":"big","owner":"site-web"}' > "$T/job.json"
JOB=$(jq -r .result.job "$T/job.json")
: > "$T/progress"
for _ in $(seq 1 600); do
	"$SEND" --call "$HS" job.status "{\"id\":$JOB}" > "$T/st.json" || true
	jq -r '"\(.result.state) \(.result.progress)"' "$T/st.json" >> "$T/progress"
	grep -q '^\(done\|failed\)' "$T/progress" && break
	sleep 0.02
done
check "40,200 entries as a job: done, 100 % ($(tail -1 "$T/progress"))" grep -q '^done 100$' "$T/progress"
check "... its progress seen rising on the way ($(grep -c '^running' "$T/progress") samples running: $(grep '^running' "$T/progress" | awk '{print $2}' | sort -un | tr '\n' ' '))" \
	bash -c "[ \"\$(grep '^running' '$T/progress' | awk '\$2 > 0 && \$2 < 100' | wc -l)\" -ge 1 ]"
check "... every entry the user's with nginx's group" bash -c "[ -z \"\$(find '$R/big' ! -group www-data -o ! -user '$user')\" ]"

# The form and the CLI.
chown -R 0:0 "$R/app"
J="$T/jar"
it_login "$J" admin 'correct horse battery staple' >/dev/null
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$J" -H "Origin: http://127.0.0.1:$PORT" \
	--data-urlencode "csrf=$(csrf_of "$J")" --data-urlencode path=app --data-urlencode owner=site --data-urlencode recursive=true "$(url "/sites/$SID/files/chown")")
check "the Owner form with 'everything in it': 303, the tree the user's (got $code)" \
	bash -c "[ $code = 303 ] && [ -z \"\$(find '$R/app' ! -user '$user')\" ]"
curl -s -b "$J" "$(url "/sites/$SID/files")" > "$T/page.html"
check "... the form offers it" grep -q 'name="recursive"' "$T/page.html"
chown -R 0:0 "$R/app"
rc=0; A files chown tree.test app site-web --recursive || rc=$?
check "aapanel files chown SITE PATH site-web --recursive (rc $rc)" \
	bash -c "[ $rc = 0 ] && [ -z \"\$(find '$R/app' ! -group www-data)\" ] && [ '$(outside_owners)' = '0:0 0:0 0:0 ' ]"
it_summary
