#!/usr/bin/env bash
# The admins' other roots get a site's whole file manager (issue 16,
# docs/files.md): the real helper, pool and nginx, files.roots with two roots.
#  - every action through the API and the page as an admin: create a file and
#    a folder, upload (form), save a new file, rename, chmod, copy, pack and
#    extract (helper jobs, their page under the root), delete to the root's
#    trash (hidden in the root), restore, empty;
#  - what is made belongs to the owner (uid and gid) of the root's folder
#    (www-data here, by chown), not to the helper's user;
#  - operators and viewers 403 on every new route, nothing changed;
#  - the traversal corpus on every new path-taking field (../, absolute, a
#    symlinked parent, symlinks and hard links to outside files): 400 naming
#    the root, the outside canaries unchanged;
#  - the CLI's --root NAME; the pages in Arabic.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites_lib.sh"
# files.job_wait_ms 0: a copy, a packing or an extraction always goes to its job.
it_setup 'pool = { workers = 2; request_timeout = 30; };'
sites_setup 'system_users = false;'
cat >> "$T/conf/profiles/test.cfg" <<'CFG'
files = { roots = "www:/srv/www, data:/srv/data"; job_wait_ms = 0; };
CFG
it_start_pool
sites_start_nginx 64m 60
sites_start_helper
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
it_user admin admin 'correct horse battery staple'
it_user oper operator 'correct horse battery staple'
it_user watcher viewer 'correct horse battery staple'
ADMIN=$(A token create --user admin --scope admin --name a | tail -1)
OPER=$(A token create --user oper --scope write --name o | tail -1)
VIEW=$(A token create --user watcher --scope read --name v | tail -1)
W="$SB/srv/www"
mkdir -p "$W/conf" "$SB/srv/data" "$SB/srv/other"
printf 'server_name example;\n' > "$W/conf/site.conf"
printf 'CANARY-SECRET\n' > "$SB/srv/other/secret.txt"
printf 'CANARY-SECRET\n' > "$T/outside.txt"
ln -s "$SB/srv/other/secret.txt" "$W/link-file"
ln -s ../other "$W/link-dir"
ln "$T/outside.txt" "$W/hard.txt" 2>/dev/null || ln "$SB/srv/other/secret.txt" "$W/hard.txt"
# The root's own folder belongs to www-data (an existing system user): what is made there too.
chown 33:33 "$W"
OWNER=33:33
canaries() { sha256sum "$SB/srv/other/secret.txt" "$T/outside.txt"; ls -la --time-style=+%s "$SB/srv/other"; ls -A "$SB/srv" /tmp | grep -c pwn || true; stat -c '%a %u:%g' "$SB/srv/other/secret.txt" "$T/outside.txt"; }
canaries > "$T/canaries.before"
ORIGIN="http://127.0.0.1:$PORT"
rq() { # TOKEN METHOD PATH [curl args] → status (body in $T/r.out)
	local t=$1 m=$2 p=$3; shift 3
	curl -s -o "$T/r.out" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $t" "$@" "$(url "/api/v1$p")"
}
js() { rq "$ADMIN" POST "$1" -H 'Content-Type: application/json' --data-binary "$2"; } # PATH JSON → status
# done_job: the answer in $T/r.out was 200, or 202 with a job: wait for it (its resource) to end done.
done_job() {
	local u
	u=$(jq -r '.job.url // empty' "$T/r.out")
	[ -z "$u" ] && return 0
	for _ in $(seq 1 400); do
		curl -s -o "$T/job.json" -H "Authorization: Bearer $ADMIN" "$(url "/api/v1$u")"
		jq -e '.job.state == "done"' "$T/job.json" >/dev/null && return 0
		jq -e '.job.state == "failed" or .job.state == "timeout"' "$T/job.json" >/dev/null && return 1
		sleep 0.05
	done
	return 1
}

# ------------------------------------------------------------------ the API, as an admin
code=$(js /files/roots/www/create '{"path":"","name":"made","type":"dir"}')
check "create a folder (got $code), owned by the root folder's owner ($(stat -c %u:%g "$W/made" 2>/dev/null))" \
	bash -c "[ $code = 200 ] && [ -d '$W/made' ] && [ \"\$(stat -c %u:%g '$W/made')\" = $OWNER ]"
