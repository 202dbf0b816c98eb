#!/usr/bin/env bash
# The file manager for real (issue 16): the panel's API and pages through the
# test's nginx, the privileged helper opening every path beneath the site's
# document root (openat2, RESOLVE_BENEATH) and passing descriptors to the
# worker (SCM_RIGHTS), a static and a PHP site.
#  - the traversal corpus against every path-taking field: ../, encoded and
#    double-encoded, absolute, NUL, overlong UTF-8, backslashes, symlinks
#    inside pointing out (file and directory, and one swapped in a loop while
#    it is read: created between check and use), a hard link to an outside
#    file, a symlinked parent: each refused, canaries outside untouched and
#    nothing created outside the root;
#  - browse (sort, search), create, rename, copy, chmod, delete to the
#    trash, restore, empty; viewers read, operators change; every change in
#    the audit log;
#  - an Arabic text with CR LF edited in the browser keeps its CR LF;
#  - .php refused into a static site, allowed into a PHP site and audited
#    with its hash;
#  - a 200 MiB upload and its download are byte-identical through nginx, and
#    no worker's memory grows with it;
#  - the CLI: files ls|get|put|rm, exit 2 with the reason for a refused path.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites_lib.sh"
it_setup 'pool = { request_timeout = 30; };'
sites_setup 'system_users = false;'
cat >> "$T/conf/profiles/test.cfg" <<'CFG'
files = { max_upload = 268435456; };
CFG
it_start_pool
sites_start_nginx 300m 60
sites_start_helper
sites_start_php
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
it_user admin admin 'correct horse battery staple'
it_user watcher viewer 'correct horse battery staple'
TOKEN=$(A token create --user admin --scope write --name t | tail -1)
VIEWER=$(A token create --user watcher --scope read --name v | tail -1)

code=$(api POST /sites '{"domain":"files.test","kind":"static"}')
check "a static site to manage (got $code)" test "$code" = 201
SID=$(jq -r .id "$T/api.json")
if [ -n "$PHP_VERSION" ]; then
	code=$(api POST /sites "{\"domain\":\"php.test\",\"kind\":\"php\",\"php\":\"$PHP_VERSION\"}")
	check "a PHP site (got $code)" test "$code" = 201
	PID_SITE=$(jq -r .id "$T/api.json")
fi
R="$SB/var/www/files.test/public"
# Canaries outside the root: beside the home, in the sandbox, and outside the sandbox.
printf 'CANARY-ONE secret\n' > "$SB/var/www/canary.txt"
printf 'CANARY-TWO secret\n' > "$T/canary.txt"
canaries() { sha256sum "$SB/var/www/canary.txt" "$T/canary.txt"; stat -c '%a %s %Y' "$SB/var/www/canary.txt" "$T/canary.txt"; }
canaries > "$T/canaries.before"
# Everything outside the document root, to see that nothing appears there.
outside() { (cd "$SB" && find . -path ./var/www/files.test/public -prune -o -path ./var/www/files.test/.aapanel-trash -prune -o -print | grep -v '\.aapanel-sites\.lock' | sort); }

# api_q METHOD PATH QUERY...: curl with --data-urlencode pieces in the query (GET) or the form (POST).
apiq() {
	local m=$1 p=$2; shift 2
	local args=()
	for q in "$@"; do args+=(--data-urlencode "$q"); done
	if [ "$m" = GET ]; then
		curl -s -o "$T/api.out" -w '%{http_code}' -G -H "Authorization: Bearer $TOKEN" "${args[@]}" "$(url "/api/v1$p")"
	else
		curl -s -o "$T/api.out" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" "${args[@]}" "$(url "/api/v1$p")"
	fi
}
# put PATH FILE [QUERY]: a streamed upload (the body as it is).
put() {
	curl -s -o "$T/api.out" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/octet-stream' --data-binary "@$2" \
		"$(url "/api/v1/sites/$SID/files/content?path=$1${3:-}")"
}
no_canary() { ! grep -q 'CANARY' "$T/api.out"; }

