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

# Ranks of the layers, and layer_no FOLDER: its rank in $RANK (no subshell:
# it runs for every include and every call edge).
declare -A LAYER_RANK
i=0
for l in $LAYERS; do LAYER_RANK[$l]=$i; i=$((i + 1)); done
layer_no() { # folder → $RANK
	RANK=${LAYER_RANK[$1]:-}
	if [ -z "$RANK" ]; then
		echo "check-layers: src/$1 is not a known layer ($LAYERS)" >&2
		exit 1
	fi
}

# The layer of a header ($HLAYER): the lowest layer with a source file of
# the same name (pages and commands have no headers of their own: a cli/db.c
# is a command group, db.h is the data layer's), or for the headers whose
# module has another name, this table.
header_layer() {
	local h=$1 c
	case $h in
	auth) HLAYER=auth; return ;;
	cli) HLAYER=cli; return ;;
	pages) HLAYER=pages; return ;;
	db_int) HLAYER=db; return ;;
	helper) HLAYER=core; return ;; # the helper's client (core/helper_client.c)
	esac
	for c in $LAYERS; do
		[ -f "src/$c/$h.c" ] && { HLAYER=$c; return; }
	done
	echo "check-layers: header $h.h has no module source and no entry in header_layer" >&2
	exit 1
}

fail=0
bad() { echo "layering: $*" >&2; fail=1; }

# 1. Includes (every file's include lines, read in one pass).
declare -A HL
for h in include/aapanel/*.h src/*/*.h; do
	b=$(basename "$h" .h)
	header_layer "$b"
	HL[$b]=$HLAYER
done
while read -r f inc; do
	case $f in
	include/aapanel/*) b=${f##*/}; my=${HL[${b%.h}]} ;;
	*) d=${f#src/}; my=${d%%/*} ;;
	esac
	b=${inc##*/}
	b=${b%.h}
	[ -n "${HL[$b]:-}" ] || continue
	layer_no "${HL[$b]}"
	to=$RANK
	layer_no "$my"
	if [ "$to" -gt "$RANK" ]; then
		bad "$f ($my) includes $inc (${HL[$b]})"
	fi
done < <(awk 'match($0, /^#include "[^"]*"/) { print FILENAME, substr($0, 11, RLENGTH - 11) }' \
	src/*/*.c src/*/*.h include/aapanel/*.h)

# 2. Calls, from the objects' symbol tables (one nm for all of them).
objs=""
for f in src/*/*.c; do
	o="$OBJ/${f%.c}.o"
	[ -f "$o" ] || { echo "check-layers: $o is missing (build first)" >&2; exit 1; }
	objs="$objs $o"
done
# "D|U FILE SYMBOL" for every object, FILE its source
# shellcheck disable=SC2086 # $objs: one word per object
symbols=$({
	nm -A --defined-only -g $objs | awk '$(NF - 1) ~ /^[TDBRV]$/ { print "D", $1, $NF }'
	nm -A -u $objs | awk '{ print "U", $1, $NF }'
} | awk -v obj="$OBJ/" '{ f = substr($2, 1, index($2, ":") - 1); f = substr(f, length(obj) + 1);
	sub(/\.o$/, ".c", f); print $1, f, $3 }')
edges=$(awk '
	$1 == "D" { def[$3] = $2; next }
	{ use[NR] = $2 " " $3 }
	END {
		for (i in use) {
			split(use[i], p, " ")
			if ((p[2] in def) && def[p[2]] != p[1])
				print p[1], def[p[2]], p[2]
		}
	}' <<< "$symbols" | sort -u)

while read -r from to sym; do
	[ -n "$from" ] || continue
	lf=${from#src/}; lf=${lf%%/*}
	lt=${to#src/}; lt=${lt%%/*}
	layer_no "$lt"
	rt=$RANK
	layer_no "$lf"
	if [ "$rt" -gt "$RANK" ]; then
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
while read -r f sym; do
	bad "$f runs SQL itself ($sym): move it into a data module (src/auth/, src/data/, src/db/)"
done < <(awk -v re="^${sqlcalls}\$" '$1 == "U" && $2 ~ /^src\/(web|pages|cli)\// && $3 ~ re { print $2, $3 }' \
	<<< "$symbols")

nfiles=$(echo "$objs" | wc -w)
nedges=$(awk '{print $1, $2}' <<< "$edges" | sort -u | grep -c . || true)
if [ "$fail" -ne 0 ]; then
	echo "check-layers: FAILED ($nfiles files, $nedges call edges)" >&2
	exit 1
fi
echo "check-layers: ok ($nfiles files, $nedges call edges, layers: $LAYERS)"