code=$(js /files/roots/www/create '{"path":"made","name":"empty.txt","type":"file"}')
check "create a file (got $code), owned likewise" bash -c "[ $code = 200 ] && [ -f '$W/made/empty.txt' ] && [ \"\$(stat -c %u:%g '$W/made/empty.txt')\" = $OWNER ]"
printf 'uploaded\n' > "$T/up.txt"
code=$(rq "$ADMIN" POST "/files/roots/www/content?path=made/up.txt" -H 'Content-Type: application/octet-stream' --data-binary "@$T/up.txt")
check "upload (got $code), owned likewise" bash -c "[ $code = 200 ] && cmp -s '$T/up.txt' '$W/made/up.txt' && [ \"\$(stat -c %u:%g '$W/made/up.txt')\" = $OWNER ]"
code=$(js /files/roots/www/edit '{"path":"made/new.txt","content":"نص جديد\n","eol":"lf"}')
check "save a new file from the editor (got $code), owned likewise" \
	bash -c "[ $code = 200 ] && [ \"\$(cat '$W/made/new.txt')\" = 'نص جديد' ] && [ \"\$(stat -c %u:%g '$W/made/new.txt')\" = $OWNER ]"
code=$(js /files/roots/www/rename '{"path":"made/new.txt","to":"made/moved.txt"}')
check "rename (got $code)" bash -c "[ $code = 200 ] && [ -f '$W/made/moved.txt' ] && [ ! -e '$W/made/new.txt' ]"
code=$(js /files/roots/www/chmod '{"path":"made/moved.txt","mode":"600"}')
check "chmod (got $code)" bash -c "[ $code = 200 ] && [ \"\$(stat -c %a '$W/made/moved.txt')\" = 600 ]"
code=$(js /files/roots/www/copy '{"path":"made","to":"made2"}')
check "copy: a job, 202 with its url under the root (got $code)" \
	bash -c "[ $code = 202 ] && jq -e '.job.url | test(\"^/files/roots/www/jobs/[0-9]+\")' '$T/r.out' >/dev/null && jq -e '.job.root == \"www\" and .job.kind == \"copy\"' '$T/r.out' >/dev/null"
CJOB=$(jq -r .job.id "$T/r.out")
done_job
check "... done, the copy identical and every entry owned by the root's owner" \
	bash -c "diff -r '$W/made' '$W/made2' && [ -z \"\$(find '$W/made2' ! -user 33 -o ! -group 33 -print)\" ]"
code=$(js /files/roots/www/archive '{"path":"made","to":"made.tar.gz","format":"tar.gz"}')
done_job; st=$?
check "pack into a tar.gz (a job, got $code), owned likewise" \
	bash -c "[ $st = 0 ] && tar -tzf '$W/made.tar.gz' | grep -q '^made/moved.txt$' && [ \"\$(stat -c %u:%g '$W/made.tar.gz')\" = $OWNER ]"
code=$(js /files/roots/www/extract '{"path":"made.tar.gz","to":"ex"}')
done_job; st=$?
check "extract it (a job, got $code): the files back, every entry owned likewise" \
	bash -c "[ $st = 0 ] && cmp -s '$W/made/moved.txt' '$W/ex/made/moved.txt' && [ -z \"\$(find '$W/ex' ! -user 33 -o ! -group 33 -print)\" ]"
code=$(rq "$ADMIN" GET "/files/roots/www/archive?path=made&format=tar")
check "download a folder as an archive made on the way (got $code)" bash -c "[ $code = 200 ] && tar -tf '$T/r.out' | grep -q '^made/up.txt$'"
code=$(rq "$ADMIN" GET "/files/roots/www/jobs/$CJOB")
check "the copy's job resource under the root (got $code)" bash -c "[ $code = 200 ] && jq -e '.job.state == \"done\" and .job.result.entries == 4 and .job.root == \"www\"' '$T/r.out' >/dev/null"
code=$(rq "$ADMIN" GET "/files/roots/data/jobs/$CJOB")
check "... another root's job page: 404 naming job (got $code)" bash -c "[ $code = 404 ] && jq -e '.error.field == \"job\"' '$T/r.out' >/dev/null"
# the trash
code=$(js /files/roots/www/delete '{"path":"made2"}')
ENTRY=$(jq -r .trash_entry "$T/r.out")
check "delete: to the root's trash (got $code, entry $ENTRY)" \
	bash -c "[ $code = 200 ] && [ ! -e '$W/made2' ] && [ -d '$W/.aapanel-trash/$ENTRY/item' ] && [ \"\$(stat -c %a '$W/.aapanel-trash')\" = 700 ]"
