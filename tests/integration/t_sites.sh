#!/usr/bin/env bash
# Websites for real (issue 12): the panel's API, the privileged helper with
# per-site system users, the test's nginx serving the sites by Host: on its
# own port, a real php-fpm master and a small loopback upstream.
#  - a static site (aliases, index files, a custom 404, the HTTPS redirect),
#    a PHP site that prints its effective uid (its own system user, not
#    root, unknown to the machine) and reverse proxies to a TCP and a unix
#    socket upstream (WebSocket upgrade passed through) are served;
#  - a disabled site is not (503), enabled again it is;
#  - an edit nginx -t refuses is rolled back while the old site keeps
#    answering (a probe in a loop throughout), with nginx's own message;
#  - hostile input in every field is a 400 naming the field, and nothing in
#    the sandbox or in nginx changes;
#  - drift: a vhost changed by hand shows as drift with its diff, re-apply
#    restores it;
#  - kill -9 of the helper in the middle of applies leaves the old or the
#    new vhost, never part of one, and the next operation recovers;
#  - deleted sites leave no file behind, nor their system users.
# System users are created by the real useradd inside a private mount
# namespace whose /etc is a copy (bind-mounted; useradd renames passwd+ onto
# passwd, which a bind-mounted single file refuses), so the machine's
# /etc/passwd, /etc/group and /etc/shadow are never touched.
if [ -z "${AAPANEL_SITES_NS:-}" ]; then
	exec unshare --mount --propagation private env AAPANEL_SITES_NS=1 bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites_lib.sh"
it_setup 'pool = { request_timeout = 20; };'
sites_setup 'system_users = true; nginx_group = "www-data";'

# --- the private /etc (this mount namespace only)
mkdir "$T/etc"
cp -a /etc/. "$T/etc/"
mount --bind "$T/etc" /etc
check "the test's /etc is a private copy (the machine's is PID 1's)" \
	bash -c "touch /etc/.aapanel-test && [ ! -e /proc/1/root/etc/.aapanel-test ]"

# Site users must reach their homes: the temp dirs are 0700 by default.
chmod 0755 "$T" "$T/var" "$SB" "$SB/var" "$SB/var/www" "$SB/run" "$SB/run/php"
it_start_pool
sites_start_nginx
sites_start_helper
sites_start_php
UP_PORT=$(it_free_port)
python3 "$SRC/tests/integration/upstream.py" tcp "$UP_PORT" &
sites_bg $!
python3 "$SRC/tests/integration/upstream.py" unix "$T/up.sock" &
sites_bg $!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$UP_PORT/" && [ -S "$T/up.sock" ] && break; sleep 0.05; done
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
it_user admin admin 'correct horse battery staple'
it_user watcher viewer 'correct horse battery staple'
TOKEN=$(A token create --user admin --scope write --name t | tail -1)
VIEWER=$(A token create --user watcher --scope read --name v | tail -1)

