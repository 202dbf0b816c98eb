#!/usr/bin/env bash
# make install into a staging DESTDIR: every file where a Debian operator
# expects it, and the installed copy runs (production profile by default).
. "$(dirname "$0")/lib.sh"
it_setup
D="$T/stage"
make -s -j2 -C "$SRC" install BUILD="$T/build" DESTDIR="$D" > "$T/install.log" 2>&1 || { cat "$T/install.log"; not_ok "make install"; }
P=/usr/local
check "binary installed" test -x "$D$P/bin/aapanel"
check "templates installed" test -f "$D$P/share/aapanel/templates/layout.html"
check "static files installed" test -f "$D$P/share/aapanel/static/css/app.css"
check "translations installed" test -f "$D$P/share/aapanel/po/ar.po"
check "nginx templates installed" test -f "$D$P/share/aapanel/nginx/dev.conf"
check "configuration installed" test -f "$D/etc/aapanel/aapanel.cfg" -a -f "$D/etc/aapanel/profiles/production.cfg"
check "configuration not world-readable" test "$(stat -c %a "$D/etc/aapanel/aapanel.cfg")" = 640
check "installed binary prints its version" "$D$P/bin/aapanel" --version
# An installed copy (not a checkout) defaults to production, which demands a secret key.
rc=0; env -u AAPANEL_ENV CREDENTIALS_DIRECTORY= "$D$P/bin/aapanel" --root "$D$P/share/aapanel" --config "$D/etc/aapanel/aapanel.cfg" config check > "$T/out" 2>&1 || rc=$?
check "installed copy defaults to production and refuses without a key" grep -q 'production' "$T/out"
check "exit status 1 without a key" test "$rc" = 1
mkdir -p "$T/creds"; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$T/creds/aapanel-secret"; chmod 600 "$T/creds/aapanel-secret"
check "installed copy valid with the credential" env -u AAPANEL_ENV CREDENTIALS_DIRECTORY="$T/creds" "$D$P/bin/aapanel" --root "$D$P/share/aapanel" --config "$D/etc/aapanel/aapanel.cfg" config check
make -s -C "$SRC" uninstall BUILD="$T/build" DESTDIR="$D" > /dev/null 2>&1
check "uninstall removes the binary and share dir" test ! -e "$D$P/bin/aapanel" -a ! -e "$D$P/share/aapanel"
check "uninstall keeps the configuration" test -f "$D/etc/aapanel/aapanel.cfg"
it_summary
