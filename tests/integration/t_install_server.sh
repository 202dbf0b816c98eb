#!/usr/bin/env bash
# scripts/install.sh in a disposable root: files, owners, modes, the
# production configuration with a random base path, the migrated database and
# the first admin (who signs in through nginx), idempotent reruns, --dry-run,
# --uninstall and --purge. The machine itself must not change.
. "$(dirname "$0")/lib.sh"
it_setup
chmod 0755 "$T" # the www uid of the root must reach the installed binary
mkdir -p "$T/tmp"
export TMPDIR="$T/tmp"
INSTALL="$SRC/scripts/install.sh"

# The machine before: users, units, the paths a real install would use.
host_state() {
	md5sum /etc/passwd /etc/group /etc/shadow /etc/gshadow 2>/dev/null
	find /lib/systemd/system /etc/systemd/system -maxdepth 1 -printf '%p %m %T@\n' 2>/dev/null | sort
	for p in /etc/aapanel /var/lib/aapanel /var/log/aapanel /var/lib/aapanel-acme \
		/usr/local/bin/aapanel /usr/local/share/aapanel; do
		[ -e "$p" ] && stat -c '%n %U:%G %a %Y' "$p" || echo "$p absent"
	done
}
host_state > "$T/host.before"

# A fresh Debian root: root and www-data exist, nothing else.
seed_root() {
	mkdir -p "$1/etc"
	grep -E '^(root|www-data|nobody):' /etc/passwd > "$1/etc/passwd"
	grep -E '^(root|www-data|nogroup):' /etc/group > "$1/etc/group"
	: > "$1/etc/shadow"; : > "$1/etc/gshadow"; chmod 0640 "$1/etc/shadow" "$1/etc/gshadow"
}
R="$T/root"
seed_root "$R"

rc=0; "$INSTALL" --root "$R" --skip-deps --no-start > "$T/install1.log" 2>&1 || rc=$?
check "install exits 0" test "$rc" = 0
[ "$rc" = 0 ] || cat "$T/install1.log"

uid=$(awk -F: '$1 == "www" {print $3}' "$R/etc/passwd")
gid=$(awk -F: '$1 == "www" {print $3}' "$R/etc/group")
wdg=$(awk -F: '$1 == "www-data" {print $3}' "$R/etc/group")
check "user www created in the root's passwd" test -n "$uid"
check "www has no login shell and home /var/lib/aapanel" \
	grep -q "^www:x:$uid:$gid:[^:]*:/var/lib/aapanel:/usr/sbin/nologin$" "$R/etc/passwd"
check "www is a system user (uid < 1000)" test "${uid:-1000}" -lt 1000
# owner_mode PATH UID:GID MODE
owner_mode() { [ "$(stat -c '%u:%g %a' "$1" 2>/dev/null)" = "$2 $3" ]; }
check "binary installed 0755" owner_mode "$R/usr/local/bin/aapanel" 0:0 755
check "share directory installed" test -f "$R/usr/local/share/aapanel/templates/layout.html"
check "units installed" test -f "$R/lib/systemd/system/aapanel.service" -a -f "$R/lib/systemd/system/aapanel.socket"
check "/etc/aapanel root:www 0750" owner_mode "$R/etc/aapanel" "0:$gid" 750
check "aapanel.cfg root:www 0640" owner_mode "$R/etc/aapanel/aapanel.cfg" "0:$gid" 640
check "production.cfg root:www 0640" owner_mode "$R/etc/aapanel/profiles/production.cfg" "0:$gid" 640
check "secret_key root:root 0600" owner_mode "$R/etc/aapanel/secret_key" 0:0 600
check "/etc/aapanel/settings root:www 0750 (the Settings layer, written by the helper)" \
	owner_mode "$R/etc/aapanel/settings" "0:$gid" 750
check "/etc/nginx/aapanel root:root 0755 (the panel-managed listen include)" owner_mode "$R/etc/nginx/aapanel" 0:0 755
prod_cfg="$R/etc/aapanel/profiles/production.cfg"
check "production.cfg names the Settings layer in those directories" \
	bash -c "grep -qxF '  settings_file = \"/etc/aapanel/settings/settings.cfg\";' '$prod_cfg' && grep -qxF '  listen_file = \"/etc/nginx/aapanel/listen.conf\";' '$prod_cfg'"
check "secret key is 64 hex characters" grep -qxE '[0-9a-f]{64}' "$R/etc/aapanel/secret_key"
check "/var/lib/aapanel www:www 0750" owner_mode "$R/var/lib/aapanel" "$uid:$gid" 750
check "/var/log/aapanel www:www 0750" owner_mode "$R/var/log/aapanel" "$uid:$gid" 750
check "ACME webroot root:www-data 0750" owner_mode "$R/var/lib/aapanel-acme" "0:$wdg" 750
check "database owned by www, not world-readable" owner_mode "$R/var/lib/aapanel/aapanel.db" "$uid:$gid" 640
check "no temporary files left" test -z "$(ls -A "$T/tmp")"

bp=$(sed -n 's/^[[:space:]]*base_path = "\(.*\)";/\1/p' "$R/etc/aapanel/profiles/production.cfg")
check "base path is random: / and 12 of [a-z0-9]" grep -qxE '/[a-z0-9]{12}' <<<"$bp"
check "login URL printed with the base path" grep -qE "login URL: +http://[^ ]+$bp/login" "$T/install1.log"
pw=$(sed -n 's/^  password: *//p' "$T/install1.log")
check "admin password printed once" test "$(grep -c '^  password:' "$T/install1.log")" = 1 -a -n "$pw"