# The sandbox as a listing: every path, its type and mode, files with their hash
# (the helper's lock file aside: it is the helper's, not a site's).
tree_of() {
	(cd "$SB" && find . -printf '%p %y %m %u\n' | grep -v '/.aapanel-sites.lock ' | sort
	 find . -type f ! -name .aapanel-sites.lock -exec sha256sum {} + | sort -k2)
}
tree_of > "$T/tree.empty"
nginx_conf_sum() { (cat "$VHOSTS"/*.conf 2>/dev/null; cat "$T/nginx/nginx.conf") | sha256sum; }

# --------------------------------------------------------------- a static site
code=$(api POST /sites '{"domain":"static.test","kind":"static","aliases":"www.static.test"}')
check "create a static site through the API: 201 (got $code)" test "$code" = 201
check "... nginx serves its revision 1 (the probe)" jqe '.served == true and .revision == 1' "$T/api.json"
STATIC_ID=$(jq -r .id "$T/api.json")
check "the site answers with its Host: 200" test "$(site_get static.test /)" = 200
check "... its first page, in English and Arabic" bash -c "grep -q 'static.test' '$T/site.out' && grep -qP '[\x{0600}-\x{06FF}]' '$T/site.out'"
check "its alias answers too" test "$(site_get www.static.test /)" = 200
check "another Host is not this site (the panel answers)" bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: other.test' '$(url /)')\" != 200 ] || ! grep -q static.test '$T/site.out'"
check "dot files are not served" test "$(site_get static.test /.env)" = 403
HOME_S="$SB/var/www/static.test"
printf 'custom not found\n' > "$HOME_S/public/404.html"
printf 'home page\n' > "$HOME_S/public/home.html"
code=$(api POST "/sites/$STATIC_ID" '{"kind":"static","aliases":"www.static.test","index":"home.html","error_404":"/404.html"}')
check "edit: index files and a custom 404 page (got $code)" test "$code" = 200
check "... revision 2, served" jqe '.revision == 2 and .served == true' "$T/api.json"
code=$(site_get static.test /)
check "the index file is served for / ($code)" bash -c "[ '$code' = 200 ] && [ \"\$(cat '$T/site.out')\" = 'home page' ]"
code=$(site_get static.test /nope)
check "the custom 404 page ($code)" bash -c "[ '$code' = 404 ] && grep -q 'custom not found' '$T/site.out'"
code=$(api POST /sites '{"domain":"secure.test","kind":"static","https_redirect":true}')
check "a site with the HTTP→HTTPS redirect (got $code)" test "$code" = 201
SECURE_ID=$(jq -r .id "$T/api.json")
check "... redirects to https:// with the same path" bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H 'Host: secure.test' '$(url /a?b=1)')\" = '301 https://secure.test/a?b=1' ]"
check "... and is still probed (served)" jqe '.served == true' "$T/api.json"

# --------------------------------------------------------------- PHP sites, each its own user
code=$(api POST /sites "{\"domain\":\"php.test\",\"kind\":\"php\",\"php\":\"$PHP_VERSION\"}")
check "create a PHP $PHP_VERSION site (got $code)" test "$code" = 201
PHP_ID=$(jq -r .id "$T/api.json")
PHP_USER=$(jq -r .system_user "$T/api.json")
check "it runs as its own system user ($PHP_USER)" bash -c "[[ '$PHP_USER' =~ ^s_php_test_[0-9a-f]{8}\$ ]] && getent passwd '$PHP_USER' | grep -q ':/usr/sbin/nologin\$'"
check "the user exists only in the test's /etc, not the machine's" bash -c "! grep -q '^$PHP_USER:' /proc/1/root/etc/passwd"
PHP_UID=$(id -u "$PHP_USER")
printf '<?php echo posix_geteuid(), "\\n";\n' > "$SB/var/www/php.test/public/id.php"
check "its home belongs to it (group www-data, 0750)" test "$(stat -c '%U %G %a' "$SB/var/www/php.test")" = "$PHP_USER www-data 750"
code=$(site_get php.test /id.php)
check "nginx serves its PHP through its own pool ($code)" test "$code" = 200
check "the PHP file prints the site user's uid ($PHP_UID), not root's ($(head -c 40 "$T/site.out"))" bash -c "[ \"\$(cat '$T/site.out')\" = '$PHP_UID' ] && [ '$PHP_UID' != 0 ]"
check "the pool file and socket are there" bash -c "ls '$SB/etc/php/$PHP_VERSION/fpm/pool.d/$PHP_USER.conf' && [ -S '$SB/run/php/$PHP_USER.sock' ]" 
code=$(api POST /sites "{\"domain\":\"other-php.test\",\"kind\":\"php\",\"php\":\"$PHP_VERSION\"}")
check "a second PHP site (got $code)" test "$code" = 201
OTHER_ID=$(jq -r .id "$T/api.json")
OTHER_USER=$(jq -r .system_user "$T/api.json")
check "... with another user" test "$OTHER_USER" != "$PHP_USER"
printf 'secret of php.test\n' > "$SB/var/www/php.test/public/secret.txt"
chown "$PHP_USER:www-data" "$SB/var/www/php.test/public/secret.txt"
chmod 0640 "$SB/var/www/php.test/public/secret.txt"
printf '<?php $r = @file_get_contents("%s"); echo $r === false ? "denied" : $r;\n' "$SB/var/www/php.test/public/secret.txt" > "$SB/var/www/other-php.test/public/peek.php"
site_get other-php.test /peek.php > /dev/null
check "one site's PHP cannot read the other's files" grep -qx denied "$T/site.out"
# A site's user owns its home: a link there must not make the helper chown another site's files.
mv "$SB/var/www/other-php.test/public" "$SB/var/www/other-php.test/public.real"
ln -s ../php.test/public "$SB/var/www/other-php.test/public"
code=$(api POST "/sites/$OTHER_ID/reapply")
check "a symlink planted in a site's home: re-apply refused ($code), naming the link" \
	bash -c "[ '$code' = 422 ] && jq -e '.error.reason | test(\"symbolic link\")' '$T/api.json' >/dev/null"
check "... the other site's files keep their owner" test "$(stat -c %U "$SB/var/www/php.test/public")" = "$PHP_USER"
rm "$SB/var/www/other-php.test/public"
mv "$SB/var/www/other-php.test/public.real" "$SB/var/www/other-php.test/public"
code=$(api POST "/sites/$OTHER_ID/reapply")
check "... and with the directory back, re-apply works ($code)" test "$code" = 200

# --------------------------------------------------------------- reverse proxies
code=$(api POST /sites "{\"domain\":\"proxy.test\",\"kind\":\"proxy\",\"upstream\":\"http://127.0.0.1:$UP_PORT\"}")
check "create a reverse proxy to http://127.0.0.1:$UP_PORT (got $code)" test "$code" = 201
PROXY_ID=$(jq -r .id "$T/api.json")
code=$(site_get proxy.test /x/y)
check "the upstream answers through nginx, with the site's Host ($code)" bash -c "[ '$code' = 200 ] && grep -qx 'upstream ok path=/x/y host=proxy.test' '$T/site.out'"
ws=$(printf '\x81\x05hello' | timeout 5 curl -s --http1.1 -o - -i -N -H 'Host: proxy.test' -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
	-H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' --data-binary @- -X GET "$(url /ws)" 2>/dev/null | tr -d '\0' || true)
check "a WebSocket upgrade is passed through (101 with the upstream's accept key)" \
	bash -c "grep -q '^HTTP/1.1 101' <<<\"\$1\" && grep -qi '^Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=' <<<\"\$1\"" _ "$ws"
code=$(api POST /sites "{\"domain\":\"unix.test\",\"kind\":\"proxy\",\"upstream\":\"unix:$T/up.sock\"}")
check "a reverse proxy to a unix socket (got $code)" test "$code" = 201
UNIX_ID=$(jq -r .id "$T/api.json")
code=$(site_get unix.test /u)
check "... answers ($code)" bash -c "[ '$code' = 200 ] && grep -q 'upstream ok path=/u host=unix.test' '$T/site.out'"

# --------------------------------------------------------------- read and list
code=$(api GET /sites)
check "the list (API) has every site with type, state and the probe" \
	jqe '(.items | length) == 6 and .next == null and all(.items[]; .served == true and .enabled == true) and any(.items[]; .domain == "php.test" and .kind == "php" and .php != null and .upstream == null)' "$T/api.json"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $VIEWER" "$(url /api/v1/sites/$STATIC_ID)")
check "a viewer may read a site (200)" test "$code" = 200
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $VIEWER" -H 'Content-Type: application/json' -d '{"domain":"v.test","kind":"static"}' "$(url /api/v1/sites)")
check "... but not create one (403)" test "$code" = 403
A site list > "$T/cli.list"
check "aapanel site list shows them, served" bash -c "grep -qE '^php.test +php +enabled +yes' '$T/cli.list' && [ \$(grep -c ' yes ' '$T/cli.list') = 6 ]"
A site show php.test --json > "$T/cli.show"
check "aapanel site show --json: the SiteDetail, as the API's: the site, its vhost and pool, no drift" jqe '.site.domain == "php.test" and .site.served == true and .drift == false and .diff == null and (.vhost.content | test("fastcgi_pass unix:")) and .pool.exists == true' "$T/cli.show"
api GET "/sites/$PHP_ID" > /dev/null
check "... with the same members as GET /api/v1/sites/{id}" bash -c "[ \"\$(jq -c '[paths | map(tostring) | join(\".\")] | sort' '$T/cli.show')\" = \"\$(jq -c '[paths | map(tostring) | join(\".\")] | sort' '$T/api.json')\" ]"
A site list --json > "$T/cli.list.json"
check "aapanel site list --json: the SiteList, every site, next null" jqe '(.items | length) == 6 and .next == null and all(.items[]; .served == true)' "$T/cli.list.json"

# --------------------------------------------------------------- disable, enable
code=$(api POST "/sites/$PROXY_ID/disable")
check "disable the proxy (got $code)" test "$code" = 200
code=$(site_get proxy.test /x)
check "a disabled site is not served: 503 and the notice ($code)" bash -c "[ '$code' = 503 ] && grep -q 'This site is disabled' '$T/site.out' && ! grep -q upstream '$T/site.out'"
code=$(api POST "/sites/$PHP_ID/disable")
got=$(site_get php.test /id.php)
check "disable the PHP site: its pool is gone too ($code, then $got)" bash -c "[ '$code' = 200 ] && [ ! -e '$SB/etc/php/$PHP_VERSION/fpm/pool.d/$PHP_USER.conf' ] && [ '$got' = 503 ]"
code=$(api POST "/sites/$PHP_ID/enable")
got=$(site_get php.test /id.php)
check "enabled again, PHP answers as its user ($code, then $got)" bash -c "[ '$code' = 200 ] && [ '$got' = 200 ] && [ \"\$(cat '$T/site.out')\" = '$PHP_UID' ]"
A site enable proxy.test > /dev/null
check "aapanel site enable: the proxy answers again" test "$(site_get proxy.test /x)" = 200

# --------------------------------------------------------------- nginx -t refuses an edit
before=$(sha256sum "$VHOSTS/static.test.conf")
: > "$T/loop.out"
( while [ ! -e "$T/loop.stop" ]; do curl -s -o /dev/null -w '%{http_code}\n' -H 'Host: static.test' "$(url /)" >> "$T/loop.out"; sleep 0.01; done ) &
LOOP=$!
sites_bg "$LOOP"
sleep 0.5
code=$(api POST "/sites/$STATIC_ID" '{"kind":"proxy","upstream":"http://no-such-host.invalid"}')
sleep 0.5
touch "$T/loop.stop"
wait "$LOOP" 2>/dev/null || true
check "an edit nginx -t refuses: 422 (got $code)" test "$code" = 422
check "... with nginx's own message" jqe '.error.code == "failed" and (.error.reason | test("host not found in upstream"))' "$T/api.json"
check "... the old vhost is back, byte for byte" test "$(sha256sum "$VHOSTS/static.test.conf")" = "$before"
check "... no leftover of the attempt" bash -c "! ls '$VHOSTS' | grep -q aapanel-"
check "the old site answered throughout ($(wc -l < "$T/loop.out") probes, all 200)" \
	bash -c "[ \$(wc -l < '$T/loop.out') -ge 5 ] && ! grep -qv '^200\$' '$T/loop.out'"
api GET "/sites/$STATIC_ID" > /dev/null
check "... and the record is unchanged (revision 2, static)" jqe '.site.revision == 2 and .site.kind == "static" and .site.upstream == null' "$T/api.json"
check "the refusal is in the audit log" bash -c "sqlite3 '$T/var/aapanel.db' \"SELECT outcome FROM audit_log WHERE action = 'site.update' ORDER BY id DESC LIMIT 1\" | grep -qx failed"

# --------------------------------------------------------------- hostile input
tree_of > "$T/tree.before"
sum_before=$(nginx_conf_sum)
nhostile=0 hbad=0
hostile() { # FIELD JSON-VALUE [PATH]
	local f=$1 v=$2 p=${3:-/sites} body code
	if [ "$p" = /sites ]; then
		body=$(jq -cn --arg f "$f" --argjson v "$v" '{domain: "hostile.test", kind: "static"} + {($f): $v}')
	else
		body=$(jq -cn --arg f "$f" --argjson v "$v" '{kind: "static"} + {($f): $v}')
	fi
	code=$(api POST "$p" "$body")
	nhostile=$((nhostile + 1))
	if [ "$code" = 400 ] && jq -e --arg f "$f" '.error.field == $f' "$T/api.json" >/dev/null; then
		PASS=$((PASS + 1))
	else
		hbad=$((hbad + 1))
		not_ok "hostile $f=$v on $p: got $code $(head -c 200 "$T/api.json")"
	fi
}
long=$(head -c 300 /dev/zero | tr '\0' a)
for f in domain aliases root index php upstream error_404 error_50x kind; do
	for v in '"a.com; rm -rf /"' '"$(id)"' '"`id`"' '"a.com\nb.com"' '"../../etc/passwd"' "\"$long.com\"" \
		'"exаmple.com"' '"a\u0000b"' '"x.test\"; include /etc/shadow; #"' '"http://a.test/$(id)"' '"unix:/../../etc/x"'; do
		hostile "$f" "$v"
	done
done
for f in https_redirect; do
	for v in '"maybe"' '"1; rm"' '"$(id)"'; do hostile "$f" "$v"; done
done
for f in aliases root upstream error_404; do
	for v in '"a.com; rm -rf /"' '"`id`"' '"../x"' '"a\u0000b"'; do hostile "$f" "$v" "/sites/$STATIC_ID"; done
done
check "hostile values in every field ($nhostile requests): 400 naming the field" test "$hbad" -eq 0
check "... the sandbox is unchanged (every path, mode, owner and file hash)" diff -u "$T/tree.before" <(tree_of)
check "... nginx's configuration is unchanged" test "$(nginx_conf_sum)" = "$sum_before"
check "... no hostile.test row" test "$(sqlite3 "$T/var/aapanel.db" "SELECT COUNT(*) FROM sites WHERE domain LIKE '%hostile%'")" = 0
rc=0; A site add 'a.com; rm -rf /' --type static 2> "$T/cli.err" || rc=$?
check "aapanel site add with a hostile domain: exit 2, the field named" bash -c "[ $rc = 2 ] && grep -q 'domain' '$T/cli.err'"
rc=0; A site add ok.test --type proxy --upstream 'http://a.test/`id`' 2> "$T/cli.err" || rc=$?
check "aapanel site add with a hostile upstream: exit 2" bash -c "[ $rc = 2 ] && grep -q 'upstream' '$T/cli.err'"
for args in '{"domain":"a.com; rm -rf /","kind":"static","revision":1,"enabled":true}' \
	'{"domain":"ok.test","kind":"static","root":"../../etc","revision":1,"enabled":true}' \
	'{"domain":"ok.test","kind":"proxy","upstream":"http://x;y","revision":1,"enabled":true}' \
	'{"domain":"ok.test","kind":"static","index":"a\nb","revision":1,"enabled":true}'; do
	out=$("$SEND" --call "$HS" site.apply "$args" || true)
	check "the helper itself refuses $(jq -c 'del(.revision, .enabled, .kind)' <<<"$args"): invalid, the field named" \
		jqe '.ok == false and .error.code == "invalid" and (.error.field | length) > 0' <<<"$out"
done
check "... and still nothing changed in the sandbox" diff -u "$T/tree.before" <(tree_of)

# --------------------------------------------------------------- drift
printf '# changed by hand\n' >> "$VHOSTS/unix.test.conf"
api GET "/sites/$UNIX_ID" > /dev/null
check "a vhost changed by hand: the site shows drift with the diff" jqe '.drift == true and (.diff | test("\\+# changed by hand"))' "$T/api.json"
code=$(api POST "/sites/$UNIX_ID/reapply")
check "re-apply (got $code)" test "$code" = 200
api GET "/sites/$UNIX_ID" > /dev/null
check "... the panel's version is back: no drift" jqe '.drift == false and (.vhost.content | test("changed by hand") | not)' "$T/api.json"

# --------------------------------------------------------------- kill -9 mid-operation
# A slow nginx (each call 0.15 s later) so that a kill lands inside an operation.
cat > "$T/slow-nginx" <<SH
#!/bin/sh
sleep 0.15
exec /usr/sbin/nginx "\$@"
SH
chmod 0755 "$T/slow-nginx"
sites_stop_helper
sites_start_helper "$T/slow-nginx"
VH="$VHOSTS/static.test.conf"
whole() { # the file is a complete vhost of static.test
	head -1 "$1" | grep -q '^# Managed by aaPanel: site static.test, revision [0-9]* (static)\.$' &&
		tail -n 1 "$1" | grep -qx '}' && [ -z "$(tail -c 1 "$1")" ]
}
halves=0 olds=0 news=0 backs=0
for i in $(seq 1 8); do
	cp "$VH" "$T/vh.before"
	# What the next operation's recovery may put back: the old file of a change a kill interrupted.
	rm -f "$T/vh.prev"
	[ -s "$VH.aapanel-prev" ] && cp "$VH.aapanel-prev" "$T/vh.prev"
	api POST "/sites/$STATIC_ID" "{\"kind\":\"static\",\"aliases\":\"www.static.test\",\"index\":\"home.html i$i.html\",\"error_404\":\"/404.html\"}" > /dev/null &
	CUR=$!
	sleep "0.$((RANDOM % 4))$((RANDOM % 10))"
	sites_kill_helper
	wait "$CUR" 2>/dev/null || true
	if cmp -s "$VH" "$T/vh.before"; then olds=$((olds + 1));
	elif [ -e "$T/vh.prev" ] && cmp -s "$VH" "$T/vh.prev"; then backs=$((backs + 1));
	elif whole "$VH" && grep -q "index home.html i$i.html;" "$VH"; then news=$((news + 1));
	else halves=$((halves + 1)); echo "  vhost after kill $i:"; sed 's/^/    | /' "$VH"; fi
	sites_start_helper "$T/slow-nginx"
done
check "kill -9 during 8 applies: the vhost was the old one $olds times, the new one $news times, the one before an interrupted change (rolled back first) $backs times, never anything else" test "$halves" -eq 0
sites_stop_helper
sites_start_helper
code=$(api POST "/sites/$STATIC_ID/reapply")
check "the next operation after the kills succeeds (got $code)" test "$code" = 200
check "... and leaves no .aapanel-new / .aapanel-prev behind" bash -c "! ls -a '$VHOSTS' '$SB/etc/php/$PHP_VERSION/fpm/pool.d' | grep -q 'aapanel-\\(new\\|prev\\)'"
check "... nginx -t passes with what is on disk" nginx -t -q -p "$T/nginx" -c "$T/nginx/nginx.conf"
api GET "/sites/$STATIC_ID" > /dev/null
check "... the site is served, without drift" jqe '.site.served == true and .drift == false' "$T/api.json"

# --------------------------------------------------------------- delete: nothing left
code=$(api POST "/sites/$SECURE_ID/delete")
check "delete a site, keeping its files (got $code)" bash -c "[ '$code' = 204 ] && [ ! -e '$VHOSTS/secure.test.conf' ] && [ -d '$SB/var/www/secure.test/public' ]"
check "... no longer answered as that site" bash -c "[ \"\$(curl -s -o /dev/null -w '%{redirect_url}' -H 'Host: secure.test' '$(url /)')\" != 'https://secure.test/' ]"
rm -rf "$SB/var/www/secure.test"
for id in $STATIC_ID $PHP_ID $OTHER_ID $PROXY_ID $UNIX_ID; do
	code=$(api POST "/sites/$id/delete" '{"delete_files":true}')
	check "delete site $id with its files (got $code)" test "$code" = 204
done
check "no site is left in the panel" test "$(sqlite3 "$T/var/aapanel.db" 'SELECT COUNT(*) FROM sites')" = 0
check "no file is left behind: the sandbox is as it was before the first site" diff -u "$T/tree.empty" <(tree_of)
check "the sites' system users are gone" bash -c "! getent passwd '$PHP_USER' && ! getent passwd '$OTHER_USER'"
check "deleted sites are not served" bash -c "! curl -s -H 'Host: php.test' '$(url /id.php)' | grep -qx '$PHP_UID'"
check "every change is in the audit log with before and after" bash -c "[ \$(sqlite3 '$T/var/aapanel.db' \"SELECT COUNT(*) FROM audit_log WHERE action LIKE 'site.%' AND outcome = 'ok' AND (before_json IS NOT NULL OR action = 'site.add') AND after_json IS NOT NULL\") -ge 14 ]"
check "the helper logged no error" bash -c "! grep -q ' error ' '$T/helper.log'"

# --------------------------------------------------------------- the helper down
sites_stop_helper
sqlite3 "$T/var/aapanel.db" "INSERT INTO sites (domain, root_path, status, created_at, updated_at, kind, revision, probe_at, probe_ok, probe_message) VALUES ('row.test', 'public', 'running', 1, 1, 'static', 1, 1, 1, 'revision 1 served')"
code=$(api GET /sites)
check "with the helper down the list still answers, saying so: not known whether nginx serves it (got $code)" \
	bash -c "[ '$code' = 200 ] && jq -e '.items[0].domain == \"row.test\" and .items[0].served == null and (.items[0].probe_message | test(\"helper is unavailable\"))' '$T/api.json' >/dev/null"
code=$(api GET "/sites/$(sqlite3 "$T/var/aapanel.db" "SELECT id FROM sites WHERE domain = 'row.test'")")
check "... a site too: served, vhost and drift null (got $code)" \
	jqe '.site.served == null and .vhost == null and .pool == null and .drift == null and .diff == null' "$T/api.json"
check "... the last real look stays on its row" test "$(sqlite3 "$T/var/aapanel.db" "SELECT probe_ok FROM sites WHERE domain = 'row.test'")" = 1
sqlite3 "$T/var/aapanel.db" "DELETE FROM sites WHERE domain = 'row.test'"
code=$(api POST /sites '{"domain":"down.test","kind":"static"}')
check "... a change is a 503 that says the helper is not reachable (got $code)" \
	bash -c "[ '$code' = 503 ] && jq -e '.error.code == \"unavailable\" and (.error.reason | test(\"not reachable\"))' '$T/api.json' >/dev/null"
check "... and leaves no row" test "$(sqlite3 "$T/var/aapanel.db" "SELECT COUNT(*) FROM sites")" = 0
it_summary
