#!/usr/bin/env bash
# The privileged helper (build/aapanel-helper), for real, on a temp socket in
# the test profile: the peer check (another uid gets one error line and the
# helper keeps serving), every envelope mistake and argument type error with
# its code, oversized and unfinished lines, hostile argument values refused
# naming the field, the sandbox, jobs (an id at once, running with progress,
# then done or failed), limits on connections, and a kill -9: the client
# library then reports "unavailable" without hanging, the job's processes
# are gone, and a restart serves again. A ping follows every refusal.
. "$(dirname "$0")/lib.sh"
it_setup
HELPER="$SRC/build/aapanel-helper"
SEND="$SRC/build/tests/helper_send"
HS="$T/var/run/helper.sock"
SB="$T/var/sandbox"
HPID=""
cat >> "$T/conf/profiles/test.cfg" <<CFG
helper = { socket = "$HS"; sandbox_root = "$SB"; max_message = 4096; timeout_ms = 1000;
           max_clients = 6; max_jobs = 2; };
CFG

stop_helper() {
	[ -n "$HPID" ] || return 0
	kill -TERM "$HPID" 2>/dev/null || true
	for _ in $(seq 1 100); do kill -0 "$HPID" 2>/dev/null || break; sleep 0.05; done
	kill -KILL "$HPID" 2>/dev/null || true
	wait "$HPID" 2>/dev/null || true
	HPID=""
}
HOLDERS=""
h_teardown() {
	local rc=$?
	for p in $HOLDERS; do kill "$p" 2>/dev/null || true; done
	stop_helper
	if [ "$rc" -ne 0 ] || [ "$FAIL" -ne 0 ]; then
		echo "--- helper log (last 40 lines)"; tail -n 40 "$T/helper.log" 2>/dev/null || true
	fi
	set +e # lib.sh's teardown reads the status: hand it over without set -e ending us here
	(exit "$rc")
	it_teardown
}
trap h_teardown EXIT

start_helper() {
	"$HELPER" --profile test --config "$(it_cfg)" --root "$SRC" 2>>"$T/helper.log" &
	HPID=$!
	for _ in $(seq 1 200); do
		[ -S "$HS" ] && "$SEND" --call "$HS" helper.ping >/dev/null 2>&1 && return 0
		kill -0 "$HPID" 2>/dev/null || { echo "helper failed to start:"; cat "$T/helper.log"; return 1; }
		sleep 0.05
	done
	echo "helper never answered"; cat "$T/helper.log"; return 1
}

# raw LINE...: each argument a line, sent as is on one connection; prints the answers.
raw() { printf '%s\n' "$@" | "$SEND" "$HS" 2>/dev/null || true; }
# call [--timeout MS] OP [ARGS]: through the client library; prints {"ok":..., "result"|"error"}.
call() {
	local t=()
	[ "${1:-}" = --timeout ] && { t=(--timeout "$2"); shift 2; }
	"$SEND" --call "${t[@]}" "$HS" "$@" || true
}
ping_ok() { call helper.ping | jqe '.ok == true and .result.profile == "test"'; }
# refused NAME CODE FIELD LINE: the answer is that error (id null or the request's) and a ping works after.
refused() {
	local name=$1 code=$2 field=$3 out
	out=$(raw "$4")
	check "$name: $code${field:+ ($field)}" jqe --arg c "$code" --arg f "$field" \
		'.ok == false and .error.code == $c and .error.field == $f and (.error.reason | length) > 0' <<<"$out"
	check "$name: the helper still answers a ping" ping_ok
}
# arg_refused FIELD ARGS_JSON: test.echo with these args is invalid, naming FIELD.
arg_refused() {
	local out
	out=$(call test.echo "$2")
	check "test.echo $(printf '%.60s' "$2" | tr '\n' ' '): invalid $1" \
		jqe --arg f "$1" '.ok == false and .error.code == "invalid" and .error.field == $f' <<<"$out"
}

start_helper
check "the helper started on its socket" test -S "$HS"
check "the socket is 0600 (the panel runs as the helper's own uid here)" test "$(stat -c %a "$HS")" = 600
check "the sandbox root was created" test -d "$SB"
out=$(call helper.ping)
check "helper.ping through the client library" jqe '.ok and .result.version != null and .result.uid == 0 and .result.profile == "test"' <<<"$out"
out=$(raw '{"id":7,"op":"helper.ping","args":{}}' '{"id":8,"op":"job.list","args":{}}')
check "two requests on one connection: two answers in order" \
	jqe -s 'length == 2 and .[0].id == 7 and .[0].ok and .[1].id == 8 and (.[1].result.jobs | type) == "array"' <<<"$out"

