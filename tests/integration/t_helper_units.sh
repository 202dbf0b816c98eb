#!/usr/bin/env bash
# The helper's systemd units (conf/systemd/aapanel-helper.{socket,service}):
#  1. as files: `systemd-analyze verify` accepts them, `systemd-analyze
#     security --offline=true` scores the service at or below 1.5 although it
#     runs as root, the hardening directives are there, and the socket agrees
#     with the production profile (path, group of helper.panel_user);
#  2. the real helper, socket-activated and traced with strace while it
#     serves pings, a program (test.echo), a job (test.sleep), the sandbox and
#     refusals: every system call it and the programs it starts make is
#     allowed by the unit's SystemCallFilter= (read in order), every socket
#     family by RestrictAddressFamilies=, no mapping is writable and
#     executable (MemoryDenyWriteExecute=);
#  3. the units under a real systemd, PID 1 of its own PID + mount + network
#     namespaces (/work/shared/reference/systemd-namespace.md): the socket is
#     held by systemd, the first connection starts the service as root with
#     every restriction of the unit, it answers the panel's uid only, runs a
#     program and a job, is started again by its socket after a stop and
#     restarted after a crash;
#  4. under the same systemd, the helper restarted with the production
#     profile under the shipped unit, what each operation needs
#     (docs/helper.md, "Sandbox and what each operation needs"): a command
#     task runs as its user in a transient unit with its timeout enforced,
#     URL tasks reach servers in the namespace, the helper's own IP sockets
#     reach localhost only (a drop-in adds a database server), the firewall's
#     rules land in the namespace's ruleset (seen by nft outside the unit,
#     traffic over a veth pair dropped, reverted unconfirmed, kept when
#     confirmed), and its mount namespace is read-only but for its paths.
#  5. restic as transient units of its own under that unit: a local
#     destination, a backup cancelled while it runs, and an offsite one: an
#     SFTP server at 192.0.2.2 (the veth peer, not loopback; the helper's own
#     unit cannot reach it) added, a site backed up, listed, restored in place
#     byte-identical.
#  6. a database's import and export under that unit: a MariaDB of the test
#     on the namespace's loopback; mariadb and mariadb-dump each in a
#     transient unit of its own as nobody, the dump through the unit's stdin
#     or stdout, the login through LoadCredential= (in no argv, environment,
#     property or journal line); the rows arrive, the export is the database;
#     an import cancelled while it runs stops its unit.
# Nothing here touches the machine's systemd, /run or ruleset.
. "$(dirname "$0")/lib.sh"
it_setup
UNITS="$SRC/conf/systemd"
SVC="$UNITS/aapanel-helper.service"
SOCK_UNIT="$UNITS/aapanel-helper.socket"
HELPER="$SRC/build/aapanel-helper"
SEND="$SRC/build/tests/helper_send"
SD="" TU="" HTTP_PID="" HTTP2_PID="" CLIENT="" NEAR_PID="" FAR_PID="" SSHD_PID="" MY_PID="" PGM_PID=""

u_teardown() {
	local rc=$?
	for p in $HTTP_PID $HTTP2_PID $CLIENT $NEAR_PID $FAR_PID; do kill "$p" 2>/dev/null || true; done
	[ -n "$SSHD_PID" ] && { sshd_stop || true; }
	if [ -n "$MY_PID" ]; then # the test's MariaDB, by its PID: SIGTERM is its shutdown
		kill "$MY_PID" 2>/dev/null || true
		for _ in $(seq 1 300); do kill -0 "$MY_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$MY_PID" 2>/dev/null || true
	fi
	if [ -n "$PGM_PID" ]; then # the test's PostgreSQL: SIGINT is its fast shutdown
		kill -INT "$PGM_PID" 2>/dev/null || true
		for _ in $(seq 1 300); do kill -0 "$PGM_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$PGM_PID" $(pgrep -P "$PGM_PID" 2>/dev/null) 2>/dev/null || true
	fi
	if [ -n "$SD" ] && kill -0 "$SD" 2>/dev/null; then
		kill -s SIGRTMIN+4 "$SD" 2>/dev/null || true
		for _ in $(seq 1 100); do kill -0 "$SD" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$SD" 2>/dev/null || true
	fi
	[ -n "$TU" ] && rm -rf "$TU"
	set +e # lib.sh's teardown reads the status: hand it over without set -e ending us here
	(exit "$rc")
	it_teardown
}
trap u_teardown EXIT

# --- 1. the unit files
mkdir -p "$T/units"
cp "$SVC" "$SOCK_UNIT" "$T/units/"
sed -i "s|^ExecStart=/usr/local/sbin/aapanel-helper |ExecStart=$HELPER |" "$T/units/aapanel-helper.service"
check "the copy's ExecStart points at the built binary" grep -q "^ExecStart=$HELPER --profile production\$" "$T/units/aapanel-helper.service"
rc=0
systemd-analyze verify "$T/units/aapanel-helper.socket" "$T/units/aapanel-helper.service" > "$T/verify.log" 2>&1 || rc=$?
check "systemd-analyze verify accepts both units (exit 0)" test "$rc" -eq 0
check "systemd-analyze verify has nothing to say about them" test ! -s "$T/verify.log"
[ -s "$T/verify.log" ] && sed 's/^/    /' "$T/verify.log"
systemd-analyze security --offline=true "$SVC" > "$T/security.log" 2>&1 || true
exposure=$(sed -nE 's/^.*Overall exposure level for aapanel-helper\.service: ([0-9]+\.[0-9]+).*/\1/p' "$T/security.log")
systemd-analyze security --offline=true "$T/units/aapanel-helper.socket" > "$T/security.sock.log" 2>&1 || true
sock_exposure=$(sed -nE 's/^.*Overall exposure level for aapanel-helper\.socket: ([0-9]+\.[0-9]+).*/\1/p' "$T/security.sock.log")
check "aapanel-helper.socket runs no command and scores ${sock_exposure:-?} (at most 2.0)" \
	bash -c "! grep -q '^Exec' '$SOCK_UNIT' && awk -v e='${sock_exposure:-99}' 'BEGIN { exit !(e <= 2.0) }'"
echo "  (systemd-analyze security: aapanel-helper.service exposure ${exposure:-?})"
check "systemd-analyze security reports an exposure level (got '$exposure')" test -n "$exposure"
# 1.4 with PrivateNetwork=yes and AF_UNIX only; 2.3 since the firewall has the
# server's network namespace and CAP_NET_ADMIN, and the databases IP sockets
# (to localhost only): docs/helper.md, "Sandbox and what each operation needs".
check "exposure level $exposure is at most 2.3, root as it is" awk -v e="${exposure:-99}" 'BEGIN { exit !(e + 0 <= 2.3) }'
has() { grep -qxF "$2" "$1"; }
for d in Type=notify NotifyAccess=main User=root Requires=aapanel-helper.socket WatchdogSec=30 \
	Restart=on-failure KillMode=mixed 'ExecStart=/usr/local/sbin/aapanel-helper --profile production' \
	NoNewPrivileges=yes 'CapabilityBoundingSet=CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_NET_ADMIN' ProtectSystem=strict \
	'ReadWritePaths=/etc -/var/www -/var/log/nginx -/run/php' PrivateNetwork=no PrivateDevices=yes \
	'ReadWritePaths=-/etc/aapanel/settings -/etc/nginx/aapanel -/var/lib/nginx' \
	'ReadWritePaths=-/var/lib/aapanel/dbdumps' RuntimeDirectory=aapanel-helper-creds RuntimeDirectoryMode=0700 \
	PrivateTmp=yes MemoryDenyWriteExecute=yes 'RestrictAddressFamilies=AF_UNIX AF_NETLINK AF_INET AF_INET6' \
	IPAddressDeny=any IPAddressAllow=localhost RestrictNamespaces=yes \
	SystemCallFilter=@system-service 'SystemCallFilter=~@privileged @resources' LimitCORE=0; do
	check "aapanel-helper.service has $d" has "$SVC" "$d"
done
for d in SocketUser=root SocketMode=0660 DirectoryMode=0751 Accept=no RemoveOnStop=yes WantedBy=sockets.target \
	DynamicUser=yes NoNewPrivileges=yes CapabilityBoundingSet= RestrictAddressFamilies=none; do
	check "aapanel-helper.socket has $d" has "$SOCK_UNIT" "$d"
done
prod_sock=$(sed -n '/^helper = {/,/^};/p' "$SRC/conf/profiles/production.cfg" | sed -nE 's/^[[:space:]]*socket[[:space:]]*=[[:space:]]*"([^"]*)";.*/\1/p')
prod_user=$(sed -n '/^helper = {/,/^};/p' "$SRC/conf/profiles/production.cfg" | sed -nE 's/^[[:space:]]*panel_user[[:space:]]*=[[:space:]]*"([^"]*)";.*/\1/p')
check "the spool's ReadWritePaths= is the production databases.spool_dir (/var/lib/aapanel/dbdumps: var_dir's, as install.sh creates it)" \
	bash -c "grep -q 'spool_dir = \"var/lib/aapanel/dbdumps\"' '$SRC/conf/aapanel.cfg' && grep -q 'ensure_dir \"\$VARLIB/dbdumps\" 0 0 700' '$SRC/scripts/install.sh'"