# The installed copy validates its configuration (production by detection).
mkdir -p "$T/creds"
install -m 0600 "$R/etc/aapanel/secret_key" "$T/creds/aapanel-secret"
check "installed configuration passes config check" env -u AAPANEL_ENV CREDENTIALS_DIRECTORY="$T/creds" \
	"$R/usr/local/bin/aapanel" --root "$R/usr/local/share/aapanel" --config "$R/etc/aapanel/aapanel.cfg" config check

# The production paths are absolute (/var/lib/aapanel ...): to use the root's
# database, run against a copy with those paths moved into the root, and a
# socket where lib.sh's nginx expects it.
mkdir -p "$T/rcfg/profiles"
cp "$R/etc/aapanel/aapanel.cfg" "$T/rcfg/aapanel.cfg"
sed -E -e "s#\"/run/aapanel/aapanel.sock\"#\"$T/var/run/aapanel.sock\"#" \
	-e "s#(\"|sqlite://)/(var/lib/aapanel|var/log/aapanel|run/aapanel|etc/aapanel|etc/nginx/aapanel)#\1$R/\2#g" \
	"$R/etc/aapanel/profiles/production.cfg" > "$T/rcfg/profiles/production.cfg"
P=(env CREDENTIALS_DIRECTORY="$T/creds" "$R/usr/local/bin/aapanel" --profile production
	--root "$R/usr/local/share/aapanel" --config "$T/rcfg/aapanel.cfg")
check "database migrated" "${P[@]}" db status
admin_listed() { "${P[@]}" user list | grep -qE '^admin +admin +active'; }
check "admin exists in the installed database" admin_listed

# Sign in with the printed password through nginx, under the base path.
"${P[@]}" serve 2>>"$T/pool.log" &
POOL_PID=$!
for _ in $(seq 1 200); do [ -S "$T/var/run/aapanel.sock" ] && break; sleep 0.05; done
it_start_nginx 2m 60 "$bp"
check "panel answers under the base path" test "$(status_of GET "$bp/login")" = 200
check "and not at /" test "$(status_of GET /login)" = 404
check "the printed admin password signs in" test "$(it_login "$T/jar" admin "$pw" "$bp")" = 303
kill -QUIT "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null || true; NGINX_PID=""
kill -TERM "$POOL_PID"; wait "$POOL_PID" 2>/dev/null || true; POOL_PID=""
rm -f "$R"/var/lib/aapanel/aapanel.db-* # WAL files of the root-run pool

# A rerun changes nothing and says so.
# Paths, owners, modes, sizes, file mtimes and contents (directory mtimes move
# when SQLite opens and deletes its journal: that is no change).
snapshot() {
	(cd "$1" && { find . -type d -printf '%p %U:%G %m\n'; find . ! -type d -printf '%p %U:%G %m %s %T@\n'; } | sort &&
		find . -type f -exec sha256sum {} + | sort)
}
snapshot "$R" > "$T/snap.before"
rc=0; "$INSTALL" --root "$R" --skip-deps --no-start > "$T/install2.log" 2>&1 || rc=$?
check "rerun exits 0" test "$rc" = 0
snapshot "$R" > "$T/snap.after"
check "rerun changes nothing in the root" diff -u "$T/snap.before" "$T/snap.after"
check "rerun reports what it kept" grep -q "exists, unchanged: $R/etc/aapanel/profiles/production.cfg" "$T/install2.log"
no_second_admin() { ! grep -q '^  password:' "$1" && grep -q 'user(s) exist' "$1"; }
check "rerun creates no second admin" no_second_admin "$T/install2.log"

# A second install gets another base path; --dry-run changes nothing.
seed_root "$T/root2"
"$INSTALL" --root "$T/root2" --skip-deps --no-start > "$T/install3.log" 2>&1 || true
bp2=$(sed -n 's/^[[:space:]]*base_path = "\(.*\)";/\1/p' "$T/root2/etc/aapanel/profiles/production.cfg")
check "two installs get different base paths" test -n "$bp2" -a "$bp2" != "$bp"
seed_root "$T/root3"
snapshot "$T/root3" > "$T/snap3.before"
check "--dry-run exits 0" "$INSTALL" --root "$T/root3" --skip-deps --no-start --dry-run > "$T/dry.log" 2>&1
snapshot "$T/root3" > "$T/snap3.after"
check "--dry-run changes nothing" diff -q "$T/snap3.before" "$T/snap3.after"
check "--dry-run says what it would do" grep -q "would: created system user www" "$T/dry.log"

# Uninstall keeps configuration and data; --purge removes them.
check "--uninstall exits 0" "$INSTALL" --root "$R" --uninstall > "$T/uninstall.log" 2>&1
check "--uninstall removes the binary, share directory and units" test ! -e "$R/usr/local/bin/aapanel" \
	-a ! -e "$R/usr/local/share/aapanel" -a ! -e "$R/lib/systemd/system/aapanel.service" -a ! -e "$R/lib/systemd/system/aapanel.socket"
check "--uninstall keeps configuration, key, data and logs" test -f "$R/etc/aapanel/profiles/production.cfg" \
	-a -f "$R/etc/aapanel/secret_key" -a -f "$R/var/lib/aapanel/aapanel.db" -a -d "$R/var/log/aapanel"
check "--uninstall --purge exits 0" "$INSTALL" --root "$R" --uninstall --purge > "$T/purge.log" 2>&1
check "--purge removes configuration, data, logs and webroot" test ! -e "$R/etc/aapanel" \
	-a ! -e "$R/var/lib/aapanel" -a ! -e "$R/var/log/aapanel" -a ! -e "$R/var/lib/aapanel-acme"
rc=0; "$INSTALL" --root "$R" --purge > /dev/null 2>&1 || rc=$?
check "usage error exits 2" test "$rc" = 2

host_state > "$T/host.after"
check "the machine itself did not change" diff -u "$T/host.before" "$T/host.after"
it_summary
