#!/usr/bin/env bash
# The admins' other roots (issue 16, docs/files.md): files.roots names
# folders outside the sites ("www:/srv/www", beneath the helper's sandbox
# root here); the real helper, pool and nginx.
#  - an admin lists the roots, browses one, downloads, edits and saves a file
#    (page and API), uploads one, all beneath the root;
#  - operators and viewers get 403 on every roots route, nothing changed;
#  - traversal out of the root is refused: ../, an absolute path, a symlink
#    inside pointing outside (file and folder), a hard link to an outside
#    file; an unknown root 404; the helper opens roots by name only.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites_lib.sh"
it_setup 'pool = { workers = 2; };'
sites_setup 'system_users = false;'
cat >> "$T/conf/profiles/test.cfg" <<'CFG'
files = { roots = "www:/srv/www, data:/srv/data"; };
CFG
it_start_pool
sites_start_nginx 64m
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
canaries() { sha256sum "$SB/srv/other/secret.txt" "$T/outside.txt"; ls -la "$SB/srv/other"; }
canaries > "$T/canaries.before"
rq() { # TOKEN METHOD PATH [curl args] → status (body in $T/r.out)
	local t=$1 m=$2 p=$3; shift 3
	curl -s -o "$T/r.out" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $t" "$@" "$(url "/api/v1$p")"
}
code=$(rq "$ADMIN" GET /files/roots)
check "an admin lists the roots (got $code)" \
	bash -c "[ $code = 200 ] && jq -e '[.items[].name] == [\"www\",\"data\"] and .items[0].path == \"/srv/www\"' '$T/r.out' >/dev/null"
code=$(rq "$ADMIN" GET "/files/roots/www?path=")
check "... browses one (got $code)" bash -c "[ $code = 200 ] && jq -e '[.items[].name] | index(\"conf\") != null' '$T/r.out' >/dev/null"
code=$(rq "$ADMIN" GET "/files/roots/www/content?path=conf/site.conf")
check "... downloads a file (got $code)" bash -c "[ $code = 200 ] && cmp -s '$T/r.out' '$W/conf/site.conf'"
code=$(rq "$ADMIN" GET "/files/roots/www/edit?path=conf/site.conf")
check "... opens it in the editor (got $code)" bash -c "[ $code = 200 ] && jq -e '.content == \"server_name example;\\n\"' '$T/r.out' >/dev/null"
code=$(rq "$ADMIN" POST "/files/roots/www/edit" -H 'Content-Type: application/json' --data-binary '{"path":"conf/site.conf","content":"server_name مثال;\n","eol":"lf"}')
check "... saves it through the API (got $code)" bash -c "[ $code = 200 ] && [ \"\$(cat '$W/conf/site.conf')\" = 'server_name مثال;' ]"
printf 'uploaded\n' > "$T/up.txt"
code=$(rq "$ADMIN" POST "/files/roots/www/content?path=conf/new.txt" -H 'Content-Type: application/octet-stream' --data-binary "@$T/up.txt")
check "... uploads a file into it (got $code)" bash -c "[ $code = 200 ] && cmp -s '$T/up.txt' '$W/conf/new.txt'"
J="$T/jar"
it_login "$J" admin 'correct horse battery staple' >/dev/null
code=$(curl -s -o "$T/page.html" -w '%{http_code}' -b "$J" "$(url "/files/roots/www?path=conf")")
check "the root's page lists the folder with links beneath the root (got $code)" \
	bash -c "[ $code = 200 ] && grep -q '/files/roots/www/edit?path=conf%2Fsite.conf' '$T/page.html'"
code=$(curl -s -o "$T/page.html" -w '%{http_code}' -b "$J" -b 'lang=ar' "$(url "/files/roots")")
check "... the roots' page in Arabic, right to left (got $code)" bash -c "[ $code = 200 ] && grep -q 'dir=\"rtl\"' '$T/page.html' && grep -q 'جذور أخرى' '$T/page.html'"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$J" -H "Origin: http://127.0.0.1:$PORT" \
	--data-urlencode "csrf=$(csrf_of "$J")" --data-urlencode path=conf/site.conf --data-urlencode eol=crlf \
	--data-urlencode $'content=line one\r\nline two\r\n' "$(url "/files/roots/www/edit")")
