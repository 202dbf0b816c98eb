#!/usr/bin/env bash
# The systemd units (conf/systemd/): `systemd-analyze verify` accepts them all,
# `systemd-analyze security --offline=true` scores every one at or below 2.0,
# the key directives are there and agree with the production profile and the
# panel, and the sandbox does not break the panel: the real pool,
# socket-activated like aapanel.socket does it and serving real requests, is
# traced with strace and every system call it makes must be allowed by the
# unit's SystemCallFilter=, every socket family by RestrictAddressFamilies=,
# and no mapping may be writable and executable (MemoryDenyWriteExecute=).
# Nothing here touches the system's systemd: the units are checked as files
# (t_systemd.sh runs them under a real systemd in a namespace).
# The traced panel runs as an unprivileged user, so everything it reads
# (binary, templates, translations, migrations, static files) is copied into
# the temp dir first: the tree itself may be private (/root/main, 0700).
. "$(dirname "$0")/lib.sh"
it_setup 'pool = { workers = 2; };'
LPID=""
# Helpers started here are stopped by PID whatever happens (a failed check
# must not leave notify_listen running for its 30 s).
cleanup() {
	local rc=$?
	set +e
	[ "$rc" -eq 0 ] || FAIL=$((FAIL + 1))
	if [ -n "$LPID" ]; then kill "$LPID" 2>/dev/null || true; wait "$LPID" 2>/dev/null || true; fi
	# POOL_PID may be strace, which detaches on SIGTERM and leaves its
	# tracees (the pool, or systemd-socket-activate waiting for a first
	# connection) running: stop them first, by PID, then strace.
	if [ -n "$POOL_PID" ]; then
		# it may not have started its tracee yet
		for _ in $(seq 1 20); do
			[ -n "$(pgrep -P "$POOL_PID")" ] || ! kill -0 "$POOL_PID" 2>/dev/null && break
			sleep 0.05
		done
		tree=$(descendants "$POOL_PID")
		[ -n "$tree" ] && kill -TERM $tree 2>/dev/null
		for _ in $(seq 1 60); do
			alive=""
			for p in $tree; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
			[ -z "$alive" ] && break
			sleep 0.05
		done
		[ -n "$alive" ] && kill -KILL $alive 2>/dev/null
	fi
	true # it_teardown reads $?: a failure is counted in FAIL above
	it_teardown
}
# descendants PID: every process below PID, children first in the list's order
descendants() {
	local c
	for c in $(pgrep -P "$1"); do
		echo "$c"
		descendants "$c"
	done
}
trap cleanup EXIT
UNITS="$SRC/conf/systemd"
SVC="$UNITS/aapanel.service"
SOCK_UNIT="$UNITS/aapanel.socket"
RECOVER="$UNITS/aapanel-socket-recover.service"

# --- the unit files
mkdir -p "$T/units"
cp "$UNITS"/* "$T/units/"
# verify checks that ExecStart's program exists: point it at the built binary.
sed -i "s|^ExecStart=/usr/local/bin/aapanel |ExecStart=$BIN |" "$T/units/aapanel.service"
sed -i "s|^ExecStart=/usr/local/sbin/aapanel-helper |ExecStart=$SRC/build/aapanel-helper |" "$T/units/aapanel-helper.service"
check "the copy's ExecStart points at the built binary" grep -q "^ExecStart=$BIN --profile production serve\$" "$T/units/aapanel.service"
nunits=0
for u in "$T"/units/*; do
	case "$u" in *.service | *.socket) nunits=$((nunits + 1)) ;; esac
done
check "conf/systemd/ ships the panel's socket, service and recovery service and the helper's socket and service ($nunits units)" \
	test -f "$RECOVER" -a "$nunits" -eq 5
rc=0
systemd-analyze verify "$T"/units/*.socket "$T"/units/*.service > "$T/verify.log" 2>&1 || rc=$?
check "systemd-analyze verify accepts every unit (exit 0)" test "$rc" -eq 0
check "systemd-analyze verify has nothing to say about them" test ! -s "$T/verify.log"
[ -s "$T/verify.log" ] && sed 's/^/    /' "$T/verify.log"

# Exposure of every unit, not only the service: a socket unit's commands run
# with its own sandbox settings (9.8 "UNSAFE" with none).
for u in "$UNITS"/*.service "$UNITS"/*.socket; do
	n=$(basename "$u")
	systemd-analyze security --offline=true "$u" > "$T/security.$n.log" 2>&1 || true
	exposure=$(sed -nE "s/^.*Overall exposure level for ${n//./\\.}: ([0-9]+\.[0-9]+).*/\1/p" "$T/security.$n.log")
	check "$n: systemd-analyze security reports an exposure level (got '$exposure')" test -n "$exposure"
	# The helper is root with the capabilities its operations need: its own bound, the one
	# t_helper_units.sh pins and explains (2.3 since the firewall and the database clients).
	bound=2.0
	[ "$n" = aapanel-helper.service ] && bound=2.3
	check "$n: exposure level $exposure is at most $bound" awk -v e="${exposure:-99}" -v b="$bound" 'BEGIN { exit !(e + 0 <= b + 0) }'
