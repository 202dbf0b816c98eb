#!/usr/bin/env bash
# Install aaPanel on a Debian 12 server (run as root from the source tree).
#
# usage: scripts/install.sh [--domain D --email E] [--prefix DIR] [--skip-deps]
#                           [--no-start] [--root DIR [--no-users]] [--dry-run]
#        scripts/install.sh --uninstall [--purge] [--root DIR] [--prefix DIR] [--dry-run]
#
# What it does, each step idempotent (what exists is kept and reported):
#   1. Debian packages (scripts/install-deps.sh), build, `make install` into a
#      staging directory, then the binary, share directory and systemd units
#      copied into place (unchanged files are not touched);
#   2. the system user and group `www` (home /var/lib/aapanel, no login shell);
#   3. /etc/aapanel (root:www 0750), the secret key /etc/aapanel/secret_key
#      (root:root 0600, handed to the service as the credential aapanel-secret),
#      /etc/aapanel/settings (root:www 0750: the Settings layer) and
#      /etc/nginx/aapanel (root:root 0755: the panel-managed listen include),
#      both written by aapanel-helper only,
#      /var/lib/aapanel (www:www 0750), /var/log/aapanel (www:www 0750),
#      the ACME webroot /var/lib/aapanel-acme (root:www-data 0750);
#   4. /etc/aapanel/aapanel.cfg and profiles/production.cfg with a random
#      panel.base_path (the security entrance) and panel.origins
#      (https://DOMAIN with --domain, else "" = this machine only), never
#      overwritten;
#   5. `aapanel db migrate` and, when there is no user yet, the first admin
#      with a generated password, both run as www;
#   6. systemctl daemon-reload; enable --now aapanel.socket aapanel.service;
#   7. nginx and HTTPS through scripts/setup-https.sh DOMAIN EMAIL (--domain):
#      phase 1 (HTTP + ACME webroot), the certificate, phase 2 (HTTPS);
#   8. the login URL and the admin password (shown once).
#
# --root DIR installs into a disposable root (every path above is prefixed
# with DIR; the user goes into DIR/etc/passwd via `useradd --root`); nothing
# outside DIR changes: no systemctl, no nginx. --no-users skips creating the
# user (ids come from DIR/etc/passwd if www is there, else 999:999).
# --uninstall stops and disables the units, removes the binary, the share
# directory and the units; --purge also removes /etc/aapanel,
# /var/lib/aapanel, /var/log/aapanel and /var/lib/aapanel-acme.
# Exit: 0 done, 1 failed (or installed but HTTPS setup failed), 2 usage.
# Functions run through act/trap/conditions look unreachable to shellcheck.
# shellcheck disable=SC2317
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
PROG=install.sh
ROOT="" PREFIX=/usr/local DOMAIN="" EMAIL=""
SKIP_DEPS=0 NO_START=0 UNINSTALL=0 PURGE=0 DRY_RUN=0 NO_USERS=0
USER_NAME=www WEB_GROUP=www-data
UNITS=(aapanel.socket aapanel.service aapanel-helper.socket)

usage() {
	sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}
die() { echo "$PROG: error: $*" >&2; exit 1; }
step() { echo "==> $*"; }
note() { echo "    $*"; }
# act DESCRIPTION COMMAND...: run COMMAND (or only say it with --dry-run).
act() {
	local d=$1; shift
	if [ "$DRY_RUN" -eq 1 ]; then echo "    would: $d"; return 0; fi
	"$@"
	echo "    $d"
}

while [ $# -gt 0 ]; do
	case "$1" in
	--root) [ $# -ge 2 ] || usage; ROOT=$2; shift 2 ;;
	--prefix) [ $# -ge 2 ] || usage; PREFIX=$2; shift 2 ;;
	--domain) [ $# -ge 2 ] || usage; DOMAIN=$2; shift 2 ;;
	--email) [ $# -ge 2 ] || usage; EMAIL=$2; shift 2 ;;
	--skip-deps) SKIP_DEPS=1; shift ;;
	--no-start) NO_START=1; shift ;;
	--no-users) NO_USERS=1; shift ;;
	--uninstall) UNINSTALL=1; shift ;;
	--purge) PURGE=1; shift ;;
	--dry-run) DRY_RUN=1; shift ;;
	-h | --help) usage ;;
	*) echo "$PROG: unknown argument '$1'" >&2; usage ;;
	esac
