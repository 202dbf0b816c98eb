#!/usr/bin/env bash
# The file manager's form upload streamed (issue 16): several files in one
# multipart form (the page's path without script) posted through nginx with
# the csrf field first, each file read through the parser's fixed buffer into
# its own upload (a temporary file beside the target, then the commit):
#  - three files (a text, an empty one, a generated 100 MiB one) byte-identical
#    on disk (sha256), the pool workers' peak memory (VmHWM) printed and far
#    below the big file's size;
#  - a wrong CSRF token (and the right one after the files): 403, nothing
#    of the form written;
#  - a form over files.max_upload (the route's limit, as nginx's
#    client_max_body_size there): 413 naming files, nothing written;
#  - a .php in a static site: refused (400 naming it), nothing of the form
#    written; into a PHP site: written and audited with its hash;
#  - a form cut off in its second file: 400 naming the reason, the first
#    file whole, no half-written second file or temporary file left;
#  - an admins' root's form: the same, two files.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites_lib.sh"
it_setup 'pool = { request_timeout = 50; workers = 3; };'
sites_setup 'system_users = false;'
cat >> "$T/conf/profiles/test.cfg" <<'CFG'
files = { max_upload = 157286400; roots = "srv:/srv/up"; };
CFG
mkdir -p "$SB/srv/up"
it_start_pool
sites_start_nginx 300m 60
sites_start_helper
sites_start_php
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
it_user admin admin 'correct horse battery staple'
TOKEN=$(A token create --user admin --scope write --name t | tail -1)

