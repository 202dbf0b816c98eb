#!/usr/bin/env bash
# Certificates (issue 13): what certbot's own schedule does is read back into
# the panel, and the end of every job is audited once, without anyone
# looking. Against pebble and pebble-challtestsrv on loopback (acme_lib.sh,
# never Let's Encrypt), with the sampler (monitor.enabled) reading back
# every second (certs.watch_interval = 1):
#   - an issuance nobody polls: the sampler settles the job, one audit row
#     by the system says it ended ok (no more however often it is looked at);
#   - certbot renew run as certbot.timer runs it (-q renew
#     --no-random-sleep-on-renew, the lineage made due with
#     renew_before_expiry in its renewal file, no --force-renewal): the
#     deploy hook reloads nginx, which serves the new serial; the list, the
#     API and the page show it, renewed_by certbot, one audit row "renewed";
#   - the same with the name resolved elsewhere by challtestsrv: certbot logs
#     "Failed to renew certificate NAME with error: …"; the failure with
#     certbot's reason is on the list, the page, in the API and (once) in
#     the audit log, and the site keeps serving the renewed certificate;
#   - a renewal job of the panel that fails the same way is audited once
#     (the job's end), not again when certbot's log is read back;
#   - the name fixed, the next scheduled run renews and the failure is gone;
#   - without the sampler: aapanel cert sync reads a failure back, and the
#     certificates list reads back a renewal itself.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites_lib.sh"
it_setup 'pool = { request_timeout = 20; }; monitor = { enabled = true; interval = 1; };'
HTTPS_PORT=$(it_free_port)
sites_setup 'system_users = false;'
. "$(dirname "$0")/acme_lib.sh"
check "pebble and its DNS start on loopback, the certs config points at them" \
	acme_start "https_port = $HTTPS_PORT; watch_interval = 1;"
it_start_pool
sites_start_nginx
sites_start_helper
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
it_user admin admin 'correct horse battery staple'
TOKEN=$(A token create --user admin --scope write --name t | tail -1)
DB="$T/var/aapanel.db"
q() { sqlite3 "$DB" "$1"; }
# audit_count ACTION OUTCOME: the system's rows for renew.test
audit_count() { q "SELECT COUNT(*) FROM audit_log WHERE actor = 'system' AND via = 'system' AND action = '$1' AND target = 'renew.test' AND outcome = '$2'"; }
wait_for() { # wait_for SECONDS CMD...: until CMD succeeds
	local n=$(($1 * 10)); shift
	for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.1; done
	return 1
}
state_is() { [ "$(q "SELECT state FROM certificates WHERE id = $CID")" = "$1" ]; }
# The sampler must run: it is what reads back.
check "the sampler runs (the pool's child)" wait_for 10 bash -c "pgrep -f aapanel-sampler >/dev/null || grep -q 'sampling every' '$T/pool.log'"

# ---- an issuance nobody polls: its end is audited once by the system
check "site renew.test created" test "$(api POST /sites '{"domain":"renew.test","kind":"static","aliases":"www.renew.test"}')" = 201
echo renew > "$SB/var/www/renew.test/public/index.html"
code=$(api POST /certificate-requests '{"domain":"renew.test"}')
check "POST /certificate-requests: 201, pending (got $code)" jqe '.state == "pending"' "$T/api.json"
CID=$(jq -r .id "$T/api.json")
JOB=$(jq -r .job "$T/api.json")
check "the sampler settles the job without anyone asking: the row ok" \
	wait_for 120 state_is ok
check "... and one audit row by the system: cert.issue ok, with the job and the serial" \
	bash -c "[ \"\$(sqlite3 '$DB' \"SELECT COUNT(*) FROM audit_log WHERE actor = 'system' AND action = 'cert.issue' AND target = 'renew.test' AND outcome = 'ok' AND after_json LIKE '%\\\"job\\\":$JOB%' AND after_json LIKE '%\\\"state\\\":\\\"ok\\\"%'\")\" = 1 ]"
