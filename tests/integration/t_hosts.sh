#!/usr/bin/env bash
# Several hosts, one database (issue 19): two pools ("hosts" A and B: their
# own var/, configuration, socket, sampler), the secret key shared as
# docs/operations.md says, one nginx upstream over both, plus one nginx
# pinned to each host, on a throwaway PostgreSQL and then on MariaDB:
#   - hosts migrating one empty database at once all succeed (and on SQLite);
#   - a host with another secret key refuses to start and says why;
#   - a session made on A works on B; signing out on B ends it on A;
#   - sign-in guesses sent to both hosts at once are counted together;
#   - a worker killed between a change and its audit row leaves neither;
#   - hundreds of changes from each host at once: every one audited, the
#     hash chain intact (`aapanel audit verify` on both hosts);
#   - a stopping host answers the POSTs queued on its socket (no 502);
#   - killing one host's master under load loses no GET (nginx retries it
#     on the other host) and no committed change;
#   - a job's progress on A reaches a live stream opened on B.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dbservers.sh"
it_setup 'pool = { workers = 3; };'
HOST_PIDS=""
hosts_stop() {
	local p
	for p in $HOST_PIDS $EXTRA_NGINX; do kill -TERM "$p" 2>/dev/null || true; done
	for p in $HOST_PIDS $EXTRA_NGINX; do
		for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	HOST_PIDS="" EXTRA_NGINX=""
}
EXTRA_NGINX=""
# (exit $rc): it_teardown reads the status the test ended with.
trap 'rc=$?; hosts_stop; db_stop_all; (exit $rc); it_teardown' EXIT
chmod 0711 "$T" # PostgreSQL runs as postgres and must reach $T/pg
PW='correct horse battery staple'
START=$(date +%s)

# The secret key all hosts share (docs/operations.md), and another one.
(umask 077; openssl rand -hex 32 > "$T/secret_key"; openssl rand -hex 32 > "$T/other_key")