# --- the peer check: another uid gets one error line, the helper keeps serving
chmod 0755 "$T" "$T/var" "$T/var/run"
chmod 0666 "$HS" # so only SO_PEERCRED stands between nobody and the helper
out=$(printf '%s\n' '{"id":1,"op":"helper.ping","args":{}}' | setpriv --reuid=65534 --regid=65534 --clear-groups -- "$SEND" "$HS" 2>/dev/null || true)
check "uid 65534 gets exactly one line: denied, id null" \
	jqe -s 'length == 1 and .[0].id == null and .[0].ok == false and .[0].error.code == "denied"' <<<"$out"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups -- "$SEND" --call "$HS" helper.ping || true)
check "uid 65534 through the client library: denied" jqe '.ok == false and .error.code == "denied"' <<<"$out"
check "the refusal is logged with the uid" grep -q 'refused uid 65534' "$T/helper.log"
check "after the refusals the helper still answers its uid" ping_ok
chmod 0600 "$HS"

# --- envelope mistakes: each its code, the connection closed, the helper serving
refused "not JSON" invalid "" 'hello'
refused "truncated JSON" invalid "" '{"id":1,"op":'
refused "trailing garbage" invalid "" '{"id":1,"op":"helper.ping","args":{}} x'
refused "an array" invalid "" '[1,2]'
refused "a string" invalid "" '"helper.ping"'
refused "null" invalid "" 'null'
refused "an empty line" invalid "" ''
refused "a raw control character" invalid "" $'{"id":1,"op":"helper.ping","args":{}}\x01'
refused "id missing" invalid id '{"op":"helper.ping","args":{}}'
refused "id a string" invalid id '{"id":"1","op":"helper.ping","args":{}}'
refused "id fractional" invalid id '{"id":1.5,"op":"helper.ping","args":{}}'
refused "id negative" invalid id '{"id":-1,"op":"helper.ping","args":{}}'
refused "id beyond 2^53" invalid id '{"id":99999999999999999999,"op":"helper.ping","args":{}}'
refused "op missing" invalid op '{"id":1,"args":{}}'
refused "op a number" invalid op '{"id":1,"op":42,"args":{}}'
refused "op empty" invalid op '{"id":1,"op":"","args":{}}'
refused "args missing" invalid args '{"id":1,"op":"helper.ping"}'
refused "args an array" invalid args '{"id":1,"op":"helper.ping","args":[]}'
refused "args a string" invalid args '{"id":1,"op":"helper.ping","args":"x"}'
refused "an unknown member" invalid extra '{"id":1,"op":"helper.ping","args":{},"extra":1}'
refused "an unknown operation" unsupported op '{"id":1,"op":"site.destroy_everything","args":{}}'
out=$(raw '{"id":5,"op":"no.such","args":{}}')
check "an unknown operation's answer carries the request's id" jqe '.id == 5' <<<"$out"

# --- argument types (the connection stays open after an invalid argument)
arg_refused text '{"text":5}'
arg_refused text '{"text":null}'
arg_refused text '{"text":["a"]}'
arg_refused count '{"text":"a","count":"3"}'
arg_refused count '{"text":"a","count":3.0}'
arg_refused count '{"text":"a","count":11}'
arg_refused flag '{"text":"a","flag":"yes"}'
arg_refused flag '{"text":"a","flag":1}'
arg_refused mode '{"text":"a","mode":"shout"}'
arg_refused text '{}'
arg_refused surprise '{"text":"a","surprise":1}'
arg_refused args '{"text":"a","args":1}'
out=$(raw '{"id":1,"op":"test.echo","args":{"text":5}}' '{"id":2,"op":"helper.ping","args":{}}')
check "after an invalid argument the same connection serves the next request" \
	jqe -s 'length == 2 and .[0].error.field == "text" and .[1].ok' <<<"$out"