done

has() { grep -qxF "$2" "$1"; }
# shellcheck disable=SC2016 # $MAINPID is systemd's, not ours
for d in Type=notify NotifyAccess=main User=www Group=www WatchdogSec=30 Restart=on-failure \
	'ExecStart=/usr/local/bin/aapanel --profile production serve' 'ExecReload=/bin/kill -HUP $MAINPID' \
	LoadCredential=aapanel-secret:/etc/aapanel/secret_key Requires=aapanel.socket \
	StartLimitIntervalSec=60 StartLimitBurst=5 StateDirectory=aapanel RuntimeDirectory=aapanel \
	RuntimeDirectoryPreserve=yes LogsDirectory=aapanel ProtectSystem=strict NoNewPrivileges=yes \
	CapabilityBoundingSet= MemoryDenyWriteExecute=yes SystemCallFilter=@system-service \
	'SystemCallFilter=~@privileged @resources' 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6'; do
	check "aapanel.service has $d" has "$SVC" "$d"
done
check "aapanel.service: exit status 75 is not restarted but recovered" \
	bash -c "grep -qxF RestartPreventExitStatus=75 '$SVC' && grep -qxF OnFailure=aapanel-socket-recover.service '$SVC'"
check "75 is the panel's exit status for a lost socket (AP_POOL_EXIT_SOCKET_LOST)" \
	grep -qE '^#define AP_POOL_EXIT_SOCKET_LOST 75$' "$SRC/include/aapanel/pool.h"
for d in ListenStream=/run/aapanel/aapanel.sock SocketUser=www SocketGroup=www-data SocketMode=0660 \
	Accept=no RemoveOnStop=yes WantedBy=sockets.target User=www RuntimeDirectory=aapanel \
	RuntimeDirectoryMode=0751 RuntimeDirectoryPreserve=yes ExecStartPre=/bin/true NoNewPrivileges=yes \
	CapabilityBoundingSet= ProtectSystem=strict; do
	check "aapanel.socket has $d" has "$SOCK_UNIT" "$d"
done
check "aapanel.socket runs nothing as root (one ExecStartPre, no other Exec*)" \
	test "$(grep -cE '^Exec' "$SOCK_UNIT")" -eq 1
sock_path=$(sed -n 's/^ListenStream=//p' "$SOCK_UNIT")
for d in Type=oneshot "ExecCondition=/usr/bin/test ! -e $sock_path" \
	'ExecStart=/bin/systemctl --no-block restart aapanel.socket aapanel.service' StartLimitBurst=3 \
	NoNewPrivileges=yes CapabilityBoundingSet= ProtectSystem=strict RestrictAddressFamilies=AF_UNIX; do
	check "aapanel-socket-recover.service has $d" has "$RECOVER" "$d"
