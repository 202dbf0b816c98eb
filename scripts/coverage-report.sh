#!/usr/bin/env bash
# coverage-report.sh BUILDDIR — line and branch coverage of src/ from the
# counters the tests left in BUILDDIR (make coverage, mk/quality.mk).
#
# Prints one row per source file, grouped by layer folder (src/core/, ...)
# with a subtotal per layer and the total, and writes BUILDDIR/coverage/:
#   index.html     gcovr's annotated sources (open in a browser)
#   coverage.xml   Cobertura XML (for CI tools that read it)
#   summary.json   gcovr's JSON summary (per file and total)
#   summary.txt    the table printed here
#   summary.md     the same as a Markdown table (CI's job summary)
set -euo pipefail
BUILD=${1:?usage: coverage-report.sh BUILDDIR}
SRC=$(cd "$(dirname "$0")/.." && pwd)
cd "$SRC"
OUT="$BUILD/coverage"
command -v gcovr > /dev/null || { echo "coverage-report: gcovr is missing (scripts/install-deps.sh)" >&2; exit 1; }
find "$BUILD/obj/src" -name '*.gcda' -print -quit | grep -q . ||
	{ echo "coverage-report: no counters (*.gcda) under $BUILD/obj/src: did the tests run?" >&2; exit 1; }
rm -rf "$OUT"
mkdir -p "$OUT"

# Only the panel's own sources: not the tests, not system headers. The
# counters under BUILDDIR/obj, plus those of builds an integration test
# recompiled in its own copy (BUILDDIR/rebuilt/*.json, integration.sh).
gcovr --root "$SRC" --filter "$SRC/src/" --gcov-executable gcov -j "$(nproc)" \
	--json "$OUT/main.json" "$BUILD/obj/src" > "$OUT/gcovr.log" 2>&1 ||
	{ cat "$OUT/gcovr.log" >&2; exit 1; }
traces=(-a "$OUT/main.json")
for j in "$BUILD"/rebuilt/*.json; do
	[ -e "$j" ] && traces+=(-a "$j")
done
gcovr --root "$SRC" "${traces[@]}" \
	--html-details "$OUT/index.html" --html-title "aaPanel coverage" \
	--cobertura "$OUT/coverage.xml" \
	--json-summary "$OUT/summary.json" --json-summary-pretty >> "$OUT/gcovr.log" 2>&1 ||
	{ cat "$OUT/gcovr.log" >&2; exit 1; }

# file, lines covered, lines, branches covered, branches (one per line).
jq -r '.files[] | [.filename, .line_covered, .line_total, .branch_covered, .branch_total] | @tsv' \
	"$OUT/summary.json" | sort > "$OUT/files.tsv"

awk -F'\t' -v md="$OUT/summary.md" '
function pct(c, t) { return t ? sprintf("%.1f%%", 100 * c / t) : "-" }
function row(name, lc, lt, bc, bt, mdname) {
	printf "  %-30s %6s %13s   %6s %13s\n", name, pct(lc, lt), "(" lc "/" lt ")", pct(bc, bt), "(" bc "/" bt ")"
	printf "| %s | %s | %d / %d | %s | %d / %d |\n", mdname, pct(lc, lt), lc, lt, pct(bc, bt), bc, bt > md
}
function flush() {
	if (layer == "") return
	row("(" layer ")", Llc, Llt, Lbc, Lbt, "**" layer "**")
	print ""
}
BEGIN {
	printf "  %-30s %-20s   %s\n", "file", "lines", "branches"
	print "| file | lines | | branches | |" > md
	print "|---|---:|---:|---:|---:|" > md
}
{
	n = split($1, p, "/")
	l = p[1] "/" p[2] "/"
	if (l != layer) { flush(); layer = l; Llc = Llt = Lbc = Lbt = 0; print layer }
	row(p[n], $2, $3, $4, $5, "`" $1 "`")
	Llc += $2; Llt += $3; Lbc += $4; Lbt += $5
	Tlc += $2; Tlt += $3; Tbc += $4; Tbt += $5
}
END {
	flush()
	row("total", Tlc, Tlt, Tbc, Tbt, "**total**")
	printf "\ncoverage: lines %s (%d/%d), branches %s (%d/%d)\n", pct(Tlc, Tlt), Tlc, Tlt, pct(Tbc, Tbt), Tbc, Tbt
	printf "\n**Coverage of src/: lines %s, branches %s** (gcov + gcovr, unit and integration tests)\n", pct(Tlc, Tlt), pct(Tbc, Tbt) > md
}' "$OUT/files.tsv" | tee "$OUT/summary.txt"
echo "coverage: report $OUT/index.html"
