#!/usr/bin/env bash
# Run integration tests, JOBS at a time (default 2: they are independent —
# each has its own temp dir, free ports, processes and namespaces). Each
# test's output is printed whole when it ends, with its time; a summary at
# the end; exit 1 if any failed.
set -u
jobs=${JOBS:-2}
# The longest first beside a light one (seconds on the 2-core machine: t_browser about 450,
# t_tasks 150, mostly waiting on cron), so the browser walk does not end last. Not t_layers
# or t_backups as well: CPU-heavy, beside t_browser both took three times as long (442 s
# against 144 s for t_layers); three at a time was no faster either.
long=(t_browser.sh t_tasks.sh)
ordered=()
for l in "${long[@]}"; do for t in "$@"; do [ "$(basename "$t")" = "$l" ] && ordered+=("$t"); done; done
for t in "$@"; do
	case " ${long[*]} " in *" $(basename "$t") "*) ;; *) ordered+=("$t") ;; esac
done
set -- "${ordered[@]}"
out=$(mktemp -d /tmp/aapanel-run.XXXXXX)
trap 'rm -rf "$out"' EXIT
pass=0 fail=0 failed=()
declare -A started=() name_of=()

finish() { # pid rc
	local pid=$1 rc=$2 t
	t=${name_of[$pid]}
	echo "== $t ($(($(date +%s) - ${started[$pid]})) s)"
	cat "$out/$(basename "$t").log"
	if [ "$rc" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=("$t"); fi
	unset "started[$pid]" "name_of[$pid]"
}

for t in "$@"; do
	while [ "${#started[@]}" -ge "$jobs" ]; do
		rc=0
		wait -n -p done_pid "${!started[@]}" || rc=$?
		finish "$done_pid" "$rc"
	done
	bash "$t" > "$out/$(basename "$t").log" 2>&1 &
	started[$!]=$(date +%s)
	name_of[$!]=$t
done
while [ "${#started[@]}" -gt 0 ]; do
	rc=0
	wait -n -p done_pid "${!started[@]}" || rc=$?
	finish "$done_pid" "$rc"
done

echo
echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ] || { printf 'failed: %s\n' "${failed[@]}"; exit 1; }
