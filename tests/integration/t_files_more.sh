#!/usr/bin/env bash
# More of the file manager (issue 16, docs/files.md), the real helper, pool
# and nginx:
#  - the editor saves a text of files.edit_max (2 MiB), not limits.max_field_len
#    (64 KiB): a 1.5 MiB Arabic text with CR LF through the page and the API,
#    byte-identical; a 3 MiB one refused naming content (the form again), the
#    old file intact; every other route keeps max_field_len;
#  - a copy of a tree is a helper job: 12,000 entries (over the old 10,000
#    cap) copied identical, its progress rising (job.status), a hard-linked
#    file in it refuses the copy before anything is made, never into itself.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites_lib.sh"
it_setup 'pool = { workers = 2; request_timeout = 30; }; files = { job_wait_ms = 25000; };' # the copies below waited for (t_files_jobs: the job page)
sites_setup 'system_users = false;'
it_start_pool
sites_start_nginx 64m 60
sites_start_helper
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
it_user admin admin 'correct horse battery staple'
TOKEN=$(A token create --user admin --scope write --name t | tail -1)
code=$(api POST /sites '{"domain":"more.test","kind":"static"}')
check "a static site (got $code)" test "$code" = 201
SID=$(jq -r .id "$T/api.json")
R="$SB/var/www/more.test/public"
J="$T/jar"
it_login "$J" admin 'correct horse battery staple' >/dev/null
ORIGIN="http://127.0.0.1:$PORT"

# ------------------------------------------------------------------ the editor's save: files.edit_max
# arabic BYTES FILE: Arabic lines ending CR LF, about BYTES bytes.
arabic() {
	python3 -c 'import sys
n = int(sys.argv[1]); line = "مرحبا بالعالم، هذا سطر من نص عربي طويل للاختبار %d\r\n"
out = []; size = 0; i = 0
while size < n:
    s = (line % i).encode(); out.append(s); size += len(s); i += 1
sys.stdout.buffer.write(b"".join(out))' "$1" > "$2"
}
arabic 1572864 "$T/big.txt"
arabic 3145728 "$T/huge.txt"
save_form() { # FILE → status (page in $T/page.html)
	curl -s -o "$T/page.html" -w '%{http_code}' -b "$J" -H "Origin: $ORIGIN" \
		--data-urlencode "csrf=$(csrf_of "$J")" --data-urlencode path=big.txt --data-urlencode eol=crlf \
		--data-urlencode "content@$1" "$(url "/sites/$SID/files/edit")"
}
save_api() { # FILE → status (answer in $T/api.json)
	jq -n --rawfile c "$1" '{path: "big.txt", content: $c, eol: "crlf"}' > "$T/save.json"
	curl -s -o "$T/api.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/json' --data-binary "@$T/save.json" "$(url "/api/v1/sites/$SID/files/edit")"
}
code=$(save_form "$T/big.txt")
check "a 1.5 MiB Arabic text with CR LF saved from the page: 303 (got $code)" test "$code" = 303
check "... on disk byte-identical (CR LF kept)" cmp -s "$T/big.txt" "$R/big.txt"
code=$(curl -s -o "$T/page.html" -w '%{http_code}' -b "$J" "$(url "/sites/$SID/files/edit?path=big.txt")")
check "... the editor opens it again, CR LF (got $code)" bash -c "[ $code = 200 ] && grep -q 'value=\"crlf\"' '$T/page.html'"
: > "$R/big.txt"
code=$(save_api "$T/big.txt")
check "the same through the API (JSON): 200, byte-identical (got $code)" \
	bash -c "[ $code = 200 ] && cmp -s '$T/big.txt' '$R/big.txt'"
sha_before=$(sha256sum < "$R/big.txt")
code=$(save_form "$T/huge.txt")
check "a 3 MiB text from the page: 413, the form again naming content (got $code)" \
	bash -c "[ $code = 413 ] && grep -q 'files.edit_max' '$T/page.html' && grep -q 'f-content' '$T/page.html'"
code=$(save_api "$T/huge.txt")
check "... through the API: 413 naming content and the limit (got $code)" \
	bash -c "[ $code = 413 ] && jq -e '.error.field == \"content\" and (.error.reason | test(\"2097152\"))' '$T/api.json' >/dev/null"