done
prod_sock=$(sed -nE 's/^[[:space:]]*socket[[:space:]]*=[[:space:]]*"([^"]*)";.*/\1/p' "$SRC/conf/profiles/production.cfg")
check "ListenStream= is the production server.socket ($prod_sock)" has "$SOCK_UNIT" "ListenStream=$prod_sock"
backlog=$(sed -nE 's/^Backlog=([0-9]+)$/\1/p' "$SOCK_UNIT")
check "Backlog=${backlog:-?} is at least server.backlog's minimum 511" test "${backlog:-0}" -ge 511
shutdown=$(sed -nE 's/^[[:space:]]*shutdown_timeout[[:space:]]*=[[:space:]]*([0-9]+);.*/\1/p' "$SRC/conf/aapanel.cfg")
stop=$(sed -nE 's/^TimeoutStopSec=([0-9]+)$/\1/p' "$SVC")
check "TimeoutStopSec=${stop:-?} leaves room for pool.shutdown_timeout=${shutdown:-?}" \
	test "${stop:-0}" -gt "${shutdown:-999}"

# --- the panel under the eyes of strace, socket-activated like in production
# Allowed system calls: the unit's SystemCallFilter= (@system-service minus
# @privileged and @resources), groups expanded by systemd-analyze itself.
expand() {
	local g
	systemd-analyze syscall-filter --no-pager "$1" | awk 'NR > 1 && NF && $1 !~ /^#/ { print $1 }' |
		while read -r g; do
			case "$g" in @*) expand "$g" ;; *) echo "$g" ;; esac
		done
}
# Read from the unit itself: allow-list lines first, then ~ lines subtract.
: > "$T/allow"; : > "$T/deny"
while read -r line; do
	case "$line" in
		'~'*) for g in ${line#\~}; do expand "$g"; done >> "$T/deny" ;;
		*) for g in $line; do expand "$g"; done >> "$T/allow" ;;
	esac
done < <(sed -n 's/^SystemCallFilter=//p' "$SVC")
sort -u -o "$T/allow" "$T/allow"
sort -u -o "$T/deny" "$T/deny"
comm -23 "$T/allow" "$T/deny" > "$T/allowed"
check "the allowed system call list is not empty ($(wc -l < "$T/allowed") calls)" test -s "$T/allowed"
check "setuid is not in the allowed list (the filter is parsed right)" bash -c "! grep -qx setuid '$T/allowed'"

PW='correct horse battery staple'
it_user admin admin "$PW"
# Run the panel as an unprivileged user, as User=www does: some libraries
# behave differently as root (SQLite fchown()s its journals to the database
# owner), and root's calls are not the ones the unit must allow. It cannot
# read a private tree: give it copies, like an installed panel has.
mkdir -p "$T/bin" "$T/share"
cp "$BIN" "$T/bin/aapanel"
cp -R "$SRC/templates" "$SRC/static" "$SRC/po" "$SRC/sql" "$T/share/"
PBIN="$T/bin/aapanel" PROOT="$T/share"
chmod -R a+rX "$T/bin" "$T/share" "$T/conf"
chmod 0755 "$T"
chown -R 65534:65534 "$T/var"
check "the unprivileged user can run the copied binary and read the copied tree" \
	quiet setpriv --reuid=65534 --regid=65534 --clear-groups -- "$PBIN" --profile test --config "$(it_cfg)" --root "$PROOT" config check
"$SRC/build/tests/notify_listen" "$T/notify.sock" 30 > "$T/notify.log" &
LPID=$!
for _ in $(seq 1 50); do [ -S "$T/notify.sock" ] && break; sleep 0.05; done
chmod 0666 "$T/notify.sock"
sock="$T/var/run/aapanel.sock"
# systemd-socket-activate binds the socket, passes it (LISTEN_FDS) on the
# first connection and execs the panel in the same process, like systemd.
# LeakSanitizer cannot run under ptrace (make check SANITIZE=1): leaks are
# checked by every other test, so switch it off for the traced run only.
ASAN_OPTIONS=detect_leaks=0 NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=2000000 \
	strace -f -qq -o "$T/trace" systemd-socket-activate -E NOTIFY_SOCKET -E WATCHDOG_USEC -E ASAN_OPTIONS -l "$sock" \
	setpriv --reuid=65534 --regid=65534 --clear-groups -- \
	"$PBIN" --profile test --config "$(it_cfg)" --root "$PROOT" serve 2>>"$T/pool.log" &