# --- oversized messages (helper.max_message = 4096)
big=$(head -c 5000 /dev/zero | tr '\0' a)
refused "a 5000-byte line" too_large "" "{\"id\":1,\"op\":\"test.echo\",\"args\":{\"text\":\"$big\"}}"
# From a file: the helper refuses before reading it all, and a writer into a pipe would die of SIGPIPE.
head -c 20000 /dev/zero | tr '\0' a > "$T/big.txt"
out=$("$SEND" "$HS" < "$T/big.txt" 2>/dev/null || true)
check "20000 bytes without a newline: too_large" jqe '.error.code == "too_large"' <<<"$out"
check "after too_large the helper still answers a ping" ping_ok
edge=$(head -c 4000 /dev/zero | tr '\0' a)
out=$(raw "{\"id\":1,\"op\":\"test.echo\",\"args\":{\"text\":\"$edge\"}}")
check "a 4030-byte line is read (and its 4000-character text refused by the table)" \
	jqe '.error.code == "invalid" and .error.field == "text" and (.error.reason | test("at most 64"))' <<<"$out"

# --- hostile values: refused, naming the field; never echoed back through a shell
for v in 'a.com; rm -rf /' '$(id)' '`id`' "it's" 'say "hi"' 'a\nb' 'x&y' 'a|b' '../etc/passwd' '/etc/passwd' \
	'*' 'a>b' 'tab	here' 'ｆｕｌｌｗｉｄｔｈ' 'exаmple' "$(head -c 65 /dev/zero | tr '\0' a)"; do
	arg_refused text "$(jq -cn --arg v "$v" '{text: $v}')"
done
arg_refused text '{"text":"line\nbreak"}'
arg_refused text '{"text":"nul\u0000byte"}'
arg_refused text '{"text":"-n"}'
for v in 'a.com; rm -rf /' '$(id).com' 'EXAMPLE.com' 'exаmple.com' 'a.com ' '../etc' '1.2.3.4' 'localhost' \
	'a..com' '-a.com' 'a.com.' 'a_b.com' "$(head -c 250 /dev/zero | tr '\0' a).com"; do
	arg_refused domain "$(jq -cn --arg v "$v" '{text: "ok", domain: $v}')"
done
arg_refused domain '{"text":"ok","domain":"a.com\u0000.evil"}'
for v in "Robert'); DROP TABLE x" 'a-b' '../x' 'Abc' '_x' '1abc' 'a.b' "$(head -c 33 /dev/zero | tr '\0' a)"; do
	arg_refused name "$(jq -cn --arg v "$v" '{text: "ok", name: $v}')"
done
out=$(call test.echo '{"text":"Hello, world: a.b_c+d=e@f-g","domain":"www.example-1.com","name":"db_1","count":10,"mode":"loud","flag":true}')
check "valid values pass and come back as sent" \
	jqe '.ok and .result.text == "Hello, world: a.b_c+d=e@f-g" and .result.domain == "www.example-1.com" and .result.name == "db_1" and .result.count == 10 and .result.mode == "loud" and .result.flag == true' <<<"$out"
check "the text reached printf as one argument, exactly" jqe '.result.stdout == "Hello, world: a.b_c+d=e@f-g\n"' <<<"$out"
check "after all that the helper still answers a ping" ping_ok

# --- the sandbox: paths resolve beneath helper.sandbox_root, by the kernel
printf 'inside\n' > "$SB/hello.txt"
mkdir -p "$SB/sub"
ln -s /etc/passwd "$SB/evil"
ln -s ../hello.txt "$SB/sub/up"
out=$(call test.read '{"path":"hello.txt"}')
check "test.read of a file in the sandbox" jqe '.ok and .result.content == "inside\n"' <<<"$out"
out=$(call test.read '{"path":"sub/up"}')
check "a symlink that stays inside is followed" jqe '.ok and .result.content == "inside\n"' <<<"$out"
for p in ../../../etc/passwd /etc/passwd evil sub/../../x "$SB/hello.txt"; do
	out=$(call test.read "$(jq -cn --arg p "$p" '{path: $p}')")
	check "test.read '$p': invalid path, escapes the sandbox" \
		jqe '.ok == false and .error.code == "invalid" and .error.field == "path" and .error.reason == "escapes the sandbox root"' <<<"$out"
done
out=$(call test.read '{"path":"missing.txt"}')
check "test.read of a missing file: not_found path" jqe '.error.code == "not_found" and .error.field == "path"' <<<"$out"

# --- jobs
t0=$(date +%s%N)
out=$(call test.sleep '{"seconds":2}')
t1=$(date +%s%N)
job=$(jq -r '.result.job' <<<"$out")
# "At once": well before the job's own 2 s (the client's process start included).
check "test.sleep answers a job id at once ($(( (t1 - t0) / 1000000 )) ms)" \
	bash -c "[[ '$job' =~ ^[0-9]+\$ ]] && [ $(( (t1 - t0) / 1000000 )) -lt 1500 ]"
