#!/usr/bin/env bash
# The Websites screen in a real browser (Debian's Chromium driven by
# playwright-core, tests/browser/sites.mjs) against the real nginx, pool,
# helper and php-fpm: an operator creates a PHP site through the form and
# opens it; then nginx serves the site's PHP as the site's own system user.
# As in t_sites.sh, system users live in this test's private mount namespace
# (a copy of /etc bind-mounted), never on the machine. Screenshots are kept
# in build/artifacts/browser-sites/. Fails (never skips) when chromium, node,
# playwright-core or php-fpm are missing (scripts/install-deps.sh installs them).
if [ -z "${AAPANEL_SITES_NS:-}" ]; then
	exec unshare --mount --propagation private env AAPANEL_SITES_NS=1 bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/browser_lib.sh"
ART="$SRC/build/artifacts/browser-sites"
browser_prereqs
prereq "php-fpm is installed" bash -c 'ls /usr/sbin/php-fpm* >/dev/null 2>&1'
prereqs_done

. "$(dirname "$0")/sites_lib.sh"
it_setup 'pool = { request_timeout = 20; };'
sites_setup 'system_users = true; nginx_group = "www-data";'
mkdir "$T/etc"
cp -a /etc/. "$T/etc/"
mount --bind "$T/etc" /etc
chmod 0755 "$T" "$T/var" "$SB" "$SB/var" "$SB/var/www" "$SB/run" "$SB/run/php"
it_start_pool
sites_start_nginx
sites_start_helper
sites_start_php
PW='correct horse battery staple'
it_user oper operator "$PW"
DOMAIN=browser.test

rm -rf "$ART"
mkdir -p "$ART"
PROFILE="$T/chromium-profile"
browser_pids() { pgrep -f -- "--user-data-dir=$PROFILE" || true; }
rc=0
BASE_URL="http://127.0.0.1:$PORT" PANEL_USER=oper PANEL_PASSWORD="$PW" SITE_DOMAIN="$DOMAIN" \
	ARTIFACTS_DIR="$ART" BROWSER_PROFILE_DIR="$PROFILE" CHROMIUM="$CHROMIUM" \
	timeout -k 10 200 node "$SRC/tests/browser/sites.mjs" > "$T/browser.log" 2>&1 || rc=$?
sed 's/^/  | /' "$T/browser.log"
check "browser test passed (sites.mjs exit $rc)" test "$rc" -eq 0
for f in site-en site-itself sites-ar sites-ar-dark-360 site-ar-dark-360; do
	check "$f.png was taken" test -s "$ART/$f.png"
done

# The site the operator made, enabled again, serves PHP as its own user.
DB="$T/var/aapanel.db"
user=$(sqlite3 "$DB" "SELECT system_user FROM sites WHERE domain = '$DOMAIN'")
check "the operator's site is recorded, with its own system user ($user)" bash -c "[[ '$user' =~ ^s_browser_test_ ]] && getent passwd '$user' >/dev/null"
"$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" site enable "$DOMAIN" > /dev/null
printf '<?php echo posix_geteuid(), "\\n";\n' > "$SB/var/www/$DOMAIN/public/id.php"
got=$(curl -s -H "Host: $DOMAIN" "$(url /id.php)")
check "nginx serves its PHP as that user (uid $(id -u "$user" 2>/dev/null), got '$got')" bash -c "[ '$got' = \"\$(id -u '$user')\" ] && [ '$got' != 0 ]"
check "the audit log names the operator" bash -c "sqlite3 '$DB' \"SELECT actor FROM audit_log WHERE action = 'site.add'\" | grep -qx oper"

for _ in $(seq 1 50); do [ -z "$(browser_pids)" ] && break; sleep 0.1; done
left=$(browser_pids)
check "no Chromium process left behind" test -z "$left"
# shellcheck disable=SC2086
[ -z "$left" ] || kill -KILL $left 2>/dev/null || true
echo "  screenshots: $ART"
it_summary