check "... the old file intact, no temporary file left" \
	bash -c "[ \"\$(sha256sum < '$R/big.txt')\" = '$sha_before' ] && ! ls -a '$R' | grep -q aapanel-up"
head -c 100000 /dev/zero | tr '\0' a > "$T/long"
code=$(curl -s -o "$T/api.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
	--data-urlencode path= --data-urlencode "name@$T/long" --data-urlencode type=file "$(url "/api/v1/sites/$SID/files/create")")
check "another route keeps limits.max_field_len: a 100 kB name 400 (got $code)" \
	bash -c "[ $code = 400 ] && jq -e '.error.reason | test(\"65536\")' '$T/api.json' >/dev/null"
python3 -c 'import json; print(json.dumps({"path": "", "name": "x", "type": "file", "pad": "a" * 1100000}))' > "$T/pad.json"
code=$(curl -s -o "$T/api.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
	-H 'Content-Type: application/json' --data-binary "@$T/pad.json" "$(url "/api/v1/sites/$SID/files/create")")
check "... and limits.max_body: a 1.1 MB body 413 (got $code)" test "$code" = 413

# ------------------------------------------------------------------ a copy of a large tree: a job
python3 - "$R/tree" <<'PY'
import os, sys
top = sys.argv[1]
for i in range(60):
    d = os.path.join(top, "d%02d" % i, "sub")
    os.makedirs(d)
    for j in range(199):
        with open(os.path.join(d, "f%03d.txt" % j), "w") as f:
            f.write("%d %d\n" % (i, j))
os.symlink("d00/sub/f000.txt", os.path.join(top, "link"))
PY
code=$(curl -s -o "$T/api.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
	--data-binary '{"path":"tree","to":"tree2"}' "$(url "/api/v1/sites/$SID/files/copy")")
check "a tree of 12,061 entries copied: 200 (got $code)" test "$code" = 200
check "... identical (diff -r, the link a link)" bash -c "diff -r '$R/tree' '$R/tree2' >/dev/null && [ -L '$R/tree2/link' ]"
code=$(curl -s -o "$T/api.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
	--data-binary '{"path":"tree","to":"tree/d00/inside"}' "$(url "/api/v1/sites/$SID/files/copy")")
check "... into a folder of itself: copied once, never into itself (got $code)" \
	bash -c "[ $code = 200 ] && [ -d '$R/tree/d00/inside/d01/sub' ] && [ ! -e '$R/tree/d00/inside/d00/inside' ]"
rm -rf "$R/tree/d00/inside"
printf 'CANARY\n' > "$T/outside.txt"
ln "$T/outside.txt" "$R/tree/d05/sub/hard.txt"
code=$(curl -s -o "$T/api.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
	--data-binary '{"path":"tree","to":"tree3"}' "$(url "/api/v1/sites/$SID/files/copy")")
check "a hard-linked file in the tree: 400 naming it, nothing made (got $code)" \
	bash -c "[ $code = 400 ] && jq -e '.error.reason | test(\"tree/d05/sub/hard.txt\")' '$T/api.json' >/dev/null && [ ! -e '$R/tree3' ]"
rm "$R/tree/d05/sub/hard.txt"
mkdir "$R/blobs"
for i in $(seq 1 24); do head -c 4194304 /dev/urandom > "$R/blobs/b$i"; done
"$SEND" --call "$HS" files.copy '{"domain":"more.test","path":"blobs","to":"blobs2"}' > "$T/job.json"
JOB=$(jq -r .result.job "$T/job.json")
: > "$T/progress"
for _ in $(seq 1 1500); do
	"$SEND" --call "$HS" job.status "{\"id\":$JOB}" > "$T/st.json" || true
	jq -r '"\(.result.state) \(.result.progress)"' "$T/st.json" >> "$T/progress"
	grep -q '^\(done\|failed\)' "$T/progress" && break
	sleep 0.02
done
check "96 MiB copied as a helper job: done, 100 % ($(tail -1 "$T/progress"))" grep -q '^done 100$' "$T/progress"
check "... its progress seen on the way ($(grep '^running' "$T/progress" | awk '{print $2}' | sort -un | tr '\n' ' '))" \
	bash -c "[ \"\$(grep '^running' '$T/progress' | awk '\$2 > 0 && \$2 < 100' | sort -u | wc -l)\" -ge 1 ]"
check "... identical" diff -r "$R/blobs" "$R/blobs2"

it_summary
