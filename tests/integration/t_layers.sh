#!/usr/bin/env bash
# The layering checker catches what it exists for: a call into a higher
# layer, an include of a higher layer's header, and two files calling each
# other in a loop. Each is planted in a copy of the objects and headers.
set -euo pipefail
SRC=${AAPANEL_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
PASS=0 FAIL=0
ok() { PASS=$((PASS + 1)); echo "  ok   $*"; }
not_ok() { FAIL=$((FAIL + 1)); echo "  FAIL $*"; }
T=$(mktemp -d /tmp/aapanel-layers.XXXXXX)
trap 'rm -rf "$T"' EXIT
CFLAGS="-std=c17 -D_GNU_SOURCE -I$SRC/include $(pkg-config --cflags json-c libconfig)"

# A copy of the tree (sources, headers, objects) the test may break.
mkcopy() {
	rm -rf "$T/tree"
	mkdir -p "$T/tree"
	cp -R "$SRC/src" "$SRC/include" "$SRC/scripts" "$T/tree/"
	mkdir -p "$T/tree/obj"
	cp -R "$SRC/build/obj/src" "$T/tree/obj/"
}
run() { "$T/tree/scripts/check-layers.sh" "$T/tree/obj" > "$T/out" 2>&1; }

mkcopy
if run; then ok "the tree as it is passes"; else not_ok "the tree as it is passes: $(cat "$T/out")"; fi

mkcopy
# core calls a function of the response layer
cat > "$T/tree/src/core/zz_up.c" <<'C'
#include "aapanel/common.h"
int ap_zz_up(void);
const char *ap_http_reason(int status);
int ap_zz_up(void) { return ap_http_reason(404)[0]; }
C
cc $CFLAGS -c -o "$T/tree/obj/src/core/zz_up.o" "$T/tree/src/core/zz_up.c"
if ! run && grep -q 'src/core/zz_up.c (core) calls ap_http_reason in src/web/app.c (web)' "$T/out"; then
	ok "a call from core into web is refused, naming both files"
else not_ok "upward call not caught: $(cat "$T/out")"; fi

mkcopy
printf '#include "aapanel/app.h"\n' > "$T/tree/src/db/zz_inc.c"
cc $CFLAGS -c -o "$T/tree/obj/src/db/zz_inc.o" "$T/tree/src/db/zz_inc.c" 2>/dev/null || :
touch "$T/tree/obj/src/db/zz_inc.o"
if ! run && grep -q 'src/db/zz_inc.c (db) includes aapanel/app.h (web)' "$T/out"; then
	ok "an include of a higher layer's header is refused"
else not_ok "upward include not caught: $(cat "$T/out")"; fi

mkcopy
cat > "$T/tree/src/core/zz_a.c" <<'C'
int ap_zz_a(int n);
int ap_zz_b(int n);
int ap_zz_a(int n) { return n ? ap_zz_b(n - 1) : 0; }
C
cat > "$T/tree/src/core/zz_b.c" <<'C'
int ap_zz_a(int n);
int ap_zz_b(int n);
int ap_zz_b(int n) { return n ? ap_zz_a(n - 1) : 1; }
C
cc $CFLAGS -c -o "$T/tree/obj/src/core/zz_a.o" "$T/tree/src/core/zz_a.c"
cc $CFLAGS -c -o "$T/tree/obj/src/core/zz_b.o" "$T/tree/src/core/zz_b.c"
if ! run && grep -q 'loop' "$T/out" && grep -q 'zz_a.c' "$T/out" && grep -q 'zz_b.c' "$T/out"; then
	ok "two files of one layer calling each other are refused as a loop"
else not_ok "loop not caught: $(cat "$T/out")"; fi

mkcopy
cat > "$T/tree/src/pages/zz_sql.c" <<'C'
#include "aapanel/db.h"
int ap_zz_sql(struct ap_db *db);
int ap_zz_sql(struct ap_db *db) { return ap_db_exec(db, "DELETE FROM users"); }
C
cc $CFLAGS -c -o "$T/tree/obj/src/pages/zz_sql.o" "$T/tree/src/pages/zz_sql.c"
if ! run && grep -q 'src/pages/zz_sql.c runs SQL itself (ap_db_exec)' "$T/out"; then
	ok "a page that runs SQL itself is refused"
else not_ok "SQL in a page not caught: $(cat "$T/out")"; fi

mkcopy
printf 'int f(void);\nint f(void) { return 0; }\n' > "$T/tree/src/core/zz_stale.c"
if ! run && grep -q 'zz_stale.o is missing' "$T/out"; then
	ok "a source without its object fails (the check never passes on a stale build)"
else not_ok "missing object not caught: $(cat "$T/out")"; fi

echo "t_layers.sh: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
