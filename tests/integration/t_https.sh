#!/usr/bin/env bash
# Two-phase HTTPS end to end: Debian's pebble (ACME) with pebble-challtestsrv
# as its DNS, a private nginx serving the HTTP-01 challenge, certbot issuing a
# real certificate through scripts/setup-https.sh, then TLS, headers,
# redirects, loopback-only /healthz, rate limits, idempotence, a rejected
# phase 2 that keeps phase 1 serving, and a renewal that reloads nginx.
# Production's Settings wiring too: the HTTPS server block includes the
# panel-managed listen file (nginx.listen_file), which setup-https.sh writes
# once and keeps, and aapanel-helper (panel.listen, through `aapanel
# settings set`) moves the TLS port by rewriting it.
. "$(dirname "$0")/lib.sh"
BASE=/entrance
it_setup "panel = { base_path = \"$BASE\"; settings_file = \"@T@/var/sandbox/etc/aapanel/settings.cfg\"; };
nginx = { listen_file = \"@T@/var/sandbox/etc/nginx/listen.conf\"; prefix = \"@T@/nginx\"; conf = \"@T@/nginx/nginx.conf\"; };
helper = { socket = \"@T@/var/run/aapanel-helper.sock\"; sandbox_root = \"@T@/var/sandbox\"; timeout_ms = 30000; };"
LF="$T/var/sandbox/etc/nginx/listen.conf"
mkdir -p "$T/var/sandbox/etc/aapanel"
PEBBLE_PID="" CTS_PID=""
t_teardown() {
	local rc=$?
	for p in "$PEBBLE_PID" "$CTS_PID"; do
		[ -n "$p" ] || continue
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ "$rc" -ne 0 ] || [ "$FAIL" -ne 0 ]; then
		echo "--- pebble log (last 15 lines)"; tail -n 15 "$T/pebble/pebble.log" 2>/dev/null || true
		echo "--- last setup-https output"; tail -n 25 "$T/setup.out" 2>/dev/null || true
	fi
	(exit "$rc")
	it_teardown
}
trap t_teardown EXIT

for c in nginx pebble pebble-challtestsrv certbot openssl curl; do
	command -v "$c" >/dev/null || { not_ok "$c is installed (scripts/install-deps.sh)"; it_summary; exit 1; }
done

DOMAIN=panel.test EMAIL=admin@panel.test
HTTP_PORT=$PORT
HTTPS_PORT=$(it_free_port) ACME_PORT=$(it_free_port) MGMT_PORT=$(it_free_port)
DNS_PORT=$(it_free_port) CTS_PORT=$(it_free_port) TLSALPN_PORT=$(it_free_port)
N="$T/nginx" P="$T/pebble" CB="$T/certbot" WEBROOT="$T/acme"
mkdir -p "$N/sites-available" "$N/sites-enabled" "$N/snippets" "$P" "$N/tmp"

# ---- pebble and its DNS
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
	-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
	-keyout "$P/key.pem" -out "$P/cert.pem" 2>/dev/null
cat >"$P/config.json" <<JSON
{ "pebble": {
    "listenAddress": "127.0.0.1:$ACME_PORT",
    "managementListenAddress": "127.0.0.1:$MGMT_PORT",
    "certificate": "$P/cert.pem", "privateKey": "$P/key.pem",
    "httpPort": $HTTP_PORT, "tlsPort": $TLSALPN_PORT,
    "ocspResponderURL": "", "externalAccountBindingRequired": false } }
JSON
pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" -dns01 "127.0.0.1:$DNS_PORT" \
	-http01 "" -https01 "" -tlsalpn01 "" -management "127.0.0.1:$CTS_PORT" >"$P/cts.log" 2>&1 &
CTS_PID=$!
PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 \
	pebble -config "$P/config.json" -dnsserver "127.0.0.1:$DNS_PORT" >"$P/pebble.log" 2>&1 &
PEBBLE_PID=$!
up=0
for _ in $(seq 1 100); do
	curl -sf --cacert "$P/cert.pem" -o /dev/null "https://127.0.0.1:$ACME_PORT/dir" && { up=1; break; }
	kill -0 "$PEBBLE_PID" 2>/dev/null || break
	sleep 0.1
done
if [ "$up" -ne 1 ]; then not_ok "pebble starts"; it_summary; exit 1; fi
curl -sf --cacert "$P/cert.pem" -o "$P/root.pem" "https://127.0.0.1:$MGMT_PORT/roots/0"
check "pebble serves its root on the management port" grep -q 'BEGIN CERTIFICATE' "$P/root.pem"

# ---- the panel and a private nginx whose http{} includes sites-enabled/
it_start_pool
user_line=""
[ "$(id -u)" -ne 0 ] || user_line="user root root;"
cat >"$N/nginx.conf" <<CONF
$user_line
worker_processes 1;
pid $N/nginx.pid;
error_log $N/error.log warn;
daemon off;
events { worker_connections 256; }
http {
	include /etc/nginx/mime.types;
	default_type application/octet-stream;
	access_log $N/access.log;
	client_body_temp_path $N/tmp/body;
	proxy_temp_path $N/tmp/proxy;
	fastcgi_temp_path $N/tmp/fastcgi;
	uwsgi_temp_path $N/tmp/uwsgi;
	scgi_temp_path $N/tmp/scgi;
	include $N/sites-enabled/*.conf;
}
CONF
nginx -p "$N" -c "$N/nginx.conf" -e "$N/error.log" &
NGINX_PID=$!
for _ in $(seq 1 100); do [ -s "$N/nginx.pid" ] && break; sleep 0.05; done
check "private nginx starts" kill -0 "$NGINX_PID"

SETUP=("$SRC/scripts/setup-https.sh" "$DOMAIN" "$EMAIL"
	--server "https://127.0.0.1:$ACME_PORT/dir" --ca-bundle "$P/cert.pem"
	--webroot "$WEBROOT" --certbot-dir "$CB" --nginx-dir "$N/sites-available"
	--snippets-dir "$N/snippets" --nginx-prefix "$N" --nginx-conf "$N/nginx.conf"
	--nginx-error-log "$N/error.log" --http-port "$HTTP_PORT" --https-port "$HTTPS_PORT"
	--listen-address 127.0.0.1 --aapanel-cmd "$BIN" --panel-config "$(it_cfg)"
	--panel-profile test --panel-root "$SRC")
setup() { local rc=0; "${SETUP[@]}" "$@" >"$T/setup.out" 2>&1 || rc=$?; echo "$rc"; }
site="$N/sites-available/aapanel.conf"
R=(--resolve "$DOMAIN:$HTTPS_PORT:127.0.0.1" --resolve "$DOMAIN:$HTTP_PORT:127.0.0.1")
HTTPS="https://$DOMAIN:$HTTPS_PORT" HTTP="http://$DOMAIN:$HTTP_PORT"
code() { curl -s -o /dev/null -w '%{http_code}' "${R[@]}" "$@"; }
serial() { openssl x509 -noout -serial -in "$CB/live/$DOMAIN/fullchain.pem" | sed 's/serial=//'; }

# ---- bad values change nothing
check "an invalid --https-port is refused with exit 2" test "$(setup --https-port 99999)" = 2
check "and says which option" grep -q -- '--https-port' "$T/setup.out"
check "and wrote nothing" test ! -e "$site"
check "--dry-run exits 0" test "$(setup --dry-run)" = 0
check "--dry-run prints the certbot command" grep -q '^+ .*certbot certonly --webroot' "$T/setup.out"
check "--dry-run writes nothing" test -z "$(find "$N/sites-available" "$N/snippets" -type f)" -a ! -e "$CB" -a ! -e "$LF"

# ---- phase 2 broken (unreadable DH parameters): phase 1 must keep serving
echo "not a PEM file" >"$N/snippets/aapanel-ffdhe2048.pem"
rc=$(setup)
check "a rejected phase 2 exits 3" test "$rc" = 3
check "and says why (nginx -t on the DH parameters)" grep -qi 'rejected the phase 2.*dhparam\|dhparam.*rejected' "$T/setup.out"
check "phase 1 is back in place" grep -q '^# aapanel-nginx-phase: 1$' "$site"
check "and the listen file written for phase 2 is gone with it" test ! -e "$LF"
check "the certificate was issued in phase 1" test -s "$CB/live/$DOMAIN/fullchain.pem"
serial1=$(serial)
mkdir -p "$WEBROOT/.well-known/acme-challenge"
printf 'token-1' >"$WEBROOT/.well-known/acme-challenge/t1"
check "phase 1 serves the ACME location" test "$(curl -s "${R[@]}" "$HTTP/.well-known/acme-challenge/t1")" = token-1
check "phase 1 answers 404 elsewhere (no --allow-http-panel)" test "$(code "$HTTP$BASE/login")" = 404
check "nothing listens on the HTTPS port" bash -c "! curl -sk --max-time 2 -o /dev/null --resolve '$DOMAIN:$HTTPS_PORT:127.0.0.1' '$HTTPS/'"
rc=$(setup --allow-http-panel)
check "with --allow-http-panel, a rejected phase 2 also exits 3" test "$rc" = 3
check "and phase 1 serves the panel over HTTP" test "$(code "$HTTP$BASE/login")" = 200
check "but nothing outside the base path" test "$(code "$HTTP/other")" = 404
rm -f "$N/snippets/aapanel-ffdhe2048.pem"

# ---- the real run
rc=$(setup)
check "setup-https.sh succeeds" test "$rc" = 0
check "it kept the certificate (not due for renewal)" test "$(serial)" = "$serial1"
check "it says the certificate is unchanged" grep -q 'certificate unchanged' "$T/setup.out"
check "phase 2 is installed" grep -q '^# aapanel-nginx-phase: 2$' "$site"
check "sites-enabled links the site" test "$(readlink "$N/sites-enabled/aapanel.conf")" = "$site"
check "the deploy hook is installed" test -x "$CB/renewal-hooks/deploy/aapanel-reload-nginx.sh"
check "no OCSP stapling for pebble's certificate" bash -c "! grep -q '^[[:space:]]*ssl_stapling on' '$site'"
check "the HTTPS server block includes the panel's nginx.listen_file" grep -qxF "	include $LF;" "$site"
check "and names no listen line or entrance of its own past the HTTP server" \
	bash -c "! awk '/ssl_certificate /{s=1} s' '$site' | grep -qE '^[[:space:]]*listen |$BASE'"
check "setup-https.sh wrote the listen file: 127.0.0.1, the HTTPS port, the entrance, TLS, the certificate" \
	test "$(head -1 "$LF")" = "# aapanel-listen: address=127.0.0.1 port=$HTTPS_PORT base=$BASE tls=1 certificate=$CB/live/$DOMAIN/fullchain.pem"
check "its listen line and \$aapanel_base" bash -c "grep -qxF 'listen 127.0.0.1:$HTTPS_PORT ssl http2;' '$LF' && grep -qxF 'set \$aapanel_base \"$BASE\";' '$LF'"

# ---- the panel's origins: https://DOMAIN:PORT is the panel's own now
# (into a file first: a failing `config show` is then a failed check with its reason, not the end of the test)
rc=0; "$BIN" --profile test --config "$(it_cfg)" --root "$SRC" config show > "$T/config.show" 2> "$T/config.err" || rc=$?
[ "$rc" = 0 ] || { echo "       config show: exit $rc"; sed 's/^/       /' "$T/config.err"; }
origins=$(awk '/^panel = \{/ {p = 1} p && /^  origins = / && !done {print; done = 1}' "$T/config.show")
check "panel.origins has $HTTPS ($origins)" grep -qF "\"$HTTPS\"" <<<"$origins"
check "it was written to the test profile" grep -qF "origins = \"$HTTPS\";" "$T/conf/profiles/test.cfg"
check "setup-https reloaded the panel with it" grep -q 'the panel reloaded with it' "$T/setup.out"
lang_from() { # lang_from ORIGIN: a language change posted from ORIGIN over HTTPS, its status
	local jar="$T/origin-jar" tok
	rm -f "$jar"
	tok=$(curl -s -c "$jar" -b "$jar" --cacert "$P/root.pem" "${R[@]}" "$HTTPS$BASE/login" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1)
	curl -s -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" --cacert "$P/root.pem" "${R[@]}" -H "Origin: $1" \
		--data-urlencode "csrf=$tok" --data-urlencode lang=ar "$HTTPS$BASE/lang"
}
check "a form posted from $HTTPS is accepted" test "$(lang_from "$HTTPS")" = 303
check "one from another origin is still refused" test "$(lang_from "https://other.example:$HTTPS_PORT")" = 403

H="$T/h" B="$T/b"
V=(--cacert "$P/root.pem" "${R[@]}")
curl -s -D "$H" -o "$B" "${V[@]}" "$HTTPS/healthz" || true
check "HTTPS /healthz verifies against pebble's root and answers 200" grep -q '^HTTP/2 200' "$H"
check "it is the panel's health JSON" jqe '.status == "ok"' "$B"
check "HSTS max-age=63072000" grep -qi '^strict-transport-security: max-age=63072000' "$H"
check "server_tokens off" grep -qi '^server: nginx.$' "$H"
curl -s -D "$H" -o "$B" "${V[@]}" "$HTTPS$BASE/login" || true
check "the login page answers over HTTPS" grep -q '^HTTP/2 200' "$H"
check "exactly one HSTS header on panel pages" test "$(grep -ci '^strict-transport-security:' "$H")" = 1
check "exactly one X-Content-Type-Options" test "$(grep -ci '^x-content-type-options: nosniff' "$H")" = 1
check "exactly one Referrer-Policy" test "$(grep -ci '^referrer-policy:' "$H")" = 1
check "the panel's own CSP passes through once" test "$(grep -ci '^content-security-policy:' "$H")" = 1
check "HTTP/2 is negotiated" test "$(curl -s -o /dev/null -w '%{http_version}' "${V[@]}" "$HTTPS/healthz")" = 2
sfile=$(cd "$SRC/static" && find . -type f -name '*.css' | head -1)
curl -s -D "$H" -o /dev/null "${V[@]}" "$HTTPS$BASE/static/${sfile#./}" || true
check "static files under BASE/static/ with long cache headers" grep -qi '^cache-control: public, max-age=2592000' "$H"
check "static files carry HSTS and nosniff too" bash -c "grep -qi '^strict-transport-security: max-age=63072000' '$H' && grep -qi '^x-content-type-options: nosniff' '$H'"
check "outside the base path: 404" test "$(code --cacert "$P/root.pem" "$HTTPS/other")" = 404

# TLS versions. The client's OpenSSL allows TLS 1.0/1.1 here (Debian's
# default level refuses them), so a failure is the server's refusal.
cat >"$T/oldtls.cnf" <<'CNF'
openssl_conf = init
[init]
ssl_conf = ssl
[ssl]
system_default = sys
[sys]
MinProtocol = TLSv1
CipherString = DEFAULT:@SECLEVEL=0
CNF
old() { OPENSSL_CONF="$T/oldtls.cnf" curl -sS -o /dev/null "${V[@]}" "$@" "$HTTPS/healthz" 2>&1; }
for v in 1.0 1.1; do
	rc=0; o=$(old --tlsv$v --tls-max $v) || rc=$?
	check "TLS $v refused by the server (curl exit $rc)" test "$rc" -ne 0
	check "TLS $v: the refusal is the server's protocol-version alert" grep -qi 'alert protocol version' <<<"$o"
done
check "TLS 1.2 works" test "$(code --cacert "$P/root.pem" --tlsv1.2 --tls-max 1.2 "$HTTPS/healthz")" = 200
check "TLS 1.3 works" test "$(code --cacert "$P/root.pem" --tlsv1.3 "$HTTPS/healthz")" = 200
check "TLS 1.2 uses an ECDHE AEAD suite" bash -c "openssl s_client -connect 127.0.0.1:$HTTPS_PORT -servername $DOMAIN -tls1_2 </dev/null 2>/dev/null | grep -qE 'Cipher is ECDHE-(RSA|ECDSA)-(AES(128|256)-GCM|CHACHA20)'"

# HTTP on port 80: redirect, except the ACME location
loc=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "${R[@]}" "$HTTP$BASE/login?x=1")
check "HTTP redirects 301 to HTTPS (same path and query)" test "$loc" = "301 $HTTPS$BASE/login?x=1"
check "HTTP /healthz redirects too" test "$(code "$HTTP/healthz")" = 301
curl -s -D "$H" -o "$B" "${R[@]}" "$HTTP/.well-known/acme-challenge/t1"
check "the ACME location still answers on HTTP" test "$(cat "$B")" = token-1
check "as text/plain" grep -qi '^content-type: text/plain' "$H"
check "no directory listing in the ACME location" test "$(code "$HTTP/.well-known/acme-challenge/")" = 404

# /healthz only from loopback (127.0.0.2 is not in the allow list)
check "/healthz from 127.0.0.1 works" test "$(code --cacert "$P/root.pem" "$HTTPS/healthz")" = 200
check "/healthz from another address is denied" test "$(code --cacert "$P/root.pem" --interface 127.0.0.2 "$HTTPS/healthz")" = 403

# ---- a rerun changes nothing
sums() { find "$LF" "$N/sites-available" "$N/sites-enabled" "$N/snippets" "$CB/live" "$CB/archive" "$CB/renewal" "$CB/renewal-hooks" -type f -o -type l | sort | xargs -r md5sum; readlink "$N/sites-enabled/aapanel.conf"; }
sums >"$T/sums.before"
npid=$(cat "$N/nginx.pid")
rc=$(setup)
check "a rerun succeeds" test "$rc" = 0
sums >"$T/sums.after"
check "a rerun changes no file" cmp -s "$T/sums.before" "$T/sums.after"
check "a rerun keeps the certificate" test "$(serial)" = "$serial1"
check "a rerun says unchanged" grep -q 'unchanged' "$T/setup.out"
check "a rerun writes nothing" bash -c "! grep -qE '(wrote|would write) ' '$T/setup.out'"
check "a rerun does not reload nginx" grep -q 'not reloading' "$T/setup.out"
check "nginx kept running" test "$(cat "$N/nginx.pid")" = "$npid"
rc=$(setup --dry-run)
sums >"$T/sums.dry"
check "a dry run with everything in place exits 0" test "$rc" = 0
check "and changes nothing" cmp -s "$T/sums.before" "$T/sums.dry"

# ---- rate limit on sign-in POSTs (5/min, burst 5): a burst gets 429
codes=""
for _ in $(seq 1 10); do codes="$codes $(code --cacert "$P/root.pem" -d 'username=x&password=y' "$HTTPS$BASE/login")"; done
check "a burst of login POSTs is answered 429 ($codes)" grep -q 429 <<<"$codes"
check "the first ones reach the panel" test "${codes:1:3}" != 429
check "nginx logs the login zone" grep -q 'limiting requests.*zone "aapanel_login"' "$N/error.log"
check "GET of the login page is not limited by it" test "$(code --cacert "$P/root.pem" "$HTTPS$BASE/login")" = 200

# ---- renewal: certbot renew runs the deploy hook, nginx serves the new certificate
REQUESTS_CA_BUNDLE="$P/cert.pem" certbot renew --force-renewal --no-random-sleep-on-renew -n --config-dir "$CB" \
	--work-dir "$CB/work" --logs-dir "$CB/logs" >"$T/renew.out" 2>&1 || true
serial2=$(serial)
check "certbot renew issued a new certificate" test "$serial2" != "$serial1"
check "the deploy hook reloaded nginx" grep -q 'nginx reloaded' "$T/renew.out"
got=""
for _ in $(seq 1 50); do
	got=$(openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername "$DOMAIN" </dev/null 2>/dev/null | openssl x509 -noout -serial | sed 's/serial=//')
	[ "$got" = "$serial2" ] && break
	sleep 0.1
done
check "nginx serves the renewed certificate" test "$got" = "$serial2"

# ---- Settings in production: the helper moves the TLS port (panel.listen)
HS="$T/var/run/aapanel-helper.sock"
it_start_helper "$HS"
A() { "$BIN" --profile test --config "$(it_cfg)" --root "$SRC" "$@"; }
NEW_PORT=$(it_free_port)
rc=0; A settings set panel.port "$NEW_PORT" >"$T/set.out" 2>&1 || rc=$?
check "aapanel settings set panel.port $NEW_PORT: exit 0 ($rc)" test "$rc" = 0
[ "$rc" = 0 ] || sed 's/^/    /' "$T/set.out"
check "the listen file has the new port, TLS and the certificate kept" \
	test "$(head -1 "$LF")" = "# aapanel-listen: address=127.0.0.1 port=$NEW_PORT base=$BASE tls=1 certificate=$CB/live/$DOMAIN/fullchain.pem"
R2=(--resolve "$DOMAIN:$NEW_PORT:127.0.0.1")
moved=0
for _ in $(seq 1 100); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$P/root.pem" "${R2[@]}" "https://$DOMAIN:$NEW_PORT$BASE/login")" = 200 ] && { moved=1; break; }
	sleep 0.1
done
check "nginx serves the panel over HTTPS on port $NEW_PORT" test "$moved" = 1
RF="${LF%.conf}.redirect.conf"
check "the redirect beside the listen file names the new port" \
	test "$(head -1 "$RF")" = "# aapanel-redirect: host=$DOMAIN port=$NEW_PORT"
want="301 https://$DOMAIN:$NEW_PORT$BASE/login?y=2"
for _ in $(seq 1 100); do # nginx's old workers may take one more connection after the reload
	loc=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' --resolve "$DOMAIN:$HTTP_PORT:127.0.0.1" "$HTTP$BASE/login?y=2")
	[ "$loc" = "$want" ] && break
	sleep 0.1
done
[ "$loc" = "$want" ] || cat "$RF"
check "HTTP redirects to the new port at once, before setup-https.sh runs again ($loc)" \
	test "$loc" = "301 https://$DOMAIN:$NEW_PORT$BASE/login?y=2"
check "with HSTS" bash -c "curl -s -D - -o /dev/null --cacert '$P/root.pem' --resolve '$DOMAIN:$NEW_PORT:127.0.0.1' 'https://$DOMAIN:$NEW_PORT/healthz' | grep -qi '^strict-transport-security: max-age=63072000'"
# nginx's old workers keep the old port's connections for a moment after the reload: the port is
# gone once they are (within 10 s).
gone=0
for _ in $(seq 1 100); do
	curl -sk --max-time 2 -o /dev/null --resolve "$DOMAIN:$HTTPS_PORT:127.0.0.1" "$HTTPS/healthz" || { gone=1; break; }
	sleep 0.1
done
check "and no longer on $HTTPS_PORT" test "$gone" = 1
rc=$(setup)
check "a later setup-https.sh run succeeds" test "$rc" = 0
check "and keeps the listen file the panel moved" grep -q "^# aapanel-listen: .* port=$NEW_PORT " "$LF"
check "saying so" grep -q "keeping $LF" "$T/setup.out"
HTTPS="https://$DOMAIN:$NEW_PORT" R=("${R2[@]}" --resolve "$DOMAIN:$HTTP_PORT:127.0.0.1")
check "which adds the new origin: a form posted from $HTTPS is accepted" test "$(lang_from "$HTTPS")" = 303
loc=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "${R[@]}" "$HTTP$BASE/login")
check "and points the HTTP redirect at the new port" test "$loc" = "301 $HTTPS$BASE/login"

it_summary
