#!/usr/bin/env bash
# Run integration tests one after another; print a summary; fail if any failed.
set -u
pass=0 fail=0 failed=()
for t in "$@"; do
	echo "== $t"
	if bash "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=("$t"); fi
done
echo
echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ] || { printf 'failed: %s\n' "${failed[@]}"; exit 1; }
