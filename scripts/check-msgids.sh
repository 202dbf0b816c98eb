#!/usr/bin/env bash
# check-msgids.sh — every text the panel can show a person has a translation
# in every catalog (po/*.po): the templates' {{_ text}}, the reasons and
# messages the C code hands to the response layer (ap_ctx_fail,
# ap_problem_set, ap_ctx_tr, the validators' field_fail/fail, N_(), the
# plural pairs of ap_i18n_ngettext and alerts.c's fill_n), and
# the codes templates translate with {{value|tr:context}} (at least one
# entry per context). Fails naming what is missing where.
set -euo pipefail
cd "$(dirname "$0")/.."
T=$(mktemp -d /tmp/aapanel-msgids.XXXXXX)
trap 'rm -rf "$T"' EXIT

# C: xgettext knows C's strings (concatenation, escapes, line breaks).
xgettext --language=C --from-code=UTF-8 --no-location --omit-header -o "$T/c.pot" \
	--keyword= --keyword=N_ --keyword=ap_ctx_tr:2 --keyword=ap_ctx_fail:4 --keyword=ap_problem_set:4 \
	--keyword=ap_problem_msg:4 --keyword=field_fail:3 --keyword=fail:4 \
	--keyword=ap_ctx_confirm_password:4 --keyword=ap_i18n_ngettext:3,4 --keyword=fill_n:2,3 --keyword=ap_ctx_flash:3 --keyword=ap_ctx_unconfirmed:2 \
	src/core/fwrules.c \
	src/core/req.c src/core/route.c src/core/tpl.c src/core/uagent.c src/core/sitecheck.c src/core/cron.c src/core/taskcheck.c src/core/unitname.c src/auth/*.c src/data/*.c \
	src/web/*.c src/pages/*.c src/cli/site.c src/sampler/alerts.c

# Templates: {{_ text}} (one per tag; text has no braces).
{
	for f in templates/*.html templates/*/*.html; do
		{ grep -o '{{_ [^}]*}}' "$f" || true; } | sed 's/^{{_ *//; s/ *}}$//'
	done
} | sort -u | while IFS= read -r m; do
	esc=${m//\\/\\\\}
	esc=${esc//\"/\\\"}
	printf 'msgid "%s"\nmsgstr ""\n\n' "$esc"
done > "$T/tpl.pot"
msgcat --use-first -o "$T/all.pot" "$T/c.pot" "$T/tpl.pot"

# One key per entry, "msgctxt<TAB>msgid", from a catalog's translated entries.
keys() {
	awk '
		/^msgctxt "/ { ctx = substr($0, 10, length($0) - 10); next }
		/^msgid "/ { id = substr($0, 8, length($0) - 8); next }
		/^msgstr "/ { str = substr($0, 9, length($0) - 9); if (id != "" && str != "") print ctx "\t" id; ctx = ""; id = ""; next }
		/^msgstr\[0\] "/ { str = substr($0, 12, length($0) - 12); if (id != "" && str != "") print ctx "\t" id; ctx = ""; id = ""; next }
	' | sort -u
}
msgcat --no-wrap "$T/all.pot" | msgattrib --no-wrap --force-po 2>/dev/null | awk '
	/^msgctxt "/ { ctx = substr($0, 10, length($0) - 10); next }
	/^msgid "/ { id = substr($0, 8, length($0) - 8); if (id != "") print ctx "\t" id; ctx = "" }
' | sort -u > "$T/want"

fail=0
for po in po/*.po; do
	msgattrib --translated --no-fuzzy --no-wrap "$po" | keys > "$T/have"
	comm -23 "$T/want" "$T/have" > "$T/missing"
	if [ -s "$T/missing" ]; then
		echo "check-msgids: $po has no translation for $(wc -l < "$T/missing") text(s):" >&2
		sed 's/^\t/  /; s/^\([^ ]\)/  [\1/; s/\t/] /' "$T/missing" >&2
		fail=1
	fi
done
# {{value|tr:context}}: the context exists in every catalog.
for ctx in $(grep -oh '|tr:[a-z_]*}}' templates/*.html templates/*/*.html | sed 's/|tr://; s/}}//' | sort -u); do
	for po in po/*.po; do
		if ! grep -q "^msgctxt \"$ctx\"" "$po"; then
			echo "check-msgids: $po has no msgctxt \"$ctx\" entries (used as |tr:$ctx in templates)" >&2
			fail=1
		fi
	done
done
n=$(grep -c '^msgid "..*"' "$T/all.pot" || true)
[ "$fail" -eq 0 ] || { echo "check-msgids: FAILED" >&2; exit 1; }
echo "check-msgids: ok ($n texts, every catalog complete)"
