#!/usr/bin/env bash
# scripts/install-deps.sh holds back the services of the test servers
# (nginx, MariaDB, PostgreSQL): /usr/sbin/policy-rc.d answers 101 while, and
# only while, they are installed; it is removed afterwards, also when apt-get
# fails or the run is interrupted; an existing one is left alone; --runtime
# (a real server) never creates it. apt-get and dpkg-query are stand-ins that
# record what they were asked and what policy-rc.d answered at that moment;
# each run gets a private mount namespace with an empty /usr/sbin, so the
# machine's own /usr/sbin is never touched.
. "$(dirname "$0")/lib.sh"
it_setup
F="$T/fake"
mkdir -p "$F"
cat > "$F/apt-get" <<'SH'
#!/bin/sh
echo "apt-get $*" >> "$FAKE_LOG"
[ "$1" = update ] && exit 0
if [ -x /usr/sbin/policy-rc.d ]; then /usr/sbin/policy-rc.d nginx start; echo "policy=$?" >> "$FAKE_LOG"; else echo "policy=none" >> "$FAKE_LOG"; fi
case " $* " in *" ${FAKE_HANG:-none} "*) echo hanging >> "$FAKE_LOG"; exec sleep 30 ;; esac # dies of the signal, as apt-get does
case " $* " in *" ${FAKE_FAIL:-none} "*) exit 100 ;; esac
exit 0
SH
printf '#!/bin/sh\nexit 1\n' > "$F/dpkg-query" # nothing is installed
printf '#!/bin/sh\nexit 0\n' > "$F/node"
printf '#!/bin/sh\nexit 0\n' > "$F/npm"
chmod 0755 "$F"/*

# deps NAME [SETUP] [ARGS...]: run install-deps.sh in its own mount namespace;
# SETUP runs there first (e.g. an existing policy-rc.d); $T/NAME.log records
# the calls, $T/NAME.after what /usr/sbin holds afterwards.
deps() {
	local name=$1 setup=$2
	shift 2
	: > "$T/$name.log"
	setsid unshare --mount sh -c '
		mount --make-rprivate / && mount -t tmpfs tmpfs /usr/sbin || exit 99
		trap "echo interrupted >> \"\$FAKE_LOG\"" TERM # outlive the signal, to record what is left
		eval "$1"; shift
		rc=0; PATH="$FAKE:$PATH" "$@" || rc=$?
		ls -A /usr/sbin > "$AFTER"; cat /usr/sbin/policy-rc.d >> "$AFTER" 2>/dev/null
		exit $rc' sh "$setup" "$SRC/scripts/install-deps.sh" "$@" > "$T/$name.out" 2>&1 &
	DPID=$!
}
export FAKE="$F" FAKE_LOG
# gone NAME: the run recorded /usr/sbin afterwards, and it was empty
gone() { [ -e "$T/$1.after" ] && [ ! -s "$T/$1.after" ]; }

FAKE_LOG="$T/dev.log" AFTER="$T/dev.after"; export AFTER
deps dev ''
rc=0; wait "$DPID" || rc=$?
check "developer install: exit 0 (got $rc)" test "$rc" = 0
check "the test servers are installed on their own, after the rest" \
	test "$(grep '^apt-get install' "$T/dev.log" | tail -1)" = "apt-get install -y -qq --no-install-recommends mariadb-server postgresql nginx-light php-fpm"
check "the other packages are installed first, with services allowed (no policy)" \
	bash -c "grep -A1 '^apt-get install .*build-essential' '$T/dev.log' | grep -qx 'policy=none' && ! grep '^apt-get install .*build-essential' '$T/dev.log' | grep -qE '( |^)(nginx-light|mariadb-server|postgresql)( |$)'"
check "while the test servers are installed, policy-rc.d answers 101" \
	bash -c "grep -A1 '^apt-get install .*nginx-light' '$T/dev.log' | grep -qx 'policy=101'"
check "policy-rc.d is gone afterwards" gone dev
check "the run says so" grep -q 'test servers mariadb-server postgresql nginx-light php-fpm without starting their services' "$T/dev.out"

FAKE_LOG="$T/fail.log" AFTER="$T/fail.after"; export FAKE_FAIL=postgresql
deps fail ''
rc=0; wait "$DPID" || rc=$?
unset FAKE_FAIL
check "apt-get failing on a test server fails the run (exit $rc)" test "$rc" != 0
check "policy-rc.d was there during that install" grep -qx 'policy=101' "$T/fail.log"
check "and is gone after the failure" gone fail

FAKE_LOG="$T/int.log" AFTER="$T/int.after"; export FAKE_HANG=postgresql
deps int ''
for _ in $(seq 1 100); do grep -q hanging "$T/int.log" 2>/dev/null && break; sleep 0.05; done
check "interrupted during the test servers' install (policy 101 then)" grep -qx 'policy=101' "$T/int.log"
# SIGTERM to the whole process group (a background job ignores SIGINT, so
# this stands in for Ctrl-C, which the script handles the same way)
kill -TERM -- "-$DPID" 2>/dev/null || true
rc=0; wait "$DPID" || rc=$?
unset FAKE_HANG
check "the interrupted run stops (exit $rc), before the browser modules" \
	bash -c "[ $rc != 0 ] && ! grep -q 'npm ci' '$T/int.out'"
check "and removes policy-rc.d" gone int

FAKE_LOG="$T/own.log" AFTER="$T/own.after"; export AFTER
deps own "printf '#!/bin/sh\nexit 0 # the admin\n' > /usr/sbin/policy-rc.d; chmod 0755 /usr/sbin/policy-rc.d"
rc=0; wait "$DPID" || rc=$?
check "an existing policy-rc.d: exit 0 (got $rc)" test "$rc" = 0
check "is used as it is (it answered 0)" grep -qx 'policy=0' "$T/own.log"
check "and is left in place, unchanged" bash -c "grep -qx 'policy-rc.d' '$T/own.after' && grep -q '# the admin' '$T/own.after'"

FAKE_LOG="$T/rt.log" AFTER="$T/rt.after"; export AFTER
deps rt '' --runtime
rc=0; wait "$DPID" || rc=$?
check "--runtime (a server): exit 0 (got $rc)" test "$rc" = 0
check "--runtime installs nginx with its service allowed (no policy)" \
	bash -c "[ \$(grep -c '^apt-get install' '$T/rt.log') = 1 ] && grep '^apt-get install' '$T/rt.log' | grep -q nginx-light && ! grep -q 'policy=101' '$T/rt.log'"
check "--runtime leaves no policy-rc.d" gone rt

FAKE_LOG="$T/run.log" AFTER="$T/run.after"; export AFTER
deps run '' --run
rc=0; wait "$DPID" || rc=$?
check "--run (make run on a workstation): exit 0 (got $rc)" test "$rc" = 0
check "--run installs nginx with its service held back (make run starts its own)" \
	bash -c "grep -A1 '^apt-get install .*nginx-light' '$T/run.log' | grep -qx 'policy=101'"
check "--run installs no test tools (no chromium, no wrk)" bash -c "! grep '^apt-get install' '$T/run.log' | grep -qE 'chromium|wrk|pebble'"
check "--run leaves no policy-rc.d" gone run
it_summary