saw_running=""
for _ in $(seq 1 100); do
	st=$(call job.status "{\"id\":$job}")
	if jqe '.result.state == "running" and .result.progress > 0 and .result.progress < 100' <<<"$st"; then
		saw_running=$st; break
	fi
	sleep 0.05
done
check "job.status shows it running with progress between 1 and 99 ($(jq -c '.result | {state, progress}' <<<"${saw_running:-null}" 2>/dev/null))" test -n "$saw_running"
check "while running: no exit code yet, output so far" \
	jqe '.result.exit_code == null and (.result.output | startswith("step 1/10"))' <<<"${saw_running:-null}"
done_st=""
for _ in $(seq 1 100); do
	st=$(call job.status "{\"id\":$job}")
	jqe '.result.state == "done"' <<<"$st" && { done_st=$st; break; }
	sleep 0.1
done
check "then done, progress 100, exit code 0" jqe '.result.state == "done" and .result.progress == 100 and .result.exit_code == 0' <<<"${done_st:-null}"
check "with its output tail and result" \
	jqe '(.result.output | endswith("step 10/10\n")) and .result.result.slept_ms == 2000 and .result.elapsed_ms >= 2000' <<<"${done_st:-null}"
out=$(call job.list)
check "job.list has it" jqe --argjson id "$job" 'any(.result.jobs[]; .id == $id and .state == "done")' <<<"$out"
out=$(call job.status '{"id":12345}')
check "job.status of an unknown id: not_found id" jqe '.error.code == "not_found" and .error.field == "id"' <<<"$out"
out=$(call job.status '{"id":"x"}')
check "job.status with a string id: invalid id" jqe '.error.code == "invalid" and .error.field == "id"' <<<"$out"

fjob=$(call test.sleep '{"seconds":1,"fail":true}' | jq -r '.result.job')
for _ in $(seq 1 100); do
	st=$(call job.status "{\"id\":$fjob}")
	jqe '.result.state == "failed"' <<<"$st" && break
	sleep 0.1
done
check "a failing job ends failed, exit code 1, with the tool's message" \
	jqe '.result.state == "failed" and .result.exit_code == 1 and .result.error.code == "failed" and .result.error.reason == "/bin/false exited with 1"' <<<"$st"

# helper.max_jobs = 2: a third waits in the queue.
a=$(call test.sleep '{"seconds":2}' | jq -r .result.job)
b=$(call test.sleep '{"seconds":2}' | jq -r .result.job)
c=$(call test.sleep '{"seconds":1}' | jq -r .result.job)
out=$(call job.status "{\"id\":$c}")
check "with two jobs running the third is queued" jqe '.result.state == "queued" and .result.progress == 0' <<<"$out"
for _ in $(seq 1 150); do
	st=$(call job.status "{\"id\":$c}")
	jqe '.result.state == "done"' <<<"$st" && break
	sleep 0.1
done
check "the queued job ran when a slot freed, and finished" jqe '.result.state == "done"' <<<"$st"
check "the first two finished too" bash -c "'$SEND' --call '$HS' job.status '{\"id\":$a}' | jq -e '.result.state == \"done\"' >/dev/null && '$SEND' --call '$HS' job.status '{\"id\":$b}' | jq -e '.result.state == \"done\"' >/dev/null"

# --- a slow client holds only its own connection (helper.timeout_ms = 1000)
printf '{"id":1,"op":"helper' | "$SEND" --keep-open --timeout 5000 "$HS" > "$T/slow.out" &
SLOW=$!
HOLDERS="$SLOW"
sleep 0.2
t0=$(date +%s%N)
check "while a client sits on half a line, others are served" ping_ok
t1=$(date +%s%N)
# Before the slow one's 1 s are up: it is still waiting for its answer.
check "... without waiting for it ($(( (t1 - t0) / 1000000 )) ms; the slow client is still waiting)" kill -0 "$SLOW"
wait "$SLOW" || true
HOLDERS=""
check "the unfinished line is answered timeout and closed" jqe '.error.code == "timeout" and .id == null' "$T/slow.out"