# ------------------------------------------------------------------ basics
printf 'hello\n' > "$T/hello.txt"
code=$(put hello.txt "$T/hello.txt")
check "upload hello.txt (streamed body): 200 (got $code)" test "$code" = 200
check "... on disk in the document root" cmp -s "$T/hello.txt" "$R/hello.txt"
check "... no temporary file left beside it" bash -c "! ls -a '$R' | grep -q aapanel-up"
code=$(put hello.txt "$T/hello.txt")
check "the same again without overwrite: 409 (got $code)" test "$code" = 409
code=$(put hello.txt "$T/hello.txt" '&overwrite=true')
check "... with overwrite=true: 200 (got $code)" test "$code" = 200
code=$(apiq POST "/sites/$SID/files/create" name=css type=dir)
check "create folder css (got $code)" test "$code" = 200
code=$(apiq POST "/sites/$SID/files/create" path=css name=site.css type=file)
check "create the empty file css/site.css (got $code)" bash -c "[ $code = 200 ] && [ -f '$R/css/site.css' ] && [ ! -s '$R/css/site.css' ]"
head -c 5000 /dev/zero > "$R/big.bin"
touch -d '2020-01-01' "$R/hello.txt"
code=$(apiq GET "/sites/$SID/files" path= sort=size desc=true)
check "list the root sorted by size, largest first (got $code)" test "$code" = 200
check "... folders first, then big.bin before hello.txt" jqe '[.items[].name] as $n | $n[0] == "css" and ($n | index("big.bin")) < ($n | index("hello.txt"))' "$T/api.out"
check "... sizes, types and modes" jqe '(.items[] | select(.name=="big.bin") | .size == 5000 and .type == "file" and .mode == "644") and .total >= 4' "$T/api.out"
code=$(apiq GET "/sites/$SID/files" search=HELL)
check "search by name, any case: only hello.txt (got $code)" jqe '[.items[].name] == ["hello.txt"]' "$T/api.out"
code=$(apiq POST "/sites/$SID/files/rename" path=hello.txt to=css/hi.txt)
check "move hello.txt into css/ as hi.txt (got $code)" bash -c "[ $code = 200 ] && [ -f '$R/css/hi.txt' ] && [ ! -e '$R/hello.txt' ]"
code=$(apiq POST "/sites/$SID/files/copy" path=css to=css2)
check "copy the folder css to css2 (got $code)" bash -c "[ $code = 200 ] && cmp -s '$R/css/hi.txt' '$R/css2/hi.txt'"
code=$(apiq POST "/sites/$SID/files/copy" path=css to=css/inner)
check "copy a folder into itself stops at itself (got $code)" bash -c "[ $code = 200 ] && [ ! -e '$R/css/inner/inner' ]"
code=$(apiq POST "/sites/$SID/files/chmod" path=css2/hi.txt mode=600)
check "chmod 600 (got $code)" test "$(stat -c %a "$R/css2/hi.txt")" = 600
code=$(apiq POST "/sites/$SID/files/chmod" path=css2/hi.txt mode=4755)
check "chmod with set-user-ID: 400 naming mode (got $code)" bash -c "[ $code = 400 ] && jq -e '.error.field == \"mode\"' '$T/api.out' >/dev/null && [ \"\$(stat -c %a '$R/css2/hi.txt')\" = 600 ]"
code=$(curl -s -o "$T/dl" -w '%{http_code}' -H "Authorization: Bearer $VIEWER" "$(url "/api/v1/sites/$SID/files/content?path=css/hi.txt")")
check "a viewer downloads a file (got $code)" bash -c "[ $code = 200 ] && cmp -s '$T/dl' '$T/hello.txt'"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $VIEWER" --data-urlencode path=css2 "$(url "/api/v1/sites/$SID/files/delete")")
check "a viewer cannot delete: 403 (got $code)" bash -c "[ $code = 403 ] && [ -d '$R/css2' ]"

# ------------------------------------------------------------------ trash
code=$(apiq POST "/sites/$SID/files/delete" path=css2)
check "delete css2: to the trash (got $code)" bash -c "[ $code = 200 ] && [ ! -e '$R/css2' ]"
ENTRY=$(jq -r .trash_entry "$T/api.out")
check "... the trash is outside the document root" test -d "$SB/var/www/files.test/.aapanel-trash/$ENTRY"
code=$(apiq GET "/sites/$SID/files/trash")
check "the trash lists it with where it was (got $code)" jqe --arg e "$ENTRY" '.items | any(.id == $e and .path == "css2" and .type == "dir")' "$T/api.out"
code=$(apiq POST "/sites/$SID/files/trash/restore" entry="$ENTRY")
check "restore it (got $code)" bash -c "[ $code = 200 ] && cmp -s '$R/css2/hi.txt' '$T/hello.txt'"
apiq POST "/sites/$SID/files/delete" path=css2 >/dev/null
code=$(apiq POST "/sites/$SID/files/trash/empty")
check "empty the trash: 204 (got $code)" test "$code" = 204
apiq GET "/sites/$SID/files/trash" >/dev/null
check "... nothing left in it" jqe '.items == []' "$T/api.out"

