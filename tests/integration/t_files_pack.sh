#!/usr/bin/env bash
# The file manager's one-step folder download and its sweep of killed writes
# (issue 16, docs/files.md): the real helper, pool and nginx, a static site.
#  - GET /sites/{id}/files/archive: a folder (Arabic names, nested, a
#    symlink inside) streamed as zip, tar.gz, tar.xz and tar, made by
#    libarchive in the helper while it is read (no Content-Length, nothing
#    stored in the site), each archive unpacked back identical; the whole
#    document root; a viewer may download; ../ and a symlink out refused
#    (400) with nothing read outside; an absent folder 404;
#  - a write's temporary file left unchanged for 15 minutes (a killed
#    write's) is removed when its folder is listed or written to; a fresh
#    one (a write in progress) is kept.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites_lib.sh"
it_setup 'pool = { workers = 2; };'
sites_setup 'system_users = false;'
it_start_pool
sites_start_nginx
sites_start_helper
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
it_user admin admin 'correct horse battery staple'
it_user watcher viewer 'correct horse battery staple'
TOKEN=$(A token create --user admin --scope write --name t | tail -1)
VIEWER=$(A token create --user watcher --scope read --name v | tail -1)
code=$(api POST /sites '{"domain":"pack.test","kind":"static"}')
check "a static site (got $code)" test "$code" = 201
SID=$(jq -r .id "$T/api.json")
R="$SB/var/www/pack.test/public"
mkdir -p "$R/tree/sub/deeper" "$R/tree/مجلد"
printf 'one\n' > "$R/tree/a.txt"
printf 'two\n' > "$R/tree/sub/b.txt"
head -c 3000000 /dev/urandom > "$R/tree/sub/deeper/blob.bin"
printf 'مرحبا\n' > "$R/tree/مجلد/ملف.txt"
ln -s a.txt "$R/tree/link-to-a"
printf 'CANARY secret\n' > "$T/canary.txt"
ln -s "$T" "$R/out-link"
snapshot() { (cd "$R" && find . | sort); }
snapshot > "$T/before.list"

get() { # path query token → status; body in $T/dl, headers in $T/dl.hdr
	curl -s -o "$T/dl" -D "$T/dl.hdr" -w '%{http_code}' -H "Authorization: Bearer ${3:-$TOKEN}" \
		"$(url "/api/v1/sites/$SID/files/archive?$2")"
}
for fmt in zip tar.gz tar.xz tar; do
	code=$(get tree "path=tree&format=$fmt")
	rm -rf "$T/x-$fmt"; mkdir -p "$T/x-$fmt"
	case $fmt in
	zip) # Python's zipfile writes a symlink entry as a file: make it the link it says it is.
		python3 - "$T/dl" "$T/x-$fmt" 2>"$T/x.err" <<'PY'
import os, stat, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
for i in z.infolist():
    if stat.S_ISLNK(i.external_attr >> 16):
        p = os.path.join(sys.argv[2], i.filename)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        os.symlink(z.read(i).decode(), p)
    else:
        z.extract(i, sys.argv[2])
PY
		;;
	*) python3 -c 'import tarfile,sys; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$T/dl" "$T/x-$fmt" 2>"$T/x.err" ;;
	esac
	check "the folder as $fmt, streamed (no Content-Length), unpacked back identical (got $code)" \
		bash -c "[ $code = 200 ] && ! grep -qi '^Content-Length:' '$T/dl.hdr' && grep -qi \"filename\\*=UTF-8''tree.$fmt\" '$T/dl.hdr' && diff -r '$R/tree' '$T/x-$fmt/tree' >/dev/null && [ -L '$T/x-$fmt/tree/link-to-a' ]"
