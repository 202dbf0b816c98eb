# run_parallel.sh — sourced by tests/integration/run.sh and tests/unit/run.sh:
# run_parallel LABEL LAUNCH ITEM... runs the items JOBS at a time (default 2),
# those named in the array LONG first (by basename, in LONG's order), the rest
# in the order given. LAUNCH ITEM LOG starts one (in the foreground: it is run
# in the background here) with its output in LOG. Each item's output is
# printed whole when it ends, after "== NAME (SECONDS s)"; then the line
# "LABEL: N passed, M failed" and the failed ones, after a short excerpt of
# each failed one's failures (a CI log is read from its tail); returns 1 if any failed.
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
		if [ "$2" -eq 0 ]; then pass=$((pass + 1)); else
			fail=$((fail + 1)); failed+=("${name_of[$1]}")
			# What failed, short, for the summary at the very end (a CI log is read from its tail).
			{
				echo "--- ${name_of[$1]} (exit $2): its failures"
				grep -E -A3 '(^|[[:space:]])(FAIL|not ok)([[:space:]]|$)|^[^ ].*: line [0-9]+: |never answered|failed to start|Assertion|Segmentation|[0-9]+%: Checks: [0-9]+, Failures: [1-9]|Errors: [1-9]' \
					"${log_of[$1]}" | head -n 40
				[ "${PIPESTATUS[0]}" -eq 0 ] || tail -n 15 "${log_of[$1]}"
			} >> "$out/failures" 2>/dev/null
		fi
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
	echo
	[ "$fail" -eq 0 ] || { echo "=== $label: what failed"; cat "$out/failures" 2>/dev/null; echo; }
	rm -rf "$out"
	echo "$label: $pass passed, $fail failed"
	[ "$fail" -eq 0 ] || { printf 'failed: %s\n' "${failed[@]}"; return 1; }
}
