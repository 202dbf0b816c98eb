# shellcheck shell=bash
# ACME in an integration test (after sites_lib.sh's sites_setup, before the helper
# starts): Debian's pebble with pebble-challtestsrv as its DNS, both on free
# loopback ports, never Let's Encrypt (docs at /work/shared/reference/acme-test.md,
# as tests/integration/t_https.sh). Pebble validates HTTP-01 on the test's own
# port ($PORT), where the test's nginx serves the sites' vhosts and so their
# /.well-known/acme-challenge/. Both processes are stopped by sites_teardown.
#
#   acme_start [certs config text]  pebble + DNS, then the certs group of the
#                                   test profile pointed at them
#   acme_root FILE                  pebble's current root (what issued chains verify against)
#   acme_resolve HOST ADDRESS       challtestsrv answers HOST with ADDRESS (not us: a failing
#                                   challenge)
#   acme_unresolve HOST             and again with its default (us)
ACME_P="" ACME_DIR="" ACME_MGMT="" ACME_CTS=""

acme_start() {
	local c acme_port dns_port tls_port up=0
	for c in pebble pebble-challtestsrv certbot; do
		command -v "$c" >/dev/null || { echo "$c is not installed (scripts/install-deps.sh)"; return 1; }
	done
	ACME_P="$T/pebble"
	mkdir -p "$ACME_P"
	acme_port=$(it_free_port) ACME_MGMT=$(it_free_port) dns_port=$(it_free_port)
	ACME_CTS=$(it_free_port) tls_port=$(it_free_port)
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		-keyout "$ACME_P/key.pem" -out "$ACME_P/cert.pem" 2>/dev/null
	cat > "$ACME_P/config.json" <<JSON
{ "pebble": {
    "listenAddress": "127.0.0.1:$acme_port",
    "managementListenAddress": "127.0.0.1:$ACME_MGMT",
    "certificate": "$ACME_P/cert.pem", "privateKey": "$ACME_P/key.pem",
    "httpPort": $PORT, "tlsPort": $tls_port,
    "ocspResponderURL": "", "externalAccountBindingRequired": false } }
JSON
	pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" -dns01 "127.0.0.1:$dns_port" \
		-http01 "" -https01 "" -tlsalpn01 "" -management "127.0.0.1:$ACME_CTS" > "$ACME_P/cts.log" 2>&1 &
	sites_bg $!
	PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 \
		pebble -config "$ACME_P/config.json" -dnsserver "127.0.0.1:$dns_port" > "$ACME_P/pebble.log" 2>&1 &
	local pid=$!
	sites_bg "$pid"
	ACME_DIR="https://127.0.0.1:$acme_port/dir"
	for _ in $(seq 1 100); do
		curl -sf --cacert "$ACME_P/cert.pem" -o /dev/null "$ACME_DIR" && { up=1; break; }
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	[ "$up" = 1 ] || { echo "pebble did not start:"; tail "$ACME_P/pebble.log"; return 1; }
	cat >> "$T/conf/profiles/test.cfg" <<CFG
certs = { acme_server = "$ACME_DIR"; ca_bundle = "$ACME_P/cert.pem"; email = "admin@acme.test";
          certbot_dir = "$T/certbot"; ${1:-} };
CFG
}

acme_root() { curl -sf --cacert "$ACME_P/cert.pem" -o "$1" "https://127.0.0.1:$ACME_MGMT/roots/0"; }

acme_resolve() { # HOST ADDRESS: HOST's only A record (an earlier one cleared: an added record
	# may join the host's list, and pebble would then pick either address)
	curl -sf -o /dev/null -d "{\"host\":\"$1.\"}" "http://127.0.0.1:$ACME_CTS/clear-a" &&
		curl -sf -o /dev/null -d "{\"host\":\"$1.\",\"addresses\":[\"$2\"]}" "http://127.0.0.1:$ACME_CTS/add-a"
}

acme_unresolve() { curl -sf -o /dev/null -d "{\"host\":\"$1.\"}" "http://127.0.0.1:$ACME_CTS/clear-a"; }
