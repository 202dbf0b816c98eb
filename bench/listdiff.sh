#!/usr/bin/env bash
# bench/listdiff.sh OLD_BIN [NEW_BIN] — the list screens' answers of two
# builds, HTML and JSON, compared byte for byte (issue 19: a list moved to
# a typed row source must show exactly what it showed). One panel database
# (users, tokens, audit entries made here), one signed-in session, served
# first by OLD_BIN then by NEW_BIN (default build/aapanel) through the same
# nginx (users, tokens, the account, tasks, the audit log, the bench list, alerts,
# websites, certificates, the firewall, processes, database servers and databases,
# the panel's log); masked: the request id (header and footer), Content-Length (the bodies
# are compared), the time a site was probed (each list probes again), and of
# the processes the machine's count, the reading's time and the CPU shares.
# Build the old one from a commit with:
#   git archive COMMIT | tar -x -C /tmp/old && make -C /tmp/old build/aapanel
# Exit 0 when every answer is the same, 1 with the differences.
set -uo pipefail
. "$(dirname "$0")/../tests/integration/lib.sh"
. "$(dirname "$0")/../tests/integration/sites_lib.sh"
old=$1 new=${2:-$SRC/build/aapanel}
# The firewall's kernel side in a network namespace of this run (never the host's ruleset).
LDNS="ld$$"
ip netns add "$LDNS" || { echo "listdiff: cannot make a network namespace"; exit 1; }
IT_NETNS=$LDNS
it_setup "tasks = { recorder = \"$SRC/build/aapanel\"; };
firewall = { netns = \"/run/netns/$LDNS\"; };"
sites_setup
mkdir -p "$SB/etc/cron.d"
# The panel's log in a file of its own: a rotation (.1) made here is the same for both builds.
sed -i "s|^log = { level = \"info\"; };|log = { level = \"info\"; file = \"$T/var/log/aapanel.log\"; };|" "$T/conf/profiles/test.cfg"
mkdir -p "$T/var/log"
printf '%s\n' '2026-12-01T07:36:05.123Z info worker[12] GET /sites 200 req=0123456789abcdef0123456789abcdef 1.2 ms' \
	'2026-12-01T07:36:06.000Z warn master[1] a line <without> a request & "id"' \
	'2026-12-01T07:36:07.000Z info worker[13] POST /x req=deadbeef' \
	'2026-12-01T07:36:08.000Z info worker[13] not an id req=xyz12345 here' > "$T/var/log/aapanel.log.1"
for i in $(seq 1 100); do # a page of lines, every other one with a request id
	if [ $((i % 2)) = 0 ]; then printf '2026-12-01T07:37:%02d.000Z info worker[14] GET /x?n=%d 200 req=%032x 0.%d ms\n' $((i % 60)) "$i" "$i" "$i"
	else printf '2026-12-01T07:37:%02d.000Z info worker[14] line %d <of> the "page" & more\n' $((i % 60)) "$i"; fi
done >> "$T/var/log/aapanel.log.1"
BIN=$old
it_start_pool || exit 1
sites_start_nginx || exit 1
sites_start_helper || exit 1
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@" >/dev/null; }
A task add hello --schedule '* * * * *' --command '/bin/echo "hello" <&> cron'
A task add daily --schedule '@daily' --command '/usr/bin/id -un' --user nobody --disabled
A task add ping --schedule '*/5 * * * *' --url "http://127.0.0.1:$PORT/healthz?a=1&b=%3C2%3E"
# Alerts: channels (a webhook with a token in its path, one whose test failed), rules
# (thresholds whole, fractional, tiny), episodes (doubles, a deleted rule, one still firing).
printf 'hook secret 2026\n' > "$T/hook.secret"
A alert channel add ops-mail --email 'ops@example.com'
A alert channel add hook --webhook 'https://hooks.example/T0KEN/x?y=1' --secret-file "$T/hook.secret"
A alert rule add --metric cpu --threshold 90
A alert rule add --metric disk_space --threshold 87.5 --target '/srv/<data>' --duration 10 --channel 2
A alert rule add --metric load --threshold 0.1 --duration 1
# The sampler must not open episodes between the two fetches: only the rule on a mount that does not exist stays on.
A alert rule disable 1
A alert rule disable 3
sqlite3 "$T/var/aapanel.db" <<'SQL'
UPDATE alert_channels SET last_test_at = 1796112965, last_test_ok = 0, last_test_error = 'refused <by> "peer"' WHERE id = 2;
INSERT INTO alert_events (rule_id, host, subject, rule_text, value, peak, started_at, resolved_at) VALUES
 (1, 'web1', '', 'cpu > 90 for 300 s', 93.4, 99.99999, 1796112000, 1796112600),
 (NULL, 'web<2>', '/srv & co', 'disk > 87.5 for 600 s', 0.1, 1e-300, 1796113000, NULL),
 (3, 'web1', '', 'load > 0.1', 12345678.9, -2.25, 1796114000, 1796114001);
-- Certificates: one of a site (static.test, made below) renewed by certbot, one failed with
-- an error, one expiring soon never renewed.
INSERT INTO certificates (domain, san, issuer, serial, not_before, not_after, source, state, job_id, job_op,
  last_error, last_renewal_at, last_renewal_ok, last_renewal_by, created_at, updated_at) VALUES
 ('static.test', 'static.test www.static.test', 'Pebble <CA> & co', '0A:1B', 1796000000, 1896000000, 'acme', 'ok', 3, 'renew',
  NULL, 1796100000, 1, 'certbot', 1796000000, 1796100000),
 ('broken.test', 'broken.test', NULL, NULL, 0, 0, 'acme', 'failed', 4, 'issue',
  'the CA said "no" <here>', 1796100500, 0, 'panel', 1796000500, 1796100500),
 ('soon.test', 'soon.test', 'Local CA', 'FF', 1700000000, 1700000100, 'upload', 'ok', NULL, NULL,
  NULL, NULL, NULL, NULL, 1700000000, 1700000000);
SQL
# Database servers and databases: rows of servers that do not answer (port 1 on loopback:
# refused at once), so the lists show what the panel keeps and "unreachable", the same each time.
sqlite3 "$T/var/aapanel.db" <<'SQL'
INSERT INTO db_servers (name, engine, dsn, created_at) VALUES
 ('my<1>', 'mysql', 'mysql://dbadmin@127.0.0.1:1/', 1796000000),
 ('pg & co', 'postgresql', 'postgresql://dbadmin@127.0.0.1:1/postgres', 1796000100);
INSERT INTO managed_databases (engine, name, owner, charset, created_at, server_id, hosts, reader, updated_at) VALUES
 ('mysql', 'shop', 'shop', 'utf8mb4/utf8mb4_unicode_ci', 1796000200, 1, 'localhost,127.0.0.1', 'shop_ro', 1796000300),
 ('postgresql', 'blog', 'blog', 'UTF8/C.UTF-8', 1796000400, 2, '', NULL, NULL);
SQL
for i in $(seq 1 48); do # a page of them (50)
	printf "INSERT INTO managed_databases (engine, name, owner, charset, created_at, server_id, hosts, reader, updated_at) VALUES ('%s', 'db%d', 'u%d', 'utf8mb4', %d, %d, 'localhost', NULL, NULL);\n" \
		"$([ $((i % 2)) = 0 ] && echo mysql || echo postgresql)" "$i" "$i" $((1796001000 + i)) $((i % 2 == 0 ? 1 : 2))
done | sqlite3 "$T/var/aapanel.db"
A firewall allow 8081/tcp --comment 'web (test) #1, more'
A firewall deny 2000-2100/udp --from '10.0.0.0/8 192.0.2.1'
A firewall allow 22 --rate 30
A firewall block 198.51.100.7 --comment 'abuser'
# A process of this run's own to list (its name unique: the search finds only it).
PROC="listdiff-proc-$$"
bash -c "exec -a $PROC sleep 3600" </dev/null >/dev/null 2>&1 &
sites_bg $! # stopped by the teardown
for i in $(seq 1 30); do it_user "user$i" $([ $((i % 3)) = 0 ] && echo operator || echo viewer) "passphrase number $i x"; done
it_user admin admin 'admin passphrase 2026'
[ "$(it_login "$T/jar" admin 'admin passphrase 2026')" = 303 ] || { echo "listdiff: sign-in failed"; exit 1; }
csrf=$(csrf_of "$T/jar")
# Websites (through the helper: vhosts, nginx reloads, probes): static with aliases and
# a redirect, a proxy, one disabled.
TOKEN=$("$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" token create --user admin --scope write --name listdiff | tail -1)
api POST /sites '{"domain":"static.test","kind":"static","aliases":"www.static.test","https_redirect":true}' >/dev/null
api POST /sites "{\"domain\":\"proxy.test\",\"kind\":\"proxy\",\"upstream\":\"http://127.0.0.1:$PORT/x\"}" >/dev/null
api POST /sites '{"domain":"off.test","kind":"static","error_404":"/404.html"}' >/dev/null
off_id=$(jq -r .id "$T/api.json")
api POST "/sites/$off_id/disable" >/dev/null
for i in 1 2 3; do
	curl -s -o /dev/null -b "$T/jar" -H "Origin: http://127.0.0.1:$PORT" -H "X-CSRF-Token: $csrf" \
		-H 'Content-Type: application/json' -d "{\"name\":\"ci <$i> & \\\"quoted\\\"\",\"scope\":\"read\"}" "$(url /api/v1/account/tokens)"
done
pages=(/users /users?role=viewer /tokens /account /tasks /audit /audit?limit=5 "/audit?actor=admin"
	/_test/table?rows=0 /_test/table?rows=25 /_test/table?rows=100 /alerts /alerts/history "/alerts/history?limit=2" /sites "/sites?limit=2" /certificates "/certificates?limit=2" /firewall "/monitor/processes?q=$PROC"
	/database-servers /databases "/databases?limit=1" "/logs/panel?rotation=1" "/logs/panel?rotation=1&search=req")
apis=(/api/v1/users /api/v1/tokens /api/v1/account /api/v1/tasks /api/v1/audit /api/v1/audit?limit=5 /_test/table?rows=25 /api/v1/alerts /api/v1/alerts/history /api/v1/sites "/api/v1/sites?limit=2" /api/v1/certificates /api/v1/firewall "/api/v1/monitor/processes?q=$PROC&sort=pid"
	/api/v1/database-servers /api/v1/databases "/api/v1/databases?limit=1" "/api/v1/logs/panel?rotation=1")
fetch() { # dir
	local n=0 p
	mkdir -p "$1"
	for p in "${pages[@]}"; do
		curl -s -i -b "$T/jar" "$(url "$p")" | sed -e '/^X-Request-Id:/d' -e '/^Date:/d' -e '/^Content-Length:/d' -e 's|<code>[0-9a-f]\{32\}</code>|<code>ID</code>|' \
			-e 's|\(: 1\) / [0-9]*</p>|\1 / (all)</p>|' -e 's|^<tr><td><bdi dir="ltr">[^<]*</bdi></td>|<tr><td><bdi dir="ltr">(cpu)</bdi></td>|' >"$1/html.$n"
		n=$((n + 1))
	done
	n=0
	for p in "${apis[@]}"; do
		curl -s -i -b "$T/jar" -H 'Accept: application/json' "$(url "$p")" | sed -e '/^X-Request-Id:/d' -e '/^Date:/d' -e '/^Content-Length:/d' \
			-e 's/"probed":"[^"]*"/"probed":"(when it was probed)"/g' \
			-e 's/"total":[0-9]*/"total":"(all)"/' -e 's/"time":"[^"]*"/"time":"(reading)"/' -e 's/"cpu":\(null\|[0-9.e-]*\)/"cpu":"(share)"/g' >"$1/json.$n"
		n=$((n + 1))
	done
}
fetch "$T/old"
grep -q "ci <1>" "$T/old/json.1" && grep -q '"name":"ping"' "$T/old/json.3" && ok "the tokens and tasks were made" || not_ok "the tokens and tasks were made"
grep -q '"threshold":87.5' "$T/old/json.7" && grep -q '"https://hooks.example/…"' "$T/old/json.7" && grep -q '"peak":1e-300' "$T/old/json.8" \
	&& ok "the alert rules, channels and episodes were made" || not_ok "the alert rules, channels and episodes were made"
grep -q '"domain":"proxy.test"' "$T/old/json.9" && grep -q '"enabled":false' "$T/old/json.9" && grep -q '"served":true' "$T/old/json.9" \
	&& ok "the websites were made and probed" || not_ok "the websites were made and probed"
grep -q '"renewed_by":"certbot"' "$T/old/json.11" && grep -q '"site":1' "$T/old/json.11" && grep -q '"error":"the CA said' "$T/old/json.11" \
	&& ok "the certificates were listed" || not_ok "the certificates were listed"
grep -q '"from":"10.0.0.0/8 192.0.2.1"' "$T/old/json.12" && grep -q '"in_kernel":false' "$T/old/json.12" && grep -q '"address":"198.51.100.7"' "$T/old/json.12" \
	&& ok "the firewall rules and block list were listed" || not_ok "the firewall rules and block list were listed"
grep -q "\"command\":\"$PROC 3600\"" "$T/old/json.13" && grep -q '"matched":1' "$T/old/json.13" \
	&& ok "the run's process was listed" || not_ok "the run's process was listed"
grep -q '"name":"my<1>"' "$T/old/json.14" && grep -q '"reachable":false' "$T/old/json.14" && grep -q '"reader":"shop_ro"' "$T/old/json.15" \
	&& grep -q 'href="/audit?request=0123456789abcdef0123456789abcdef"' "$T/old/html.23" \
	&& ok "the database servers, databases and the panel log's lines were listed" || not_ok "the database servers, databases and the panel log's lines were listed"
kill -TERM "$POOL_PID"; wait "$POOL_PID" 2>/dev/null; POOL_PID=""
BIN=$new
it_start_pool || exit 1
fetch "$T/new"
rc=0 n=0
for p in "${pages[@]}"; do
	if cmp -s "$T/old/html.$n" "$T/new/html.$n"; then ok "HTML of $p the same ($(wc -c <"$T/new/html.$n") bytes)"
	else not_ok "HTML of $p differs:"; diff "$T/old/html.$n" "$T/new/html.$n" | head -20; rc=1; fi
	n=$((n + 1))
done
n=0
for p in "${apis[@]}"; do
	if cmp -s "$T/old/json.$n" "$T/new/json.$n"; then ok "JSON of $p the same ($(wc -c <"$T/new/json.$n") bytes)"
	else not_ok "JSON of $p differs:"; diff "$T/old/json.$n" "$T/new/json.$n" | head -20; rc=1; fi
	n=$((n + 1))
done
# LISTDIFF_INSTR="PATH..." LISTDIFF_OLD_SRC=TREE: instructions per request of those pages
# (bench/instr.sh: callgrind in one worker of each build on this database, signed in as admin);
# TREE is the old build's source tree (its build/aapanel, templates and catalogs).
if [ -n "${LISTDIFF_INSTR:-}" ]; then
	. "$SRC/bench/instr.sh"
	mkdir -p "$T/instr/profiles" "$T/instr/run"
	cp "$T/conf/aapanel.cfg" "$T/instr/aapanel.cfg"
	sed -e "s|^server = .*|server = { socket = \"$T/instr/run/pool.sock\"; };|" \
	    -e "s|run_dir = \"$T/var/run\"|run_dir = \"$T/instr/run\"|" \
	    "$T/conf/profiles/test.cfg" > "$T/instr/profiles/test.cfg"
	printf 'pool = { workers = 1; max_workers = 1; max_requests = 0; };\n' >> "$T/instr/profiles/test.cfg"
	ck=$(awk '$6 == "aapanel" {print "aapanel=" $7}' "$T/jar")
	printf '  %-34s %14s %14s\n' page "old instr/req" "new instr/req"
	for p in $LISTDIFF_INSTR; do
		o=$(instr_per_request "${LISTDIFF_OLD_SRC:-$SRC}" "$T/instr/aapanel.cfg" "$T/instr/run/pool.sock" "$p" "$ck")
		n=$(instr_per_request "$SRC" "$T/instr/aapanel.cfg" "$T/instr/run/pool.sock" "$p" "$ck")
		printf '  %-34s %14s %14s\n' "$p" "$o" "$n"
	done
fi
it_summary
exit $rc
