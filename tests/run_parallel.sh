# run_parallel.sh — sourced by tests/integration/run.sh and tests/unit/run.sh:
# run_parallel LABEL LAUNCH ITEM... runs the items JOBS at a time (default 2),
# those named in the array LONG first (by basename, in LONG's order), the rest
# in the order given. LAUNCH ITEM LOG starts one (in the foreground: it is run
# in the background here) with its output in LOG. Each item's output is
# printed whole when it ends, after "== NAME (SECONDS s)"; then the line
# "LABEL: N passed, M failed" and the failed ones; returns 1 if any failed.
# An item's name is the basename of what stands before a "=" in it.
run_parallel() {
	local label=$1 launch=$2 t l n=0 rc done_pid out jobs=${JOBS:-2}
	local -a ordered=() failed=()
	local -A started=() name_of=() log_of=()
	local pass=0 fail=0
	shift 2
	for l in "${LONG[@]}"; do for t in "$@"; do [ "$(basename "${t%%=*}")" = "$l" ] && ordered+=("$t"); done; done
	for t in "$@"; do
		case " ${LONG[*]} " in *" $(basename "${t%%=*}") "*) ;; *) ordered+=("$t") ;; esac
	done
	out=$(mktemp -d /tmp/aapanel-run.XXXXXX)
	_rp_finish() { # pid rc
		echo "== ${name_of[$1]} ($(($(date +%s) - ${started[$1]})) s)"
		cat "${log_of[$1]}"
		if [ "$2" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=("${name_of[$1]}"); fi
		unset "started[$1]" "name_of[$1]" "log_of[$1]"
	}
	for t in "${ordered[@]}"; do
		while [ "${#started[@]}" -ge "$jobs" ]; do
			rc=0
			wait -n -p done_pid "${!started[@]}" || rc=$?
			_rp_finish "$done_pid" "$rc"
		done
		n=$((n + 1))
		"$launch" "$t" "$out/$n.log" &
		started[$!]=$(date +%s)
		name_of[$!]=$(basename "${t%%=*}")
		log_of[$!]=$out/$n.log
	done
	while [ "${#started[@]}" -gt 0 ]; do
		rc=0
		wait -n -p done_pid "${!started[@]}" || rc=$?
		_rp_finish "$done_pid" "$rc"
	done
	rm -rf "$out"
	echo
	echo "$label: $pass passed, $fail failed"
	[ "$fail" -eq 0 ] || { printf 'failed: %s\n' "${failed[@]}"; return 1; }
}