done
code=$(get "" "" "$VIEWER")
python3 -c 'import zipfile,sys; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$T/dl" > "$T/names" 2>/dev/null || true
check "the whole document root for a viewer, as zip, under the site's name (got $code)" bash -c "[ $code = 200 ] && grep -qx 'pack.test/tree/sub/deeper/blob.bin' '$T/names'"
check "... a symlink pointing out is stored as a link, never followed" bash -c "! grep -q 'canary' '$T/names' && ! grep -q CANARY '$T/dl'"
code=$(get x "path=../pack.test")
check "path=../pack.test: 400 naming path (got $code)" bash -c "[ $code = 400 ] && jq -e '.error.field == \"path\"' '$T/dl' >/dev/null"
code=$(get x "path=out-link")
check "a symlink pointing out of the root: the link itself, never what it points to (got $code)" bash -c "[ $code = 200 ] && ! grep -q CANARY '$T/dl'"
code=$(get x "path=no-such-folder")
check "an absent folder: 404 (got $code)" test "$code" = 404
code=$(get x "path=tree&format=rar")
check "an unknown format: 400 (got $code)" test "$code" = 400
snapshot > "$T/after.list"
check "nothing was stored in the site by the downloads" cmp -s "$T/before.list" "$T/after.list"
# The writers (the helper's grandchildren, with its command line) have all exited.
writers() { for c in /proc/[0-9]*; do [ "$(cat "$c/comm" 2>/dev/null)" = aapanel-helper ] && tr '\0' ' ' < "$c/cmdline" 2>/dev/null | grep -q -- "$T/conf" && basename "$c"; done | grep -vx "$HPID" || true; }
for _ in $(seq 1 50); do [ -z "$(writers)" ] && break; sleep 0.1; done
left=$(writers)
check "no archive writer left behind (${left:-none})" test -z "$left"

# The CLI: the same archive to stdout.
A files pack pack.test tree --format tar.gz > "$T/cli.tgz"
rm -rf "$T/x-cli"; mkdir -p "$T/x-cli"
python3 -c 'import tarfile,sys; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$T/cli.tgz" "$T/x-cli" 2>/dev/null || true
check "aapanel files pack SITE PATH --format tar.gz: the folder to stdout" diff -r "$R/tree" "$T/x-cli/tree"
rc=0; A files pack pack.test ../x >/dev/null 2>"$T/cli.err" || rc=$?
check "... ../: exit 2 with the reason (rc $rc)" bash -c "[ $rc = 2 ] && grep -q path '$T/cli.err'"
rc=0; A files pack pack.test tree --format rar >/dev/null 2>&1 || rc=$?
check "... an unknown format: exit 2 (rc $rc)" test "$rc" = 2

# ------------------------------------------------------------------ a killed write's temporary file
printf 'half' > "$R/tree/.aapanel-up-OLDoldOLD123"
touch -d '-20 minutes' "$R/tree/.aapanel-up-OLDoldOLD123"
printf 'live' > "$R/tree/.aapanel-up-NEWnewNEW123"
code=$(api GET "/sites/$SID/files?path=tree")
check "listing the folder: the stale temporary file is removed, the fresh one kept (got $code)" \
	bash -c "[ $code = 200 ] && [ ! -e '$R/tree/.aapanel-up-OLDoldOLD123' ] && [ -e '$R/tree/.aapanel-up-NEWnewNEW123' ]"
check "... neither is listed" bash -c "! grep -q aapanel-up '$T/api.json'"
mkdir -p "$R/up"
printf 'half' > "$R/up/.aapanel-up-OLDoldOLD456"
touch -d '-1 hour' "$R/up/.aapanel-up-OLDoldOLD456"
printf 'new\n' > "$T/new.txt"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/octet-stream' \
	--data-binary "@$T/new.txt" "$(url "/api/v1/sites/$SID/files/content?path=up/new.txt")")
check "a write into a folder removes a stale temporary file there (got $code)" \
	bash -c "[ $code = 200 ] && [ ! -e '$R/up/.aapanel-up-OLDoldOLD456' ] && cmp -s '$T/new.txt' '$R/up/new.txt'"
check "the helper logged what it removed" grep -q 'removed .aapanel-up-OLDoldOLD123' "$T/helper.log"
it_summary