# ------------------------------------------------------------------ the traversal corpus
ln -s ../../canary.txt "$R/lnfile"
ln -s "$T" "$R/lndir"
ln -s ../.. "$R/up"
ln "$SB/var/www/canary.txt" "$R/hard"
mkdir -p "$R/sub"
outside > "$T/outside.before"
# Paths that mean a way out once decoded (and backslashes, which are only bytes on Linux).
corpus=(
	'../canary.txt' '../../canary.txt' '../../../../../../../etc/passwd' 'css/../../canary.txt'
	'sub/../../canary.txt' '/etc/passwd' "$T/canary.txt" "$SB/var/www/canary.txt"
	'..\..\canary.txt' '..\\..\\canary.txt' 'css\..\..\canary.txt'
	'lndir/canary.txt' 'up/canary.txt' 'up/files.test/../canary.txt' 'lnfile/x' 'hard/x'
)
# Raw query strings: NUL, overlong UTF-8 for ".." and "/", encoded ../ (decoded once: refused by the
# kernel), invalid bytes.
raws=('%00' 'hello%00.txt' '%c0%ae%c0%ae%2fcanary.txt' '%e0%80%ae%e0%80%ae/canary.txt' '..%c0%afcanary.txt'
	'%ff%fe' '%2e%2e%2fcanary.txt' '..%2fcanary.txt' '%2e%2e/%2e%2e/canary.txt')
refused() { case "$1" in 400|403|404|409|413|415) return 0;; esac; return 1; }
bad=0 n=0
for p in "${corpus[@]}"; do
	for f in "GET /sites/$SID/files/content path" "GET /sites/$SID/files/edit path" "POST /sites/$SID/files/delete path" \
		"POST /sites/$SID/files/chmod path" "POST /sites/$SID/files/rename path" "POST /sites/$SID/files/copy path" \
		"POST /sites/$SID/files/rename to" "POST /sites/$SID/files/copy to" "POST /sites/$SID/files/create path" \
		"POST /sites/$SID/files/create name" "GET /sites/$SID/files path" "POST /sites/$SID/files/edit path" \
		"POST /sites/$SID/files/upload path"; do
		set -- $f
		m=$1 route=$2 field=$3
		case "$route:$field" in
		*/rename:to|*/copy:to) q=(path=big.bin "to=$p") ;;
		*/rename:path|*/copy:path) q=("path=$p" to=moved.bin) ;;
		*/chmod:path) q=("path=$p" mode=777) ;;
		*/create:path) q=("path=$p" name=new.txt type=file) ;;
		*/create:name) q=(path=sub "name=$p" type=file) ;;
		*/edit:path) q=("path=$p" content=PWNED) ;;
		*) q=("path=$p") ;;
		esac
		n=$((n + 1))
		if [ "$route" = "/sites/$SID/files/upload" ]; then
			code=$(curl -s -o "$T/api.out" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -F "path=$p" \
				-F "files=@$T/hello.txt;filename=canary.txt" "$(url "/api/v1$route")")
		else
			code=$(apiq "$m" "$route" "${q[@]}")
		fi
		if ! refused "$code" || ! no_canary; then
			echo "    not refused: $m $route $field='$p' -> $code: $(head -c 200 "$T/api.out")"
			bad=$((bad + 1))
		fi
	done
	# The streamed upload's path, in the query.
	enc=$(jq -rn --arg v "$p" '$v|@uri')
	code=$(put "$enc" "$T/hello.txt" '&overwrite=true')
	n=$((n + 1))
	refused "$code" || { echo "    upload not refused: '$p' -> $code"; bad=$((bad + 1)); }