# mkhost NAME DSN PWFILE [KEYFILE]: a host's own configuration and var/.
mkhost() {
	local h=$1 dsn=$2 pw=$3 key=${4:-$T/secret_key}
	rm -rf "${T:?}/$h"
	mkdir -p "$T/$h/conf/profiles" "$T/$h/var/run"
	cp "$SRC/conf/aapanel.cfg" "$T/$h/conf/aapanel.cfg"
	cat > "$T/$h/conf/profiles/test.cfg" <<CFG
paths = { var_dir = "$T/$h/var"; run_dir = "$T/$h/var/run"; log_dir = "$T/$h/var/log"; };
server = { socket = "$T/$h/var/run/aapanel.sock"; };
db = { dsn = "$dsn"; password_file = "$pw"; };
security = { secret_key_file = "$key"; };
pool = { workers = 3; shutdown_timeout = 10; };
auth = { lockout_threshold = 3; max_tokens_per_user = 10000; };
monitor = { interval = 1; };
helper = { socket = "$T/$h/var/run/helper.sock"; sandbox_root = "$T/$h/var/sandbox"; };
log = { level = "info"; };
CFG
}
H() { local h=$1; shift; "$BIN" --profile test --config "$T/$h/conf/aapanel.cfg" --root "$SRC" "$@"; }
# host_spawn NAME: serve in the background (pid in HPID_NAME); host_wait
# NAME: until its socket is there; host_start: both.
host_spawn() {
	local h=$1
	"$BIN" --profile test --config "$T/$h/conf/aapanel.cfg" --root "$SRC" serve 2>>"$T/$h.log" &
	HOST_PIDS="$HOST_PIDS $!"
	eval "HPID_$h=$!"
}
host_wait() {
	local h=$1 pid
	eval "pid=\$HPID_$h"
	for _ in $(seq 1 200); do
		[ -S "$T/$h/var/run/aapanel.sock" ] && return 0
		kill -0 "$pid" 2>/dev/null || { echo "host $h failed to start:"; tail -5 "$T/$h.log"; return 1; }
		sleep 0.05
	done
	echo "host $h: socket never appeared"; return 1
}
host_start() { host_spawn "$1" && host_wait "$1"; }
# host_stop NAME [SIGNAL]: stop it and wait (10 s at most).
host_stop() {
	local h=$1 sig=${2:-TERM} pid
	eval "pid=\${HPID_$h:-}"
	[ -n "$pid" ] || return 0
	kill -"$sig" "$pid" 2>/dev/null || true
	for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	kill -0 "$pid" 2>/dev/null && { echo "host $h (pid $pid) still running 10 s after SIG$sig"; tail -5 "$T/$h.log"; }
	wait "$pid" 2>/dev/null || true
	eval "HPID_$h="
}
# mknginx DIR PORT SOCKET...: an nginx whose upstream holds these sockets.
mknginx() {
	local d=$1 port=$2 pid; shift 2
	mkdir -p "$d"
	LISTEN_FILE="$d/listen.conf" EVENTS_SOCKET="$(dirname "$1")/aapanel-events.sock" \
		"$SRC/scripts/nginx-conf.sh" "$d" "$port" "$1" "$SRC/static" >/dev/null
	python3 - "$d/nginx.conf" "$@" <<'PY'
import re, sys
conf, socks = sys.argv[1], sys.argv[2:]
s = open(conf).read()
servers = "".join("\t\tserver unix:%s max_fails=0;\n" % p for p in socks)
s = re.sub(r"upstream aapanel \{\n(?:\t\tserver [^\n]*\n)+", "upstream aapanel {\n" + servers, s, count=1)
open(conf, "w").write(s)
PY
	nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" &
	pid=$!
	EXTRA_NGINX="$EXTRA_NGINX $pid"
	for _ in $(seq 1 200); do
		curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0
		kill -0 "$pid" 2>/dev/null || { echo "nginx failed:"; cat "$d/error.log"; return 1; }
		sleep 0.05
	done
	return 1
}
step() { [ -z "${HOSTS_TIMING:-}" ] || echo "     [$(( $(date +%s) - t0 )) s] step $1"; }
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

db_start_postgres "$T/pg" || { not_ok "PostgreSQL starts"; exit 1; }
db_start_mariadb "$T/my" || { not_ok "MariaDB starts"; exit 1; }
ok "PostgreSQL and MariaDB started (ports $PG_PORT, $MYSQL_PORT)"

# ------------------------------------------------------------- migrations at once, SQLite
mkhost s1 "sqlite:///$T/shared.db" ""
mkhost s2 "sqlite:///$T/shared.db" ""
pids=()
for i in 1 2 3 4; do H "s$(( (i % 2) + 1 ))" db migrate > "$T/mig.sqlite.$i" 2>&1 & pids+=($!); done
bad=0; for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
nmig=$(ls "$SRC/sql/sqlite" | grep -c '\.sql$')
check "sqlite: 4 hosts migrating one empty database at once all succeed ($bad failed)" test "$bad" = 0
check "sqlite: each migration applied once ($nmig in schema_migrations)" \
	test "$(sqlite3 "$T/shared.db" 'SELECT COUNT(*) FROM schema_migrations')" = "$nmig"