code=$(api POST /sites '{"domain":"up.test","kind":"static"}')
check "a static site (got $code)" test "$code" = 201
SID=$(jq -r .id "$T/api.json")
R="$SB/var/www/up.test/public"
mkdir -p "$R/in"
JAR="$T/jar"
check "the admin signs in" test "$(it_login "$JAR" admin 'correct horse battery staple')" = 303
CSRF=$(csrf_of "$JAR")
D=$(mktemp -d /tmp/aapanel-upform.XXXXXX)
SAMPLER=""
up_teardown() {
	local rc=$?
	[ -n "$SAMPLER" ] && { kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true; }
	rm -rf "$D"
	set +e # (exit 1) below must not end the teardown
	(exit "$rc")
	sites_teardown
}
trap up_teardown EXIT
# form BASE OUT CURL-ARGS...: the page's form as a browser sends it; the status and redirect printed.
form() {
	local base=$1 out=$2
	shift 2
	curl -s -o "$out" -w '%{http_code} %{redirect_url}' -b "$JAR" -c "$JAR" -H "Origin: http://127.0.0.1:$PORT" "$@" \
		"$(url "$base/upload")"
}
tree() { (cd "$1" && find . -mindepth 1 | sort); }
hwm() { for p in $(worker_pids); do awk '/VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null; done | sort -n | tail -1; }

# ------------------------------------------------------------------ three files, one of 100 MiB
printf 'the first one\n' > "$D/a.txt"
: > "$D/empty.bin"
head -c $((100 * 1024 * 1024)) /dev/urandom > "$D/big.bin"
SIZE=$(stat -c %s "$D/big.bin")
before=$(hwm)
( while :; do for p in $(worker_pids); do awk '/VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null; done; sleep 0.1; done ) > "$D/rss.txt" 2>/dev/null &
SAMPLER=$!
t0=$(date +%s%N)
r=$(form "/sites/$SID/files" "$T/f.html" -F "csrf=$CSRF" -F path=in \
	-F "files=@$D/a.txt" -F "files=@$D/empty.bin" -F "files=@$D/big.bin")
t=$(( ($(date +%s%N) - t0) / 1000000 ))
kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true; SAMPLER=""
check "a form of three files ($((SIZE / 1048576)) MiB one) through nginx: 303 back to the folder in $t ms ($r)" \
	bash -c "[ '${r%% *}' = 303 ] && echo '$r' | grep -q 'files?path=in'"
for f in a.txt empty.bin big.bin; do
	check "... $f byte-identical on disk (sha256)" \
		test "$(sha256sum < "$D/$f")" = "$(sha256sum < "$R/in/$f" 2>/dev/null)"
done
check "... no temporary file left beside them" bash -c "! ls -a '$R/in' | grep -q aapanel-up"
peak=$(hwm)
rss=$(sort -n "$D/rss.txt" | tail -1)
echo "  -- pool workers' peak memory (VmHWM): ${before} kB before, ${peak} kB after; highest RSS sampled during the upload: ${rss:-?} kB; the big file: $((SIZE / 1024)) kB"
check "no worker's peak memory came near the big file's size (peak ${peak} kB, file $((SIZE / 1024)) kB)" \
	test "${peak:-999999}" -lt 65536
curl -s -o "$T/page.html" -b "$JAR" "$(url "/sites/$SID/files?path=in")"
check "... the folder's page says so" grep -q 'Uploaded <bdi>3</bdi> file(s).' "$T/page.html"
sqlite3 "$T/var/aapanel.db" "SELECT target FROM audit_log WHERE action = 'files.upload' AND outcome = 'ok'" > "$T/audit.txt"
check "... each file in the audit log" \
	bash -c "grep -qx 'up.test:in/a.txt' '$T/audit.txt' && grep -qx 'up.test:in/empty.bin' '$T/audit.txt' && grep -qx 'up.test:in/big.bin' '$T/audit.txt'"
rm -f "$D/big.bin"

# ------------------------------------------------------------------ the route's limit (files.max_upload, 150 MiB here)
mkdir -p "$R/over"
head -c $((150 * 1024 * 1024 + 4096)) /dev/zero > "$D/over.bin"
r=$(form "/sites/$SID/files" "$T/over.html" -F "csrf=$CSRF" -F path=over -F "files=@$D/a.txt" -F "files=@$D/over.bin")
check "a form over files.max_upload: 413 with the form again naming files ($r)" \
	bash -c "[ '${r%% *}' = 413 ] && grep -q 'class=\"field-error\">the files are more than files.max_upload' '$T/over.html'"
check "... nothing of it written" test -z "$(tree "$R/over")"
rm -f "$D/over.bin"

# ------------------------------------------------------------------ CSRF from the fields before the files
mkdir -p "$R/csrf"
printf 'evil\n' > "$D/evil.txt"
r=$(form "/sites/$SID/files" "$T/f.html" -F "csrf=wrong$CSRF" -F path=csrf -F "files=@$D/evil.txt" -F "files=@$D/a.txt")
check "a wrong CSRF token: 403 ($r)" test "${r%% *}" = 403
r=$(form "/sites/$SID/files" "$T/f.html" -F path=csrf -F "files=@$D/evil.txt" -F "csrf=$CSRF")
check "the right token but after the file (not read before it): 403 ($r)" test "${r%% *}" = 403
check "... nothing of those forms written" test -z "$(tree "$R/csrf")"

# ------------------------------------------------------------------ dangerous types in a static site
mkdir -p "$R/php"
printf '<?php echo 1;\n' > "$D/x.php"
r=$(form "/sites/$SID/files" "$T/php.html" -F "csrf=$CSRF" -F path=php -F "files=@$D/x.php" -F "files=@$D/a.txt")
check "a .php in a static site's form: 400 with the form again saying why ($r)" \
	bash -c "[ '${r%% *}' = 400 ] && grep -q 'PHP site' '$T/php.html'"
check "... nothing of the form written" test -z "$(tree "$R/php")"
sqlite3 "$T/var/aapanel.db" "SELECT outcome FROM audit_log WHERE action = 'files.upload' AND target = 'up.test:php/x.php'" > "$T/audit.txt"
check "... the refusal audited" grep -qx failed "$T/audit.txt"
if [ -n "$PHP_VERSION" ]; then
	code=$(api POST /sites "{\"domain\":\"phpup.test\",\"kind\":\"php\",\"php\":\"$PHP_VERSION\"}")
	check "a PHP site (got $code)" test "$code" = 201
	PSID=$(jq -r .id "$T/api.json")
	r=$(form "/sites/$PSID/files" "$T/f.html" -F "csrf=$CSRF" -F "files=@$D/x.php" -F "files=@$D/a.txt")
	sum=$(sha256sum "$D/x.php" | cut -d' ' -f1)
	check "... its form takes the .php and the text ($r)" \
		bash -c "[ '${r%% *}' = 303 ] && cmp -s '$D/x.php' '$SB/var/www/phpup.test/public/x.php' && cmp -s '$D/a.txt' '$SB/var/www/phpup.test/public/a.txt'"
	sqlite3 "$T/var/aapanel.db" "SELECT after_json FROM audit_log WHERE action = 'files.upload' AND target = 'phpup.test:x.php' AND outcome = 'ok'" > "$T/audit.txt"
	check "... the .php audited with its hash" grep -q "$sum" "$T/audit.txt"
else
	not_ok "PHP-FPM is needed for the PHP site's form upload"
fi

# ------------------------------------------------------------------ a form cut off in its second file
mkdir -p "$R/cut"
printf -- '--XyZ\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n%s\r\n--XyZ\r\nContent-Disposition: form-data; name="path"\r\n\r\ncut\r\n--XyZ\r\nContent-Disposition: form-data; name="files"; filename="first.txt"\r\n\r\nwhole\r\n--XyZ\r\nContent-Disposition: form-data; name="files"; filename="second.txt"\r\n\r\nhalf of it' "$CSRF" > "$D/cut.body"
r=$(form "/sites/$SID/files" "$T/cut.html" -H 'Content-Type: multipart/form-data; boundary=XyZ' --data-binary "@$D/cut.body")
check "a form cut off in its second file: 400 with the form again saying why ($r)" \
	bash -c "[ '${r%% *}' = 400 ] && grep -q 'missing closing multipart boundary' '$T/cut.html'"
check "... the first file whole, no second one, no temporary file" \
	test "$(tree "$R/cut")" = "./first.txt"
check "... the first file's content" test "$(cat "$R/cut/first.txt")" = whole

# ------------------------------------------------------------------ an admins' root
printf 'two\n' > "$D/two.txt"
r=$(form "/files/roots/srv" "$T/f.html" -F "csrf=$CSRF" -F "files=@$D/a.txt" -F "files=@$D/two.txt")
check "an admins' root's form of two files: 303 ($r)" test "${r%% *}" = 303
check "... both byte-identical there" \
	bash -c "cmp -s '$D/a.txt' '$SB/srv/up/a.txt' && cmp -s '$D/two.txt' '$SB/srv/up/two.txt'"
r=$(form "/files/roots/srv" "$T/f.html" -F "csrf=x$CSRF" -F "files=@$D/evil.txt")
check "... a wrong CSRF token there: 403, nothing written ($r)" \
	bash -c "[ '${r%% *}' = 403 ] && [ ! -e '$SB/srv/up/evil.txt' ]"

# The API (a token, no CSRF) takes the same form.
code=$(curl -s -o "$T/api.out" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -F path=in \
	-F "files=@$D/two.txt" -F "files=@$D/evil.txt" "$(url "/api/v1/sites/$SID/files/upload")")
check "the API's form upload of two files (got $code)" \
	bash -c "[ $code = 200 ] && cmp -s '$D/two.txt' '$R/in/two.txt' && cmp -s '$D/evil.txt' '$R/in/evil.txt'"

it_summary
[ "$FAIL" -eq 0 ]