for _ in 1 2 3; do api GET "/certificates/$CID" >/dev/null; api GET /certificates >/dev/null; done
sleep 2.5
check "... still one after the page, the list and the sampler looked again" test "$(audit_count cert.issue ok)" = 1
api GET "/certificates/$CID" >/dev/null
SERIAL1=$(jq -r .certificate.serial "$T/api.json")
acme_root "$T/pebble-root.pem"
served_serial() { openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername "$1" </dev/null 2>/dev/null | openssl x509 -noout -serial | cut -d= -f2; }
acme_get() { curl -s -o "$T/tls.out" -w '%{http_code}' --cacert "$T/pebble-root.pem" --resolve "$1:$HTTPS_PORT:127.0.0.1" "https://$1:$HTTPS_PORT${2:-/}"; }
check "nginx serves the issued certificate (serial $SERIAL1), verified against pebble's root" \
	bash -c "[ \"\$(openssl s_client -connect 127.0.0.1:$HTTPS_PORT -servername renew.test </dev/null 2>/dev/null | openssl x509 -noout -serial | cut -d= -f2)\" = '$SERIAL1' ] && [ \"\$(curl -s -o /dev/null -w '%{http_code}' --cacert '$T/pebble-root.pem' --resolve renew.test:$HTTPS_PORT:127.0.0.1 https://renew.test:$HTTPS_PORT/)\" = 200 ]"

# ---- certbot's schedule: the lineage made due, certbot renew as certbot.timer runs it
CONF="$T/certbot/renewal/renew.test.conf"
check "certbot keeps the deploy hook that reloads nginx in the lineage's renewal file" \
	grep -q "^renew_hook = .*-s reload" "$CONF"
left=$(( ($(date -d "$(openssl x509 -noout -enddate -in "$T/certbot/live/renew.test/cert.pem" | cut -d= -f2)" +%s) - $(date +%s)) / 86400 + 2 ))
sed -i '/^renew_before_expiry/d' "$CONF"
sed -i "1i renew_before_expiry = $left days" "$CONF"
# The timer's command (certbot.service: certbot -q renew --no-random-sleep-on-renew), with the test's directories.
timer_run() {
	REQUESTS_CA_BUNDLE="$ACME_P/cert.pem" certbot -q renew --no-random-sleep-on-renew \
		--config-dir "$T/certbot" --work-dir "$T/certbot/work" --logs-dir "$T/certbot/logs" \
		> "$T/timer.out" 2>&1
}
rc=0; timer_run || rc=$?
check "certbot renew (the timer's command, no --force-renewal) renews the due lineage (exit $rc)" test "$rc" = 0
SERIAL2=$(openssl x509 -noout -serial -in "$T/certbot/live/renew.test/cert.pem" | cut -d= -f2)
check "... a new certificate in the lineage ($SERIAL2)" test -n "$SERIAL2" -a "$SERIAL2" != "$SERIAL1"
serves() { [ "$(served_serial renew.test)" = "$1" ]; }
check "the deploy hook reloaded nginx: it serves the new serial" wait_for 10 serves "$SERIAL2"
check "... verified against pebble's root" test "$(acme_get renew.test /)" = 200
renewed_in_api() { api GET "/certificates/$CID" >/dev/null && jq -e ".certificate.serial == \"$SERIAL2\"" "$T/api.json" >/dev/null; }
check "the sampler reads it back: the API has the new serial" wait_for 20 renewed_in_api
check "... ok, renewal_ok, renewed_by certbot, renewed and not_after set, no error" \
	jqe '.certificate.state == "ok" and .certificate.renewal_ok == true and .certificate.renewed_by == "certbot" and .certificate.renewed != null and .certificate.not_after != null and .certificate.error == null' "$T/api.json"
api GET /certificates >/dev/null
check "the list has the new serial" jqe ".items[] | select(.id == $CID) | .serial == \"$SERIAL2\" and .renewed_by == \"certbot\"" "$T/api.json"
it_login "$T/jar" admin 'correct horse battery staple' >/dev/null
curl -s -o "$T/page.html" -b "$T/jar" "$(url "/certificates/$CID")"
check "the certificate's page shows the new serial and who renewed it" \
	bash -c "grep -q '$SERIAL2' '$T/page.html' && grep -q \"renewed by certbot&#39;s schedule\" '$T/page.html'"
check "one audit row by the system says renewed (cert.renew ok, the old and the new serial)" \
	bash -c "[ \"\$(sqlite3 '$DB' \"SELECT COUNT(*) FROM audit_log WHERE actor = 'system' AND action = 'cert.renew' AND outcome = 'ok' AND target = 'renew.test' AND before_json LIKE '%$SERIAL1%' AND after_json LIKE '%$SERIAL2%' AND after_json LIKE '%\\\"renewed_by\\\":\\\"certbot\\\"%'\")\" = 1 ]"
sleep 2.5
check "... once, after more rounds of the sampler" test "$(audit_count cert.renew ok)" = 1

