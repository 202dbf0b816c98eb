#!/usr/bin/env bash
# Changing a file's owner among the site's own users (issue 16, docs/files.md):
# the real helper (root), pool and nginx, a site with its own system user. As
# in t_sites.sh, system users live in this test's private mount namespace (a
# copy of /etc bind-mounted), never on the machine.
#  - a file the helper's own user (root) left in the site goes to the site's
#    user and group, then to the site's user with nginx's group; the audit
#    row has the before and after;
#  - no other owner can be named (the choice is an enum); a path out of the
#    root, a hard-linked file and a missing one are refused, nothing changed
#    outside; a viewer may not; sites without system users answer 409.
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
code=$(api POST /sites '{"domain":"owner.test","kind":"static"}')
check "a static site with its own system user (got $code)" test "$code" = 201
SID=$(jq -r .id "$T/api.json")
user=$(sqlite3 "$T/var/aapanel.db" "SELECT system_user FROM sites WHERE id = $SID")
check "... its user exists here ($user)" bash -c "[ -n '$user' ] && getent passwd '$user' >/dev/null"
R="$SB/var/www/owner.test/public"
printf 'left by root\n' > "$R/root-file.txt"
chown 0:0 "$R/root-file.txt"
printf 'CANARY\n' > "$T/outside.txt"
chown 0:0 "$T/outside.txt"
ln "$T/outside.txt" "$R/hard.txt" 2>/dev/null || cp "$T/outside.txt" "$R/hard.txt"
chown_api() { # path owner token → status
	curl -s -o "$T/api.json" -w '%{http_code}' -X POST -H "Authorization: Bearer ${3:-$TOKEN}" -H 'Content-Type: application/json' \
		--data-binary "{\"path\":\"$1\",\"owner\":\"$2\"}" "$(url "/api/v1/sites/$SID/files/chown")"
}
code=$(chown_api root-file.txt site)
check "a root-owned file given to the site's user and group (got $code)" \
	bash -c "[ $code = 200 ] && [ \"\$(stat -c %U:%G '$R/root-file.txt')\" = '$user:'\"\$(id -gn '$user')\" ]"
code=$(chown_api root-file.txt site-web)
check "... then to the site's user with nginx's group (got $code)" \
	bash -c "[ $code = 200 ] && [ \"\$(stat -c %U:%G '$R/root-file.txt')\" = '$user:www-data' ]"
rows=$(sqlite3 "$T/var/aapanel.db" "SELECT before_json || ' ' || after_json FROM audit_log WHERE action = 'files.chown' ORDER BY id" | tr '\n' ' ')
check "the audit rows have before and after ($rows)" bash -c "grep -q '^{\"uid\":0,\"gid\":0} {\"owner\":\"site\"' <<< '$rows' && grep -q '{\"owner\":\"site-web\",\"uid\":[0-9]*,\"gid\":33}' <<< '$rows'"
code=$(chown_api root-file.txt root)
check "no other owner can be named: 400 naming owner (got $code)" bash -c "[ $code = 400 ] && jq -e '.error.field == \"owner\"' '$T/api.json' >/dev/null"
code=$(chown_api ../../../outside.txt site)
check "a path out of the root: 400, the outside file unchanged (got $code)" bash -c "[ $code = 400 ] && [ \"\$(stat -c %u:%g '$T/outside.txt')\" = 0:0 ]"
code=$(chown_api hard.txt site)
check "a hard-linked file: refused, the outside file unchanged (got $code)" bash -c "[ $code = 400 ] && [ \"\$(stat -c %u:%g '$T/outside.txt')\" = 0:0 ]"
code=$(chown_api nothing-here.txt site)
check "a missing file: 404 (got $code)" test "$code" = 404
code=$(chown_api root-file.txt site "$VIEWER")
check "a viewer may not: 403 (got $code)" test "$code" = 403
# The form: back to the folder with a message.
J="$T/jar"
it_login "$J" admin 'correct horse battery staple' >/dev/null
chown 0:0 "$R/root-file.txt"
code=$(curl -s -o /dev/null -D "$T/hdr" -w '%{http_code}' -b "$J" -H "Origin: http://127.0.0.1:$PORT" \
	--data-urlencode "csrf=$(csrf_of "$J")" --data-urlencode path=root-file.txt --data-urlencode owner=site "$(url "/sites/$SID/files/chown")")
check "the Owner form: 303 to the folder, the file the site's (got $code)" \
	bash -c "[ $code = 303 ] && [ \"\$(stat -c %U '$R/root-file.txt')\" = '$user' ]"
# The CLI.
chown 0:0 "$R/root-file.txt"
rc=0; A files chown owner.test root-file.txt site-web || rc=$?
check "aapanel files chown SITE PATH site-web (rc $rc)" bash -c "[ $rc = 0 ] && [ \"\$(stat -c %U:%G '$R/root-file.txt')\" = '$user:www-data' ]"
rc=0; A files chown owner.test root-file.txt root 2>"$T/cli.err" || rc=$?
check "... owner root: exit 2 with the reason (rc $rc)" bash -c "[ $rc = 2 ] && grep -q owner '$T/cli.err'"
check "... audited via the CLI" bash -c "[ \"\$(sqlite3 '$T/var/aapanel.db' \"SELECT COUNT(*) FROM audit_log WHERE action = 'files.chown' AND via = 'cli' AND outcome = 'ok'\")\" = 1 ]"
it_summary