POOL_PID=$! # strace's pid; it follows the pool and exits with it
for _ in $(seq 1 100); do [ -S "$sock" ] && break; sleep 0.05; done
# What aapanel.socket's SocketGroup=www-data and SocketMode=0660 do.
chgrp www-data "$sock"
chmod 0660 "$sock"
# In front: the container image's nginx (docker/nginx.conf) with its paths
# moved into the temp dir; its first request activates the panel.
DN="$T/dnginx"
mkdir -p "$DN/aapanel.d"
cp "$SRC/conf/nginx/fastcgi_params" "$DN/aapanel_fastcgi_params"
sed -e "s|^\t\tlisten 80 default_server;|\t\tlisten 127.0.0.1:$PORT default_server;|" \
	-e '/listen \[::\]:80/d' -e "s|/run/aapanel/aapanel.sock|$sock|g" \
	-e "s|/usr/local/share/aapanel/static/|$PROOT/static/|" -e "s|/etc/nginx/aapanel|$DN/aapanel|g" \
	-e "s|/run/nginx.pid|$DN/nginx.pid|" -e "s|/dev/stdout|$DN/access.log|" \
	"$SRC/docker/nginx.conf" > "$DN/nginx.conf"
check "docker/nginx.conf: every container path was moved into the temp dir" \
	bash -c "! grep -nE 'unix:/run/|alias /usr/|/etc/nginx/aapanel|listen (80|\\[::\\])' '$DN/nginx.conf'"
nginx -p "$DN" -c "$DN/nginx.conf" -e "$DN/error.log" 2>>"$DN/stderr.log" &
NGINX_PID=$!
for _ in $(seq 1 200); do
	curl -s -o /dev/null "$(url /healthz)" && break
	kill -0 "$NGINX_PID" 2>/dev/null || { not_ok "nginx with docker/nginx.conf started"; cat "$DN/error.log" "$DN/stderr.log"; break; }
	sleep 0.05
done
for _ in $(seq 1 200); do grep -q '^READY=1' "$T/notify.log" 2>/dev/null && break; sleep 0.05; done
check "the traced pool started and told systemd READY=1" grep -q '^READY=1' "$T/notify.log"
# The master: strace's child, which systemd-socket-activate and setpriv
# turned into the panel (same pid, like systemd's MAINPID).
master=$(ps -o pid= --ppid "$POOL_PID" | tr -d ' ' | head -1)
check "found the master's pid in the trace (${master:-none})" test -n "$master"
check "the master runs as the unprivileged user (uid 65534)" test "$(ps -o uid= -p "${master:-0}" | tr -d ' ')" = 65534
check "GET /healthz: 200" test "$(status_of GET /healthz)" = 200
check "login with the right password: 303" test "$(it_login "$T/jar" admin "$PW")" = 303
check "the signed-in home page: 200" test "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" "$(url /)")" = 200
check "the API with the session: 200" test "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" -H 'Accept: application/json' "$(url /account)")" = 200
check "docker/nginx.conf serves static files" test "$(status_of GET /static/favicon.svg)" = 200
check "docker/nginx.conf: nosniff and no server version" bash -c "curl -sI '$(url /static/favicon.svg)' | grep -qi '^x-content-type-options: nosniff' && ! curl -sI '$(url /)' | grep -qi '^server: nginx/'"
codes=""
for _ in $(seq 1 8); do codes="$codes $(status_of POST /login -d x=1)"; done
check "docker/nginx.conf rate-limits sign-in POSTs with 429 (got$codes)" bash -c "[[ '$codes' == *429* ]]"
# The image's HEALTHCHECK: /healthz over FastCGI with cgi-fcgi, no nginx.
check "docker/healthcheck.sh: healthy pool exits 0" "$SRC/docker/healthcheck.sh" "$sock"
check "docker/healthcheck.sh: no socket exits 1" bash -c "! '$SRC/docker/healthcheck.sh' '$T/no.sock' 2>/dev/null"
if [ -n "$master" ]; then
	kill -HUP "$master"
	for _ in $(seq 1 100); do grep -q '^RELOADING=1' "$T/notify.log" && break; sleep 0.05; done
	sleep 0.5
	check "reload (SIGHUP) under the trace" grep -q '^RELOADING=1' "$T/notify.log"
	check "GET /healthz after the reload: 200" test "$(status_of GET /healthz)" = 200
	kill -TERM "$master"