code=$(rq "$ADMIN" GET "/files/roots/www?path=")
check "... the trash folder is not listed in the root (got $code)" bash -c "[ $code = 200 ] && ! jq -e '[.items[].name] | index(\".aapanel-trash\")' '$T/r.out' >/dev/null"
code=$(rq "$ADMIN" GET "/files/roots/www/trash")
check "... the trash lists it (got $code)" bash -c "[ $code = 200 ] && jq -e --arg e '$ENTRY' '.root == \"www\" and (.items | map(select(.id == \$e and .path == \"made2\" and .type == \"dir\")) | length) == 1' '$T/r.out' >/dev/null"
t=0 n=0
for p in .aapanel-trash ".aapanel-trash/$ENTRY/item" "made/../.aapanel-trash" "./.aapanel-trash/$ENTRY"; do
	n=$((n + 1)); [ "$(rq "$ADMIN" GET /files/roots/www -G --data-urlencode "path=$p")" = 400 ] && t=$((t + 1))
done
n=$((n + 1)); [ "$(js /files/roots/www/rename '{"path":"made","to":".aapanel-trash/x"}')" = 400 ] && t=$((t + 1))
n=$((n + 1)); [ "$(js /files/roots/www/create '{"path":"","name":".aapanel-trash","type":"dir"}')" = 400 ] && t=$((t + 1))
check "... paths into the trash refused, 400 ($t of $n)" bash -c "[ $t = $n ] && [ -d '$W/made' ]"
code=$(js /files/roots/www/trash/restore "{\"entry\":\"$ENTRY\"}")
check "... restore (got $code)" bash -c "[ $code = 200 ] && diff -r '$W/made' '$W/made2' && [ ! -e '$W/.aapanel-trash/$ENTRY' ]"
js /files/roots/www/delete '{"path":"made2"}' > /dev/null
code=$(js /files/roots/www/trash/empty '{}')
check "... empty the trash: 204, nothing left (got $code)" bash -c "[ $code = 204 ] && [ -z \"\$(ls -A '$W/.aapanel-trash')\" ]"
check "... each change audited as root www" bash -c "[ \"\$(sqlite3 '$T/var/aapanel.db' \"SELECT COUNT(DISTINCT action) FROM audit_log WHERE target LIKE 'root www:%' AND outcome = 'ok' AND action IN ('files.mkdir','files.upload','files.save','files.rename','files.chmod','files.copy','files.archive','files.extract','files.delete','files.restore','files.empty')\")\" = 11 ]"

# ------------------------------------------------------------------ the page, as an admin (post/redirect/get)
J="$T/jar"
it_login "$J" admin 'correct horse battery staple' >/dev/null
CSRF=$(csrf_of "$J")
form() { # PATH field=value… → "status location"
	local p=$1; shift
	local args=()
	for a in "$@"; do args+=(--data-urlencode "$a"); done
	curl -s -o "$T/form.html" -w '%{http_code} %{redirect_url}' -b "$J" -H "Origin: $ORIGIN" \
		--data-urlencode "csrf=$CSRF" "${args[@]}" "$(url "$p")"
}
back="$ORIGIN/files/roots/www?path="
r=$(form /files/roots/www/create path= name=pf type=dir)
check "the page: create a folder, 303 back to the folder ($r), owned by the root's owner" \
	bash -c "[ '$r' = '303 ${back}' ] && [ \"\$(stat -c %u:%g '$W/pf')\" = $OWNER ]"
r=$(form /files/roots/www/create path=pf name=a.txt type=file)
check "... create a file ($r)" bash -c "[ '${r%% *}' = 303 ] && [ -f '$W/pf/a.txt' ]"
printf 'one\n' > "$T/one.txt"
r=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -b "$J" -H "Origin: $ORIGIN" -F "csrf=$CSRF" -F path=pf \
	-F "files=@$T/one.txt;filename=one.txt" "$(url /files/roots/www/upload)")