check "ListenStream= is the production helper.socket (${prod_sock:-?})" has "$SOCK_UNIT" "ListenStream=$prod_sock"
check "SocketGroup= is the group of the production helper.panel_user (${prod_user:-?})" has "$SOCK_UNIT" "SocketGroup=$prod_user"
prod_key() { sed -n "/^$1 = {/,/^};/p" "$SRC/conf/profiles/production.cfg" | sed -nE "s/^[[:space:]]*$2[[:space:]]*=[[:space:]]*\"([^\"]*)\";.*/\1/p"; }
prod_listen=$(prod_key nginx listen_file) prod_settings=$(prod_key panel settings_file)
check "the helper may write the directory of the production nginx.listen_file (${prod_listen:-?})" \
	bash -c "test -n '$prod_listen' && grep -qE '^ReadWritePaths=.*-$(dirname "${prod_listen:-/x/y}")( |\$)' '$SVC'"
check "and that of the production panel.settings_file (${prod_settings:-?})" \
	bash -c "test -n '$prod_settings' && grep -qE '^ReadWritePaths=.*-$(dirname "${prod_settings:-/x/y}")( |\$)' '$SVC'"
check "one CapabilityBoundingSet= line (the sites' three and the firewall's CAP_NET_ADMIN)" \
	test "$(grep -c '^CapabilityBoundingSet=' "$SVC")" = 1
check "no CAP_SETUID, CAP_SETGID or CAP_SYS_ADMIN (tasks switch users in units of their own)" \
	bash -c "! grep -E '^(Capability|Ambient).*CAP_(SETUID|SETGID|SYS_ADMIN)' '$SVC'"
check "the setuid calls stay refused (~@privileged, nothing added back)" \
	bash -c "! grep -E '^SystemCallFilter=[^~].*set(res|re)?[ug]id' '$SVC'"
check "one IPAddressAllow= line, localhost (remote database servers: an administrator's drop-in)" \
	test "$(grep -c '^IPAddressAllow=' "$SVC")" = 1
check "no RestrictSUIDSGID= (systemd would answer openat2 with ENOSYS, and the sandbox needs it)" \
	bash -c "! grep -q '^RestrictSUIDSGID=' '$SVC'"
check "the socket's directory is not the panel's /run/aapanel (www must not replace it)" \
	bash -c "! grep -q '^ListenStream=/run/aapanel/' '$SOCK_UNIT'"
check "the helper unit's user (root) differs from the panel's (www)" \
	bash -c "grep -qx 'User=www' '$UNITS/aapanel.service'"

# --- 2. the helper under strace, socket-activated, serving real requests
expand() { # a group (@x, expanded by systemd-analyze itself) or a single call
	local g
	case "$1" in @*) ;; *) echo "$1"; return ;; esac
	systemd-analyze syscall-filter --no-pager "$1" | awk 'NR > 1 && NF && $1 !~ /^#/ { print $1 }' |
		while read -r g; do expand "$g"; done
}
# systemd's reading: the first line is an allow list, then each line adds
# (no ~) or removes (~) from it, in order.
: > "$T/allowed"
while read -r line; do
	case "$line" in
		'~'*) for g in ${line#\~}; do expand "$g"; done | sort -u > "$T/rm"
		      sort -u "$T/allowed" | comm -23 - "$T/rm" > "$T/next"; mv "$T/next" "$T/allowed" ;;
		*) for g in $line; do expand "$g"; done >> "$T/allowed"; sort -u -o "$T/allowed" "$T/allowed" ;;
	esac
done < <(sed -n 's/^SystemCallFilter=//p' "$SVC")
check "the allowed system call list is not empty ($(wc -l < "$T/allowed") calls)" test -s "$T/allowed"
check "setuid is not allowed (the filter is parsed right)" bash -c "! grep -qx setuid '$T/allowed'"
check "setrlimit is allowed again after ~@resources (read in order)" grep -qx setrlimit "$T/allowed"

HS="$T/var/run/helper.sock"
cat >> "$T/conf/profiles/test.cfg" <<CFG
helper = { socket = "$HS"; sandbox_root = "$T/var/sandbox"; };
CFG
mkdir -p "$T/var/sandbox"
printf 'inside\n' > "$T/var/sandbox/f.txt"
chmod 0755 "$T" "$T/var" "$T/var/run"
# systemd-socket-activate binds the socket and, on the first connection,
# execs the helper in its own process with LISTEN_FDS, as systemd does.
# LeakSanitizer cannot run under ptrace (make check SANITIZE=1).
# sd_notify goes to a stand-in for systemd's notification socket.
"$SRC/build/tests/notify_listen" "$T/notify.sock" 600 > "$T/notify.log" &
LPID=$!
for _ in $(seq 1 50); do [ -S "$T/notify.sock" ] && break; sleep 0.05; done
ASAN_OPTIONS=detect_leaks=0 NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=1000000 \
	strace -f -qq -o "$T/trace" systemd-socket-activate -l "$HS" -E ASAN_OPTIONS -E NOTIFY_SOCKET \
	-E WATCHDOG_USEC "$HELPER" --profile test --config "$(it_cfg)" --root "$SRC" 2>>"$T/helper.log" &
POOL_PID=$! # strace's pid (lib.sh's teardown stops it); the helper is its child
for _ in $(seq 1 100); do [ -S "$HS" ] && break; sleep 0.05; done
chmod 0666 "$HS"
call() { "$SEND" --call --timeout 5000 "$HS" "$@" || true; }
out=$(call helper.ping)
check "the traced, socket-activated helper answers a ping" jqe '.ok and .result.profile == "test"' <<<"$out"
out=$(call test.echo '{"text":"traced"}')
check "... runs a program" jqe '.result.stdout == "traced\n"' <<<"$out"
job=$(call test.sleep '{"seconds":1}' | jq -r '.result.job')
for _ in $(seq 1 100); do
	st=$(call job.status "{\"id\":$job}")
	jqe '.result.state == "done"' <<<"$st" && break
	sleep 0.1
done
check "... runs a job to the end" jqe '.result.state == "done"' <<<"$st"
out=$(call test.read '{"path":"f.txt"}')
check "... reads beneath its sandbox" jqe '.result.content == "inside\n"' <<<"$out"
out=$(call test.read '{"path":"../../etc/passwd"}')
check "... refuses to leave it" jqe '.error.code == "invalid"' <<<"$out"
out=$(printf 'not json\n' | "$SEND" "$HS" || true)
check "... answers a malformed request" jqe '.error.code == "invalid"' <<<"$out"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups -- "$SEND" --call "$HS" helper.ping || true)
check "... refuses another uid" jqe '.error.code == "denied"' <<<"$out"
master=$(ps -o pid= --ppid "$POOL_PID" | tr -d ' ' | head -1)
[ -n "$master" ] && kill -TERM "$master"
rc=0
wait "$POOL_PID" || rc=$?
POOL_PID=""
check "the traced helper stopped cleanly on SIGTERM (exit $rc)" test "$rc" -eq 0
# The listener may not have read the last datagram yet: wait for it (5 s)
# before stopping the listener, not a fixed delay.
for _ in $(seq 1 100); do grep -q '^STOPPING=1' "$T/notify.log" && break; sleep 0.05; done
kill "$LPID" 2>/dev/null || true  # (it ends by itself after 600 s)
wait "$LPID" 2>/dev/null || true
check "it told systemd READY=1" grep -q '^READY=1' "$T/notify.log"
check "it pinged the watchdog (WATCHDOG=1)" grep -q '^WATCHDOG=1' "$T/notify.log"
check "it told systemd STOPPING=1 on SIGTERM" grep -q '^STOPPING=1' "$T/notify.log"
awk -v bin="$HELPER" 'found { print; next } index($0, "execve(\"" bin "\"") && / = 0$/ { found = 1; print }' \
	"$T/trace" > "$T/helper.trace"
sed -nE 's/^[0-9]+ +([a-z0-9_]+)\(.*/\1/p' "$T/helper.trace" | sort -u > "$T/used"
check "the trace recorded the helper's and its programs' system calls ($(wc -l < "$T/used") distinct)" test "$(wc -l < "$T/used")" -gt 20
check "the trace includes the programs it ran (execve of /usr/bin/printf and /bin/sleep)" \
	bash -c "grep -q 'execve(\"/usr/bin/printf\"' '$T/helper.trace' && grep -q 'execve(\"/bin/sleep\"' '$T/helper.trace'"