# ------------------------------------------------------------- per backend
backend() { # name dsn pwfile query-function
	local b=$1 dsn=$2 pwf=$3 q=$4 t0
	t0=$(date +%s)
	echo "# $b"
	hosts_stop
	rm -f "$T"/[ABC].log
	mkhost A "$dsn" "$pwf"
	mkhost B "$dsn" "$pwf"
	mkhost C "$dsn" "$pwf" "$T/other_key"
	SA="$T/A/var/run/aapanel.sock" SB="$T/B/var/run/aapanel.sock"

	step 1
	# 1. migrations at once: four processes on the empty database
	local pids=() bad=0 p
	for i in 1 2 3 4; do H "$([ $((i % 2)) = 0 ] && echo A || echo B)" db migrate > "$T/mig.$b.$i" 2>&1 & pids+=($!); done
	for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
	check "$b: 4 hosts migrating the empty database at once all succeed ($bad failed)" test "$bad" = 0
	check "$b: each migration applied once" test "$($q 'SELECT COUNT(*) FROM schema_migrations')" = "$nmig"
	[ "$bad" = 0 ] || cat "$T"/mig.$b.*

	step 2
	# 2. the secret key: both hosts start at once with the shared key; one
	# with another key refuses, naming the setting
	host_spawn A
	host_spawn B
	host_wait A || true
	host_wait B || true
	check "$b: hosts A and B started at once with the shared key" test -S "$SA" -a -S "$SB"
	check "$b: one fingerprint recorded, not the key" \
		test "$($q 'SELECT COUNT(*) FROM panel_key')" = 1 -a "$($q 'SELECT fingerprint FROM panel_key')" != "$(cat "$T/secret_key")"
	local rc=0
	timeout 20 "$BIN" --profile test --config "$T/C/conf/aapanel.cfg" --root "$SRC" serve > "$T/C.log" 2>&1 || rc=$?
	check "$b: a host with another secret key refuses to start (exit $rc)" test "$rc" = 1
	check "$b: and says why, naming security.secret_key_file" grep -q "security.secret_key_file: this host's secret key is not the one the other hosts" "$T/C.log"

	# nginx: one upstream over both hosts, and one pinned to each
	PORT=$(it_free_port); PA=$(it_free_port); PB=$(it_free_port)
	mknginx "$T/ngx-$b" "$PORT" "$SA" "$SB" || { not_ok "$b: nginx over both hosts"; return; }
	mknginx "$T/ngx-$b-a" "$PA" "$SA" "$SA" || { not_ok "$b: nginx on A"; return; }
	mknginx "$T/ngx-$b-b" "$PB" "$SB" "$SB" || { not_ok "$b: nginx on B"; return; }
	UA="http://127.0.0.1:$PA" UB="http://127.0.0.1:$PB" U="http://127.0.0.1:$PORT"

	step 3
	# 3. a session made on A works on B; signing out on B ends it on A
	printf '%s\n' "$PW" | H A user add admin --role admin --password-stdin >/dev/null
	printf '%s\n' "$PW" | H B user add guess --role viewer --password-stdin >/dev/null
	local jar="$T/jar.$b"
	check "$b: sign in on host A" test "$(signin "$UA" "$jar" admin "$PW")" = 303
	cp "$jar" "$jar.copy"
	check "$b: the session works on host B" test "$(code -b "$jar" "$UB/account")" = 200
	local tok
	tok=$(form_token "$jar" "$UB/account")
	check "$b: sign out on host B" test "$(code -b "$jar" -c "$jar" -H "Origin: $UB" --data-urlencode "csrf=$tok" "$UB/logout")" = 303
	# The cookie as it was before: the session itself must be over on A.
	check "$b: the cookie signed out on B no longer works on host A ($(code -b "$jar.copy" "$UA/account"))" \
		test "$(code -b "$jar.copy" "$UA/account")" != 200

	step 4
	# 4. throttling counts guesses made on both hosts together: 12 at once,
	# 6 on each host, lockout_threshold 3 → at most 3 checked
	local i gp=()
	for i in $(seq 1 12); do
		local base=$UA; [ $((i % 2)) = 0 ] && base=$UB
		form_token "$T/g$i" "$base/login" > "$T/gt$i"
		echo "$base" > "$T/gb$i"
	done
	printf '%s\n' "$PW" | H A user add guess2 --role viewer --password-stdin >/dev/null
	local seq=""
	seq="$seq $(signin "$UA" "$T/sq1" guess2 'wrong 1') $(signin "$UB" "$T/sq2" guess2 'wrong 2')"
	seq="$seq $(signin "$UA" "$T/sq3" guess2 'wrong 3')"
	# After 3 failures the next waits 1 s, after 4 2 s, after 5 4 s: each
	# failure once its wait is over, then the right password on B at once
	# waits (counted per host, B would have 2 and sign in).
	sleep 1.2
	seq="$seq $(signin "$UB" "$T/sq4" guess2 'wrong 4')"
	sleep 2.2
	seq="$seq $(signin "$UA" "$T/sq5" guess2 'wrong 5') $(signin "$UB" "$T/sq6" guess2 "$PW")"
	check "$b: failures made on A, B, A, B, A: the right password on B waits (401 ×5 429: got$seq)" \
		test "$seq" = " 401 401 401 401 401 429"
	local g0
	g0=$(date +%s)
	for i in $(seq 1 12); do
		curl -s -o /dev/null -w '%{http_code}\n' -b "$T/g$i" -H "Origin: $(cat "$T/gb$i")" \
			--data-urlencode "csrf=$(cat "$T/gt$i")" --data-urlencode username=guess \
			--data-urlencode "password=guess number $i" "$(cat "$T/gb$i")/login" > "$T/gc$i" &
		gp+=($!)
	done
	for p in "${gp[@]}"; do wait "$p" || true; done
	local checked waited secs
	secs=$(( $(date +%s) - g0 ))
	checked=$(cat "$T"/gc* | grep -c '^401$' || true)
	waited=$(cat "$T"/gc* | grep -c '^429$' || true)
	# After 3 failures an account waits 1 s from the last one (then 2, 4 …):
	# a burst that lasts into a later second may check one more per second.
	check "$b: 12 guesses at once over both hosts: at most 3 checked ($checked got 401 in ${secs} s), the rest wait ($waited got 429)" \
		test "$checked" -le $((3 + secs)) -a "$((checked + waited))" -eq 12
	rm -f "$T"/g[0-9]* "$T"/gt* "$T"/gb* "$T"/gc*

	# An API token for the load below (CLI on host B).
	TOKEN=$(H B token create --user admin --name load --scope admin 2>/dev/null | grep -o 'apn_[0-9a-f]*')
	check "$b: an admin API token" test -n "$TOKEN"
	mk() { # base name → HTTP status of creating an API token called name
		curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
			-d "{\"name\":\"$2\",\"scope\":\"read\"}" "$1/api/v1/account/tokens"
	}

	step 5
	# 5. a change and its audit row are one transaction: host A holds each
	# audit row back 1.5 s after its change; the worker killed in between
	# leaves neither the token nor its row; let through, both are there
	host_stop A
	export AAPANEL_TEST_AUDIT_DELAY_MS=4000
	host_start A
	unset AAPANEL_TEST_AUDIT_DELAY_MS
	local before after wpid
	before=$($q "SELECT COUNT(*) FROM audit_log WHERE action = 'token.create'")
	mk "$UA" killed-midway > "$T/killed.code" & local kp=$!
	wpid=""
	for _ in $(seq 1 40); do
		wpid=$(H A status --json 2>/dev/null | jq -r '.workers[] | select(.current != null and (.current | startswith("POST"))) | .pid' | head -1)
		[ -n "$wpid" ] && break
		sleep 0.05
	done
	sleep 1 # the change is made within milliseconds; its audit row waits 4 s
	[ -n "$wpid" ] && kill -KILL "$wpid"
	wait "$kp" || true
	check "$b: a worker killed between a change and its audit row (pid ${wpid:-none}): the request fails" test "$(cat "$T/killed.code")" != 201
	check "$b: and neither the change nor its audit row is in the database" \
		test "$($q "SELECT COUNT(*) FROM api_tokens WHERE name = 'killed-midway'")" = 0 -a \
		"$($q "SELECT COUNT(*) FROM audit_log WHERE action = 'token.create'")" = "$before"
	check "$b: let through, the same change is saved with its audit row" test "$(mk "$UA" let-through)" = 201
	check "$b: both are there" test "$($q "SELECT COUNT(*) FROM api_tokens WHERE name = 'let-through'")" = 1 -a \
		"$($q "SELECT COUNT(*) FROM audit_log WHERE action = 'token.create'")" = "$((before + 1))"
	host_stop A
	host_start A

	step 6
	# 6. hundreds of changes from each host at once: every answer 201, each
	# change audited once, the chain intact (verified on both hosts)
	local n=${HOSTS_CHANGES:-200} t1 t2
	before=$($q "SELECT COUNT(*) FROM audit_log")
	t1=$(date +%s.%N)
	{ for i in $(seq 1 "$n"); do echo "$UA a$i"; echo "$UB b$i"; done; } |
		xargs -P 16 -n 2 bash -c 'curl -s -o /dev/null -w "%{http_code}\n" -H "Authorization: Bearer '"$TOKEN"'" -H "Content-Type: application/json" -d "{\"name\":\"load-$1\",\"scope\":\"read\"}" "$0/api/v1/account/tokens"' > "$T/load.$b"
	t2=$(date +%s.%N)
	local created rate
	created=$(grep -c '^201$' "$T/load.$b" || true)
	rate=$(awk -v n=$((2 * n)) -v a="$t1" -v z="$t2" 'BEGIN { printf "%.0f", n / (z - a) }')
	check "$b: $((2 * n)) changes from both hosts at once (16 at a time): all 201 ($created; $rate changes/s)" test "$created" = "$((2 * n))"
	check "$b: each audited exactly once ($((2 * n)) new rows)" \
		test "$($q "SELECT COUNT(*) FROM audit_log")" = "$((before + 2 * n))" -a \
		"$($q "SELECT COUNT(DISTINCT target) FROM audit_log WHERE action = 'token.create' AND target LIKE 'load-%'")" = "$((2 * n))"
	check "$b: aapanel audit verify passes on host A" bash -c "'$BIN' --profile test --config '$T/A/conf/aapanel.cfg' --root '$SRC' audit verify | grep -q 'intact'"
	check "$b: aapanel audit verify passes on host B" bash -c "'$BIN' --profile test --config '$T/B/conf/aapanel.cfg' --root '$SRC' audit verify | grep -q 'intact'"
	echo "     figures: $b, $((2 * n)) audited changes in $(awk -v a="$t1" -v z="$t2" 'BEGIN { printf "%.1f", z - a }') s over two hosts ($rate/s)"

	step 7
	# 7. a graceful stop answers what is queued on the stopping host's socket:
	# A's 3 workers busy for 1.5 s, 6 POSTs queued behind them, then SIGTERM
	local sp=() qp=()
	for i in 1 2 3; do code "$UA/_test/sleep?ms=1500" > "$T/slow$i" & sp+=($!); done
	sleep 0.3
	for i in 1 2 3 4 5 6; do mk "$UA" "queued-$i" > "$T/q$i" & qp+=($!); done
	# Until the 6 wait in the socket's queue (ss: Recv-Q of the listener).
	local queued=0
	for _ in $(seq 1 60); do
		queued=$(ss -xlH "src $SA" 2>/dev/null | awk '{ print $3 }' | head -1)
		[ "${queued:-0}" -ge 6 ] && break
		sleep 0.05
	done
	host_stop A TERM
	for p in "${sp[@]}" "${qp[@]}"; do wait "$p" || true; done
	check "$b: SIGTERM: the 3 requests in flight finish (200: $(cat "$T"/slow[123]))" test "$(cat "$T"/slow[123] | grep -o 200 | wc -l)" = 3
	check "$b: and the 6 POSTs queued on its socket ($queued in its queue at SIGTERM) are answered, not 502 ($(cat "$T"/q[1-6] | tr '\n' ' '))" \
		test "$(cat "$T"/q[1-6] | grep -c '^201$')" = 6
	check "$b: the stopped host's socket is gone (nginx moves on at once)" test ! -e "$SA"
	[ -e "$SA" ] && { ls -la "$T/A/var/run"; tail -n 8 "$T/A.log"; }
	host_start A
	# ... and under a stream of POSTs through the shared upstream, a graceful
	# stop of A answers every one (queued on A, or sent to B by nginx)
	{ for i in $(seq 1 200); do echo "g$i"; done; } |
		xargs -P 8 -n 1 bash -c 'curl -s -o /dev/null -w "%{http_code}\n" -H "Authorization: Bearer '"$TOKEN"'" -H "Content-Type: application/json" -d "{\"name\":\"stop-$0\",\"scope\":\"read\"}" "'"$U"'/api/v1/account/tokens"' > "$T/gpost.$b" & local gpp=$!
	sleep 1
	host_stop A TERM
	wait "$gpp" || true
	check "$b: SIGTERM to A under 8 streams of POSTs through both hosts: all 200 answered 201 ($(sort "$T/gpost.$b" | uniq -c | tr -s ' \n' ' '))" \
		test "$(grep -c '^201$' "$T/gpost.$b")" = 200
	host_start A

	step 8
	# 8. kill one host's master under load: GETs through the shared upstream
	# never fail (nginx retries them on B); every change answered 201 is kept
	local sess="$T/sess.$b"
	signin "$U" "$sess" admin "$PW" >/dev/null
	local cookie
	cookie=$(awk '$6 ~ /aapanel/ { printf "%s=%s; ", $6, $7 }' "$sess")
	wrk -t2 -c8 -d5s -H "Cookie: $cookie" "$U/account" > "$T/wrk.$b" 2>&1 & local wp=$!
	{ for i in $(seq 1 150); do echo "k$i"; done; } |
		xargs -P 4 -n 1 bash -c 'c=$(curl -s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer '"$TOKEN"'" -H "Content-Type: application/json" -d "{\"name\":\"kill-$0\",\"scope\":\"read\"}" "'"$U"'/api/v1/account/tokens"); echo "$0 $c"' > "$T/kpost.$b" & local kpp=$!
	sleep 1.5
	host_stop A KILL
	wait "$wp" || true
	wait "$kpp" || true
	local reqs non2xx ok201 lost
	reqs=$(awk '/requests in/ { print $1 }' "$T/wrk.$b")
	non2xx=$(awk '/Non-2xx/ { print $NF }' "$T/wrk.$b"); non2xx=${non2xx:-0}
	check "$b: master A killed under load: $reqs GETs through nginx, none failed ($non2xx non-2xx, $(grep -c 'Socket errors' "$T/wrk.$b" || true) socket error lines)" \
		test "${reqs:-0}" -gt 0 -a "$non2xx" = 0 -a "$(grep -c 'Socket errors' "$T/wrk.$b" || true)" = 0
	ok201=$(awk '$2 == 201' "$T/kpost.$b" | wc -l)
	local names
	names=$(awk '$2 == 201 { printf "%s'"'"'kill-%s'"'"'", (n++ ? "," : ""), $1 }' "$T/kpost.$b")
	lost=$(( ok201 - $($q "SELECT COUNT(*) FROM api_tokens WHERE name IN (${names:-''})") ))
	check "$b: of 150 POSTs meanwhile $ok201 answered 201 ($(awk '$2 != 201' "$T/kpost.$b" | wc -l) others), and every one of them is kept ($lost lost)" \
		test "$lost" = 0 -a "$ok201" -ge 100
	check "$b: no change without its audit row" test "$($q "SELECT COUNT(*) FROM api_tokens t WHERE t.name LIKE 'kill-%' AND NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.action = 'token.create' AND a.target = t.name)")" = 0
	check "$b: the chain is intact after the kill" bash -c "'$BIN' --profile test --config '$T/B/conf/aapanel.cfg' --root '$SRC' audit verify | grep -q 'intact'"
	echo "     figures: $b, master killed: $reqs GETs, $non2xx failed; $ok201 of 150 POSTs created, $lost lost"
	host_start A
	check "$b: host A comes back with the same key" test -S "$SA"

	step 9
	# 9. live events across hosts: a viewer's stream opened on host B shows
	# the progress of a job that host A's helper runs
	"$SRC/build/aapanel-helper" --profile test --config "$T/A/conf/aapanel.cfg" --root "$SRC" 2>>"$T/helperA.log" &
	HOST_PIDS="$HOST_PIDS $!"
	for _ in $(seq 1 100); do [ -S "$T/A/var/run/helper.sock" ] && break; sleep 0.05; done
	signin "$UB" "$sess" admin "$PW" >/dev/null
	timeout 7 curl -sN -b "$sess" "$UB/events/metrics" > "$T/ev.$b" 2>/dev/null & local ev=$!
	sleep 1
	local job t_job
	t_job=$(date +%s%N)
	job=$("$SRC/build/tests/helper_send" --call "$T/A/var/run/helper.sock" test.sleep '{"seconds":3}' | jq -r '.result.job' || true)
	[ -n "$job" ] && [ "$job" != null ] || { echo "     the job did not start:"; tail -5 "$T/helperA.log"; }
	wait "$ev" || true
	local evs progs
	evs=$(grep -c '^event: job' "$T/ev.$b" || true)
	progs=$(sed -n 's/^data: \({"host".*\)$/\1/p' "$T/ev.$b" | jq -r "select(.id == $job) | .progress" 2>/dev/null | sort -un | tr '\n' ' ' || true)
	check "$b: a job run by host A's helper (job ${job:-none}): a viewer on host B sees its progress (${progs:-nothing}; $evs job events)" \
		bash -c "[ \$(wc -w <<<'$progs') -ge 3 ] && grep -qw 100 <<<'$progs'"
	check "$b: and the stream still carries host B's own readings" grep -q '^event: metrics' "$T/ev.$b"
	# 10. a reload does not take another key either
	sed -i "s|$T/secret_key|$T/other_key|" "$T/A/conf/profiles/test.cfg"
	kill -HUP "$HPID_A"
	for _ in $(seq 1 40); do grep -q 'reload refused: security.secret_key_file' "$T/A.log" && break; sleep 0.05; done
	check "$b: SIGHUP with another key file: the reload is refused, naming the setting" grep -q 'reload refused: security.secret_key_file: the secret key changed' "$T/A.log"
	check "$b: and host A still serves with the old key" test "$(code -b "$sess" "$UA/account")" = 200
	echo "     figures: $b, live events: $evs job events of host A's job seen on host B ($(ap_relay_kind "$q"))"
	echo "     $b took $(( $(date +%s) - t0 )) s"
}
ap_relay_kind() { case $1 in qpg) echo "LISTEN/NOTIFY";; *) echo "polled every 500 ms";; esac; }
qpg() { PGPASSWORD=$(cat "$PG_PASSWORD_FILE") psql -X -qtA -h 127.0.0.1 -p "$PG_PORT" -U aapanel aapanel -c "$1"; }
qmy() { mariadb -N -B -h 127.0.0.1 -P "$MYSQL_PORT" -u aapanel -p"$(cat "$MYSQL_PASSWORD_FILE")" aapanel -e "$1"; }
nmig=$(ls "$SRC/sql/postgresql" | grep -c '\.sql$')
case " ${HOSTS_BACKENDS:-postgresql mariadb} " in *" postgresql "*)
	backend postgresql "$PG_DSN" "$PG_PASSWORD_FILE" qpg ;; esac
nmig=$(ls "$SRC/sql/mysql" | grep -c '\.sql$')
case " ${HOSTS_BACKENDS:-postgresql mariadb} " in *" mariadb "*)
	backend mariadb "$MYSQL_DSN" "$MYSQL_PASSWORD_FILE" qmy ;; esac
hosts_stop
echo "     t_hosts.sh took $(( $(date +%s) - START )) s"
it_summary
