#!/usr/bin/env bash
# Certificates (issue 13), uploads: a site gets a certificate, key and chain
# through the API; each bad upload (garbage, a key that does not match, a
# chain in the wrong order, an expired certificate, names that do not cover
# the site) is a 400 naming the field with the reason and nothing on disk
# changes; a good one is installed, nginx serves it on the HTTPS port (the
# chain verified with curl --cacert against the test's own root), the HTTP
# side redirects when asked, the key is 0640 and never in an answer or the
# audit log; a certificate under 14 days shows the warning on the page;
# remove takes the TLS server away. Then ACME against pebble on loopback
# (acme_lib.sh, never Let's Encrypt): a site and its alias issued as a job
# whose progress is followed, served and verified against pebble's root,
# the redirect, a forced renewal that nginx serves, and an issuance that
# fails (the name resolved elsewhere) with certbot's reason while the site
# keeps serving.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites_lib.sh"
it_setup 'pool = { request_timeout = 20; };'
HTTPS_PORT=$(it_free_port)
sites_setup 'system_users = false;'
. "$(dirname "$0")/acme_lib.sh"
check "pebble and its DNS start on loopback, the certs config points at them" acme_start "https_port = $HTTPS_PORT;"
it_start_pool
sites_start_nginx
sites_start_helper
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
it_user admin admin 'correct horse battery staple'
TOKEN=$(A token create --user admin --scope write --name t | tail -1)

# ---- a small CA: root -> intermediate -> leaves
C="$T/ca"; mkdir -p "$C"
ossl() { openssl "$@" 2>/dev/null; }
ossl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=Test-Root -keyout "$C/root.key" -out "$C/root.pem" \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
ossl req -newkey rsa:2048 -nodes -subj /CN=Test-Intermediate -keyout "$C/int.key" -out "$C/int.csr"
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' > "$C/int.ext"
ossl x509 -req -in "$C/int.csr" -CA "$C/root.pem" -CAkey "$C/root.key" -CAcreateserial -days 30 -extfile "$C/int.ext" -out "$C/int.pem"
leaf() { # leaf NAME DAYS SANS...
	local n=$1 d=$2; shift 2
	local san; san=$(printf 'DNS:%s,' "$@"); san=${san%,}
	ossl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$C/$n.key" -out "$C/$n.csr"
	printf 'subjectAltName=%s\n' "$san" > "$C/$n.ext"
	ossl x509 -req -in "$C/$n.csr" -CA "$C/int.pem" -CAkey "$C/int.key" -CAcreateserial -days "$d" -extfile "$C/$n.ext" -out "$C/$n.pem"
}
leaf good 60 tls.test www.tls.test
leaf other 60 tls.test www.tls.test
leaf short 5 tls.test www.tls.test
leaf narrow 60 tls.test
# Expired: valid for one day, ended two days ago (python3-cryptography signs it with the intermediate).
python3 - "$C" <<'PY'
import datetime, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
d = sys.argv[1]
ik = serialization.load_pem_private_key(open(d + "/int.key", "rb").read(), None)
ic = x509.load_pem_x509_certificate(open(d + "/int.pem", "rb").read())
k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
now = datetime.datetime.now(datetime.timezone.utc)
c = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tls.test")]))
     .issuer_name(ic.subject).public_key(k.public_key()).serial_number(x509.random_serial_number())
     .not_valid_before(now - datetime.timedelta(days=3)).not_valid_after(now - datetime.timedelta(days=2))
     .add_extension(x509.SubjectAlternativeName([x509.DNSName("tls.test"), x509.DNSName("www.tls.test")]), False)
     .sign(ik, hashes.SHA256()))