comm -23 "$T/used" "$T/allowed" > "$T/outside"
check "every system call made is allowed by SystemCallFilter= (outside: $(tr '\n' ' ' < "$T/outside"))" test ! -s "$T/outside"
sed -nE 's/^[0-9]+ +socket\((AF_[A-Z0-9]+),.*/\1/p' "$T/helper.trace" | sort -u > "$T/families"
check "the trace shows AF_UNIX sockets (sd_notify), so socket() calls are parsed" grep -qx AF_UNIX "$T/families"
fams=$(sed -n 's/^RestrictAddressFamilies=//p' "$SVC" | tr ' ' '\n')
check "socket families used ($(tr '\n' ' ' < "$T/families")) are within RestrictAddressFamilies= ($(echo $fams))" \
	bash -c "! grep -vxF -f <(printf '%s\n' $fams) '$T/families'"
check "no writable and executable mapping (MemoryDenyWriteExecute=)" \
	bash -c "! grep -E '^[0-9]+ +(mmap|mprotect|pkey_mprotect)\(' '$T/helper.trace' | grep -q 'PROT_WRITE|PROT_EXEC'"

# --- 3. the units under a real systemd in its own namespaces
# Outside /tmp: the service has PrivateTmp=, and the namespace mounts its own
# /tmp, so the checkout (binary, config, sandbox) must live elsewhere.
case "$SRC" in
/tmp/* | /var/tmp/*) not_ok "the checkout $SRC is under /tmp: a namespace with its own /tmp cannot see it"; exit 1 ;;
esac
TU=$(mktemp -d "$SRC/build/t-helper-units.XXXXXX")
chmod 0755 "$TU"
mkdir -p "$TU/conf/profiles" "$TU/sandbox" "$TU/units"
cp "$SRC/conf/aapanel.cfg" "$TU/conf/aapanel.cfg"
NSOCK=/run/aapanel-helper/aapanel-helper.sock
cat > "$TU/conf/profiles/test.cfg" <<CFG
paths = { var_dir = "$TU/var"; run_dir = "$TU/var"; log_dir = "$TU/var"; };
log = { level = "info"; };
# The unit's socket; the panel is nobody here (no user www on a test machine).
helper = { socket = "$NSOCK"; panel_user = "nobody"; sandbox_root = "$TU/sandbox"; };
CFG
printf 'inside\n' > "$TU/sandbox/f.txt"
cp "$SVC" "$SOCK_UNIT" "$TU/units/"
# Drop-ins change only what this machine lacks (the user www, an installed
# copy, the production secrets); every restriction of the unit stays.
mkdir -p "$TU/units/aapanel-helper.service.d" "$TU/units/aapanel-helper.socket.d"
cat > "$TU/units/aapanel-helper.service.d/test.conf" <<UNIT
[Service]
ExecStart=
ExecStart=$HELPER --profile test --config $TU/conf/aapanel.cfg --root $SRC
# make check SANITIZE=1: LeakSanitizer needs ptrace, which the unit's filter
# refuses (t_helper.sh checks for leaks); ignored by a normal build.
Environment=ASAN_OPTIONS=detect_leaks=0
UNIT
cat > "$TU/units/aapanel-helper.socket.d/test.conf" <<UNIT
[Socket]
SocketGroup=nogroup
UNIT
cat > "$TU/units/t.target" <<UNIT
[Unit]
Description=helper units test
Wants=aapanel-helper.socket
UNIT
cat > "$TU/boot.sh" <<SH
mount --make-rprivate /
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
# The journal on a tmpfs: never the machine's (nor another run's) /var/log/journal.
mkdir -p /var/log/journal
mount -t tmpfs tmpfs /var/log/journal
# Shared within this namespace, as / is on a booted machine (systemd leaves
# it to a container's manager): the ramfs systemd mounts in a unit's set-up
# for its credentials (LoadCredential=) reaches /run/credentials/UNIT only
# through a shared /run. New peer groups: nothing propagates to the machine.
mount --make-rshared /
mkdir -p /run/systemd/system
cp -r "$TU/units/." /run/systemd/system/
exec env container=other /lib/systemd/systemd --system --unit=t.target --log-target=console --log-level=notice
SH
setsid unshare --fork --pid --mount --mount-proc --net sh "$TU/boot.sh" > "$TU/systemd.log" 2>&1 < /dev/null &
UNSHARE=$!
for _ in $(seq 1 100); do
	SD=$(ps -o pid= --ppid "$UNSHARE" | tr -d ' ' | head -1)
	[ -n "$SD" ] && break
	sleep 0.05
done
ns() { nsenter -t "$SD" -m -p -- "$@"; }
up=""
for _ in $(seq 1 150); do
	[ "$(ns systemctl is-active aapanel-helper.socket 2>/dev/null)" = active ] && { up=1; break; }
	sleep 0.1
done
check "systemd in a namespace (pid ${SD:-?}) holds aapanel-helper.socket" test -n "$up"
check "the socket exists, root:nogroup 0660" test "$(ns stat -c '%U:%G %a' "$NSOCK" 2>/dev/null)" = "root:nogroup 660"
check "the service is not started before anyone connects" \
	test "$(ns systemctl is-active aapanel-helper.service 2>/dev/null)" = inactive
ncall() { ns setpriv --reuid=65534 --regid=65534 --clear-groups -- "$SEND" --call --timeout 5000 "$NSOCK" "$@" || true; }
out=$(ncall helper.ping)
check "the panel's uid (nobody here) connects: the service starts and answers as root" \
	jqe '.ok and .result.uid == 0 and .result.profile == "test"' <<<"$out"
check "aapanel-helper.service is active (Type=notify: it said READY)" \
	test "$(ns systemctl is-active aapanel-helper.service 2>/dev/null)" = active
mainpid=$(ns systemctl show -p MainPID --value aapanel-helper.service 2>/dev/null)
caps=$(ns grep -E '^CapEff:' "/proc/$mainpid/status" 2>/dev/null | awk '{print $2}')
# The sites' three (CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER: bits 0, 1, 3) and the
# firewall's CAP_NET_ADMIN (bit 12), no other.
check "the helper runs with only the sites' and the firewall's capabilities (CapEff ${caps:-?})" test "$caps" = 000000000000100b
check "... under a seccomp filter" test "$(ns grep -E '^Seccomp:' "/proc/$mainpid/status" 2>/dev/null | awk '{print $2}')" = 2
check "... with no_new_privs" test "$(ns grep -E '^NoNewPrivs:' "/proc/$mainpid/status" 2>/dev/null | awk '{print $2}')" = 1
out=$(ncall test.echo '{"text":"under systemd"}')
check "it runs a program inside the unit's sandbox" jqe '.result.stdout == "under systemd\n"' <<<"$out"
out=$(ncall test.read '{"path":"f.txt"}')
check "it reads beneath its sandbox root" jqe '.result.content == "inside\n"' <<<"$out"
job=$(ncall test.sleep '{"seconds":1}' | jq -r '.result.job')
for _ in $(seq 1 100); do
	st=$(ncall job.status "{\"id\":$job}")
	jqe '.result.state == "done"' <<<"$st" && break
	sleep 0.1
done
check "it runs a job to the end" jqe '.result.state == "done" and .result.exit_code == 0' <<<"$st"
out=$(ns "$SEND" --call --timeout 5000 "$NSOCK" helper.ping || true)
check "root is not the panel's uid: denied" jqe '.error.code == "denied"' <<<"$out"
ns systemctl stop aapanel-helper.service 2>/dev/null
check "stopped, the service is inactive and the socket still held" \
	bash -c "[ \"\$(nsenter -t $SD -m -p -- systemctl is-active aapanel-helper.service)\" = inactive ] && [ \"\$(nsenter -t $SD -m -p -- systemctl is-active aapanel-helper.socket)\" = active ]"
out=$(ncall helper.ping)
check "the next connection starts it again" jqe '.ok' <<<"$out"
mainpid=$(ns systemctl show -p MainPID --value aapanel-helper.service 2>/dev/null)
ns kill -KILL "$mainpid"
restarted=""
for _ in $(seq 1 100); do
	np=$(ns systemctl show -p MainPID --value aapanel-helper.service 2>/dev/null)
	if [ -n "$np" ] && [ "$np" != 0 ] && [ "$np" != "$mainpid" ] &&
		[ "$(ns systemctl is-active aapanel-helper.service 2>/dev/null)" = active ]; then restarted=1; break; fi
	sleep 0.1
done
check "killed, it is restarted (Restart=on-failure)" test -n "$restarted"
out=$(ncall helper.ping)
check "and answers again" jqe '.ok' <<<"$out"
# --- 4. what the operations need, under the shipped unit (production profile)
# The same systemd; the helper restarted with the production profile (the
# firewall acts on its own network namespace only there, which here is the
# test's namespace, never the machine's), its sandbox beneath $TU. The drop-in
# changes only ExecStart= and adds the sandbox's own directory to
# ReadWritePaths= (the unit's paths are the real system's).
mkdir -p "$TU/sandbox/etc" "$TU/sandbox/ro" "$TU/www"
umask 077; openssl rand -hex 32 > "$TU/secret_key"; umask 022
cat > "$TU/conf/profiles/production.cfg" <<CFG
paths = { var_dir = "$TU/var"; run_dir = "$TU/var"; log_dir = "$TU/var"; };
log = { level = "info"; };
security = { secret_key_file = "$TU/secret_key"; };
helper = { socket = "$NSOCK"; panel_user = "nobody"; sandbox_root = "$TU/sandbox"; };
tasks = { recorder = "$SRC/build/aapanel"; };
firewall = { netns = ""; confirm_seconds = 3; };
CFG
ns mkdir -p /run/systemd/system/aapanel-helper.service.d
ns sh -c "cat > /run/systemd/system/aapanel-helper.service.d/test.conf" <<UNIT
[Service]
ExecStart=
ExecStart=$HELPER --profile production --config $TU/conf/aapanel.cfg --root $SRC
Environment=ASAN_OPTIONS=detect_leaks=0
ReadWritePaths=$TU/sandbox/etc
UNIT
ns systemctl daemon-reload
ns systemctl restart aapanel-helper.service
out=$(ncall helper.ping)
check "the helper runs the production profile under the shipped unit" \
	jqe '.ok and .result.profile == "production" and .result.uid == 0' <<<"$out"
mainpid=$(ns systemctl show -p MainPID --value aapanel-helper.service 2>/dev/null)
ajob() { # a job to its end: its job.status answer
	local j st
	j=$(ncall "$@" | jq -r '.result.job // empty')
	[ -n "$j" ] || { echo '{}'; return; }
	for _ in $(seq 1 300); do
		st=$(ncall job.status "{\"id\":$j}")
		jqe '.result.state == "done" or .result.state == "failed"' <<<"$st" && break
		sleep 0.1
	done
	echo "$st"
}
sched='"schedule":"0 0 1 1 *","enabled":false'
out=$(ncall task.put "{\"id\":1,\"name\":\"whoami\",\"kind\":\"command\",\"command\":\"/usr/bin/id -u\",\"user\":\"nobody\",\"timeout\":20,$sched}")
check "task.put writes the helper's copy beneath a ReadWritePaths= directory" jqe '.ok' <<<"$out"
st=$(ajob task.exec '{"id":1}')
check "a command task runs as its user, not root: id -u printed 65534 ($(jq -c '.result.result.output' <<<"$st"))" \
	jqe '.result.result.output == "65534\n" and .result.result.exit_code == 0' <<<"$st"
check "... in a transient unit of its own (aapanel-task-1.service)" jqe '.result.result.unit == "aapanel-task-1"' <<<"$st"
check "... which is gone afterwards (collected)" \
	bash -c "! nsenter -t $SD -m -p -- systemctl list-units --all --no-legend 'aapanel-task-*' | grep -q ."
ncall task.put "{\"id\":2,\"name\":\"slow\",\"kind\":\"command\",\"command\":\"/bin/sleep 30\",\"user\":\"nobody\",\"timeout\":2,$sched}" >/dev/null
t0=$(date +%s%N)
st=$(ajob task.exec '{"id":2}')
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "its timeout is enforced: a 30 s sleep with a 2 s timeout is stopped in ${ms} ms, timed_out" \
	bash -c "[ $ms -ge 1900 ] && [ $ms -lt 8000 ] && jq -e '.result.result.timed_out == true and .result.result.exit_code == null' <<<'$st' >/dev/null"
ncall task.put "{\"id\":3,\"name\":\"false\",\"kind\":\"command\",\"command\":\"/bin/false\",\"user\":\"nobody\",\"timeout\":20,$sched}" >/dev/null
st=$(ajob task.exec '{"id":3}')
check "a failing command's exit status comes back (1)" jqe '.result.result.exit_code == 1' <<<"$st"
ncall task.put "{\"id\":4,\"name\":\"missing\",\"kind\":\"command\",\"command\":\"/nonexistent/prog\",\"user\":\"nobody\",\"timeout\":20,$sched}" >/dev/null
st=$(ajob task.exec '{"id":4}')
check "a program that does not exist is exit 127 with the reason" \
	jqe '.result.result.exit_code == 127 and (.result.result.output | test("/nonexistent/prog"))' <<<"$st"
# A URL task reaches a server on the namespace's loopback (the helper's own IP
# sockets would reach localhost too; the point is curl runs outside its sandbox).
printf 'hello from the namespace\n' > "$TU/www/hello.txt"
HPORT=18080
nsenter -t "$SD" -n -- python3 -m http.server "$HPORT" --bind 127.0.0.1 --directory "$TU/www" > "$TU/http.log" 2>&1 &
HTTP_PID=$!
for _ in $(seq 1 50); do nsenter -t "$SD" -n -- curl -fs "http://127.0.0.1:$HPORT/hello.txt" >/dev/null 2>&1 && break; sleep 0.1; done
ncall task.put "{\"id\":5,\"name\":\"fetch\",\"kind\":\"url\",\"url\":\"http://127.0.0.1:$HPORT/hello.txt\",\"timeout\":20,$sched}" >/dev/null
st=$(ajob task.exec '{"id":5}')
check "a URL task reaches an HTTP server inside the namespace ($(jq -c '.result.result.output' <<<"$st"))" \
	jqe '.result.result.output == "hello from the namespace\n" and .result.result.exit_code == 0' <<<"$st"
check "... as nobody, and the server logged its request" \
	bash -c "jq -e '.result.result.run_as == \"nobody\"' <<<'$st' >/dev/null && grep -q 'GET /hello.txt' '$TU/http.log'"
# Another address of the namespace, on a veth pair to a client namespace the
# test creates: the task's unit reaches it (the helper itself may not:
# IPAddressAllow=localhost), and the firewall's rules are tried from there.
unshare --net sleep 600 &
CLIENT=$!
sleep 0.2
nsenter -t "$SD" -n -- ip link add v0 type veth peer name v1 netns "$CLIENT"
nsenter -t "$SD" -n -- ip addr add 192.0.2.1/24 dev v0
nsenter -t "$SD" -n -- ip link set v0 up
nsenter -t "$CLIENT" -n -- ip addr add 192.0.2.2/24 dev v1
nsenter -t "$CLIENT" -n -- ip link set v1 up
nsenter -t "$CLIENT" -n -- ip link set lo up
nsenter -t "$SD" -n -- python3 -m http.server 18081 --bind 192.0.2.1 --directory "$TU/www" > "$TU/http2.log" 2>&1 &
HTTP2_PID=$!
for _ in $(seq 1 50); do nsenter -t "$CLIENT" -n -- curl -fs -m 1 "http://192.0.2.1:18081/hello.txt" >/dev/null 2>&1 && break; sleep 0.1; done
check "the client namespace reaches the server namespace's port 18081 over the veth pair" \
	nsenter -t "$CLIENT" -n -- curl -fs -m 2 "http://192.0.2.1:18081/hello.txt" -o /dev/null
ncall task.put "{\"id\":6,\"name\":\"fetch2\",\"kind\":\"url\",\"url\":\"http://192.0.2.1:18081/hello.txt\",\"timeout\":20,$sched}" >/dev/null
st=$(ajob task.exec '{"id":6}')
check "a URL task reaches a non-loopback address too" jqe '.result.result.output == "hello from the namespace\n"' <<<"$st"
# The helper's own IP sockets (libpq, libmariadb in its process) reach
# localhost only: a database server at 192.0.2.1 is never connected to (the
# unit's IPAddressDeny= drops the packets), one on 127.0.0.1 is. The
# "servers" are listeners that log each connection and answer no protocol.
cat > "$TU/listener.py" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 18082))
s.listen(8)
while True:
    c, a = s.accept()
    print("connection from", a[0], flush=True)
    c.sendall(b"not a database\n")
    c.close()
PY
nsenter -t "$SD" -n -- python3 "$TU/listener.py" 127.0.0.1 > "$TU/near.log" 2>&1 &
NEAR_PID=$!
nsenter -t "$SD" -n -- python3 "$TU/listener.py" 192.0.2.1 > "$TU/far.log" 2>&1 &
FAR_PID=$!
sleep 0.5
far=$(ncall dbserver.add '{"name":"far","dsn":"mysql://u@192.0.2.1:18082/","password":"x"}')
near=$(ncall dbserver.add '{"name":"near","dsn":"mysql://u@127.0.0.1:18082/","password":"x"}')
printf '%s\n' "$far" > "$TU/far.json"
printf '%s\n' "$near" > "$TU/near.json"
check "the helper cannot reach a database server at 192.0.2.1: refused, no connection arrived ($(jq -r '.error.reason // empty' <<<"$far" | head -c 100))" \
	bash -c "jq -e '.ok | not' '$TU/far.json' >/dev/null && ! grep -q connection '$TU/far.log'"
check "... but reaches one on 127.0.0.1 (it connected; then: $(jq -r '.error.reason // empty' <<<"$near" | head -c 100))" \
	bash -c "jq -e '.ok | not' '$TU/near.json' >/dev/null && grep -q 'connection from 127.0.0.1' '$TU/near.log'"
ncall task.put "{\"id\":7,\"name\":\"far\",\"kind\":\"url\",\"url\":\"http://192.0.2.1:18082/\",\"timeout\":10,$sched}" >/dev/null
ajob task.exec '{"id":7}' >/dev/null
check "while a task's own unit reaches 192.0.2.1:18082 (the limit is the helper's, not the tasks')" \
	grep -q 'connection from 192.0.2.1' "$TU/far.log"
: > "$TU/far.log"

# The documented way to a remote database server: a drop-in with its address.
ns sh -c "printf '[Service]\nIPAddressAllow=192.0.2.1\n' > /run/systemd/system/aapanel-helper.service.d/db.conf"
ns systemctl daemon-reload
ns systemctl restart aapanel-helper.service
# (the listener logs once it accepted: under load that can come a moment after the answer)
ns setpriv --reuid=65534 --regid=65534 --clear-groups -- "$SEND" --call --timeout 20000 "$NSOCK" \
	dbserver.add '{"name":"far","dsn":"mysql://u@192.0.2.1:18082/","password":"x"}' >/dev/null || true
for _ in $(seq 1 50); do grep -q 'connection from' "$TU/far.log" && break; sleep 0.1; done
check "with IPAddressAllow=192.0.2.1 in a drop-in, the helper reaches that server" \
	grep -q 'connection from' "$TU/far.log"
ns rm -f /run/systemd/system/aapanel-helper.service.d/db.conf
ns systemctl daemon-reload
ns systemctl restart aapanel-helper.service
mainpid=$(ns systemctl show -p MainPID --value aapanel-helper.service 2>/dev/null)

# The firewall: the rules land in the namespace's ruleset (the server's, as the
# unit sees it), read by nft outside the unit.
nsenter -t "$SD" -n -- nft add table ip foreign
nsenter -t "$SD" -n -- nft add chain ip foreign c
doc='{"policy":"accept","icmp_echo":true,"rules":[{"id":1,"action":"deny","proto":"tcp","ports":"18081","from":"","rate":0,"comment":"unit test"}],"block":["198.51.100.7"]}'
out=$(ncall firewall.apply "$(jq -nc --arg d "$doc" '{ruleset: $d, confirm_seconds: 3}')")
check "firewall.apply under the shipped unit answers a serial ($(jq -c '.error // empty' <<<"$out"))" jqe '.ok and .result.serial > 0' <<<"$out"
nsenter -t "$SD" -n -- nft list ruleset > "$TU/ruleset" 2>&1
check "the namespace's ruleset has table inet aapanel with the rule" \
	bash -c "grep -q 'table inet aapanel' '$TU/ruleset' && grep -q 'tcp dport 18081' '$TU/ruleset' && grep -q '198.51.100.7' '$TU/ruleset'"
check "the foreign table is still there" grep -q 'table ip foreign' "$TU/ruleset"
rc=0; nsenter -t "$CLIENT" -n -- curl -fs -m 2 "http://192.0.2.1:18081/hello.txt" >/dev/null 2>&1 || rc=$?
check "and the kernel applies it: the client's connection to 18081 is now dropped (curl exit $rc)" test "$rc" -ne 0
sleep 4.5
nsenter -t "$SD" -n -- nft list ruleset > "$TU/ruleset2" 2>&1
check "unconfirmed, it reverted after its 3 s deadline (the rule gone)" bash -c "! grep -q 'tcp dport 18081' '$TU/ruleset2'"
check "... traffic passes again" nsenter -t "$CLIENT" -n -- curl -fs -m 2 "http://192.0.2.1:18081/hello.txt" -o /dev/null
out=$(ncall firewall.apply "$(jq -nc --arg d "$doc" '{ruleset: $d, confirm_seconds: 3}')")
out=$(ncall firewall.confirm "$(jq -c '{serial: .result.serial}' <<<"$out")")
check "a confirmed apply is kept" jqe '.ok' <<<"$out"
sleep 3.5
check "... past its deadline" bash -c "nsenter -t $SD -n -- nft list table inet aapanel | grep -q 'tcp dport 18081'"
check "the machine's own ruleset is not the namespace's (no table inet aapanel from this test here)" \
	bash -c "! nft list ruleset 2>/dev/null | grep -q 'unit test'"

# What it must not do, as the helper's own mount namespace and cgroup see it.
rc=0; ns nsenter -t "$mainpid" -m -- touch "$TU/sandbox/ro/x" 2>"$TU/touch.err" || rc=$?
check "the helper's view: $TU/sandbox/ro is read-only ($(cat "$TU/touch.err"))" \
	bash -c "[ $rc -ne 0 ] && grep -q 'Read-only file system' '$TU/touch.err'"
check "... /usr too" bash -c "! nsenter -t $SD -m -p -- nsenter -t $mainpid -m -- touch /usr/aapanel-x 2>/dev/null"
check "... while its ReadWritePaths= directory is writable" ns nsenter -t "$mainpid" -m -- touch "$TU/sandbox/etc/x"
check "the helper's IP sockets reach no address but localhost (IPAddressAllow=localhost): systemd set IPAddressDeny" \
	bash -c "nsenter -t $SD -m -p -- systemctl show -p IPAddressDeny -p IPAddressAllow aapanel-helper.service | grep -q '127.0.0.0/8'"
# restic as a transient unit of its own (issue 18): a local destination, a site
# backed up, then a backup of a 20 GB sparse file cancelled while it runs: the
# unit is stopped (StopUnit), gone afterwards, and the job ends cancelled.
mkdir -p "$TU/sandbox/var/www/small.test/public" "$TU/sandbox/var/www/big.test/public" "$TU/sandbox/srv"
printf 'hello from a transient restic\n' > "$TU/sandbox/var/www/small.test/public/index.html"
truncate -s 20G "$TU/sandbox/var/www/big.test/public/big.bin"
st=$(ajob backup.dest_add '{"name":"loc","url":"local:/srv/bk"}')
jqe '.result.state == "done"' <<<"$st" || echo "    $st"
check "restic under systemd: a local destination is created (restic init in its own unit)" \
	bash -c "jq -e '.result.state == \"done\"' <<<'$st' >/dev/null && [ -f '$TU/sandbox/srv/bk/config' ]"
st=$(ajob backup.run '{"dest":"loc","kind":"site","domain":"small.test"}')
check "... a site's backup runs as a transient unit and succeeds with a snapshot" \
	jqe '.result.state == "done" and (.result.result.snapshot | test("^[0-9a-f]{8,}$"))' <<<"$st"
check "... the helper ran restic as aapanel-restic-*.service (its journal)" \
	bash -c "nsenter -t $SD -m -p -- journalctl --no-pager -u aapanel-helper.service 2>/dev/null | grep -q 'aapanel-restic-[0-9]*-[0-9]*.service (/usr/bin/restic): exit 0'"
check "... and no restic unit is left" \
	bash -c "! nsenter -t $SD -m -p -- systemctl list-units --all --no-legend 'aapanel-restic-*' | grep -q ."
BJ=$(ncall backup.run '{"dest":"loc","kind":"site","domain":"big.test"}' | jq -r '.result.job // empty')
running=""
for _ in $(seq 1 200); do
	nsenter -t "$SD" -m -p -- systemctl list-units --no-legend --state=active 'aapanel-restic-*' 2>/dev/null | grep -q 'running' &&
		nsenter -t "$SD" -m -p -- pgrep -f '^restic backup ' >/dev/null && { running=1; break; }
	sleep 0.1
done
check "a long backup (20 GB sparse) runs as an active restic unit" test -n "$running"
RUNIT=$(nsenter -t "$SD" -m -p -- systemctl list-units --no-legend --plain 'aapanel-restic-*' 2>/dev/null | awk '{print $1}' | head -1)
sleep 1
out=$(ncall job.cancel "{\"id\":$BJ}")
check "job.cancel is accepted" jqe '.ok' <<<"$out"
t0=$(date +%s%N)
for _ in $(seq 1 100); do
	st=$(ncall job.status "{\"id\":$BJ}")
	jqe '.result.state == "failed"' <<<"$st" && break
	sleep 0.1
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "... the job ends cancelled (${ms} ms)" jqe '.result.state == "failed" and (.result.error.reason | test("cancelled"))' <<<"$st"
gone=""
for _ in $(seq 1 50); do
	! nsenter -t "$SD" -m -p -- systemctl list-units --all --no-legend 'aapanel-restic-*' | grep -q . && { gone=1; break; }
	sleep 0.1
done
check "... its unit ($RUNIT) was stopped and is gone" test -n "$gone"
check "... no restic process is left in the namespace" bash -c "! nsenter -t $SD -m -p -- pgrep -f '^restic ' >/dev/null"
check "... the helper stopped it (its journal says cancelled)" \
	bash -c "nsenter -t $SD -m -p -- journalctl --no-pager -u aapanel-helper.service 2>/dev/null | grep -q 'cancelled, stopping the unit'"
st=$(ajob backup.run '{"dest":"loc","kind":"site","domain":"small.test"}')
check "... and the next backup to that repository succeeds (the stale lock removed)" jqe '.result.state == "done"' <<<"$st"
rm -f "$TU/sandbox/var/www/big.test/public/big.bin"

# restic to an offsite (SFTP) destination from under the shipped unit: an
# OpenSSH server of this test in the client namespace, at 192.0.2.2 on the
# veth pair (not loopback), its own host key and one authorized key. The
# restic unit reaches it; the helper's own unit does not (IPAddressAllow=localhost).
mkdir -p "$TU/ssh" "$TU/sftp"
ssh-keygen -q -t ed25519 -N '' -f "$TU/ssh/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$TU/ssh/client_key"
cp "$TU/ssh/client_key.pub" "$TU/ssh/authorized_keys"
cat > "$TU/ssh/sshd_config" <<CFG
Port 2222
ListenAddress 192.0.2.2
HostKey $TU/ssh/host_key
AuthorizedKeysFile $TU/ssh/authorized_keys
PidFile none
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
LogLevel VERBOSE
CFG
[ -d /run/sshd ] || mkdir -m 0755 /run/sshd # sshd's privilege separation directory (the machine's mount namespace)
sshd_kids() { local p; for p in $(ps -o pid= --ppid "$1" 2>/dev/null || true); do echo "$p"; sshd_kids "$p"; done; }
sshd_stop() { # the server and every session it forked, by PID
	local kids
	kids=$(sshd_kids "$SSHD_PID")
	kill -KILL $kids 2>/dev/null || true
	kill "$SSHD_PID" 2>/dev/null || true
	wait "$SSHD_PID" 2>/dev/null || true
	SSHD_PID=""
}
nsenter -t "$CLIENT" -n -- /usr/sbin/sshd -D -e -f "$TU/ssh/sshd_config" 2>>"$TU/ssh/log" &
SSHD_PID=$!
for _ in $(seq 1 100); do
	nsenter -t "$CLIENT" -n -- ss -Htln "sport = :2222" | grep -q . && break
	kill -0 "$SSHD_PID" 2>/dev/null || break
	sleep 0.05
done
check "an OpenSSH server listens at 192.0.2.2:2222 in the client namespace" \
	bash -c "nsenter -t $CLIENT -n -- ss -Htln 'sport = :2222' | grep -q 192.0.2.2"
check "... reachable from the systemd namespace over the veth pair (its SSH banner)" \
	bash -c "nsenter -t $SD -n -- timeout 3 bash -c 'exec 3<>/dev/tcp/192.0.2.2/2222; head -c 7 <&3' | grep -q '^SSH-2.0'"
: > "$TU/ssh/log"
# The helper's own IP sockets: a "database server" at the SSH server's address.
out=$(ncall dbserver.add '{"name":"sshfar","dsn":"mysql://u@192.0.2.2:2222/","password":"x"}')
printf '%s\n' "$out" > "$TU/sshfar.json"
sleep 0.5
check "the helper's own unit cannot reach 192.0.2.2:2222: refused, and sshd saw no connection ($(jq -r '.error.reason // empty' <<<"$out" | head -c 80))" \
	bash -c "jq -e '.ok | not' '$TU/sshfar.json' >/dev/null && ! grep -q 'Connection from' '$TU/ssh/log'"
printf '[192.0.2.2]:2222 %s\n' "$(cut -d' ' -f1,2 "$TU/ssh/host_key.pub")" > "$TU/ssh/known_hosts"
st=$(ajob backup.dest_add "$(jq -nc --rawfile k "$TU/ssh/client_key" --rawfile h "$TU/ssh/known_hosts" \
	--arg u "sftp://root@192.0.2.2:2222$TU/sftp/repo" '{name: "off", url: $u, ssh_key: $k, known_hosts: $h}')")
jqe '.result.state == "done"' <<<"$st" || echo "    $st"
check "an SFTP destination at 192.0.2.2 is added under systemd (restic init in its own unit)" \
	bash -c "jq -e '.result.state == \"done\" and .result.result.created == true' <<<'$st' >/dev/null && [ -f '$TU/sftp/repo/config' ]"
check "... the unit's ssh logged in with the destination's key from 192.0.2.1" \
	grep -q 'Accepted publickey for root from 192.0.2.1' "$TU/ssh/log"
check "... and sshd logs such a connection as 'Connection from 192.0.2.1' (what the check above looks for)" \
	grep -q 'Connection from 192.0.2.1 port' "$TU/ssh/log"
check "... the key is a helper-only file (0600)" test "$(stat -c %a "$TU/sandbox/etc/aapanel/backups/off/ssh_key" 2>/dev/null)" = 600
W="$TU/sandbox/var/www/small.test/public"
mkdir -p "$W/img"
head -c 300000 /dev/urandom > "$W/img/photo.bin"
printf 'مرحبا\n' > "$W/ar.txt"
tsum() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
tsum "$W" > "$TU/web.sum"
st=$(ajob backup.run '{"dest":"off","kind":"site","domain":"small.test"}')
SNAPO=$(jq -r '.result.result.snapshot // empty' <<<"$st")
check "a site's backup to SFTP runs as a transient unit and succeeds (snapshot ${SNAPO:-none})" \
	jqe '.result.state == "done" and (.result.result.snapshot | test("^[0-9a-f]{8,}$"))' <<<"$st"
check "... restic's unit is gone afterwards" \
	bash -c "! nsenter -t $SD -m -p -- systemctl list-units --all --no-legend 'aapanel-restic-*' | grep -q ."
st=$(ajob backup.snapshots '{"dest":"off"}')
check "backup.snapshots lists it from the SFTP repository" \
	jqe --arg s "$SNAPO" '.result.state == "done" and ([.result.result.snapshots[].short_id] | index($s) != null) and (.result.result.snapshots[0].tags | index("site:small.test") != null)' <<<"$st"
printf 'defaced\n' > "$W/index.html"; rm -rf "$W/img"
# Restoring in place writes the site's home: the production unit's
# ReadWritePaths=-/var/www, here beneath the sandbox root.
ns sh -c "printf '[Service]\nReadWritePaths=$TU/sandbox/var/www\n' > /run/systemd/system/aapanel-helper.service.d/www.conf"
ns systemctl daemon-reload
ns systemctl restart aapanel-helper.service
st=$(ajob backup.restore "$(jq -nc --arg s "$SNAPO" '{dest: "off", snapshot: $s, domain: "small.test", target: "inplace"}')")
jqe '.result.state == "done"' <<<"$st" || echo "    $st"
check "restore from SFTP into place under systemd succeeds" jqe '.result.state == "done" and .result.result.restored_to == "public"' <<<"$st"
check "... the site's files are byte-identical" cmp -s "$TU/web.sum" <(tsum "$W")
check "... the defaced tree is in the site's trash" \
	bash -c "grep -qx defaced '$TU/sandbox/var/www/small.test/.aapanel-trash/'*/item/index.html"