check "... the editor's form saves (303), CR LF kept (got $code)" bash -c "[ $code = 303 ] && printf 'line one\r\nline two\r\n' | cmp -s - '$W/conf/site.conf'"
sum=$(sha256sum < "$W/conf/site.conf")
# Operators and viewers: 403 everywhere.
denied=0 total=0
for t in "$OPER" "$VIEW"; do
	for r in "GET /files/roots" "GET /files/roots/www?path=" "GET /files/roots/www/content?path=conf/site.conf" \
		"GET /files/roots/www/edit?path=conf/site.conf"; do
		total=$((total + 1))
		[ "$(rq "$t" ${r% *} "${r#* }")" = 403 ] && denied=$((denied + 1))
	done
	total=$((total + 2))
	[ "$(rq "$t" POST /files/roots/www/edit -H 'Content-Type: application/json' --data-binary '{"path":"conf/site.conf","content":"x"}')" = 403 ] && denied=$((denied + 1))
	[ "$(rq "$t" POST "/files/roots/www/content?path=conf/site.conf&overwrite=true" -H 'Content-Type: application/octet-stream' --data-binary x)" = 403 ] && denied=$((denied + 1))
done
check "operators and viewers: 403 on every roots route ($denied of $total)" test "$denied" = "$total"
OJ="$T/ojar"
it_login "$OJ" oper 'correct horse battery staple' >/dev/null
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$OJ" "$(url "/files/roots/www")")
check "... an operator's browser too (got $code)" test "$code" = 403
check "... the file unchanged" test "$(sha256sum < "$W/conf/site.conf")" = "$sum"
# Traversal out of the root.
refused=0 n=0
for p in ../other/secret.txt ../../srv/other/secret.txt "$SB/srv/other/secret.txt" /etc/passwd link-file link-dir/secret.txt \
	conf/../../other/secret.txt hard.txt; do
	for r in content edit; do
		n=$((n + 1))
		c=$(rq "$ADMIN" GET "/files/roots/www/$r" -G --data-urlencode "path=$p")
		[ "$c" = 400 ] && ! grep -q CANARY "$T/r.out" && refused=$((refused + 1))
	done
	n=$((n + 1))
	c=$(rq "$ADMIN" POST "/files/roots/www/edit" -H 'Content-Type: application/json' --data-binary "{\"path\":\"$p\",\"content\":\"x\"}")
	[ "$c" = 400 ] && refused=$((refused + 1))
done
n=$((n + 1))
c=$(rq "$ADMIN" GET "/files/roots/www" -G --data-urlencode "path=link-dir")
[ "$c" = 400 ] && refused=$((refused + 1))
check "traversal out of the root refused: ../, absolute, symlinks out, a hard link ($refused of $n, 400)" test "$refused" = "$n"
check "... the outside files unchanged" cmp -s "$T/canaries.before" <(canaries)
code=$(rq "$ADMIN" GET "/files/roots/nope?path=")
check "an unknown root: 404 naming it (got $code)" bash -c "[ $code = 404 ] && jq -e '.error.field == \"root\"' '$T/r.out' >/dev/null"
code=$(rq "$ADMIN" GET "/files/roots/..%2Fsrv?path=")
check "a root name that is not a name: refused (got $code)" bash -c "[ $code = 400 ] || [ $code = 404 ]"
"$SEND" --call "$HS" files.list '{"rootname":"other"}' > "$T/h.json" || true
check "the helper opens roots by name only: an unlisted one not found" jq -e '.ok == false and .error.code == "not_found"' "$T/h.json"
"$SEND" --call "$HS" files.list '{"rootname":"www","path":"../other"}' > "$T/h.json" || true
check "... and beneath them only (../ refused by the kernel)" jq -e '.ok == false and .error.field == "path"' "$T/h.json"
check "the changes are audited (root www)" bash -c "[ \"\$(sqlite3 '$T/var/aapanel.db' \"SELECT COUNT(*) FROM audit_log WHERE target LIKE 'root www:conf/%' AND outcome = 'ok'\")\" -ge 3 ]"
it_summary