fi
rc=0
for _ in $(seq 1 200); do kill -0 "$POOL_PID" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$POOL_PID" 2>/dev/null; then # never hang: stop what is left
	[ -n "$master" ] && kill -KILL "$master" 2>/dev/null
	kill -TERM "$POOL_PID" 2>/dev/null
fi
wait "$POOL_PID" || rc=$?
POOL_PID=""
check "the pool stopped cleanly on SIGTERM (exit $rc)" test "$rc" -eq 0
kill "$LPID" 2>/dev/null || true; wait "$LPID" 2>/dev/null || true; LPID=""

# Only what happened after the panel was executed counts.
awk -v bin="$PBIN" 'found { print; next } index($0, "execve(\"" bin "\"") && / = 0$/ { found = 1; print }' \
	"$T/trace" > "$T/panel.trace"
sed -nE 's/^[0-9]+ +([a-z0-9_]+)\(.*/\1/p' "$T/panel.trace" | sort -u > "$T/used"
check "the trace recorded the panel's system calls ($(wc -l < "$T/used") distinct)" test "$(wc -l < "$T/used")" -gt 20
comm -23 "$T/used" "$T/allowed" > "$T/outside"
check "every system call the panel made is allowed by SystemCallFilter= (outside: $(tr '\n' ' ' < "$T/outside"))" \
	test ! -s "$T/outside"
sed -nE 's/^[0-9]+ +socket\((AF_[A-Z0-9]+),.*/\1/p' "$T/panel.trace" | sort -u > "$T/families"
check "the trace shows the sd_notify socket (AF_UNIX), so socket() calls are parsed" grep -qx AF_UNIX "$T/families"
check "socket families used ($(tr '\n' ' ' < "$T/families")) are within RestrictAddressFamilies=" \
	bash -c "! grep -qvxE 'AF_UNIX|AF_INET|AF_INET6' '$T/families'"
check "no writable and executable mapping (MemoryDenyWriteExecute=)" \
	bash -c "! grep -E '^[0-9]+ +(mmap|mprotect|pkey_mprotect)\(' '$T/panel.trace' | grep -q 'PROT_WRITE|PROT_EXEC'"

# --- the container image's configuration (docker/production.cfg) is valid,
# with the secret and the DB password as Docker secrets read as credentials.
mkdir -p "$T/img/profiles" "$T/secrets"
cp "$SRC/conf/aapanel.cfg" "$T/img/aapanel.cfg"
cp "$SRC/docker/production.cfg" "$T/img/profiles/production.cfg"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$T/secrets/aapanel-secret"
printf 'x\n' > "$T/secrets/aapanel-db-password"
check "docker/production.cfg passes config check (secrets from CREDENTIALS_DIRECTORY)" \
	quiet env CREDENTIALS_DIRECTORY="$T/secrets" "$BIN" --profile production --config "$T/img/aapanel.cfg" --root "$SRC" config check
check "docker/production.cfg takes the key from the credential" bash -c \
	"CREDENTIALS_DIRECTORY='$T/secrets' '$BIN' --profile production --config '$T/img/aapanel.cfg' --root '$SRC' config show | grep -q 'credential aapanel-secret'"
rm -f "$T/secrets/aapanel-secret"
check "docker/production.cfg without the secret is refused" bash -c \
	"! CREDENTIALS_DIRECTORY='$T/secrets' '$BIN' --profile production --config '$T/img/aapanel.cfg' --root '$SRC' config check >/dev/null 2>&1"

it_summary
