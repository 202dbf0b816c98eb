#!/usr/bin/env bash
# check-layers.sh OBJDIR — the layering of src/ holds (docs/development.md,
# "Layers"). Each folder of src/ is one layer, lowest first:
#
#   core  db  config  helper  auth  data  sampler  web  pages  cli
#
# (helper: aapanel-helper, its own binary; it stands on core, db and config
# and nothing above, and nothing links it but its own main.)
#
# Fails, naming the offender, when
#   - a file includes a header of a higher layer (includes inside
#     include/aapanel/ too: a header is in the layer of its module),
#   - a file calls (or uses a variable of) a file of a higher layer, read
#     from the symbol tables of the compiled objects in OBJDIR,
#   - files call each other in a loop, of any length (tsort finds it),
#   - a file of the web tier (src/web, src/pages, src/cli) runs SQL or a
#     transaction itself: data work belongs to the data modules below.
# Calls within one layer are allowed as long as they form no loop.
set -euo pipefail
OBJ=${1:?usage: check-layers.sh OBJDIR}
SRC=$(cd "$(dirname "$0")/.." && pwd)
cd "$SRC"
LAYERS="core db config helper auth data sampler web pages cli"

layer_no() { # folder → rank
	local i=0 l
	for l in $LAYERS; do
		[ "$l" = "$1" ] && { echo $i; return; }
		i=$((i + 1))
	done
	echo "check-layers: src/$1 is not a known layer ($LAYERS)" >&2
	exit 1
}

# The layer of a header: the lowest layer with a source file of the same
# name (pages and commands have no headers of their own: a cli/db.c is a
# command group, db.h is the data layer's), or for the headers whose module
# has another name, this table.
header_layer() {
	local h=$1 c
	case $h in
	auth) echo auth; return ;;
	cli) echo cli; return ;;
	pages) echo pages; return ;;
	db_int) echo db; return ;;
	helper) echo core; return ;; # the helper's client (core/helper_client.c)
	esac
	for c in $LAYERS; do
		[ -f "src/$c/$h.c" ] && { echo "$c"; return; }
	done
	echo "check-layers: header $h.h has no module source and no entry in header_layer" >&2
	exit 1
}

fail=0
bad() { echo "layering: $*" >&2; fail=1; }

# 1. Includes.
declare -A HL
for h in include/aapanel/*.h src/*/*.h; do
	b=$(basename "$h" .h)
	HL[$b]=$(header_layer "$b")
done
check_includes() { # FILE LAYER
	local f=$1 my=$2 inc b
	while IFS= read -r inc; do
		b=$(basename "$inc" .h)
		[ -n "${HL[$b]:-}" ] || continue
		if [ "$(layer_no "${HL[$b]}")" -gt "$(layer_no "$my")" ]; then
			bad "$f ($my) includes $inc (${HL[$b]})"
		fi
	done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
}
for f in src/*/*.c src/*/*.h; do
	d=${f#src/}
	check_includes "$f" "${d%%/*}"
done
for h in include/aapanel/*.h; do
	check_includes "$h" "${HL[$(basename "$h" .h)]}"
done

# 2. Calls, from the objects' symbol tables.
objs=""
for f in src/*/*.c; do
	o="$OBJ/${f%.c}.o"
	[ -f "$o" ] || { echo "check-layers: $o is missing (build first)" >&2; exit 1; }
	objs="$objs $o"
done
edges=$(for o in $objs; do
	rel=${o#"$OBJ"/}
	f=${rel%.o}.c
	nm --defined-only -g "$o" | awk -v f="$f" '$2 ~ /^[TDBRV]$/ {print "D", f, $3}'
	nm -u "$o" | awk -v f="$f" '{print "U", f, $2}'
done | awk '
	$1 == "D" { def[$3] = $2; next }
	{ use[NR] = $2 " " $3 }
	END {
		for (i in use) {
			split(use[i], p, " ")
			if ((p[2] in def) && def[p[2]] != p[1])
				print p[1], def[p[2]], p[2]
		}
	}' | sort -u)

while read -r from to sym; do
	[ -n "$from" ] || continue
	lf=${from#src/}; lf=${lf%%/*}
	lt=${to#src/}; lt=${lt%%/*}
	if [ "$(layer_no "$lt")" -gt "$(layer_no "$lf")" ]; then
		bad "$from ($lf) calls $sym in $to ($lt)"
	fi
done <<< "$edges"

# 3. Loops between files.
loops=$(awk '{print $1, $2}' <<< "$edges" | sort -u | tsort 2>&1 >/dev/null || true)
if [ -n "$loops" ]; then
	bad "files call each other in a loop:"
	echo "$loops" | sed 's/^tsort: /  /' >&2
fi

# 4. No SQL above the data modules: handlers call one data function.
sqlcalls='ap_db_(prepare|prepare_cached|prepare_insert|exec|exec_script|query_int64|begin|commit|rollback)'
for o in $objs; do
	rel=${o#"$OBJ"/}
	f=${rel%.o}.c
	case $f in src/web/* | src/pages/* | src/cli/*) ;; *) continue ;; esac
	for sym in $(nm -u "$o" | awk '{print $2}' | grep -E "^${sqlcalls}\$" || true); do
		bad "$f runs SQL itself ($sym): move it into a data module (src/auth/, src/data/, src/db/)"
	done
done

nfiles=$(echo "$objs" | wc -w)
nedges=$(awk '{print $1, $2}' <<< "$edges" | sort -u | grep -c . || true)
if [ "$fail" -ne 0 ]; then
	echo "check-layers: FAILED ($nfiles files, $nedges call edges)" >&2
	exit 1
fi
echo "check-layers: ok ($nfiles files, $nedges call edges, layers: $LAYERS)"
