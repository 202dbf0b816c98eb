#!/usr/bin/env bash
# make check from a private tree (e.g. cloned into /root/main, mode 0700):
# t_units.sh, the test that runs the panel as an unprivileged user, passes
# from a copy of the tree inside a 0700 directory; and when it fails midway
# (an injected `false` while its helpers and the traced pool run), nothing it
# started outlives it. Each run is its own session, so a leftover process is
# found by its session id.
. "$(dirname "$0")/lib.sh"
it_setup
P="$T/private"
tree="$P/main"
mkdir -m 0700 "$P"
mkdir -p "$tree/build/tests" "$tree/tests"
cp -a "$SRC/conf" "$SRC/docker" "$SRC/include" "$SRC/po" "$SRC/scripts" "$SRC/sql" "$SRC/static" \
	"$SRC/templates" "$tree/"
cp -a "$SRC/tests/integration" "$tree/tests/"
cp "$BIN" "$tree/build/aapanel"
cp "$SRC/build/aapanel-helper" "$tree/build/aapanel-helper"
cp "$SRC/build/tests/notify_listen" "$tree/build/tests/notify_listen"
check "the copy is private: uid 65534 cannot read its templates" \
	bash -c "! setpriv --reuid=65534 --regid=65534 --clear-groups -- cat '$tree/templates/layout.html' >/dev/null 2>&1"

# run_in_session LOG SCRIPT: run t_units.sh from the copy as a session leader;
# prints its exit status and session id.
run_in_session() {
	local rc=0 pid
	setsid env AAPANEL_SRCDIR="$tree" bash "$2" > "$1" 2>&1 < /dev/null &
	pid=$!
	wait "$pid" || rc=$?
	echo "$rc $pid"
}
# leftovers SID: processes still in that session, after a grace second
leftovers() {
	sleep 1
	ps -e -o pid=,sid=,args= | awk -v s="$1" '$2 == s' || true
}

read -r rc sid < <(run_in_session "$T/units.log" "$tree/tests/integration/t_units.sh")
check "t_units.sh passes from a 0700 copy of the tree (exit $rc)" test "$rc" = 0
[ "$rc" = 0 ] || tail -n 30 "$T/units.log"
left=$(leftovers "$sid")
check "nothing of it is left running" test -z "$left"

# The failure: abort right after the traced pool was started (notify_listen,
# strace and systemd-socket-activate are running then).
sed '/^POOL_PID=\$! # strace'"'"'s pid/a false # injected by t_private_tree.sh' \
	"$tree/tests/integration/t_units.sh" > "$tree/tests/integration/t_units_fail.sh"
check "the failure is injected after the traced pool starts" \
	grep -q '^false # injected' "$tree/tests/integration/t_units_fail.sh"
before=$(date +%s%N)
read -r rc sid < <(run_in_session "$T/units_fail.log" "$tree/tests/integration/t_units_fail.sh")
took=$(( ($(date +%s%N) - before) / 1000000 ))
check "the broken copy fails (exit $rc)" test "$rc" != 0
check "and returns at once, not after its helper's 30 s (took $took ms)" test "$took" -lt 15000
left=$(leftovers "$sid")
check "nothing it started outlives it${left:+ (left: $(echo "$left" | awk '{print $3}' | tr '\n' ' '))}" test -z "$left"
[ -z "$left" ] || { echo "$left"; for p in $(echo "$left" | awk '{print $1}'); do kill -KILL "$p" 2>/dev/null || true; done; }
it_summary