check "... and no restic unit is left" \
	bash -c "! nsenter -t $SD -m -p -- systemctl list-units --all --no-legend 'aapanel-restic-*' | grep -q ."
sshd_stop

# --- 6. a database's import and export under the shipped unit (issue 15)
# A MariaDB of the test on the namespace's loopback (its own directory, port
# and socket: dbservers.sh), an admin login with a password.
. "$SRC/tests/integration/dbservers.sh"
MYD="$TU/my"
nsenter -t "$SD" -n -- bash -c ". '$SRC/tests/integration/dbservers.sh'; db_start_mariadb '$MYD' && echo \"\$MYSQL_PID \$MYSQL_PORT\" > '$TU/my.env'" > "$TU/my.log" 2>&1 || cat "$TU/my.log"
read -r MY_PID MY_PORT < "$TU/my.env" 2>/dev/null || true
check "a MariaDB of the test runs on the namespace's loopback (port ${MY_PORT:-?})" \
	bash -c "[ -n '$MY_PORT' ] && nsenter -t $SD -n -- ss -Htln 'sport = :$MY_PORT' | grep -q 127.0.0.1"
_DB_MY_DIR=$MYD
APW=$(openssl rand -hex 16)
_db_my_sql "CREATE USER 'dbadmin'@'127.0.0.1' IDENTIFIED BY '$APW'; GRANT ALL ON *.* TO 'dbadmin'@'127.0.0.1' WITH GRANT OPTION;"
# The spool (databases.spool_dir beneath the sandbox root): as install.sh makes
# /var/lib/aapanel/dbdumps, and the unit's ReadWritePaths= of it.
SPOOL="$TU/sandbox/var/lib/aapanel/dbdumps"
mkdir -p "$SPOOL" && chmod 0700 "$SPOOL"
ns sh -c "printf '[Service]\nReadWritePaths=$SPOOL\n' > /run/systemd/system/aapanel-helper.service.d/dbio.conf"
ns systemctl daemon-reload
ns systemctl restart aapanel-helper.service
# Read this helper's own lines only (its invocation; its jobs and their
# supervisors log through its stream), not the earlier helpers' of this run.
INV=$(ns systemctl show -p InvocationID --value aapanel-helper.service 2>/dev/null)
hjournal() { ns journalctl --no-pager "_SYSTEMD_INVOCATION_ID=${INV:-none}" 2>/dev/null; }
out=$(ncall dbserver.add "{\"name\":\"my\",\"dsn\":\"mysql://dbadmin@127.0.0.1:$MY_PORT/\",\"password\":\"$APW\"}")
check "the MariaDB server is added under the unit ($(jq -c '.error // empty' <<<"$out"))" jqe '.ok' <<<"$out"
out=$(ncall database.create '{"server":"my","name":"shop","user":"shop","hosts":"127.0.0.1"}')
check "a database with its user is created" jqe '.ok' <<<"$out"
# An upload as database.import_begin leaves it (helper_send passes no descriptors):
# import-TOKEN.part, root's 0600, in the spool.
spool_put() { local tok; tok=$(openssl rand -hex 16); install -m 0600 "$1" "$SPOOL/import-$tok.part"; echo "$tok"; }
AR='مرحبا بالعالم'
cat > "$TU/dump.sql" <<SQL
CREATE TABLE t (id INT PRIMARY KEY, txt VARCHAR(100)) DEFAULT CHARSET=utf8mb4;
INSERT INTO t VALUES (1, '$AR'), (2, 'two');
SQL
tok=$(spool_put "$TU/dump.sql")
st=$(ajob database.import "{\"server\":\"my\",\"name\":\"shop\",\"format\":\"sql\",\"token\":\"$tok\"}")
check "an import under the unit succeeds ($(jq -c '.result.error // empty' <<<"$st"))" jqe '.result.state == "done" and .result.result.bytes > 0' <<<"$st"
check "... its rows arrived (the Arabic text intact)" \
	test "$(_db_my_sql "SELECT txt FROM shop.t WHERE id = 1")" = "$AR"