done
for raw in "${raws[@]}"; do
	for route in "files/content" "files/edit" "files"; do
		n=$((n + 1))
		code=$(curl -s -o "$T/api.out" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$(url "/api/v1/sites/$SID/$route?path=$raw")")
		{ [ "$code" = 400 ] || [ "$code" = 404 ]; } && no_canary || { echo "    raw not refused: $route?path=$raw -> $code"; bad=$((bad + 1)); }
	done
	for route in files/delete files/chmod; do
		n=$((n + 1))
		code=$(curl -s -o "$T/api.out" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
			-H 'Content-Type: application/x-www-form-urlencoded' --data "path=$raw&mode=777" "$(url "/api/v1/sites/$SID/$route")")
		refused "$code" || { echo "    raw not refused: POST $route path=$raw -> $code"; bad=$((bad + 1)); }
	done
	n=$((n + 1))
	code=$(put "$raw" "$T/hello.txt")
	refused "$code" || { echo "    raw upload not refused: $raw -> $code"; bad=$((bad + 1)); }
done
# Double-encoded: decoded once, it is a name like any other, inside.
code=$(curl -s -o "$T/api.out" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$(url "/api/v1/sites/$SID/files/content?path=%252e%252e%252fcanary.txt")")
check "a double-encoded ../ is read as the name %2e%2e%2f..., which does not exist: 404 (got $code)" test "$code" = 404
code=$(put '%252e%252e%252fcanary.txt' "$T/hello.txt")
check "... and an upload under it lands inside the root under that literal name (got $code)" \
	bash -c "[ $code = 200 ] && cmp -s '$T/hello.txt' '$R/%2e%2e%2fcanary.txt'"
rm -f "$R/%2e%2e%2fcanary.txt"
check "the traversal corpus: every one of $n requests refused, nothing outside read ($bad not)" test "$bad" = 0
code=$(apiq GET "/sites/$SID/files/content" path=../canary.txt)
check "../ is a 400 naming path: it leaves the document root (got $code)" \
	jqe '.error.field == "path" and (.error.reason | test("leaves the site"))' "$T/api.out"
code=$(apiq GET "/sites/$SID/files/content" path=lnfile)
check "a symlink pointing out is refused, not followed (got $code)" bash -c "[ $code = 400 ] && ! grep -q CANARY '$T/api.out'"
code=$(apiq GET "/sites/$SID/files/content" path=hard)
check "a hard link to an outside file is refused (got $code)" jqe '.error.reason | test("hard links")' "$T/api.out"
code=$(put lnfile "$T/hello.txt" '&overwrite=true')
check "writing through the symlink is refused (got $code)" test "$code" = 400
code=$(put hard "$T/hello.txt" '&overwrite=true')
check "writing over the hard link is refused (got $code)" test "$code" = 400
code=$(apiq POST "/sites/$SID/files/chmod" path=hard mode=777)
check "chmod of the hard link is refused (got $code)" test "$code" = 400
code=$(apiq POST "/sites/$SID/files/create" path=lndir name=x.txt type=file)
check "creating through a symlinked folder is refused (got $code)" bash -c "[ $code = 400 ] && [ ! -e '$T/x.txt' ]"
code=$(apiq GET "/sites/$SID/files" path=up)
check "listing a symlinked parent pointing out is refused (got $code)" test "$code" = 400
# Created between check and use: race a symlink out against a file in the same name.
printf 'inside\n' > "$T/inside.txt"
( end=$((SECONDS + 8)); while [ $SECONDS -lt $end ]; do
	cp "$T/inside.txt" "$R/race.new"; mv -f "$R/race.new" "$R/race"
	ln -sfn ../../canary.txt "$R/race.lnk"; mv -Tf "$R/race.lnk" "$R/race"
done ) &
RACER=$!
sites_bg $RACER
got_inside=0 got_canary=0 got_refused=0
for _ in $(seq 1 150); do
	code=$(curl -s -o "$T/api.out" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$(url "/api/v1/sites/$SID/files/content?path=race")" || echo "curl $?")
	if grep -q CANARY "$T/api.out"; then got_canary=$((got_canary + 1)); elif [ "$code" = 200 ]; then got_inside=$((got_inside + 1)); else got_refused=$((got_refused + 1)); fi
	curl -s -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/octet-stream' \
		--data-binary @"$T/hello.txt" "$(url "/api/v1/sites/$SID/files/content?path=race&overwrite=true")" || true
done
kill $RACER 2>/dev/null || true; wait $RACER 2>/dev/null || true
check "a symlink swapped in while reading: never the canary ($got_inside inside, $got_refused refused, $got_canary canary)" test "$got_canary" = 0
canaries > "$T/canaries.after"
check "the canaries outside the root are untouched (content, mode, size, time)" cmp -s "$T/canaries.before" "$T/canaries.after"
outside > "$T/outside.after"
check "nothing was created or removed outside the document root" diff "$T/outside.before" "$T/outside.after"
code=$(apiq POST "/sites/$SID/files/delete" path=lnfile)
check "deleting the symlink moves the link itself to the trash, not what it points to (got $code)" \
	bash -c "[ $code = 200 ] && [ ! -L '$R/lnfile' ] && grep -q CANARY-ONE '$SB/var/www/canary.txt'"
code=$(apiq POST "/sites/$SID/files/delete" path=hard)
check "deleting the hard link leaves the outside file (got $code)" \
	bash -c "[ $code = 200 ] && [ ! -e '$R/hard' ] && grep -q CANARY-ONE '$SB/var/www/canary.txt'"
apiq POST "/sites/$SID/files/trash/empty" >/dev/null
check "emptying the trash with those links in it leaves the outside files" cmp -s "$T/canaries.before" <(canaries)
rm -f "$R/lndir" "$R/up" "$R/race"

# ------------------------------------------------------------------ the editor: Arabic, CR LF
printf 'مرحبا بالعالم\r\nسطر ثان\r\n' > "$T/ar.txt"
put ar.txt "$T/ar.txt" >/dev/null
code=$(apiq GET "/sites/$SID/files/edit" path=ar.txt)
check "open an Arabic text with CR LF: eol crlf, the text as on disk (got $code)" \
	bash -c "[ $code = 200 ] && jq -e '.eol == \"crlf\"' '$T/api.out' >/dev/null && jq -j .content '$T/api.out' | cmp -s - '$T/ar.txt'"
JAR="$T/jar"
it_login "$JAR" admin 'correct horse battery staple' >/dev/null
CSRF=$(csrf_of "$JAR")
code=$(curl -s -o "$T/page.html" -w '%{http_code}' -b "$JAR" "$(url "/sites/$SID/files/edit?path=ar.txt")")
check "the editor page shows the text and says CR LF (got $code)" bash -c "[ $code = 200 ] && grep -q 'مرحبا بالعالم' '$T/page.html' && grep -q 'value=\"crlf\"' '$T/page.html'"
new=$'مرحبا بالعالم\r\nسطر معدل\r\nوسطر ثالث\r\n'
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$JAR" -H "Origin: http://127.0.0.1:$PORT" \
	--data-urlencode "csrf=$CSRF" --data-urlencode path=ar.txt --data-urlencode eol=crlf --data-urlencode "content=$new" \
	"$(url "/sites/$SID/files/edit")")
check "save from the browser: 303 back to the folder (got $code)" test "$code" = 303
check "... on disk: the new Arabic text, every line ending CR LF" bash -c "printf '%s' '$new' | cmp -s - '$R/ar.txt'"
code=$(api POST "/sites/$SID/files/edit" '{"path":"ar.txt","content":"سطر\nآخر\n","eol":"crlf"}')
check "save through the API with LF and eol crlf: written with CR LF (got $code)" bash -c "printf 'سطر\r\nآخر\r\n' | cmp -s - '$R/ar.txt'"
printf '\xff\xfe\x00b' > "$R/bin.dat"
code=$(apiq GET "/sites/$SID/files/edit" path=bin.dat)
check "a file that is not UTF-8 is not opened in the editor: 400 saying so (got $code)" jqe '.error.reason | test("UTF-8")' "$T/api.out"
ls -a "$R" > "$T/ls.before"
code=$(api POST "/sites/$SID/files/edit" '{"path":"lnx/none.txt","content":"x"}')
check "a save that fails leaves no temporary file (got $code)" bash -c "ls -a '$R' | cmp -s - '$T/ls.before'"

# ------------------------------------------------------------------ dangerous uploads
printf '<?php echo getmyuid();\n' > "$T/x.php"
code=$(put x.php "$T/x.php")
check ".php into a static site: 400, not written (got $code)" bash -c "[ $code = 400 ] && [ ! -e '$R/x.php' ] && jq -e '.error.reason | test(\"PHP site\")' '$T/api.out' >/dev/null"
code=$(apiq POST "/sites/$SID/files/rename" path=big.bin to=big.phtml)
check "... nor by renaming something into a .phtml (got $code)" bash -c "[ $code = 400 ] && [ -e '$R/big.bin' ]"
if [ -n "${PID_SITE:-}" ]; then
	code=$(curl -s -o "$T/api.out" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/octet-stream' --data-binary "@$T/x.php" "$(url "/api/v1/sites/$PID_SITE/files/content?path=x.php")")
	sum=$(sha256sum "$T/x.php" | cut -d' ' -f1)
	check ".php into a PHP site: 200 with its hash (got $code)" jqe --arg s "$sum" '.sha256 == $s' "$T/api.out"
	sqlite3 "$T/var/aapanel.db" 'SELECT action, target, outcome, after_json FROM audit_log' > "$T/audit.json"
	check "... the audit log has the upload with its hash" grep -q "files.upload|php.test:x.php|ok|.*$sum" "$T/audit.json"
fi
sqlite3 "$T/var/aapanel.db" 'SELECT action, target, outcome, after_json FROM audit_log' > "$T/audit.json"
check "the changes are in the audit log (delete, restore, chmod, a refused path)" \
	bash -c "grep -q files.delete '$T/audit.json' && grep -q files.restore '$T/audit.json' && grep -q files.chmod '$T/audit.json' && grep -q 'files.test:' '$T/audit.json'"

# ------------------------------------------------------------------ the pages
code=$(curl -s -o "$T/page.html" -w '%{http_code}' -b "$JAR" "$(url "/sites/$SID/files?path=css")")
check "the files page: breadcrumbs, the folder's entries, the forms (got $code)" \
	bash -c "[ $code = 200 ] && grep -q 'files.test' '$T/page.html' && grep -q 'hi.txt' '$T/page.html' && grep -q 'enctype=\"multipart/form-data\"' '$T/page.html'"
code=$(curl -s -o "$T/page.html" -w '%{http_code}' -b "$JAR" -b 'lang=ar' "$(url "/sites/$SID/files")")
check "... in Arabic, right to left (got $code)" bash -c "[ $code = 200 ] && grep -q 'dir=\"rtl\"' '$T/page.html'"
printf 'one\n' > "$T/one.txt"; printf 'two\n' > "$T/two.txt"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$JAR" -H "Origin: http://127.0.0.1:$PORT" -F "csrf=$CSRF" -F path=css \
	-F "files=@$T/one.txt" -F "files=@$T/two.txt" "$(url "/sites/$SID/files/upload")")
check "upload two files at once from the form (got $code)" bash -c "[ $code = 303 ] && cmp -s '$R/css/one.txt' '$T/one.txt' && cmp -s '$R/css/two.txt' '$T/two.txt'"

# ------------------------------------------------------------------ 200 MiB through nginx
head -c $((200 * 1024 * 1024)) /dev/urandom > "$T/big"
hwm() { for p in $(worker_pids); do awk '/VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null; done | sort -n | tail -1; }
code=$(put big.dat "$T/big")
check "upload 200 MiB through nginx (got $code)" bash -c "[ $code = 200 ] && cmp -s '$T/big' '$R/big.dat'"
code=$(curl -s -o "$T/big.back" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$(url "/api/v1/sites/$SID/files/content?path=big.dat")")
check "download it back: byte-identical (got $code)" cmp -s "$T/big" "$T/big.back"
peak=$(hwm)
check "no worker's peak memory came near the file's size (peak ${peak} kB)" test "${peak:-999999}" -lt 65536
# Kill the worker in the middle of a write over a file: the old file or the new one, never half.
printf 'the old content\n' > "$T/old.txt"
put keep.txt "$T/old.txt" >/dev/null
WPIDS=$(worker_pids)
curl -s -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/octet-stream' \
	--data-binary "@$T/big" "$(url "/api/v1/sites/$SID/files/content?path=keep.txt&overwrite=true")" &
UP=$!
sites_bg $UP
seen=0
for _ in $(seq 1 400); do
	if ls -a "$R" | grep -q '^\.aapanel-up-'; then seen=1; break; fi
	sleep 0.02
done
for p in $WPIDS; do kill -KILL "$p" 2>/dev/null || true; done
wait $UP 2>/dev/null || true
left=$(ls -a "$R" | grep -c '^\.aapanel-up-' || true)
if cmp -s "$T/old.txt" "$R/keep.txt"; then whole=old; elif cmp -s "$T/big" "$R/keep.txt"; then whole=new; else whole=neither; fi
check "a worker killed during a write over keep.txt (temporary file seen: $seen, left: $left): the old or the new file whole ($whole)" \
	bash -c "[ $seen = 1 ] && [ $whole != neither ]"
for _ in $(seq 1 100); do [ -n "$(worker_pids)" ] && break; sleep 0.1; done
code=$(put keep.txt "$T/hello.txt" '&overwrite=true')
check "... the pool serves again and the next write replaces it whole (got $code)" bash -c "[ $code = 200 ] && cmp -s '$T/hello.txt' '$R/keep.txt'"
code=$(apiq GET "/sites/$SID/files")
check "... the killed write's temporary file is not listed" bash -c "[ $code = 200 ] && ! grep -q aapanel-up '$T/api.out'"
rm -f "$T/big" "$T/big.back"

# ------------------------------------------------------------------ archives (libarchive, helper jobs)
mkdir -p "$T/arc"
python3 - "$T/arc" <<'PY'
import io, sys, tarfile, zipfile
d = sys.argv[1]
files = {"site/index.html": b"<h1>hi</h1>\n", "site/css/a.css": b"body{}\n", "site/\u0645\u0644\u0641.txt": "\u0645\u0631\u062d\u0628\u0627\n".encode()}
with zipfile.ZipFile(d + "/good.zip", "w", zipfile.ZIP_DEFLATED) as z:
    for n, b in files.items(): z.writestr(n, b)
for mode, ext in (("w:gz", "tar.gz"), ("w:xz", "tar.xz")):
    with tarfile.open(d + "/good." + ext, mode) as t:
        for n, b in files.items():
            i = tarfile.TarInfo(n); i.size = len(b); t.addfile(i, io.BytesIO(b))
with zipfile.ZipFile(d + "/slip.zip", "w") as z:
    z.writestr("ok.txt", b"fine\n"); z.writestr("../../evil.txt", b"EVIL\n")
def tar(name, infos):
    with tarfile.open(d + "/" + name, "w") as t:
        for i, b in infos: t.addfile(i, io.BytesIO(b) if b is not None else None)
def reg(n, b): i = tarfile.TarInfo(n); i.size = len(b); return (i, b)
def special(n, typ, link=""):
    i = tarfile.TarInfo(n); i.type = typ; i.linkname = link
    if typ == tarfile.CHRTYPE: i.devmajor, i.devminor = 1, 3
    return (i, None)
tar("abs.tar", [reg("/tmp/aapanel-evil-abs.txt", b"EVIL\n")])
tar("linkout.tar", [reg("a.txt", b"a\n"), special("l", tarfile.SYMTYPE, "../../../canary.txt")])
tar("dev.tar", [special("null", tarfile.CHRTYPE)])
tar("hard.tar", [reg("a.txt", b"a\n"), special("h", tarfile.LNKTYPE, "a.txt")])
tar("through.tar", [special("d", tarfile.SYMTYPE, "sub"), reg("d/x.txt", b"x\n")])
tar("php.tar", [reg("shell.php", b"<?php system($_GET['c']);\n")])
with zipfile.ZipFile(d + "/bomb.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("zeros.bin", b"\0" * (100 * 1024 * 1024))
open(d + "/junk.zip", "wb").write(b"this is not an archive at all\n" * 10)
PY
apiq POST "/sites/$SID/files/create" name=arc type=dir >/dev/null
for a in good.zip good.tar.gz good.tar.xz slip.zip abs.tar linkout.tar dev.tar hard.tar through.tar php.tar bomb.zip junk.zip; do
	put "arc/$a" "$T/arc/$a" >/dev/null || true
done
outside > "$T/outside.before"
for a in good.zip good.tar.gz good.tar.xz; do
	code=$(apiq POST "/sites/$SID/files/extract" "path=arc/$a" "to=x-$a")
	check "extract $a into a new folder (got $code)" bash -c "[ $code = 200 ] && cmp -s <(printf '<h1>hi</h1>\n') '$R/x-$a/site/index.html' && [ -f '$R/x-$a/site/css/a.css' ] && grep -q 'مرحبا' '$R/x-$a/site/ملف.txt'"
done
code=$(apiq POST "/sites/$SID/files/extract" path=arc/good.zip to=x-good.zip)
check "extracting into a folder that exists: 409 (got $code)" test "$code" = 409
arc_refused() { # NAME WHAT REASON-REGEX
	local code
	code=$(apiq POST "/sites/$SID/files/extract" "path=arc/$1" "to=x-$1")
	check "$2: refused with a clear message, nothing extracted (got $code)" bash -c \
		"[ $code = 400 ] && jq -e --arg r '$3' '.error.field == \"path\" and (.error.reason | test(\$r))' '$T/api.out' >/dev/null && [ ! -e '$R/x-$1' ] && ! find '$R' -maxdepth 1 -type d -name '.aapanel-up-*' | grep -q ."
}
arc_refused slip.zip "a zip-slip archive (../../evil.txt)" '\.\.'
arc_refused abs.tar "an entry with an absolute path" 'absolute'
arc_refused linkout.tar "a symlink entry pointing out" 'symbolic link'
arc_refused dev.tar "a device-file entry" 'device'
arc_refused hard.tar "a hard link entry" 'hard link'
arc_refused through.tar "an entry through a symlink the archive made" 'through a link'
arc_refused php.tar "a .php inside an archive for a static site" 'PHP site'
arc_refused bomb.zip "a zip bomb (100 MiB of zeros in $(stat -c %s "$T/arc/bomb.zip") bytes)" 'ratio'
arc_refused junk.zip "a file that is not an archive" 'not an archive'
check "no archive wrote outside the root (the evil files nowhere)" bash -c \
	"[ ! -e /tmp/aapanel-evil-abs.txt ] && [ ! -e '$SB/var/www/evil.txt' ] && [ ! -e '$SB/var/evil.txt' ] && ! find '$T' -name evil.txt | grep -q ."
outside > "$T/outside.after"
check "... nothing was created or removed outside the document root" diff "$T/outside.before" "$T/outside.after"
check "... and the canaries are untouched" cmp -s "$T/canaries.before" <(canaries)
for f in zip tar.gz tar.xz; do
	code=$(apiq POST "/sites/$SID/files/archive" path=x-good.zip/site "to=packed.$f" "format=$f")
	code2=$(apiq POST "/sites/$SID/files/extract" "path=packed.$f" "to=back-$f")
	check "pack a folder as $f and extract it back: the same files (got $code, $code2)" \
		bash -c "[ $code = 200 ] && [ $code2 = 200 ] && diff -r '$R/x-good.zip/site' '$R/back-$f/site'"
done
file "$R/packed.zip" "$R/packed.tar.gz" "$R/packed.tar.xz" > "$T/file.out" 2>&1 || true
check "... the archives are what they say (zip, gzip, xz)" bash -c "grep -Eq 'packed.zip: +Zip' '$T/file.out' && grep -Eq 'packed.tar.gz: +gzip' '$T/file.out' && grep -Eqi 'packed.tar.xz: +XZ' '$T/file.out'"

# ------------------------------------------------------------------ the logs viewer
MARK="logmark$$x$RANDOM"
site_get files.test "/$MARK-page" >/dev/null
# A folder without an index: nginx logs "directory index ... is forbidden" at [error].
mkdir -p "$R/$MARK-dir"
site_get files.test "/$MARK-dir/" >/dev/null
t0=$(date +%s%N)
seen=0
for _ in $(seq 1 40); do
	code=$(curl -s -o "$T/log.json" -w '%{http_code}' -H "Authorization: Bearer $VIEWER" "$(url "/api/v1/sites/$SID/logs/access?lines=50")")
	if [ "$code" = 200 ] && grep -q "$MARK" "$T/log.json"; then seen=1; break; fi
	sleep 0.05
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "a request to the site is in its access log through the API within 2 s (a viewer; ${ms} ms)" bash -c "[ $seen = 1 ] && [ $ms -lt 2000 ]"
check "... the last line is that request" jqe --arg m "$MARK" '.which == "access" and (.lines[-1] | contains($m)) and .size > 0' "$T/log.json"
code=$(apiq GET "/sites/$SID/logs/error" search="$MARK" lines=10)
check "the error log has nginx's line about the folder without an index, found by plain-text search (got $code)" \
	jqe --arg m "$MARK" '(.lines | length) >= 1 and all(.lines[]; contains($m)) and (.lines[0] | contains("[error]"))' "$T/api.out"
code=$(apiq GET "/sites/$SID/logs/error" search="$MARK" level=crit)
check "... filtered to crit and worse: none of them (got $code)" jqe '.lines == []' "$T/api.out"
code=$(apiq GET "/sites/$SID/logs/access" search=no-such-text-anywhere)
check "a search that matches nothing: no lines (got $code)" jqe '.lines == []' "$T/api.out"
code=$(curl -s -D "$T/hdr" -o "$T/page.html" -w '%{http_code}' -b "$JAR" "$(url "/sites/$SID/logs/access?follow=true&search=$MARK")")
check "the follow view names its live stream (t_logs.sh follows it) and shows the line (got $code)" \
	bash -c "[ $code = 200 ] && grep -q 'data-log-stream=\"/events/sites/$SID/logs/access?from=' '$T/page.html' && grep -q '$MARK' '$T/page.html'"
site_get files.test "/<script>alert(1)</script>" >/dev/null || true
code=$(curl -s -o "$T/page.html" -w '%{http_code}' -b "$JAR" "$(url "/sites/$SID/logs/access?lines=5")")
check "... a logged <script> is shown as text, never as markup" bash -c "! grep -q '<script>alert' '$T/page.html'"
code=$(curl -s -o "$T/dl.log" -w '%{http_code}' -H "Authorization: Bearer $VIEWER" "$(url "/api/v1/sites/$SID/logs/access/download")")
check "download the access log: the file as it is (got $code)" cmp -s "$T/dl.log" "$SB/var/log/nginx/files.test.access.log"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$(url "/api/v1/sites/$SID/logs/passwd")")
check "a log that is not access or error: 404 (got $code)" test "$code" = 404
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$(url "/api/v1/sites/$SID/logs/..%2f..%2fetc%2fpasswd")")
check "... nor a path in its place (got $code)" bash -c "[ $code = 404 ] || [ $code = 400 ]"
out=$(A logs files.test access --lines 3 --search "$MARK")
check "aapanel logs SITE access --search: the line" bash -c "grep -q '$MARK' <<< \"\$1\"" _ "$out"
rc=0; A logs files.test secrets >/dev/null 2>&1 || rc=$?
check "aapanel logs with an unknown log: exit 2 (rc $rc)" test "$rc" = 2

# ------------------------------------------------------------------ the CLI
out=$(A files ls files.test css 2>&1)
check "aapanel files ls SITE PATH lists the folder" bash -c "grep -q one.txt <<< \"\$1\"" _ "$out"
A files get files.test css/one.txt > "$T/get.out"
check "aapanel files get writes the file to stdout" cmp -s "$T/get.out" "$T/one.txt"
printf 'from stdin\n' | A files put files.test css/cli.txt
check "aapanel files put reads it from stdin" bash -c "printf 'from stdin\n' | cmp -s - '$R/css/cli.txt'"
rc=0; A files get files.test ../canary.txt > "$T/get.out" 2> "$T/get.err" || rc=$?
check "files get ../canary.txt: exit 2, the reason on stderr, nothing on stdout (rc $rc)" \
	bash -c "[ $rc = 2 ] && grep -q 'leaves the site' '$T/get.err' && [ ! -s '$T/get.out' ]"
ln -s "$T" "$R/lndir"
rc=0; printf 'x' | A files put files.test lndir/x 2> "$T/put.err" || rc=$?
check "files put through a symlink out: exit 2, nothing written outside (rc $rc)" bash -c "[ $rc = 2 ] && [ ! -e '$T/x' ]"
rm -f "$R/lndir"
rc=0; A files rm files.test css/cli.txt || rc=$?
check "aapanel files rm moves it to the trash (rc $rc)" bash -c "[ $rc = 0 ] && [ ! -e '$R/css/cli.txt' ]"
A files ls files.test '' --json > "$T/ls.json"
check "files ls --json" jqe '.items | any(.name == "css")' "$T/ls.json"

canaries > "$T/canaries.after"
check "the canaries are still untouched at the end" cmp -s "$T/canaries.before" "$T/canaries.after"
it_summary