# ---- certbot's schedule fails: challtestsrv sends renew.test elsewhere (127.0.0.2)
check "challtestsrv resolves renew.test to 127.0.0.2" acme_resolve renew.test 127.0.0.2
rc=0; timer_run || rc=$?
check "certbot renew fails (exit $rc)" test "$rc" != 0
check "certbot logged it as renewal.py says: Failed to renew certificate renew.test with error:" \
	grep -q ':ERROR:certbot._internal.renewal:Failed to renew certificate renew.test with error: ' "$T/certbot/logs/letsencrypt.log"
failed_in_api() { api GET "/certificates/$CID" >/dev/null && jq -e '.certificate.state == "failed"' "$T/api.json" >/dev/null; }
check "the sampler reads it back: the API says failed" wait_for 20 failed_in_api
jq -r .certificate.error "$T/api.json" | head -3 | sed 's/^/    reason: /'
check "... with certbot's reason (its error and the CA's problem: the name, where it connected)" \
	jqe '(.certificate.error | test("Some challenges have failed")) and (.certificate.error | test("renew.test")) and (.certificate.error | test("127.0.0.2|onnection refused")) and .certificate.renewal_ok == false and .certificate.renewed_by == "certbot"' "$T/api.json"
check "... the serial is still the one in use ($SERIAL2)" jqe ".certificate.serial == \"$SERIAL2\"" "$T/api.json"
api GET /certificates >/dev/null
check "the list (API) has the failure and its reason" \
	jqe ".items[] | select(.id == $CID) | .state == \"failed\" and (.error | test(\"Some challenges have failed\"))" "$T/api.json"
curl -s -o "$T/list.html" -b "$T/jar" "$(url /certificates)"
check "the list page shows it failed, as certbot's scheduled renewal, with the reason" \
	bash -c "grep -q 'badge-danger' '$T/list.html' && grep -q 'Scheduled renewal:' '$T/list.html' && grep -q 'Some challenges have failed' '$T/list.html'"
curl -s -o "$T/page.html" -b "$T/jar" "$(url "/certificates/$CID")"
check "the certificate's page: certbot's scheduled renewal failed, with the reason" \
	bash -c "grep -q 'Certbot&#39;s scheduled renewal failed:' '$T/page.html' && grep -q 'Some challenges have failed' '$T/page.html'"
curl -s -o "$T/page-ar.html" -b "$T/jar" -b lang=ar "$(url "/certificates/$CID")"
check "... in Arabic too (dir=rtl, the reason kept as certbot wrote it)" \
	bash -c "grep -q 'dir=\"rtl\"' '$T/page-ar.html' && grep -q 'فشل التجديد المجدول' '$T/page-ar.html' && grep -q 'Some challenges have failed' '$T/page-ar.html'"
check "one audit row by the system: cert.renew failed, with certbot's reason" \
	bash -c "[ \"\$(sqlite3 '$DB' \"SELECT COUNT(*) FROM audit_log WHERE actor = 'system' AND action = 'cert.renew' AND outcome = 'failed' AND target = 'renew.test' AND after_json LIKE '%Some challenges have failed%'\")\" = 1 ]"
sleep 2.5
check "... once, after more rounds of the sampler" test "$(audit_count cert.renew failed)" = 1
check "the site keeps serving the certificate in use ($SERIAL2)" \
	bash -c "[ \"\$(openssl s_client -connect 127.0.0.1:$HTTPS_PORT -servername www.renew.test </dev/null 2>/dev/null | openssl x509 -noout -serial | cut -d= -f2)\" = '$SERIAL2' ] && [ \"\$(curl -s -o /dev/null -w '%{http_code}' --cacert '$T/pebble-root.pem' --resolve www.renew.test:$HTTPS_PORT:127.0.0.1 https://www.renew.test:$HTTPS_PORT/)\" = 200 ]"
check "nothing of a key in the audit log" bash -c "! sqlite3 '$DB' 'SELECT * FROM audit_log' | grep -q 'PRIVATE KEY'"

# ---- the panel's own renewal fails the same way: audited once (the job's end), not again from the log
code=$(api POST "/certificates/$CID/renew" '{}')
check "POST /certificates/{id}/renew: 200, pending (got $code)" jqe '.state == "pending"' "$T/api.json"
check "the sampler settles the failed job (nobody polls)" \
	wait_for 120 state_is failed