done

safe_path() { case "$1" in /*) ;; *) return 1 ;; esac; case "$1" in *[!A-Za-z0-9/._-]* | *..*) return 1 ;; esac; }
if [ -n "$ROOT" ]; then
	safe_path "$ROOT" || { echo "$PROG: --root must be an absolute path of [A-Za-z0-9/._-]" >&2; exit 2; }
	ROOT=${ROOT%/}
	[ -d "$ROOT" ] || { echo "$PROG: --root $ROOT: no such directory" >&2; exit 2; }
fi
safe_path "$PREFIX" || { echo "$PROG: --prefix must be an absolute path of [A-Za-z0-9/._-]" >&2; exit 2; }
PREFIX=${PREFIX%/}
if [ -n "$DOMAIN" ]; then
	[[ "$DOMAIN" =~ ^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$ ]] ||
		{ echo "$PROG: --domain '$DOMAIN' is not a host name" >&2; exit 2; }
	[[ "$EMAIL" =~ ^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+$ ]] ||
		{ echo "$PROG: --domain needs --email ADDRESS (for the certificate authority)" >&2; exit 2; }
fi
[ "$PURGE" -eq 0 ] || [ "$UNINSTALL" -eq 1 ] || { echo "$PROG: --purge goes with --uninstall" >&2; exit 2; }
[ "$DRY_RUN" -eq 1 ] || [ "$(id -u)" -eq 0 ] || die "run as root (or try --dry-run)"

ETC="$ROOT/etc/aapanel"
VARLIB="$ROOT/var/lib/aapanel"
LOGDIR="$ROOT/var/log/aapanel"
ACME="$ROOT/var/lib/aapanel-acme"
BIN="$ROOT$PREFIX/bin/aapanel"
HELPER_BIN="$ROOT$PREFIX/sbin/aapanel-helper"
SHARE="$ROOT$PREFIX/share/aapanel"
UNITDIR="$ROOT/lib/systemd/system"
CFG="$ETC/aapanel.cfg"
PROD="$ETC/profiles/production.cfg"
KEY="$ETC/secret_key"

# Temporary files: under $TMPDIR, removed on exit whatever happens.
TMPS=()
cleanup() { local d; for d in "${TMPS[@]}"; do [ -n "$d" ] && rm -rf "$d"; done; }
trap cleanup EXIT
# tmpdir VAR: a fresh private directory in VAR (not $(...): TMPS must grow here).
tmpdir() { local d; d=$(mktemp -d "${TMPDIR:-/tmp}/aapanel-install.XXXXXX"); TMPS+=("$d"); printf -v "$1" '%s' "$d"; }

systemd_runs() { [ -z "$ROOT" ] && [ -d /run/systemd/system ]; }

# passwd_field FILE NAME FIELD: a field of an /etc/passwd- or /etc/group-style file.
passwd_field() { awk -F: -v n="$2" -v f="$3" '$1 == n { print $f; exit }' "$1" 2>/dev/null || true; }
lookup_uid() {
	if [ -n "$ROOT" ]; then passwd_field "$ROOT/etc/passwd" "$1" 3; else { getent passwd "$1" || true; } | cut -d: -f3; fi
}
lookup_gid() {
	if [ -n "$ROOT" ]; then passwd_field "$ROOT/etc/group" "$1" 3; else { getent group "$1" || true; } | cut -d: -f3; fi
}

# ---------------------------------------------------------------- uninstall
if [ "$UNINSTALL" -eq 1 ]; then
	step "uninstalling aaPanel${ROOT:+ from the root $ROOT}"
	if systemd_runs; then
		for u in aapanel.service aapanel.socket aapanel-helper.service aapanel-helper.socket; do
			if systemctl list-unit-files "$u" >/dev/null 2>&1 && systemctl cat "$u" >/dev/null 2>&1; then
				act "stopped and disabled $u" systemctl disable --now --quiet "$u"
			fi
		done
	else
		note "systemd not managed here (${ROOT:+--root}${ROOT:-systemd is not PID 1}): no units stopped"
	fi
	removed=0
	for f in "$BIN" "$HELPER_BIN" "$SHARE" "$UNITDIR/aapanel.service" "$UNITDIR/aapanel.socket" \
		"$ROOT/etc/nginx/conf.d/aapanel-sites.conf"; do
		if [ -e "$f" ]; then act "removed $f" rm -rf "$f"; removed=1; fi
	done
	if [ -d "$SRC/conf/systemd" ]; then
		for u in "$SRC"/conf/systemd/*; do
			[ -f "$u" ] || continue
			f="$UNITDIR/$(basename "$u")"
			if [ -e "$f" ]; then act "removed $f" rm -f "$f"; removed=1; fi
		done
	fi
	[ "$removed" -eq 1 ] || note "nothing installed: binary, share directory and units already absent"
	if systemd_runs; then act "systemd reloaded" systemctl daemon-reload; fi
	if [ "$PURGE" -eq 1 ]; then
		for d in "$ETC" "$VARLIB" "$LOGDIR" "$ACME"; do
			if [ -e "$d" ]; then act "purged $d" rm -rf "$d"; fi
		done
		note "the system user '$USER_NAME' is kept (Debian practice: a removed uid could be reused by"
		note "files left elsewhere); remove it with: userdel $USER_NAME"
	else
		note "kept configuration and data: $ETC $VARLIB $LOGDIR $ACME (add --purge to remove them)"
	fi
	step "done"
	exit 0
fi

# ---------------------------------------------------------------- 1. files
step "1/8 dependencies and build"
if [ "$SKIP_DEPS" -eq 1 ]; then
	note "skipped (--skip-deps)"
elif [ "$DRY_RUN" -eq 1 ]; then
	note "would: run $SRC/scripts/install-deps.sh --runtime"
else
	"$SRC/scripts/install-deps.sh" --runtime
fi
# The share directory is compiled into the binary (AP_SHAREDIR), so build and
# install with the same PREFIX.
if [ ! -x "$SRC/build/aapanel" ]; then
	act "built $SRC/build/aapanel" make -s -C "$SRC" PREFIX="$PREFIX" all
fi
if [ "$DRY_RUN" -eq 0 ]; then
	tmpdir STAGE
	make -s -C "$SRC" install PREFIX="$PREFIX" DESTDIR="$STAGE" > "$STAGE.log" 2>&1 ||
		{ cat "$STAGE.log" >&2; rm -f "$STAGE.log"; die "make install failed"; }
	rm -f "$STAGE.log"
	S="$STAGE$PREFIX"
	mkdir -p "$ROOT$PREFIX/bin" "$ROOT$PREFIX/sbin" "$ROOT$PREFIX/share" "$UNITDIR"
	if cmp -s "$S/bin/aapanel" "$BIN"; then
		note "unchanged: $BIN"
	else
		act "installed $BIN" install -m 0755 "$S/bin/aapanel" "$BIN"
	fi
	# The privileged helper (docs/helper.md), started by aapanel-helper.socket.
	if cmp -s "$S/sbin/aapanel-helper" "$HELPER_BIN"; then
		note "unchanged: $HELPER_BIN"
	else
		act "installed $HELPER_BIN" install -m 0755 "$S/sbin/aapanel-helper" "$HELPER_BIN"
		HELPER_CHANGED=1
	fi
	if [ -d "$SHARE" ] && diff -r -q "$S/share/aapanel" "$SHARE" >/dev/null 2>&1; then
		note "unchanged: $SHARE"
	else
		# Replace the whole directory so files removed upstream disappear too.
		rm -rf "$SHARE.new"
		cp -R "$S/share/aapanel" "$SHARE.new"
		rm -rf "$SHARE"
		act "installed $SHARE" mv "$SHARE.new" "$SHARE"
	fi
	nunits=0
	for u in "$STAGE/lib/systemd/system"/*; do
		[ -f "$u" ] || continue
		nunits=$((nunits + 1))
		f="$UNITDIR/$(basename "$u")"
		if cmp -s "$u" "$f"; then note "unchanged: $f"; else
			act "installed $f" install -m 0644 "$u" "$f"
			# A running helper keeps its old sandbox until it starts again (step 6).
			case "$(basename "$u")" in aapanel-helper.*) HELPER_CHANGED=1 ;; esac
		fi
	done
	[ "$nunits" -gt 0 ] || note "warning: conf/systemd/ holds no units; none installed"
	if [ "$PREFIX" != /usr/local ]; then
		note "note: aapanel.service runs /usr/local/bin/aapanel; for --prefix $PREFIX add a drop-in:"
		note "      systemctl edit aapanel  ->  ExecStart=  /  ExecStart=$PREFIX/bin/aapanel --profile production --root $SHARE serve"
	fi
else
	note "would: make install PREFIX=$PREFIX into a staging directory, then copy"
	note "       $BIN, $SHARE and conf/systemd/* into $UNITDIR"
fi

# ---------------------------------------------------------------- 2. user
step "2/8 system user '$USER_NAME'"
WWW_UID=$(lookup_uid "$USER_NAME")
WWW_GID=$(lookup_gid "$USER_NAME")
if [ -n "$WWW_UID" ]; then
	note "exists (uid $WWW_UID), unchanged"
	[ -n "$WWW_GID" ] || WWW_GID=$(if [ -n "$ROOT" ]; then passwd_field "$ROOT/etc/passwd" "$USER_NAME" 4; else id -g "$USER_NAME"; fi)
elif [ "$NO_USERS" -eq 1 ]; then
	WWW_UID=999 WWW_GID=${WWW_GID:-999}
	note "not created (--no-users): files get the fake ids $WWW_UID:$WWW_GID"
else
	[ -z "$ROOT" ] || [ -f "$ROOT/etc/passwd" ] || die "$ROOT/etc/passwd is missing: seed the root's passwd/group/shadow/gshadow or use --no-users"
	ua=(useradd --system --home-dir /var/lib/aapanel --no-create-home --shell /usr/sbin/nologin
		--comment "aaPanel")
	[ -z "$ROOT" ] || ua+=(--root "$ROOT")
	if [ -n "$WWW_GID" ]; then ua+=(--gid "$USER_NAME"); else ua+=(--user-group); fi
	act "created system user $USER_NAME (home /var/lib/aapanel, shell /usr/sbin/nologin)" \
		"${ua[@]}" "$USER_NAME" 2> >(grep -v "missing or non-executable shell" >&2)
	if [ "$DRY_RUN" -eq 1 ]; then
		WWW_UID=999 WWW_GID=999
	else
		WWW_UID=$(lookup_uid "$USER_NAME") WWW_GID=$(lookup_gid "$USER_NAME")
		if [ -z "$WWW_UID" ] || [ -z "$WWW_GID" ]; then die "user $USER_NAME was not created"; fi
	fi
fi
WEB_GID=$(lookup_gid "$WEB_GROUP")
if [ -z "$WEB_GID" ]; then
	[ "$NO_USERS" -eq 1 ] || [ "$DRY_RUN" -eq 1 ] || die "group $WEB_GROUP (nginx) is missing${ROOT:+ from $ROOT/etc/group}"
	WEB_GID=33
fi
note "nginx ($WEB_GROUP) reaches the panel through the socket's group (SocketGroup=$WEB_GROUP): nothing to add"

# ---------------------------------------------------------------- 3. directories and key
step "3/8 directories and secret key"
# ensure_dir PATH UID GID MODE: create it, or fix owner and mode when they differ.
ensure_dir() {
	local p=$1 u=$2 g=$3 m=$4 cur
	if [ -d "$p" ]; then
		cur=$(stat -c '%u:%g %a' "$p")
		if [ "$cur" = "$u:$g $m" ]; then note "exists, unchanged: $p ($u:$g $m)"; return 0; fi
		fix_dir() { chown "$1" "$2" && chmod "$3" "$2"; }
		act "fixed $p: $cur -> $u:$g $m" fix_dir "$u:$g" "$p" "$m"
	else
		act "created $p ($u:$g $m)" install -d -o "$u" -g "$g" -m "$m" "$p"
	fi
}
[ "$DRY_RUN" -eq 1 ] || mkdir -p "$ROOT/etc" "$ROOT/var/lib" "$ROOT/var/log"
ensure_dir "$ETC" 0 "$WWW_GID" 750
ensure_dir "$ETC/profiles" 0 "$WWW_GID" 750
# What Settings changes (panel.settings_file, nginx.listen_file): written by
# aapanel-helper only (its ReadWritePaths=), read by the panel (www) and nginx.
ensure_dir "$ETC/settings" 0 "$WWW_GID" 750
ensure_dir "$ROOT/etc/nginx/aapanel" 0 0 755
# The state directory is the unit's StateDirectory (www:www 0750, re-owned by
# systemd at start), so nginx cannot reach into it: the ACME webroot lives
# beside it, readable by nginx's group, written by certbot as root.
ensure_dir "$VARLIB" "$WWW_UID" "$WWW_GID" 750
# databases.spool_dir: the helper's own (dumps, the database clients' credential sockets);
# a ReadWritePaths= of aapanel-helper.service, which cannot create it itself.
ensure_dir "$VARLIB/dbdumps" 0 0 700
ensure_dir "$LOGDIR" "$WWW_UID" "$WWW_GID" 750
ensure_dir "$ACME" 0 "$WEB_GID" 750
# Websites (docs/sites.md): the helper writes one vhost per site into
# /etc/nginx/aapanel/sites, which nginx includes from conf.d.
[ "$DRY_RUN" -eq 1 ] || mkdir -p "$ROOT/etc/nginx/aapanel" "$ROOT/etc/nginx/conf.d"
ensure_dir "$ROOT/etc/nginx/aapanel/sites" 0 0 755
SITES_INC="$ROOT/etc/nginx/conf.d/aapanel-sites.conf"
if [ -f "$SRC/conf/nginx/aapanel-sites.conf" ] && cmp -s "$SRC/conf/nginx/aapanel-sites.conf" "$SITES_INC"; then
	note "exists, unchanged: $SITES_INC"
else
	act "installed $SITES_INC" install -m 0644 "$SRC/conf/nginx/aapanel-sites.conf" "$SITES_INC"
fi
if [ -f "$KEY" ]; then
	note "exists, unchanged: $KEY"
else
	gen_key() {
		local tmp
		tmp=$(mktemp "$ETC/.secret_key.XXXXXX") # mode 0600
		if command -v openssl >/dev/null 2>&1; then
			openssl rand -hex 32 > "$tmp"
		else
			od -An -N32 -tx1 /dev/urandom | tr -d ' \n' > "$tmp"
			echo >> "$tmp"
		fi
		chown 0:0 "$tmp" && chmod 0600 "$tmp" && mv "$tmp" "$KEY"
	}
	act "generated $KEY (root:root 0600; passed to the service as credential aapanel-secret)" gen_key
fi

# ---------------------------------------------------------------- 4. configuration
step "4/8 production configuration"
# random_base_path: "/" and 12 characters of [a-z0-9] from /dev/urandom
# (bytes >= 252 are dropped so every character is equally likely).
random_base_path() {
	local a=abcdefghijklmnopqrstuvwxyz0123456789 out="" b
	while [ "${#out}" -lt 12 ]; do
		for b in $(od -An -N16 -tu1 /dev/urandom); do
			[ "$b" -lt 252 ] && [ "${#out}" -lt 12 ] && out+=${a:$((b % 36)):1}
		done
	done
	echo "/$out"
}
if [ -f "$CFG" ]; then
	note "exists, unchanged: $CFG"
else
	act "installed $CFG (root:www 0640)" install -o 0 -g "$WWW_GID" -m 0640 "$SRC/conf/aapanel.cfg" "$CFG"
fi
if [ -f "$PROD" ]; then
	note "exists, unchanged: $PROD (base path kept)"
else
	BASE_PATH=$(random_base_path)
	# The origin browsers will send: https://DOMAIN once setup-https.sh has run
	# (step 7, port 443); without --domain only this machine.
	ORIGINS=""
	[ -z "$DOMAIN" ] || ORIGINS="https://$DOMAIN"
	# Replace the shipped overlay's panel group by one that also sets the
	# security entrance; add the group when the overlay has none.
	write_prod() {
		local tmp
		tmp=$(mktemp "$ETC/profiles/.production.XXXXXX")
		awk -v bp="$BASE_PATH" -v origins="$ORIGINS" '
			function group() {
				print "panel = {"
				print "  debug = false;"
				print "  # Security entrance, generated by scripts/install.sh: the panel answers"
				print "  # only under this path. Keep it private; change it here and reload."
				print "  base_path = \"" bp "\";"
				print "  # The panel'"'"'s own origins (what browsers send in Origin): a form or a"
				print "  # sign-in from anywhere else is refused. \"\" = only this machine (an SSH"
				print "  # tunnel); set it when you serve the panel under a name, e.g. after"
				print "  # scripts/setup-https.sh: origins = \"https://panel.example.com\";"
				print "  origins = \"" origins "\";"
				print "  # The Settings screen'"'"'s layer, written by aapanel-helper (panel.settings)."
				print "  settings_file = \"/etc/aapanel/settings/settings.cfg\";"
				print "};"
				done = 1
			}
			/^panel[ \t]*[=:][ \t]*\{/ { group(); skip = 1; next }
			skip && /^\};/ { skip = 0; next }
			skip { next }
			{ print }
			END { if (!done) { print ""; group() } }
		' "$SRC/conf/profiles/production.cfg" > "$tmp"
		chown "0:$WWW_GID" "$tmp" && chmod 0640 "$tmp" && mv "$tmp" "$PROD"
	}
	act "installed $PROD (root:www 0640) with base_path $BASE_PATH and origins \"$ORIGINS\"" write_prod
fi

# ---------------------------------------------------------------- 5. database and admin
step "5/8 database and first admin"
ADMIN_PW=""
BASE_PATH=""
if [ "$DRY_RUN" -eq 1 ]; then
	note "would: run 'aapanel --profile production db migrate' as $USER_NAME"
	note "would: create the admin user with a generated password when no user exists"
else
	tmpdir W
	chown "$WWW_UID:$WWW_GID" "$W" && chmod 0700 "$W"
	# The key reaches the panel the way systemd hands it over: a private copy
	# named aapanel-secret in $CREDENTIALS_DIRECTORY, readable only by www.
	mkdir -m 0700 "$W/creds"
	install -o "$WWW_UID" -g "$WWW_GID" -m 0600 "$KEY" "$W/creds/aapanel-secret"
	chown "$WWW_UID:$WWW_GID" "$W/creds"
	RUN_CFG=$CFG
	if [ -n "$ROOT" ]; then
		# Inside a disposable root the absolute production paths must point into
		# it: run against a copy of the configuration with those paths remapped.
		mkdir -p "$W/cfg/profiles"
		cp "$CFG" "$W/cfg/aapanel.cfg"
		# One pass, anchored at the opening quote (or sqlite://), so no path is
		# rewritten twice.
		sed -E "s#(\"|sqlite://)/(var/lib/aapanel|var/log/aapanel|run/aapanel|etc/aapanel|etc/nginx/aapanel)#\1$ROOT/\2#g" \
			"$PROD" > "$W/cfg/profiles/production.cfg"
		chown -R "$WWW_UID:$WWW_GID" "$W/cfg"
		RUN_CFG="$W/cfg/aapanel.cfg"
	fi
	# panel ARGS...: the installed binary as www, clean environment, umask 027.
	panel() {
		(umask 027 && setpriv --reuid="$WWW_UID" --regid="$WWW_GID" --clear-groups \
			env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin CREDENTIALS_DIRECTORY="$W/creds" \
			"$BIN" --profile production --root "$SHARE" --config "$RUN_CFG" "$@")
	}
	panel --version >/dev/null 2>&1 ||
		die "$USER_NAME (uid $WWW_UID) cannot run $BIN: make every directory above it traversable (chmod o+x)"
	panel config check >"$W/check.log" 2>&1 || { cat "$W/check.log" >&2; die "the configuration is invalid (above)"; }
	note "configuration valid (aapanel config check)"
	panel db migrate >"$W/migrate.log" 2>&1 || { cat "$W/migrate.log" >&2; die "database migration failed"; }
	note "database: $(grep -v '^[0-9]\{4\}-' "$W/migrate.log" | tail -n 1)"
	panel user list >"$W/users" 2>"$W/users.err" || { cat "$W/users.err" >&2; die "cannot list users"; }
	nusers=$(awk 'NR > 1 && NF > 0' "$W/users" | wc -l)
	if [ "$nusers" -gt 0 ]; then
		note "$nusers user(s) exist: no admin created"
	else
		panel user add admin --role admin --generate-password >"$W/admin" 2>"$W/admin.err" ||
			{ cat "$W/admin.err" >&2; die "cannot create the admin user"; }
		ADMIN_PW=$(sed -n 's/^password (shown once): //p' "$W/admin")
		[ -n "$ADMIN_PW" ] || die "the admin was created but no password was printed"
		note "created the admin user 'admin' (password below, shown once)"
	fi
	BASE_PATH=$(panel config show 2>/dev/null | sed -n 's/^[[:space:]]*base_path = "\(.*\)";$/\1/p' | head -n 1)
fi

# ---------------------------------------------------------------- 6. systemd
step "6/8 systemd units"
if [ -n "$ROOT" ]; then
	note "skipped: --root installs do not touch the running system"
elif [ "$NO_START" -eq 1 ]; then
	note "skipped (--no-start); later: systemctl enable --now ${UNITS[*]}"
elif ! systemd_runs; then
	note "skipped: systemd is not PID 1 here; start with 'aapanel serve' under your supervisor"
else
	act "systemd reloaded" systemctl daemon-reload
	act "enabled and started ${UNITS[*]}" systemctl enable --now --quiet "${UNITS[@]}"
	if [ "${HELPER_CHANGED:-0}" -eq 1 ]; then
		# Socket-activated: restarted only if it runs (the next request starts the new one).
		act "restarted aapanel-helper.service under its new unit" systemctl try-restart aapanel-helper.service
	fi
fi

# ---------------------------------------------------------------- 7. nginx
step "7/8 nginx and HTTPS"
HTTPS_OK=0 FINAL_RC=0
if [ -z "$DOMAIN" ]; then
	note "skipped: no --domain. Later: scripts/setup-https.sh DOMAIN EMAIL"
elif [ -n "$ROOT" ]; then
	note "skipped: --root installs do not touch the system's nginx"
elif [ ! -x "$SRC/scripts/setup-https.sh" ]; then
	note "warning: $SRC/scripts/setup-https.sh is missing; nginx not configured"
elif [ "$DRY_RUN" -eq 1 ]; then
	note "would: run scripts/setup-https.sh $DOMAIN $EMAIL (phase 1, certificate, phase 2)"
else
	# setup-https.sh runs phase 1 (HTTP, ACME webroot), obtains the certificate
	# and installs phase 2 (HTTPS); if phase 2 is refused, phase 1 stays.
	https=(--webroot "$ACME" --aapanel-cmd "$BIN" --panel-config "$CFG" --panel-profile production
		--panel-root "$SHARE")
	rc=0
	"$SRC/scripts/setup-https.sh" "$DOMAIN" "$EMAIL" "${https[@]}" || rc=$?
	if [ "$rc" -eq 0 ]; then
		HTTPS_OK=1
		note "nginx serves https://$DOMAIN/"
	else
		FINAL_RC=1
		note "warning: setup-https.sh failed (exit $rc, reasons above); the panel is installed."
		note "fix the cause (DNS for $DOMAIN pointing here, port 80 reachable) and run:"
		note "  $SRC/scripts/setup-https.sh $DOMAIN $EMAIL ${https[*]}"
	fi
fi

# ---------------------------------------------------------------- 8. summary
step "8/8 done"
host=${DOMAIN:-$(hostname -f 2>/dev/null || hostname)}
scheme=http
[ "$HTTPS_OK" -eq 0 ] || scheme=https
bp=${BASE_PATH:-/BASE_PATH}
[ "$bp" != "/" ] || bp=""
echo
echo "  login URL:  $scheme://$host$bp/login"
if [ -n "$DOMAIN" ] && [ "$HTTPS_OK" -eq 0 ]; then
	echo "              (nginx not configured: rerun scripts/setup-https.sh $DOMAIN $EMAIL as above)"
elif [ -n "$DOMAIN" ]; then
	:
else
	echo "              (nginx is not configured yet: scripts/setup-https.sh DOMAIN EMAIL)"
fi
if [ -n "$ADMIN_PW" ]; then
	echo "  user:       admin"
	echo "  password:   $ADMIN_PW"
	echo "              (shown once: store it now; change it with 'aapanel user passwd admin --password-stdin')"
fi
echo "  config:     $ETC   data: $VARLIB   logs: $LOGDIR"
exit "$FINAL_RC"
