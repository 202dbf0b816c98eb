#!/usr/bin/env bash
# integration.sh COVBUILD TEST... — the integration tests against the gcov
# build in COVBUILD (make coverage, mk/quality.mk). Run from the checkout.
#
# The tests find the panel at $SRC/build/, so they run against a copy of the
# checkout, COVBUILD/srcdir/ (a copy, not links: some tests edit what they
# copied from $SRC), whose build/ is a fresh copy of COVBUILD for each test.
# The copied binaries write their counters into COVBUILD/obj/ (gcov uses the
# object paths of the compile), beside the unit suites' counters.
#
# A test that runs `make -C $SRC install` (t_deploy with PREFIX=/) changes
# the build's flags and so recompiles it: in the test's own copy, never in
# COVBUILD (that would reset the counters gathered so far). CFLAGS and
# LDFLAGS in the environment keep the recompiled build instrumented; its
# counters are read right after the test into COVBUILD/rebuilt/TEST.json,
# which coverage-report.sh adds to the report.
set -euo pipefail
COV=${1:?usage: integration.sh COVBUILD TEST...}
shift
SRC=$(pwd)
case "$COV" in /*) ;; *) COV="$SRC/$COV" ;; esac
SHADOW="$COV/srcdir"
[ -x "$COV/aapanel" ] || { echo "integration.sh: no $COV/aapanel (make coverage builds it)" >&2; exit 2; }
: "${CFLAGS:?CFLAGS must be the coverage build flags}" "${LDFLAGS:?LDFLAGS must be the coverage link flags}"
export CFLAGS LDFLAGS SANITIZE=0
# The tests' own make runs must not inherit this make's command line.
unset MAKEFLAGS MFLAGS MAKELEVEL

shopt -s dotglob nullglob
rm -rf "$SHADOW" "$COV/rebuilt"
mkdir -p "$SHADOW" "$COV/rebuilt"
for p in "$SRC"/*; do
	case ${p##*/} in build | build-* | .git | var) ;; *) cp -a "$p" "$SHADOW/" ;; esac
done
# Unprivileged runs (t_units: uid 65534) add counters too.
chmod -R a+rwX "$COV/obj"

pass=0 fail=0 failed=()
for t in "$@"; do
	name=$(basename "$t" .sh)
	# A fresh build/ (cp -a keeps the timestamps: up to date for make),
	# without counters of its own.
	rm -rf "$SHADOW/build"
	mkdir "$SHADOW/build"
	for p in "$COV"/*; do
		case ${p##*/} in srcdir | rebuilt | coverage) ;; *) cp -a "$p" "$SHADOW/build/" ;; esac
	done
	find "$SHADOW/build" -name '*.gcda' -delete
	echo "== $t"
	if (cd "$SHADOW" && AAPANEL_SRCDIR="$SHADOW" bash "$t"); then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		failed+=("$t")
	fi
	# Counters of a build the test recompiled (sources under the copy).
	if [ -n "$(find "$SHADOW/build/obj/src" -name '*.gcda' -print -quit)" ]; then
		echo "   (the test recompiled the build: its counters go into rebuilt/$name.json)"
		gcovr --root "$SHADOW" --filter "$SHADOW/src/" --gcov-executable gcov \
			--json "$COV/rebuilt/$name.json" "$SHADOW/build/obj/src" > "$COV/rebuilt/$name.log" 2>&1 ||
			{ cat "$COV/rebuilt/$name.log" >&2; exit 1; }
	fi
done
rm -rf "$SHADOW/build"
echo
echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ] || { printf 'failed: %s\n' "${failed[@]}"; exit 1; }
