#!/usr/bin/env bash
# The web core through the real nginx and pool: health, pages in both
# representations, languages, error pages, limits, headers, static files.
. "$(dirname "$0")/lib.sh"
it_setup 'limits = { max_body = 4096; max_upload = 65536; };'
it_start_pool
it_start_nginx 64k
H="$T/h" B="$T/b" JAR="$T/jar"
it_user admin admin 'correct horse battery staple'
check "signing in through the login form works" test "$(it_login "$JAR" admin 'correct horse battery staple')" = 303

get() { curl -s -D "$H" -o "$B" -b "$JAR" "$@"; }

# /healthz
get "$(url /healthz)"
check "healthz answers 200 JSON" grep -q '^HTTP/1.1 200' "$H"
check "healthz has every field" jqe 'has("status") and has("version") and has("profile") and has("uptime_s") and has("workers") and has("db")' "$B"
check "healthz status ok, profile test, db ok" jqe '.status=="ok" and .profile=="test" and .db=="ok"' "$B"
check "healthz counts the running workers" jqe '.workers >= 1' "$B"

# home page, HTML
get "$(url /)"
check "home answers 200 text/html" grep -qi '^content-type: text/html; charset=utf-8' "$H"
check "home is the English layout" grep -q '<html lang="en" dir="ltr"' "$B"
check "every response has X-Request-Id" grep -qiE '^x-request-id: [0-9a-f]{16,}' "$H"
check "CSP without unsafe-inline" bash -c "grep -i '^content-security-policy:' '$H' | grep -q \"frame-ancestors 'none'\" && ! grep -qi unsafe-inline '$H'"
check "nosniff header" grep -qi '^x-content-type-options: nosniff' "$H"
check "no inline script or style in the page" bash -c "! grep -qiE '<script>|<style|style=' '$B'"
rid=$(grep -i '^x-request-id:' "$H" | tr -d '\r' | awk '{print $2}')
check "request id appears in the footer" grep -q "$rid" "$B"

# Arabic
get -H 'Accept-Language: ar-EG,ar;q=0.9,en;q=0.5' "$(url /)"
check "Accept-Language ar gives dir=rtl" grep -q '<html lang="ar" dir="rtl"' "$B"
check "Arabic page is translated" grep -q 'نظرة عامة على الخادم' "$B"
get -b 'lang=ar' "$(url /)"
check "lang cookie selects Arabic" grep -q 'dir="rtl"' "$B"

# language switch form
code=$(curl -s -o /dev/null -D "$H" -w '%{http_code}' -d 'lang=ar' -H "Referer: http://127.0.0.1:$PORT/" "$(url /lang)")
check "POST /lang redirects 303" test "$code" = 303
check "POST /lang sets the lang cookie" grep -qi '^set-cookie: lang=ar;.*HttpOnly' "$H"
check "POST /lang returns to the page" grep -qi "^location: /" "$H"
code=$(status_of POST /lang -d 'lang=fr')
check "POST /lang with an unknown language is 400" test "$code" = 400

# JSON representation of the same page
get -H 'Accept: application/json' "$(url /)"
check "Accept: application/json gives JSON" grep -qi '^content-type: application/json' "$H"
check "JSON home has the host model" jqe '.host.hostname | length > 0' "$B"

# errors in both forms
get "$(url /no/such/page)"
check "unknown path is 404" grep -q '^HTTP/1.1 404' "$H"
check "404 page is HTML in the layout" grep -q 'dir="ltr"' "$B"
get -H 'Accept: application/json' "$(url /no/such/page)"
check "404 in JSON names status, code and request id (one error document)" jqe '.error.status==404 and .error.code=="not_found" and (.error.request_id|length)>=16 and (keys==["error"])' "$B"
get -X DELETE "$(url /)"
check "DELETE / is 405" grep -q '^HTTP/1.1 405' "$H"
check "405 carries Allow" grep -qi '^allow: GET, HEAD' "$H"
get -X BREW "$(url /)"
check "unknown method is 405" grep -q '^HTTP/1.1 405' "$H"
get -H 'Accept: application/json' "$(url '/_test/sleep?ms=abc')"
check "bad field is 400 naming the field" jqe '.error.status==400 and .error.field=="ms"' "$B"
get -H 'Accept: application/json' "$(url '/?q=%zz')"
check "invalid percent-encoding is 400" jqe '.error.status==400' "$B"
get -H 'Accept: application/json' "$(url '/?q=%00')"
check "NUL byte is 400" jqe '.error.status==400' "$B"
get -H 'Accept: application/json' "$(url '/?q=%ff%fe')"
check "invalid UTF-8 is 400" jqe '.error.status==400' "$B"
head -c 5000 /dev/zero | tr '\0' a > "$T/big"
get -H 'Accept: application/json' --data-binary "lang=$(cat "$T/big")" "$(url /lang)"
check "body above limits.max_body is 413 from the panel" jqe '.error.status==413' "$B"
head -c 70000 /dev/zero > "$T/huge"
code=$(status_of POST /lang --data-binary @"$T/huge" -H 'Content-Type: application/octet-stream')
check "body above client_max_body_size is 413 from nginx" test "$code" = 413
get -H 'Accept: application/json' -H 'Content-Type: text/xml' --data-binary '<a/>' "$(url /lang)"
check "unsupported content type is 415" jqe '.error.status==415' "$B"
get -H 'Accept: application/json' -H 'Content-Type: application/json' --data-binary '{"lang":' "$(url /lang)"
check "invalid JSON body is 400" jqe '.error.status==400 and .error.field=="body"' "$B"
curl -s -o "$B" -H 'Accept: application/json' -H 'Content-Type: application/json' --data-binary '{"lang":"ar"}' "$(url /lang)"
check "JSON body reaches declared fields" jqe '.lang=="ar"' "$B"

# HEAD: headers only
curl -s -I "$(url /)" > "$H"
check "HEAD / is 200 with a length" grep -qi '^content-length: [1-9]' "$H"

# static files from nginx with long cache headers
get "$(url /static/css/app.css)"
check "stylesheet served by nginx" grep -q '^HTTP/1.1 200' "$H"
check "static files have long cache headers" grep -qi '^cache-control: public, max-age=2592000' "$H"

# test-only routes don't exist outside the test profile: covered by the unit suite.
it_summary