open(d + "/old.pem", "wb").write(c.public_bytes(serialization.Encoding.PEM))
open(d + "/old.key", "wb").write(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
PY

check "site created" test "$(api POST /sites '{"domain":"tls.test","kind":"static","aliases":"www.tls.test"}')" = 201
SITE_ID=$(jq -r .id "$T/api.json")

tree_of() { (cd "$SB" && find . -printf '%p %y %m\n' | grep -v 'aapanel-sites.lock' | sort; find . -type f ! -name .aapanel-sites.lock -exec sha256sum {} + | sort -k2); }
upload() { # upload CERTFILE KEYFILE [CHAINFILE] -> status, body in $T/api.json
	jq -n --rawfile c "$1" --rawfile k "$2" --arg ch "$( [ -n "${3:-}" ] && cat "$3")" \
		'{domain:"tls.test",cert:$c,key:$k} + (if $ch == "" then {} else {chain:$ch} end)' > "$T/up.json"
	api POST /certificates "$(cat "$T/up.json")"
}
tree_of > "$T/tree.before"
printf 'this is not a certificate\n' > "$C/garbage.pem"
refuse() { # refuse NAME FIELD PATTERN files...
	local name=$1 field=$2 pat=$3; shift 3
	local code; code=$(upload "$@")
	check "$name: 400 (got $code)" test "$code" = 400
	check "... field $field, the reason says '$pat'" jqe ".error.field == \"$field\" and (.error.reason | test(\"$pat\"))" "$T/api.json"
}
refuse "garbage as the certificate" cert "not a PEM certificate" "$C/garbage.pem" "$C/good.key"
refuse "a key that does not match" key "does not match" "$C/good.pem" "$C/other.key"
refuse "garbage as the key" key "not a PEM private key" "$C/good.pem" "$C/garbage.pem"
cat "$C/root.pem" "$C/int.pem" > "$C/wrong-order.pem"
refuse "a chain in the wrong order" chain "wrong order" "$C/good.pem" "$C/good.key" "$C/wrong-order.pem"
refuse "names that do not cover the site's alias" cert "does not cover www.tls.test" "$C/narrow.pem" "$C/narrow.key"
if [ -s "$C/old.pem" ]; then
	refuse "an expired certificate" cert "expired" "$C/old.pem" "$C/old.key"
else
	not_ok "openssl could make an expired certificate"
fi
tree_of > "$T/tree.after"
check "after every refusal nothing on disk changed (the sandbox tree compared)" cmp -s "$T/tree.before" "$T/tree.after"

# ---- a good upload
code=$(upload "$C/short.pem" "$C/short.key" "$C/int.pem")
check "a good upload (5 days left): 201 (got $code)" test "$code" = 201
CERT_ID=$(jq -r .id "$T/api.json")
check "... the Certificate: names, issuer, serial, source upload, expires_soon" \
	jqe '.names == "tls.test www.tls.test" and .issuer == "Test-Intermediate" and (.serial|length) > 0 and .source == "upload" and .expires_soon == true and .site != null' "$T/api.json"
check "... the answer has no key" bash -c "! grep -q 'PRIVATE KEY' '$T/api.json'"
K="$SB/etc/aapanel/certs/tls.test/privkey.pem"
check "the key on disk is 0640" test "$(stat -c %a "$K")" = 640
check "the key is in no audit record" bash -c "! A audit list --json 2>/dev/null | grep -q 'PRIVATE KEY'"
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
check "the key is in no log" bash -c "! grep -rq 'PRIVATE KEY' '$T/helper.log' '$T/var/log' 2>/dev/null"
tls_get() { curl -s -o "$T/tls.out" -w '%{http_code}' --cacert "$C/root.pem" --resolve "$1:$HTTPS_PORT:127.0.0.1" "https://$1:$HTTPS_PORT${2:-/}"; }
check "nginx serves the site over HTTPS, the chain verified against the test's root" test "$(tls_get tls.test /)" = 200
check "... and its alias" test "$(tls_get www.tls.test /)" = 200
serial=$(openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername tls.test </dev/null 2>/dev/null | openssl x509 -noout -serial | cut -d= -f2)
check "... the served certificate is the upload (serial $serial)" test "$serial" = "$(jq -r .serial "$T/api.json")"

# ---- the list page: the warning under 14 days
it_login "$T/jar" admin 'correct horse battery staple' >/dev/null
curl -s -o "$T/page.html" -b "$T/jar" "$(url /certificates)"
check "the certificates page shows the expiry warning" grep -q 'Expires soon' "$T/page.html"
code=$(api GET /certificates)
check "GET /api/v1/certificates lists it (got $code)" jqe ".items[0].id == $CERT_ID and .items[0].expires_soon == true" "$T/api.json"
code=$(api GET "/sites/$SITE_ID")
check "the site shows its certificate's expiry" jqe '.site.cert_expiry != null' "$T/api.json"

# ---- a longer one replaces it: no warning; HTTP → HTTPS when asked
code=$(upload "$C/good.pem" "$C/good.key" "$C/int.pem")
check "a new upload replaces it: 201, no warning (got $code)" jqe '.expires_soon == false' "$T/api.json"
code=$(api POST "/sites/$SITE_ID" '{"kind":"static","aliases":"www.tls.test","https_redirect":true}')
check "the site asks for the redirect (got $code)" test "$code" = 200
check "plain HTTP redirects to HTTPS (301)" test "$(site_get tls.test /x)" = 301
check "... to the HTTPS port" bash -c "curl -s -o /dev/null -w '%{redirect_url}' -H 'Host: tls.test' '$(url /x)' | grep -q 'https://tls.test:$HTTPS_PORT/x'"
check "HTTPS still serves after the edit" test "$(tls_get tls.test /)" = 200

# ---- remove
code=$(api POST "/certificates/$CERT_ID/remove" '{"confirmed":true}')
check "remove: 204 (got $code)" test "$code" = 204
sleep 0.3
code=$(tls_get tls.test / || true)
check "HTTPS is no longer served (got $code)" test "$code" = 000
check "the files are gone" test ! -e "$SB/etc/aapanel/certs/tls.test/privkey.pem"
check "the helper logged no error" bash -c "! grep -q ' error ' '$T/helper.log'"

# ---- ACME: pebble issues for a site and its alias, as a job
check "site acme.test created" test "$(api POST /sites '{"domain":"acme.test","kind":"static","aliases":"www.acme.test"}')" = 201
ACME_SITE=$(jq -r .id "$T/api.json")
echo acme > "$SB/var/www/acme.test/public/index.html"
code=$(api POST /certificate-requests '{"domain":"acme.test"}')
check "POST /certificate-requests: 201 (got $code)" test "$code" = 201
AID=$(jq -r .id "$T/api.json")
check "... the Certificate pending, source acme, with its job, for the site and its alias" \
	jqe '.state == "pending" and .source == "acme" and (.job | type) == "number" and .names == "acme.test www.acme.test"' "$T/api.json"
curl -s -o "$T/pending.html" -b "$T/jar" "$(url "/certificates/$AID")"
check "the certificate's page while certbot runs: the progress bar and the poll of its JSON" \
	bash -c "grep -q '<progress id=\"job-progress\"' '$T/pending.html' && grep -q 'data-job-poll=\"/api/v1/certificates/$AID\"' '$T/pending.html'"
check "... and without JavaScript it refreshes itself (a refresh in <noscript>, only while the job runs)" \
	grep -q '<noscript><meta http-equiv="refresh" content="5"></noscript>' "$T/pending.html"
# follow CID: poll GET /certificates/{id} until the job is over; the progress seen in $T/progress
follow() {
	: > "$T/progress"
	for _ in $(seq 1 300); do
		api GET "/certificates/$1" > /dev/null
		jq -r '.job.progress // empty' "$T/api.json" >> "$T/progress"
		jq -e '.certificate.state != "pending"' "$T/api.json" > /dev/null && return 0
		sleep 0.1
	done
	return 1
}
check "the job ends (GET /certificates/{id} polled)" follow "$AID"
check "... its progress was seen moving, never back, ending at 100 ($(sort -un "$T/progress" | tr '\n' ' '))" \
	bash -c "sort -nc '$T/progress' && [ \$(tail -1 '$T/progress') = 100 ] && [ \$(sort -un '$T/progress' | wc -l) -ge 3 ]"
check "... issued: ok, by pebble, a serial, the job done with certbot's output" \
	jqe '.certificate.state == "ok" and (.certificate.issuer | test("Pebble")) and (.certificate.serial | length) > 0 and .job.state == "done" and (.job.output | length) > 0' "$T/api.json"
SERIAL1=$(jq -r .certificate.serial "$T/api.json")
curl -s -o "$T/done.html" -b "$T/jar" "$(url "/certificates/$AID")"
check "... the page, the job over, no longer refreshes itself" \
	bash -c "grep -q 'Certificate' '$T/done.html' && ! grep -q 'http-equiv=\"refresh\"' '$T/done.html'"
acme_root "$T/pebble-root.pem"
check "pebble's root fetched from its management port" grep -q 'BEGIN CERTIFICATE' "$T/pebble-root.pem"
acme_get() { curl -s -o "$T/tls.out" -w '%{http_code}' --cacert "$T/pebble-root.pem" --resolve "$1:$HTTPS_PORT:127.0.0.1" "https://$1:$HTTPS_PORT${2:-/}"; }
served_serial() { openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername "$1" </dev/null 2>/dev/null | openssl x509 -noout -serial | cut -d= -f2; }
serves_acme() { [ "$(acme_get acme.test /)" = 200 ] && grep -qx acme "$T/tls.out"; }
check "nginx serves acme.test over HTTPS, verified against pebble's root" serves_acme
check "... and www.acme.test" test "$(acme_get www.acme.test /)" = 200
check "... the certificate served is the one issued (serial $SERIAL1)" test "$(served_serial acme.test)" = "$SERIAL1"
code=$(api POST "/sites/$ACME_SITE" '{"kind":"static","aliases":"www.acme.test","https_redirect":true}')
check "the site asks for the redirect (got $code)" test "$code" = 200
check "plain HTTP now redirects to HTTPS (301)" test "$(site_get acme.test /x)" = 301
check "... but not the ACME challenges (served from the webroot over HTTP)" \
	test "$(site_get acme.test /.well-known/acme-challenge/nothing-here)" = 404
check "HTTPS still serves the issued certificate after the edit" test "$(served_serial acme.test)" = "$SERIAL1"

# ---- a forced renewal: certbot's deploy hook reloads nginx, the new serial is served
code=$(api POST "/certificates/$AID/renew" '{}')
check "POST /certificates/{id}/renew: 200, pending (got $code)" bash -c "[ $code = 200 ] && jq -e '.state == \"pending\"' '$T/api.json' >/dev/null"
check "the renewal job ends" follow "$AID"
SERIAL2=$(jq -r .certificate.serial "$T/api.json")
check "... renewed: ok, a new serial, renewal_ok" \
	jqe ".certificate.state == \"ok\" and .certificate.serial != \"$SERIAL1\" and .certificate.renewal_ok == true and .certificate.renewed != null" "$T/api.json"
new_served() { for _ in $(seq 1 50); do [ "$(served_serial acme.test)" = "$SERIAL2" ] && return 0; sleep 0.1; done; return 1; }
check "nginx was reloaded: it serves the new serial ($SERIAL2)" new_served
check "... still verified against pebble's root" test "$(acme_get acme.test /)" = 200

# ---- a failing issuance: a new alias pebble's DNS sends elsewhere (127.0.0.2, where nothing listens)
code=$(api POST "/sites/$ACME_SITE" '{"kind":"static","aliases":"www.acme.test bad.acme.test","https_redirect":true}')
check "the site gets the alias bad.acme.test (got $code)" test "$code" = 200
check "challtestsrv resolves bad.acme.test to 127.0.0.2" acme_resolve bad.acme.test 127.0.0.2
code=$(api POST /certificate-requests '{"domain":"acme.test"}')
check "POST /certificate-requests for the three names: 201, pending (got $code)" \
	bash -c "[ $code = 201 ] && jq -e '.state == \"pending\"' '$T/api.json' >/dev/null"
check "the job ends" follow "$AID"
check "... failed, with certbot's reason (the challenge could not connect)" \
	jqe '.certificate.state == "failed" and .job.state == "failed" and (.certificate.error | test("bad.acme.test")) and (.certificate.error | test("127.0.0.2|onnection refused"))' "$T/api.json"
jq -r .certificate.error "$T/api.json" | head -3 | sed 's/^/    reason: /'
code=$(api GET /certificates)
check "the list shows it failed with the reason" jqe ".items[] | select(.id == $AID) | .state == \"failed\" and (.error | length) > 0" "$T/api.json"
curl -s -o "$T/page.html" -b "$T/jar" "$(url /certificates)"
check "... and so does the page" grep -q 'badge-danger' "$T/page.html"
check "the site keeps serving the renewed certificate over HTTPS" bash -c "[ '$(served_serial acme.test)' = '$SERIAL2' ] && [ '$(acme_get acme.test /)' = 200 ]"
check "... and plain HTTP still redirects" test "$(site_get acme.test /x)" = 301
check "nginx -t still accepts the configuration" nginx -t -q -p "$T/nginx" -c "$T/nginx/nginx.conf"

# ---- the command line: aapanel cert … (key material from files only)
leaf cli 60 cli.test www.cli.test
check "site cli.test created" test "$(api POST /sites '{"domain":"cli.test","kind":"static","aliases":"www.cli.test"}')" = 201
cli() { local rc=0; A cert "$@" > "$T/cli.out" 2> "$T/cli.err" || rc=$?; echo "$rc"; }
rc=$(cli upload cli.test --cert "$C/garbage.pem" --key "$C/cli.key")
check "cert upload of garbage: exit 2, field and reason on stderr (got $rc)" \
	bash -c "[ $rc = 2 ] && grep -q '^aapanel cert upload: cert: is not a PEM certificate' '$T/cli.err'"
rc=$(cli upload cli.test --cert "$C/cli.pem" --key "$C/other.key")
check "cert upload with a key that does not match: exit 2, key: (got $rc)" bash -c "[ $rc = 2 ] && grep -q ': key: .*does not match' '$T/cli.err'"
rc=$(cli upload cli.test --cert "$C/cli.pem" --key "$T/no-such-file")
check "cert upload with a key file that cannot be read: exit 2, key: (got $rc)" bash -c "[ $rc = 2 ] && grep -q ': key: cannot read' '$T/cli.err'"
head -c 20000 /dev/zero | tr '\0' a > "$T/big.pem"
rc=$(cli upload cli.test --cert "$T/big.pem" --key "$C/cli.key")
check "cert upload of a file over 16 KiB: exit 2, cert: (got $rc)" bash -c "[ $rc = 2 ] && grep -q ': cert: .* larger than 16384 bytes' '$T/cli.err'"
rc=$(cli upload cli.test --cert "$C/cli.pem")
check "cert upload without --key: exit 2 (got $rc)" bash -c "[ $rc = 2 ] && grep -q ': key: is required' '$T/cli.err'"
rc=$(cli upload no-such.test --cert "$C/cli.pem" --key "$C/cli.key")
check "cert upload for no site: exit 2, domain: (got $rc)" bash -c "[ $rc = 2 ] && grep -q ': domain: no such site' '$T/cli.err'"
check "nothing was recorded by the refusals" test "$(sqlite3 "$T/var/aapanel.db" "SELECT COUNT(*) FROM certificates WHERE domain = 'cli.test'")" = 0
rc=$(cli upload cli.test --cert "$C/cli.pem" --key "$C/cli.key" --chain "$C/int.pem" --json)
CLI_ID=$(jq -r .id "$T/cli.out" 2>/dev/null || true)
check "cert upload --json: exit 0, the Certificate (got $rc)" \
	bash -c "[ $rc = 0 ] && jq -e '.domain == \"cli.test\" and .source == \"upload\" and .issuer == \"Test-Intermediate\"' '$T/cli.out' >/dev/null"
check "... with no key in it" bash -c "! grep -q 'PRIVATE KEY' '$T/cli.out' '$T/cli.err'"
api GET "/certificates/$CLI_ID" > /dev/null
check "... the API's Certificate, member for member" bash -c "diff <(jq -S . '$T/cli.out') <(jq -S .certificate '$T/api.json')"
check "nginx serves cli.test's upload" test "$(tls_get www.cli.test /)" = 200
rc=$(cli list --json)
api GET "/certificates?limit=500" > /dev/null
check "cert list --json: the CertificateList, every certificate, next null (got $rc)" \
	bash -c "[ $rc = 0 ] && jq -e '.next == null and any(.items[]; .domain == \"cli.test\")' '$T/cli.out' >/dev/null && diff <(jq -S '.items | map(.id)' '$T/cli.out') <(jq -S '.items | map(.id)' '$T/api.json')"
rc=$(cli list)
check "cert list: a table with a header and cli.test" bash -c "[ $rc = 0 ] && head -1 '$T/cli.out' | grep -q '^ID *DOMAIN *SOURCE *STATE' && grep -q ' cli.test  *upload  *ok ' '$T/cli.out'"
rc=$(cli show cli.test --json)
check "cert show --json: the CertificateDetail (got $rc)" \
	bash -c "[ $rc = 0 ] && jq -e '(keys == [\"certificate\", \"job\"]) and .certificate.id == $CLI_ID' '$T/cli.out' >/dev/null"
rc=$(cli show cli.test)
check "cert show: names, issuer and serial" bash -c "[ $rc = 0 ] && grep -q '^names: *cli.test www.cli.test' '$T/cli.out' && grep -q '^issuer: *Test-Intermediate' '$T/cli.out'"
rc=$(cli show none.test)
check "cert show of no certificate: exit 2, domain: (got $rc)" bash -c "[ $rc = 2 ] && grep -q ': domain: no such certificate' '$T/cli.err'"
rc=$(cli renew cli.test)
check "cert renew of an upload: exit 2 with the reason (got $rc)" bash -c "[ $rc = 2 ] && grep -q 'renewed by uploading a new one' '$T/cli.err'"
rc=$(cli issue cli.test --json)
check "cert issue --json: exit 0 once the job is done, the Certificate from pebble (got $rc)" \
	bash -c "[ $rc = 0 ] && jq -e '.state == \"ok\" and .source == \"acme\" and (.issuer | test(\"Pebble\"))' '$T/cli.out' >/dev/null"
rc=$(cli issue cli.test)
check "cert issue: the job's progress on stderr, the outcome on stdout" \
	bash -c "[ $rc = 0 ] && grep -q '100 %' '$T/cli.err' && grep -q '^certificate for cli.test issued: ' '$T/cli.out'"
check "nginx serves the issued one, verified against pebble's root" test "$(acme_get www.cli.test /)" = 200
acme_resolve www.cli.test 127.0.0.2 > /dev/null
rc=$(cli renew cli.test --json)
check "cert renew that fails (www.cli.test resolved elsewhere): exit 1, certbot's reason on stderr (got $rc)" \
	bash -c "[ $rc = 1 ] && grep -q '^aapanel cert renew: certbot failed: .*www.cli.test' '$T/cli.err' && jq -e '.state == \"failed\"' '$T/cli.out' >/dev/null"
check "... the site keeps serving its certificate" test "$(acme_get cli.test /)" = 200
rc=$(cli issue no-such.test)
check "cert issue for no site: exit 2, domain: (got $rc)" bash -c "[ $rc = 2 ] && grep -q ': domain: no such site' '$T/cli.err'"
rc=$(cli remove cli.test)
check "cert remove: exit 0 (got $rc)" test "$rc" = 0
sleep 0.3
check "... HTTPS no longer served for cli.test" bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --cacert '$T/pebble-root.pem' --resolve cli.test:$HTTPS_PORT:127.0.0.1 https://cli.test:$HTTPS_PORT/ || true)\" = 000 ]"
check "... and its row gone" test "$(sqlite3 "$T/var/aapanel.db" "SELECT COUNT(*) FROM certificates WHERE domain = 'cli.test'")" = 0
# ---- deleting a site removes its certificate: the row, the files, certbot's lineage
code=$(api POST "/sites/$ACME_SITE/delete" '{"delete_files":true}')
check "acme.test deleted (got $code)" test "$code" = 204
check "... its certificate's row is gone" test "$(sqlite3 "$T/var/aapanel.db" "SELECT COUNT(*) FROM certificates WHERE domain = 'acme.test'")" = 0
check "... and certbot's lineage (certbot delete)" test ! -e "$T/certbot/renewal/acme.test.conf" -a ! -e "$T/certbot/live/acme.test"
check "a new site of that name is created" test "$(api POST /sites '{"domain":"acme.test","kind":"static"}')" = 201
check "... without the old certificate: no HTTPS served for it" \
	bash -c "! grep -q 'listen .*ssl' '$VHOSTS/acme.test.conf' && [ \"\$(curl -s -o /dev/null -w '%{http_code}' --cacert '$T/pebble-root.pem' --resolve acme.test:$HTTPS_PORT:127.0.0.1 https://acme.test:$HTTPS_PORT/ || true)\" = 000 ]"
check "the CLI's changes are audited (via cli), never with a key" bash -c "[ \$(sqlite3 '$T/var/aapanel.db' \"SELECT COUNT(*) FROM audit_log WHERE via = 'cli' AND action LIKE 'cert.%'\") -ge 5 ] && ! sqlite3 '$T/var/aapanel.db' 'SELECT * FROM audit_log' | grep -q 'PRIVATE KEY'"
it_summary