sleep 2.5
check "two cert.renew failed rows by the system in all: certbot's schedule's and the job's" test "$(audit_count cert.renew failed)" = 2
api GET "/certificates/$CID" >/dev/null
check "... the row says the panel's job failed, certbot's reason" \
	jqe '.certificate.renewed_by == "panel" and .certificate.renewal_ok == false and (.certificate.error | test("renew.test"))' "$T/api.json"

# ---- the name fixed: the next scheduled run renews, the failure is gone
check "challtestsrv resolves renew.test to us again" acme_unresolve renew.test
rc=0; timer_run || rc=$?
check "certbot renew succeeds (exit $rc)" test "$rc" = 0
SERIAL3=$(openssl x509 -noout -serial -in "$T/certbot/live/renew.test/cert.pem" | cut -d= -f2)
renewed3() { api GET "/certificates/$CID" >/dev/null && jq -e ".certificate.serial == \"$SERIAL3\" and .certificate.state == \"ok\"" "$T/api.json" >/dev/null; }
check "the sampler reads back the third serial: ok, no error" wait_for 20 renewed3
check "... nginx serves it" wait_for 10 serves "$SERIAL3"
check "... two cert.renew ok rows by the system (two scheduled renewals)" test "$(audit_count cert.renew ok)" = 2
check "the sampler logged certbot's renewal and its failure" \
	bash -c "grep -q 'certbot renewed renew.test' '$T/pool.log' && grep -q 'certbot could not renew renew.test' '$T/pool.log'"

# ---- without the sampler (monitor.enabled false): aapanel cert sync, and the list reads back itself
kill -TERM "$POOL_PID"; wait "$POOL_PID" 2>/dev/null || true; POOL_PID=""
sed -i 's/monitor = { enabled = true;/monitor = { enabled = false;/' "$T/conf/profiles/test.cfg"
check "the pool starts again without the sampler" it_start_pool
acme_resolve renew.test 127.0.0.2 >/dev/null
rc=0; timer_run || rc=$?
check "certbot's scheduled run fails again (exit $rc)" test "$rc" != 0
sleep 2
check "... nothing reads it back on its own now: the row still ok" state_is ok
rc=0; A cert sync --json > "$T/sync.out" 2> "$T/sync.err" || rc=$?
check "aapanel cert sync --json: exit 0, one failure read back (got $rc: $(cat "$T/sync.out" "$T/sync.err"))" \
	bash -c "[ $rc = 0 ] && jq -e '.failed == 1 and .renewed == 0' '$T/sync.out' >/dev/null"
check "... the row failed with certbot's reason, one more audit row by the system" \
	bash -c "[ \"\$(sqlite3 '$DB' \"SELECT state FROM certificates WHERE id = $CID\")\" = failed ] && [ \"\$(sqlite3 '$DB' \"SELECT COUNT(*) FROM audit_log WHERE actor = 'system' AND action = 'cert.renew' AND outcome = 'failed' AND target = 'renew.test'\")\" = 3 ]"
rc=0; A cert sync > "$T/sync.out" 2>&1 || rc=$?
check "aapanel cert sync again: nothing new (exit $rc)" bash -c "[ $rc = 0 ] && grep -q '0 renewal(s) by certbot read back, 0 failure(s)' '$T/sync.out'"
rc=0; A cert sync stray.test > /dev/null 2>&1 || rc=$?
check "aapanel cert sync with a domain: exit 2 (got $rc)" test "$rc" = 2
acme_unresolve renew.test
rc=0; timer_run || rc=$?
check "certbot's scheduled run renews once the name is ours again (exit $rc)" test "$rc" = 0
SERIAL4=$(openssl x509 -noout -serial -in "$T/certbot/live/renew.test/cert.pem" | cut -d= -f2)
list_has4() { api GET /certificates >/dev/null && jq -e ".items[] | select(.id == $CID) | .serial == \"$SERIAL4\" and .state == \"ok\"" "$T/api.json" >/dev/null; }
check "the list read it back itself (GET /certificates, no sampler): the new serial, ok" wait_for 10 list_has4
check "... three cert.renew ok rows by the system" test "$(audit_count cert.renew ok)" = 3
check "the helper logged no error" bash -c "! grep -q ' error ' '$T/helper.log'"
[ -n "${KEEP_DEBUG:-}" ] && { rm -rf /tmp/cr-debug; mkdir -p /tmp/cr-debug; cp -r "$T/certbot/logs" "$T/timer.out" "$DB" /tmp/cr-debug/; }
it_summary