# --- helper.max_clients = 6: the seventh connection is answered busy
for i in 1 2 3 4 5 6; do
	"$SEND" --keep-open --timeout 4000 "$HS" < /dev/null > /dev/null &
	HOLDERS="$HOLDERS $!"
done
# Until all six are connected (a loaded machine starts them slowly).
for _ in $(seq 1 60); do
	out=$(raw '{"id":1,"op":"helper.ping","args":{}}')
	jqe '.error.code == "busy"' <<<"$out" && break
	sleep 0.05
done
check "with six connections held, the seventh gets busy" jqe '.ok == false and .error.code == "busy"' <<<"$out"
out=$(call helper.ping || true)
check "the client library reports busy too" jqe '.error.code == "busy"' <<<"$out"
for p in $HOLDERS; do kill "$p" 2>/dev/null || true; done
for p in $HOLDERS; do wait "$p" 2>/dev/null || true; done
HOLDERS=""
for _ in $(seq 1 40); do ping_ok && break; sleep 0.05; done
check "once they are gone the helper serves again" ping_ok

# --- a second helper on a live socket refuses to start
rc=0
timeout 10 "$HELPER" --profile test --config "$(it_cfg)" --root "$SRC" 2>"$T/second.log" || rc=$?
check "a second helper on the same socket exits non-zero" test "$rc" -ne 0
check "... saying another helper is listening" grep -q 'another helper is already listening' "$T/second.log"
check "... and the first keeps serving" ping_ok

# --- kill -9: the client reports unavailable without hanging; the job's processes die; restart
long=$(call test.sleep '{"seconds":30}' | jq -r .result.job)
for _ in $(seq 1 50); do grep -q "job $long (test.sleep) started, pid" "$T/helper.log" && break; sleep 0.05; done
jpid=$(sed -nE "s/.*job $long \(test.sleep\) started, pid ([0-9]+).*/\1/p" "$T/helper.log")
sleeper=""
for _ in $(seq 1 60); do
	sleeper=$(ps -o pid= --ppid "${jpid:-0}" | tr -d ' ' | head -1)
	[ -n "$sleeper" ] && break
	sleep 0.05
done
check "the long job runs as a process (job $jpid) with its /bin/sleep (${sleeper:-none})" test -n "$sleeper"
kill -KILL "$HPID"
{ wait "$HPID"; } 2>/dev/null || true # bash would report the kill
HPID=""
t0=$(date +%s%N)
out=$(call --timeout 3000 helper.ping)
t1=$(date +%s%N)
check "after kill -9: the client library reports unavailable" jqe '.ok == false and .error.code == "unavailable"' <<<"$out"
check "... at once, not after the call's 3000 ms timeout ($(( (t1 - t0) / 1000000 )) ms)" test $(( (t1 - t0) / 1000000 )) -lt 2000
# Gone, or a zombie waiting for whoever is PID 1 here.
alive() { [ -e "/proc/$1/stat" ] && ! grep -qE '\) [ZX] ' "/proc/$1/stat" 2>/dev/null; }
gone=""
for _ in $(seq 1 60); do
	if ! alive "${jpid:-0}" && ! alive "${sleeper:-0}"; then gone=1; break; fi
	sleep 0.05
done
check "the job's process and its program died with the helper (PR_SET_PDEATHSIG)" test -n "$gone"
mv "$HS" "$HS.stale"
out=$(call helper.ping || true)
check "with no socket at all: unavailable, naming the socket" jqe '.error.code == "unavailable" and (.error.reason | test("No such file"))' <<<"$out"
mv "$HS.stale" "$HS"
start_helper
check "a restarted helper replaces the stale socket and serves" ping_ok
out=$(call job.status "{\"id\":$long}")
check "the restarted helper does not know the lost job" jqe '.error.code == "not_found"' <<<"$out"
new=$(call test.sleep '{"seconds":1}' | jq -r .result.job)
check "its job ids never reuse an old one ($new > $long)" test "$new" -gt "$long"

# --- SIGTERM: a clean stop that removes the socket
kill -TERM "$HPID"
rc=0
wait "$HPID" || rc=$?
HPID=""
check "SIGTERM stops the helper with status 0" test "$rc" -eq 0
check "... and removes its socket" test ! -e "$HS"
check "the helper logged no error" bash -c "! grep -q ' error ' '$T/helper.log'"
check "no sanitizer report (make check SANITIZE=1)" \
	bash -c "! grep -qE 'runtime error|AddressSanitizer|LeakSanitizer' '$T/helper.log'"

it_summary
