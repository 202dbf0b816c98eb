#!/usr/bin/env bash
# Run the unit suites (and fuzz replays) JOBS at a time (default 2: each has
# its own temp dir; none listens on a fixed port or shares a file). Each is an
# argument, PROG or PROG=ARG (one argument for it: a fuzz corpus). Each one's
# output is printed whole when it ends, with its time; a summary line at the
# end; exit 1 if any failed. `make unit` calls it.
set -u
jobs=${JOBS:-2}
# The longest first (seconds of CPU on the 2-core machine: check_app about 19,
# check_config, check_audit and check_password about 10 each: argon2), so that
# no long one starts last.
long=(check_app check_config check_audit check_password check_db)
ordered=()
for l in "${long[@]}"; do for t in "$@"; do [ "$(basename "${t%%=*}")" = "$l" ] && ordered+=("$t"); done; done
for t in "$@"; do
	case " ${long[*]} " in *" $(basename "${t%%=*}") "*) ;; *) ordered+=("$t") ;; esac
done
set -- "${ordered[@]}"
out=$(mktemp -d /tmp/aapanel-unit.XXXXXX)
trap 'rm -rf "$out"' EXIT
pass=0 fail=0 failed=()
declare -A started=() name_of=() log_of=()

finish() { # pid rc
	local pid=$1 rc=$2
	echo "== ${name_of[$pid]} ($(($(date +%s) - ${started[$pid]})) s)"
	cat "${log_of[$pid]}"
	if [ "$rc" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=("${name_of[$pid]}"); fi
	unset "started[$pid]" "name_of[$pid]" "log_of[$pid]"
}

n=0
for t in "$@"; do
	while [ "${#started[@]}" -ge "$jobs" ]; do
		rc=0
		wait -n -p done_pid "${!started[@]}" || rc=$?
		finish "$done_pid" "$rc"
	done
	n=$((n + 1))
	log="$out/$n.log"
	if [ "${t#*=}" != "$t" ]; then
		"${t%%=*}" "${t#*=}" > "$log" 2>&1 &
	else
		"$t" > "$log" 2>&1 &
	fi
	started[$!]=$(date +%s)
	name_of[$!]=$(basename "${t%%=*}")
	log_of[$!]=$log
done
while [ "${#started[@]}" -gt 0 ]; do
	rc=0
	wait -n -p done_pid "${!started[@]}" || rc=$?
	finish "$done_pid" "$rc"
done

echo
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ] || { printf 'failed: %s\n' "${failed[@]}"; exit 1; }