check "... upload from the form ($r), owned by the root's owner" bash -c "[ '${r%% *}' = 303 ] && cmp -s '$T/one.txt' '$W/pf/one.txt' && [ \"\$(stat -c %u:%g '$W/pf/one.txt')\" = $OWNER ]"
r=$(form /files/roots/www/rename path=pf/a.txt to=pf/b.txt)
check "... rename ($r)" bash -c "[ '${r%% *}' = 303 ] && [ -f '$W/pf/b.txt' ]"
r=$(form /files/roots/www/chmod path=pf/b.txt mode=640)
check "... chmod ($r)" bash -c "[ '${r%% *}' = 303 ] && [ \"\$(stat -c %a '$W/pf/b.txt')\" = 640 ]"
r=$(form /files/roots/www/copy path=pf to=pf2)
LOC=${r#* }
check "... copy: 303 to its job page under the root ($r)" bash -c "[ '${r%% *}' = 303 ] && echo '$LOC' | grep -Eq '/files/roots/www/jobs/[0-9]+\$'"
for _ in $(seq 1 100); do
	curl -s -o "$T/jobpage.html" -b "$J" "$LOC"
	grep -q 'The job is done.' "$T/jobpage.html" && break
	sleep 0.05
done
check "... the job page: done, a link back to the folder, the root named" \
	bash -c "grep -q 'The job is done.' '$T/jobpage.html' && grep -q 'href=\"/files/roots/www?path=\"' '$T/jobpage.html' && grep -q '<bdi dir=\"ltr\">www</bdi>' '$T/jobpage.html' && diff -r '$W/pf' '$W/pf2'"
JID=$(echo "$LOC" | sed -n 's|.*/jobs/\([0-9]*\).*|\1|p')
r=$(form "/files/roots/www/jobs/$JID/cancel" path=)
check "... its Cancel, the job ended: 409, the job's page again saying so ($r)" \
	bash -c "[ '${r%% *}' = 409 ] && grep -q 'has ended already' '$T/form.html' && grep -q 'The job is done.' '$T/form.html'"
code=$(curl -s -o "$T/arjob.html" -w '%{http_code}' -b "$J" -b lang=ar "$LOC")
check "... in Arabic, right to left (got $code)" bash -c "[ $code = 200 ] && grep -q 'dir=\"rtl\"' '$T/arjob.html' && grep -q 'اكتملت المهمة.' '$T/arjob.html'"
r=$(form /files/roots/www/archive path=pf to=pf.zip format=zip)
for _ in $(seq 1 100); do [ -f "$W/pf.zip" ] && break; sleep 0.05; done
check "... pack ($r)" bash -c "[ '${r%% *}' = 303 ] && [ -f '$W/pf.zip' ]"
r=$(form /files/roots/www/extract path=pf.zip to=pfx)
for _ in $(seq 1 100); do [ -f "$W/pfx/pf/one.txt" ] && break; sleep 0.05; done
check "... extract ($r)" bash -c "[ '${r%% *}' = 303 ] && cmp -s '$W/pf/one.txt' '$W/pfx/pf/one.txt'"
r=$(form /files/roots/www/delete path=pf2)
check "... delete ($r)" bash -c "[ '${r%% *}' = 303 ] && [ ! -e '$W/pf2' ]"
code=$(curl -s -o "$T/trash.html" -w '%{http_code}' -b "$J" "$(url /files/roots/www/trash)")
PE=$(grep -o 'name="entry" value="[0-9a-f]*"' "$T/trash.html" | head -1 | sed 's/.*value="//; s/"//')
check "... the trash page lists it with a restore form (got $code)" bash -c "[ $code = 200 ] && [ -n '$PE' ] && grep -q 'action=\"/files/roots/www/trash/restore\"' '$T/trash.html'"
r=$(form /files/roots/www/trash/restore "entry=$PE")
check "... restore ($r)" bash -c "[ '${r%% *}' = 303 ] && [ -d '$W/pf2' ]"
form /files/roots/www/delete path=pf2 > /dev/null
r=$(form /files/roots/www/trash/empty)
check "... empty the trash asks first (200, a confirmation; got $r)" bash -c "[ '${r%% *}' = 200 ] && grep -q 'name=\"confirmed\"' '$T/form.html'"
r=$(form /files/roots/www/trash/empty confirmed=yes)
check "... then empties it ($r)" bash -c "[ '${r%% *}' = 303 ] && [ -z \"\$(ls -A '$W/.aapanel-trash')\" ]"
code=$(curl -s -o "$T/page.html" -w '%{http_code}' -b "$J" "$(url "/files/roots/www?path=pf")")
check "the root's page has every form, posting beneath the root, and no owner form (got $code)" \
	bash -c "[ $code = 200 ] && for a in create upload rename copy chmod archive extract delete; do grep -q \"/files/roots/www/\$a\\\"\" '$T/page.html' || exit 1; done; ! grep -q 'chown' '$T/page.html' && grep -q 'href=\"/files/roots/www/trash\"' '$T/page.html'"
code=$(curl -s -o "$T/arpage.html" -w '%{http_code}' -b "$J" -b lang=ar "$(url "/files/roots/www?path=pf")")
check "... in Arabic, right to left (got $code)" bash -c "[ $code = 200 ] && grep -q 'dir=\"rtl\"' '$T/arpage.html' && grep -q 'من (مسار داخل الجذر)' '$T/arpage.html'"
r=$(form /files/roots/www/rename path=../other/secret.txt to=x)
check "a refused form: the reason names the root, never the site ($r)" \
	bash -c "[ '${r%% *}' = 400 ] && grep -q 'the root www' '$T/form.html' && ! grep -q \"site&#39;s document root\\|site's document root\" '$T/form.html'"

# ------------------------------------------------------------------ operators and viewers: 403
sum=$(cd "$W" && find . -printf '%p %s %m %u\n' | sort | sha256sum)
denied=0 total=0
for t in "$OPER" "$VIEW"; do
	for r in "GET /files/roots/www/trash" "GET /files/roots/www/jobs/$CJOB" "GET /files/roots/www/archive?path=made"; do
		total=$((total + 1)); [ "$(rq "$t" ${r% *} "${r#* }")" = 403 ] && denied=$((denied + 1))
	done
	for r in 'create {"path":"","name":"z","type":"dir"}' 'rename {"path":"made","to":"z"}' 'copy {"path":"made","to":"z"}' \
		'chmod {"path":"made","mode":"777"}' 'delete {"path":"made"}' 'extract {"path":"made.tar.gz","to":"z"}' \
		'archive {"path":"made","to":"z.zip"}' 'trash/restore {"entry":"00000000000000000"}' 'trash/empty {}'; do
		total=$((total + 1))
		[ "$(rq "$t" POST "/files/roots/www/${r%% *}" -H 'Content-Type: application/json' --data-binary "${r#* }")" = 403 ] && denied=$((denied + 1))
	done
	total=$((total + 1))
	[ "$(rq "$t" POST /files/roots/www/upload -F path= -F "files=@$T/one.txt;filename=z.txt")" = 403 ] && denied=$((denied + 1))
done
check "operators and viewers: 403 on every new roots route ($denied of $total)" test "$denied" = "$total"
OJ="$T/ojar"
it_login "$OJ" oper 'correct horse battery staple' >/dev/null
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$OJ" -H "Origin: $ORIGIN" --data-urlencode "csrf=$(csrf_of "$OJ")" \
	--data-urlencode path=made "$(url /files/roots/www/delete)")
check "... an operator's browser too (got $code); nothing in the root changed" \
	bash -c "[ $code = 403 ] && [ \"\$(cd '$W' && find . -printf '%p %s %m %u\n' | sort | sha256sum)\" = '$sum' ]"

# ------------------------------------------------------------------ traversal on every new path-taking field
OUT=("../other/secret.txt" "../../srv/other/secret.txt" "$SB/srv/other/secret.txt" "/etc/passwd" "link-dir/secret.txt" \
	"conf/../../other/secret.txt" "made/../../other/secret.txt")
DEST=("../other/pwn" "../../srv/other/pwn" "$SB/srv/other/pwn" "/tmp/aapanel-pwn" "link-dir/pwn" "made/../../other/pwn")
refused=0 n=0 named=0
try() { # PATH JSON: expected 400 naming the root
	n=$((n + 1))
	local c
	c=$(js "$1" "$2")
	if [ "$c" = 400 ]; then
		refused=$((refused + 1))
		jq -e '.error.reason | test("the root www") and (test("site") | not)' "$T/r.out" >/dev/null && named=$((named + 1))
	elif [ "$c" = 202 ] && ! done_job; then # a job (files.job_wait_ms 0) that the helper refused
		refused=$((refused + 1))
		jq -e '.job.state == "failed" and (.job.error | test("the root www") and (test("site") | not))' "$T/job.json" >/dev/null &&
			named=$((named + 1))
	else
		echo "# not refused: $1 $2 → $c $(head -c 300 "$T/r.out")"
	fi
}
jstr() { jq -Rn --arg v "$1" '$v'; }
for p in "${OUT[@]}"; do
	P=$(jstr "$p")
	try /files/roots/www/rename "{\"path\":$P,\"to\":\"stolen\"}"
	try /files/roots/www/copy "{\"path\":$P,\"to\":\"stolen\"}"
	try /files/roots/www/chmod "{\"path\":$P,\"mode\":\"777\"}"
	try /files/roots/www/delete "{\"path\":$P}"
	try /files/roots/www/archive "{\"path\":$P,\"to\":\"stolen.zip\"}"
	try /files/roots/www/extract "{\"path\":$P,\"to\":\"stolen\"}"
	try /files/roots/www/create "{\"path\":$P,\"name\":\"pwn\",\"type\":\"dir\"}"
done
for d in "${DEST[@]}"; do
	D=$(jstr "$d")
	try /files/roots/www/rename "{\"path\":\"made/up.txt\",\"to\":$D}"
	try /files/roots/www/copy "{\"path\":\"made/up.txt\",\"to\":$D}"
	try /files/roots/www/archive "{\"path\":\"made\",\"to\":$D}"
	try /files/roots/www/extract "{\"path\":\"made.tar.gz\",\"to\":$D}"
done
# Links to outside files: their contents and modes are never reached.
for p in link-file hard.txt; do
	try /files/roots/www/chmod "{\"path\":\"$p\",\"mode\":\"777\"}"
	try /files/roots/www/extract "{\"path\":\"$p\",\"to\":\"stolen\"}"
done
try /files/roots/www/copy '{"path":"hard.txt","to":"stolen"}'
try /files/roots/www/archive '{"path":"hard.txt","to":"stolen.zip"}'
try /files/roots/www/copy '{"path":"link-dir/secret.txt","to":"stolen"}'
for p in "${OUT[@]}"; do
	n=$((n + 1))
	c=$(rq "$ADMIN" GET /files/roots/www/archive -G --data-urlencode "path=$p")
	if [ "$c" = 400 ] && ! grep -q CANARY "$T/r.out"; then refused=$((refused + 1)); named=$((named + 1)); fi
done
check "traversal on every new field refused: ../, absolute, a symlinked parent, links out, a hard link ($refused of $n, 400 or a failed job)" \
	test "$refused" = "$n"
check "... every refusal names the root www, never the site ($named of $n)" test "$named" = "$n"
check "... the outside files unchanged, nothing made outside" cmp -s "$T/canaries.before" <(canaries)
check "... nothing stolen into the root" bash -c "[ ! -e '$W/stolen' ] && [ ! -e '$W/stolen.zip' ] && [ ! -e /tmp/aapanel-pwn ]"

# ------------------------------------------------------------------ the CLI: --root NAME
printf 'from the cli\n' > "$T/cli.txt"
rc=0
A files put --root www made/cli.txt < "$T/cli.txt" > "$T/cli.out" 2>&1 || rc=$?
check "files put --root www: exit 0 (got $rc), the file owned by the root's owner" \
	bash -c "[ $rc = 0 ] && cmp -s '$T/cli.txt' '$W/made/cli.txt' && [ \"\$(stat -c %u:%g '$W/made/cli.txt')\" = $OWNER ]"
A files ls --root www made > "$T/cli.out" 2>&1
check "files ls --root www made: lists it" grep -q ' cli.txt$' "$T/cli.out"
A files get --root www made/cli.txt > "$T/cli.get" 2>&1
check "files get --root www: the file" cmp -s "$T/cli.txt" "$T/cli.get"
rc=0
A files get --root www ../other/secret.txt > "$T/cli.out" 2> "$T/cli.err" || rc=$?
check "... a path out of the root: exit 2 (got $rc), the reason names the root, nothing printed" \
	bash -c "[ $rc = 2 ] && grep -q 'the root www' '$T/cli.err' && ! grep -q CANARY '$T/cli.out'"
rc=0
A files rm --root www made/cli.txt > "$T/cli.out" 2>&1 || rc=$?
check "files rm --root www: exit 0 (got $rc), into the root's trash" \
	bash -c "[ $rc = 0 ] && [ ! -e '$W/made/cli.txt' ] && grep -rqx 'made/cli.txt' '$W/.aapanel-trash'"
rc=0
A files ls --root nope > "$T/cli.out" 2> "$T/cli.err" || rc=$?
check "files ls --root nope: exit 2 (got $rc) naming files.roots" bash -c "[ $rc = 2 ] && grep -q 'files.roots' '$T/cli.err'"
rc=0
A files chown --root www made site > "$T/cli.out" 2> "$T/cli.err" || rc=$?
check "files chown --root: exit 2 (got $rc), a root has no site user" bash -c "[ $rc = 2 ] && grep -q 'no site user' '$T/cli.err'"
"$SEND" --call "$HS" files.chown '{"rootname":"www","path":"made","owner":"site"}' > "$T/h.json" || true
check "... the helper refuses a chown in a root too" jq -e '.ok == false and .error.field == "owner"' "$T/h.json"
it_summary