hjournal > "$TU/journal.txt"
check "... mariadb ran in a transient unit of its own as nobody (the helper's journal, invocation ${INV:-?})" \
	bash -c "grep -q 'import of shop on my: mariadb started as aapanel-db-import-[0-9]*-[0-9]*.service (nobody)' '$TU/journal.txt' && grep -q 'aapanel-db-import-[0-9]*-[0-9]*.service (/usr/bin/mariadb): exit 0' '$TU/journal.txt'"
check "... the unit is gone, its credentials with it, no socket left" \
	bash -c "! nsenter -t $SD -m -p -- systemctl list-units --all --no-legend 'aapanel-db-*' | grep -q . && ! nsenter -t $SD -m -p -- sh -c 'ls -d /run/credentials/aapanel-db-* 2>/dev/null' | grep -q . && ! ls '$SPOOL' | grep -q '^cred-' && ! nsenter -t $SD -m -p -- ls -A /run/aapanel-helper-creds | grep -q ."
check "... no import login is left on the server" bash -c "! timeout 20 mariadb --no-defaults -S '$MYD/mysql.sock' -uroot -N -B -e 'SELECT User FROM mysql.user' | grep -q ap_imp_"

# An import that runs a while: seen while it runs, then cancelled.
cat > "$TU/slow.sql" <<SQL
CREATE TABLE slow (x INT);
SELECT SLEEP(60);
INSERT INTO slow VALUES (1);
SQL
tok=$(spool_put "$TU/slow.sql")
SJ=$(ncall database.import "{\"server\":\"my\",\"name\":\"shop\",\"format\":\"sql\",\"token\":\"$tok\"}" | jq -r '.result.job // empty')
DU=""
for _ in $(seq 1 100); do
	DU=$(ns systemctl list-units --no-legend --plain --state=running 'aapanel-db-import-*' 2>/dev/null | awk '{print $1}' | head -1)
	[ -n "$DU" ] && [ "$(_db_my_sql "SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP%'")" = 1 ] && break
	sleep 0.1
done
check "a long import runs as its unit (${DU:-none}), its SLEEP on the server" test -n "$DU"
ns systemctl show -p User -p ExecStart -p Environment -p LoadCredential -p SetCredential -p StandardInput "$DU" > "$TU/unit.show" 2>&1
MPID=$(ns systemctl show -p MainPID --value "$DU" 2>/dev/null)
# systemctl prints a(ss) as [unprintable]: the unit as PID 1 wrote it down (every property).
ns cat "/run/systemd/transient/$DU" > "$TU/unit.file" 2>&1 || true
check "... its User= is nobody ($(grep '^User=' "$TU/unit.show"))" grep -qxE 'User=(nobody|65534)' "$TU/unit.show"
check "... the process runs as uid 65534 (pid ${MPID:-?})" test "$(ns ps -o uid= -p "${MPID:-0}" 2>/dev/null | tr -d ' ')" = 65534
check "... its stdin is a pipe (the helper's), its login a credential from a socket in the helper's RuntimeDirectory= ($(grep '^LoadCredential' "$TU/unit.file"))" \
	bash -c "nsenter -t $SD -m -p -- readlink /proc/${MPID:-0}/fd/0 | grep -q '^pipe:' && grep -qE '^LoadCredential=my.cnf:/run/aapanel-helper-creds/cred-[0-9a-f]{16}.sock\$' '$TU/unit.file'"
check "... that directory is root's alone (0700)" test "$(ns stat -c '%U %a' /run/aapanel-helper-creds 2>/dev/null)" = "root 700"
check "... no password in its ExecStart=, Environment= or any credential property or its unit file" \
	bash -c "grep -q '^ExecStart=' '$TU/unit.file' && ! grep -qiE 'password|$APW' '$TU/unit.show' '$TU/unit.file' && grep -q 'defaults-extra-file=\${CREDENTIALS_DIRECTORY}/my.cnf' '$TU/unit.show' && ! grep -q '^SetCredential' '$TU/unit.file'"
ns cat "/proc/${MPID:-0}/cmdline" 2>/dev/null | tr '\0' ' ' > "$TU/cmdline"
ns cat "/proc/${MPID:-0}/environ" 2>/dev/null | tr '\0' '\n' > "$TU/environ"
check "... nor in the running client's argv or environment ($(cat "$TU/cmdline" | head -c 90))" \
	bash -c "grep -q 'mariadb --defaults-extra-file=/run/credentials/$DU/my.cnf' '$TU/cmdline' && grep -q '^CREDENTIALS_DIRECTORY=/run/credentials/$DU' '$TU/environ' && ! grep -qiE 'password|$APW' '$TU/cmdline' '$TU/environ'"
check "... the credential is a file only nobody reads (0400), the import's own login, not the admin's" \
	bash -c "[ \"\$(nsenter -t $SD -m -p -- stat -c '%U %a' /run/credentials/$DU/my.cnf)\" = 'nobody 400' ] && nsenter -t $SD -m -p -- grep -q '^user=\"ap_imp_' /run/credentials/$DU/my.cnf && ! nsenter -t $SD -m -p -- grep -q '$APW' /run/credentials/$DU/my.cnf"
out=$(ncall job.cancel "{\"id\":$SJ}")
check "job.cancel is accepted" jqe '.ok' <<<"$out"
for _ in $(seq 1 150); do
	st=$(ncall job.status "{\"id\":$SJ}")
	jqe '.result.state == "failed"' <<<"$st" && break
	sleep 0.1
done
check "... the import ends cancelled" jqe '.result.state == "failed" and (.result.error.reason | test("cancelled"))' <<<"$st"
gone=""
for _ in $(seq 1 100); do
	! ns systemctl list-units --all --no-legend 'aapanel-db-*' | grep -q . && { gone=1; break; }
	sleep 0.1
done
check "... its unit was stopped and is gone, its credentials with it" \
	bash -c "[ -n '$gone' ] && ! nsenter -t $SD -m -p -- test -e /run/credentials/$DU"
check "... the helper stopped it (StopUnit: its journal says so)" \
	bash -c "nsenter -t $SD -m -p -- journalctl --no-pager _SYSTEMD_INVOCATION_ID=${INV:-none} 2>/dev/null | grep -q '$DU (/usr/bin/mariadb): cancelled, stopping the unit'"
check "... the statement after the SLEEP never ran, the login was dropped" \
	bash -c "[ \"\$(_DB_MY_DIR='$MYD' timeout 20 mariadb --no-defaults -S '$MYD/mysql.sock' -uroot -N -B -e 'SELECT COUNT(*) FROM shop.slow')\" = 0 ] && ! timeout 20 mariadb --no-defaults -S '$MYD/mysql.sock' -uroot -N -B -e 'SELECT User FROM mysql.user' | grep -q ap_imp_"

# The export: mariadb-dump in a unit of its own, its stdout the helper's pipe.
st=$(ajob database.export '{"server":"my","name":"shop","format":"sql"}')
etok=$(jq -r '.result.result.token // empty' <<<"$st")
EXF="$SPOOL/export-$etok.sql"
check "an export under the unit succeeds ($(jq -c '.result.error // empty' <<<"$st"))" \
	bash -c "jq -e '.result.state == \"done\"' <<<'$st' >/dev/null && [ -n '$etok' ] && [ -f '$EXF' ]"
check "... the dump is the database's: its table and both rows, the Arabic text as UTF-8" \
	bash -c "grep -q 'CREATE TABLE \`t\`' '$EXF' && grep -qF \"(1,'$AR')\" '$EXF' && grep -qF \"(2,'two')\" '$EXF'"
check "... its size and SHA-256 are the job's" \
	bash -c "[ \"\$(sha256sum < '$EXF' | cut -d' ' -f1)\" = '$(jq -r '.result.result.sha256 // empty' <<<"$st")' ] && [ \"\$(stat -c %s '$EXF')\" = '$(jq -r '.result.result.size // empty' <<<"$st")' ]"
hjournal > "$TU/journal.txt"
check "... mariadb-dump ran as nobody in a unit of its own, exit 0" \
	bash -c "grep -q 'export of shop on my: mariadb-dump started as aapanel-db-export-[0-9]*-[0-9]*.service (nobody)' '$TU/journal.txt' && grep -q 'aapanel-db-export-[0-9]*-[0-9]*.service (/usr/bin/mariadb-dump): exit 0' '$TU/journal.txt'"
check "... and its unit is gone" bash -c "! nsenter -t $SD -m -p -- systemctl list-units --all --no-legend 'aapanel-db-*' | grep -q ."
# Loaded back into a new database, the rows are the same.
ncall database.create '{"server":"my","name":"shop2","user":"shop2","hosts":"127.0.0.1"}' >/dev/null
tok=$(spool_put "$EXF")
st=$(ajob database.import "{\"server\":\"my\",\"name\":\"shop2\",\"format\":\"sql\",\"token\":\"$tok\"}")
check "the export imports into another database with the same rows" \
	bash -c "jq -e '.result.state == \"done\"' <<<'$st' >/dev/null && [ \"\$(timeout 20 mariadb --no-defaults -S '$MYD/mysql.sock' -uroot -N -B -e 'SELECT id, txt FROM shop.t ORDER BY id')\" = \"\$(timeout 20 mariadb --no-defaults -S '$MYD/mysql.sock' -uroot -N -B -e 'SELECT id, txt FROM shop2.t ORDER BY id')\" ]"
# PostgreSQL: psql and pg_dump the same way, the pgpass line a credential
# (libpq takes it: 0400, the unit's user's), passfile= in the argv.
PGD="$TU/pg"
nsenter -t "$SD" -n -- bash -c ". '$SRC/tests/integration/dbservers.sh'; db_start_postgres '$PGD' && echo \"\$PG_PID \$PG_PORT\" > '$TU/pg.env'" > "$TU/pg.log" 2>&1 || cat "$TU/pg.log"
read -r PGM_PID PGN_PORT < "$TU/pg.env" 2>/dev/null || true
check "a PostgreSQL of the test runs on the namespace's loopback (port ${PGN_PORT:-?})" \
	bash -c "[ -n '$PGN_PORT' ] && nsenter -t $SD -n -- ss -Htln 'sport = :$PGN_PORT' | grep -q 127.0.0.1"
PGQ() { timeout 20 runuser -u postgres -- "$PG_BIN/psql" -X -q -At -h "$PGD" -p "$PGN_PORT" -U postgres "$@"; }
PGQ -d postgres -c "CREATE ROLE dbadmin SUPERUSER LOGIN PASSWORD '$APW'" >/dev/null
out=$(ncall dbserver.add "{\"name\":\"pg\",\"dsn\":\"postgresql://dbadmin@127.0.0.1:$PGN_PORT/postgres\",\"password\":\"$APW\"}")
check "the PostgreSQL server is added under the unit ($(jq -c '.error // empty' <<<"$out"))" jqe '.ok' <<<"$out"
out=$(ncall database.create '{"server":"pg","name":"shop","user":"shop_pg"}')
check "... a database with its user" jqe '.ok' <<<"$out"
cat > "$TU/pg.sql" <<SQL
CREATE TABLE t (id int PRIMARY KEY, txt text);
INSERT INTO t VALUES (1, '$AR'), (2, 'two');
SQL
tok=$(spool_put "$TU/pg.sql")
st=$(ajob database.import "{\"server\":\"pg\",\"name\":\"shop\",\"format\":\"sql\",\"token\":\"$tok\"}")
check "a PostgreSQL import under the unit succeeds ($(jq -c '.result.error // empty' <<<"$st"))" jqe '.result.state == "done"' <<<"$st"
check "... its rows arrived, owned by the database's user" \
	bash -c "[ \"\$(timeout 20 runuser -u postgres -- '$PG_BIN/psql' -X -q -At -h '$PGD' -p '$PGN_PORT' -U postgres -d shop -c 'SELECT txt FROM t WHERE id = 1')\" = '$AR' ] && [ \"\$(timeout 20 runuser -u postgres -- '$PG_BIN/psql' -X -q -At -h '$PGD' -p '$PGN_PORT' -U postgres -d shop -c \"SELECT tableowner FROM pg_tables WHERE tablename = 't'\")\" = shop_pg ]"
st=$(ajob database.export '{"server":"pg","name":"shop","format":"sql"}')
etok=$(jq -r '.result.result.token // empty' <<<"$st")
PEXF="$SPOOL/export-$etok.sql"
check "a PostgreSQL export under the unit: the table and the Arabic row ($(jq -c '.result.error // empty' <<<"$st"))" \
	bash -c "jq -e '.result.state == \"done\"' <<<'$st' >/dev/null && grep -q 'CREATE TABLE public.t' '$PEXF' && grep -qF \"\$(printf '1\t%s' '$AR')\" '$PEXF' && [ \"\$(sha256sum < '$PEXF' | cut -d' ' -f1)\" = '$(jq -r '.result.result.sha256 // empty' <<<"$st")' ]"
hjournal > "$TU/journal.txt"
check "... psql and pg_dump each ran as nobody in a unit of its own, exit 0" \
	bash -c "grep -q 'import of shop on pg: psql started as aapanel-db-import-[0-9]*-[0-9]*.service (nobody)' '$TU/journal.txt' && grep -q 'export of shop on pg: pg_dump started as aapanel-db-export-[0-9]*-[0-9]*.service (nobody)' '$TU/journal.txt' && grep -q 'aapanel-db-import-[0-9]*-[0-9]*.service ($PG_BIN/psql): exit 0' '$TU/journal.txt' && grep -q 'aapanel-db-export-[0-9]*-[0-9]*.service ($PG_BIN/pg_dump): exit 0' '$TU/journal.txt'"
check "... no import role left, no unit left" \
	bash -c "! timeout 20 runuser -u postgres -- '$PG_BIN/psql' -X -q -At -h '$PGD' -p '$PGN_PORT' -U postgres -d postgres -c 'SELECT rolname FROM pg_roles' | grep -q ap_imp_ && ! nsenter -t $SD -m -p -- systemctl list-units --all --no-legend 'aapanel-db-*' | grep -q ."
ns journalctl --no-pager > "$TU/journal.all" 2>/dev/null
check "the admin password is in no line of the namespace's journal ($(wc -l < "$TU/journal.all") lines)" \
	bash -c "[ -s '$TU/journal.all' ] && ! grep -q '$APW' '$TU/journal.all'"
ns rm -f /run/systemd/system/aapanel-helper.service.d/dbio.conf

kill "$HTTP_PID" "$HTTP2_PID" "$CLIENT" "$NEAR_PID" "$FAR_PID" 2>/dev/null || true
for p in "$HTTP_PID" "$HTTP2_PID" "$CLIENT" "$NEAR_PID" "$FAR_PID"; do wait "$p" 2>/dev/null || true; done
HTTP_PID="" HTTP2_PID="" CLIENT="" NEAR_PID="" FAR_PID=""

if [ "$FAIL" -ne 0 ]; then
	echo "--- journal of aapanel-helper (namespace)"; ns journalctl --no-pager -u aapanel-helper.service -u aapanel-helper.socket 2>/dev/null | tail -n 30 || true
	echo "--- systemd log"; tail -n 20 "$TU/systemd.log"
fi
kill -s SIGRTMIN+4 "$SD"
for _ in $(seq 1 100); do kill -0 "$SD" 2>/dev/null || break; sleep 0.1; done
check "systemd in the namespace powered off cleanly" bash -c "! kill -0 $SD 2>/dev/null"
wait "$UNSHARE" 2>/dev/null || true
SD=""

it_summary
