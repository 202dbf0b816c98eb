# shellcheck shell=bash
# Data for the browser test (tests/integration/t_browser.sh), made through
# the CLI and the web forms like a person would: one account per role, a
# user who has two-factor on (for the sign-in code page), more users in
# every state the users page shows (disabled, long name, other role), API
# tokens in every state (active, limited to addresses, expiring, revoked,
# used), several sessions with real browser names, audit rows of logins,
# failures, changes and a denied request, two websites, an alert channel
# and a rule, an uploaded certificate about to expire and a failed issuance.
#
# Needs lib.sh sourced, it_setup done and the pool, nginx and (for the
# websites, sites_lib.sh) the helper running.
# browser_fixtures OUT.json writes what the browser test needs to know:
#   accounts  role -> {user, password} for admin, operator, viewer
#   mfa       {user, password, recovery: [codes]} of a user with two-factor
#             on (an operator); each browser context signs in with its own
#             recovery code
#   ids       literal route prefix -> an existing id, to fill a {param}:
#             "/users" fills /users/{id}..., "/tokens" /tokens/{id}..., etc.
#             A new route with a {param} needs its data made here and its
#             prefix added to ids (the browser test fails until then).
#   app_name  the panel's name (a brand, not a word to translate)

BROWSER_PW='correct horse battery staple'

bf_cli() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
bf_sql() { sqlite3 "$T/var/aapanel.db" "$1"; }
# bf_post JAR PATH DATA...: a form POST with the session's CSRF token and our Origin; prints the
# status, the page it answered is in $T/bf-post.html
bf_post() {
	local jar=$1 p=$2; shift 2
	curl -s -o "$T/bf-post.html" -w '%{http_code}' -b "$jar" -c "$jar" -H "Origin: http://127.0.0.1:$PORT" \
		--data-urlencode "csrf=$(csrf_of "$jar")" "$@" "$(url "$p")"
}
# bf_signin JAR USER [USER-AGENT]: sign in with BROWSER_PW as a browser would (303 expected)
bf_signin() {
	local jar=$1 user=$2 ua=${3:-curl} tok
	rm -f "$jar"
	tok=$(curl -s -A "$ua" -c "$jar" -b "$jar" "$(url /login)" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1)
	curl -s -o /dev/null -w '%{http_code}' -A "$ua" -c "$jar" -b "$jar" -H "Origin: http://127.0.0.1:$PORT" \
		--data-urlencode "csrf=$tok" --data-urlencode "username=$user" --data-urlencode "password=$BROWSER_PW" \
		"$(url /login)"
}
bf_need() { # bf_need WHAT EXPECTED GOT; EXPECTED may be several, "200|303"
	case "|$2|" in *"|$3|"*) return 0 ;; esac
	echo "browser fixtures: $1: expected $2, got $3" >&2
	return 1
}

browser_fixtures() {
	local out=$1 j="$T/fixture-jars" secret code st
	local ua_firefox='Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0'
	local ua_phone='Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.122 Mobile Safari/537.36'
	mkdir -p "$j"

	# One account per role; the browser signs in as each of them.
	it_user admin admin "$BROWSER_PW" || return 1
	it_user operator operator "$BROWSER_PW" || return 1
	it_user viewer viewer "$BROWSER_PW" || return 1
	# The users page in all its states: a disabled user, the longest name the form allows.
	it_user mfa operator "$BROWSER_PW" || return 1
	it_user carol.disabled viewer "$BROWSER_PW" || return 1
	bf_cli user disable carol.disabled >/dev/null || return 1
	it_user release_manager.backup-account viewer "$BROWSER_PW" || return 1

	# Two-factor on for "mfa", through its account page (the code from oathtool).
	bf_need "sign in as mfa" 303 "$(bf_signin "$j/mfa" mfa)" || return 1
	secret=$(curl -s -b "$j/mfa" -H 'Accept: application/json' "$(url /account/2fa)" | jq -r '.secret // empty')
	bf_need "mfa enrolment secret" 32 "${#secret}" || return 1
	code=$(oathtool --totp -b "$secret")
	# The recovery codes are shown once: on the answer, or (post/redirect/get)
	# on the page it sends the browser to.
	bf_need "mfa turns two-factor on" "200|303" "$(bf_post "$j/mfa" /account/2fa/enable --data-urlencode "code=$code")" || return 1
	bf_need "mfa has two-factor on" 1 "$(bf_sql "SELECT totp_enabled FROM users WHERE username='mfa'")" || return 1
	local rc_re='<code>[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}</code>' codes
	grep -qE "$rc_re" "$T/bf-post.html" ||
		curl -s -o "$T/bf-post.html" -b "$j/mfa" -c "$j/mfa" "$(url /account/2fa)"
	codes=$(grep -oE "$rc_re" "$T/bf-post.html" | sed 's/<[^>]*>//g' | sort -u | jq -R . | jq -s -c .)
	bf_need "mfa was shown ten recovery codes" 10 "$(echo "$codes" | jq length)" || return 1

	# Sessions with real browser names (the account page lists them) and audit rows of sign-ins.
	bf_need "admin signs in (Firefox)" 303 "$(bf_signin "$j/admin-ff" admin "$ua_firefox")" || return 1
	bf_need "admin signs in (phone)" 303 "$(bf_signin "$j/admin-phone" admin "$ua_phone")" || return 1
	bf_need "operator signs in" 303 "$(bf_signin "$j/operator" operator "$ua_firefox")" || return 1
	bf_need "viewer signs in" 303 "$(bf_signin "$j/viewer" viewer "$ua_phone")" || return 1
	# A failed sign-in (audited as failed); an unknown name, so no account is slowed down.
	st=$(curl -s -o /dev/null -w '%{http_code}' "$(url /login)")
	bf_need "login page" 200 "$st" || return 1
	it_login "$j/bad" nobody-here 'not the password at all' >/dev/null
	# Changes through the web: a role change, a password reset (audited with before/after).
	local rel_id
	rel_id=$(bf_sql "SELECT id FROM users WHERE username='release_manager.backup-account'")
	bf_need "admin changes a role" 303 "$(bf_post "$j/admin-ff" "/users/$rel_id/role" --data-urlencode role=operator)" || return 1
	bf_need "admin resets a password" 303 "$(bf_post "$j/admin-ff" "/users/$rel_id/password" --data-urlencode "password=$BROWSER_PW again")" || return 1
	bf_need "admin saves the security settings" "200|303" "$(bf_post "$j/admin-ff" /settings/security)" || return 1
	# A denied request (audited as denied): a viewer may not add users.
	bf_need "a viewer may not add users" 403 "$(bf_post "$j/viewer" /users --data-urlencode username=eve \
		--data-urlencode role=admin --data-urlencode "password=$BROWSER_PW")" || return 1

	# API tokens in every state, for several users.
	bf_cli token create --user admin --scope read --name 'monitoring' >/dev/null || return 1
	bf_cli token create --user admin --scope admin --name 'deploy from CI' --allow '192.0.2.10,2001:db8::/32' --expires 30 >/dev/null || return 1
	local used
	used=$(bf_cli token create --user operator --scope write --name 'backup script on the storage server' | tail -1)
	bf_need "a token is used" 200 "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $used" "$(url /api/v1/)")" || return 1
	bf_cli token create --user viewer --scope read --name 'old laptop' >/dev/null || return 1
	local old_id
	old_id=$(bf_sql "SELECT t.id FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE u.username='viewer' AND t.name='old laptop'")
	bf_cli token revoke "$old_id" >/dev/null || return 1
	# A token that expired yesterday.
	bf_cli token create --user operator --scope read --name 'expired trial' --expires 1 >/dev/null || return 1
	bf_sql "UPDATE api_tokens SET expires_at = strftime('%s','now') - 86400 WHERE name = 'expired trial'" || return 1

	# Websites: a static site with an alias and a reverse proxy, made by the helper (t_browser.sh
	# runs it beside the test's nginx, as t_forms.sh does).
	bf_cli site add shop.example.test --type static --alias www.shop.example.test >/dev/null || return 1
	bf_cli site add api.example.test --type proxy --upstream http://127.0.0.1:9 >/dev/null || return 1
	# Alerts: a channel of each kind and a rule that uses one (the alerts page's tables, and a
	# rule and a channel for the delete confirmations).
	bf_need "admin adds an e-mail channel" "201|303" "$(bf_post "$j/admin-ff" /alerts/channels \
		--data-urlencode 'name=on-call-mailbox' --data-urlencode kind=email --data-urlencode email=ops@example.com)" || return 1
	bf_need "admin adds a webhook channel" "201|303" "$(bf_post "$j/admin-ff" /alerts/channels \
		--data-urlencode name=chatops --data-urlencode kind=webhook --data-urlencode url=https://hooks.example.com/aapanel \
		--data-urlencode 'secret=a webhook secret of some length')" || return 1
	local chid rid
	chid=$(bf_sql "SELECT id FROM alert_channels WHERE name='on-call-mailbox'")
	bf_need "admin adds a disk rule" "201|303" "$(bf_post "$j/admin-ff" /alerts/rules --data-urlencode metric=disk_space \
		--data-urlencode target=/ --data-urlencode threshold=90 --data-urlencode duration=5 --data-urlencode "channel=$chid")" || return 1
	rid=$(bf_sql "SELECT id FROM alert_rules ORDER BY id LIMIT 1")
	bf_need "the fixtures have a rule and a channel" "ok" "$([ -n "$chid" ] && [ -n "$rid" ] && echo ok)" || return 1
	local site
	site=$(bf_sql "SELECT id FROM sites WHERE domain='shop.example.test'")
	# Certificates, through the admin's forms: an upload for the static site and its alias (5 days
	# left: the expiry warning), and an issuance for the proxy that fails (t_browser.sh points
	# certs.acme_server at a closed loopback port): the failed state with certbot's reason.
	local cd="$T/bf-cert" cert fail_id st=pending
	mkdir -p "$cd"
	openssl req -x509 -newkey rsa:2048 -nodes -days 5 -subj /CN=shop.example.test \
		-addext 'subjectAltName=DNS:shop.example.test,DNS:www.shop.example.test' \
		-keyout "$cd/key.pem" -out "$cd/cert.pem" 2>/dev/null || return 1
	bf_need "admin uploads a certificate" 303 "$(bf_post "$j/admin-ff" /certificates --data-urlencode domain=shop.example.test \
		--data-urlencode "cert@$cd/cert.pem" --data-urlencode "key@$cd/key.pem")" || return 1
	cert=$(bf_sql "SELECT id FROM certificates WHERE domain='shop.example.test'")
	bf_need "admin asks for a certificate for the proxy" 303 "$(bf_post "$j/admin-ff" /certificate-requests \
		--data-urlencode domain=api.example.test)" || return 1
	fail_id=$(bf_sql "SELECT id FROM certificates WHERE domain='api.example.test'")
	for _ in $(seq 1 120); do
		st=$(curl -s -b "$j/admin-ff" -H 'Accept: application/json' "$(url "/certificates/$fail_id")" | jq -r '.certificate.state')
		[ "$st" = pending ] || break
		sleep 0.5
	done
	bf_need "the issuance failed (no ACME server)" failed "$st" || return 1
	# A scheduled task, through the admin's form, run once by hand (its page shows the run's output).
	local task
	bf_need "admin adds a task" 303 "$(bf_post "$j/admin-ff" /tasks --data-urlencode name=nightly-report \
		--data-urlencode 'schedule=0 3 * * *' --data-urlencode 'command=/bin/echo report done' --data-urlencode user=nobody)" || return 1
	task=$(bf_sql "SELECT id FROM cron_jobs WHERE name='nightly-report'")
	bf_need "admin runs the task now" 303 "$(bf_post "$j/admin-ff" "/tasks/$task/run")" || return 1

	# A database server the helper has no login for (so it shows as not reachable, its
	# reason on the page) and a database on it linked to the shop: /databases/{id} and the
	# confirmation pages of both removals. t_databases.sh covers the reachable state.
	local dbs dbid
	bf_sql "INSERT INTO db_servers (name, engine, dsn, created_at) VALUES ('local', 'mysql', 'mysql://root@127.0.0.1:1/', CAST(strftime('%s', 'now') AS INTEGER))"
	dbs=$(bf_sql "SELECT id FROM db_servers WHERE name='local'")
	bf_sql "INSERT INTO managed_databases (engine, name, owner, site_id, charset, created_at, server_id, hosts, updated_at) VALUES ('mysql', 'shop', 'shop', $site, 'utf8mb4', CAST(strftime('%s', 'now') AS INTEGER), $dbs, 'localhost,127.0.0.1', CAST(strftime('%s', 'now') AS INTEGER))"
	dbid=$(bf_sql "SELECT id FROM managed_databases WHERE name='shop'")
	# An export of it from the page's form: a job that fails (the helper has no login for the
	# server), so /databases/{id}/jobs/{job} shows a failure's reason (t_dbio.sh: the other states).
	local dbjob
	curl -s -o /dev/null -w '%{redirect_url}' -b "$j/admin-ff" -c "$j/admin-ff" -H "Origin: http://127.0.0.1:$PORT" \
		--data-urlencode "csrf=$(csrf_of "$j/admin-ff")" --data-urlencode format=sql.gz \
		"$(url "/databases/$dbid/export")" > "$T/bf-dbjob"
	dbjob=$(sed -n 's|.*/jobs/\([0-9][0-9]*\)$|\1|p' "$T/bf-dbjob")
	bf_need "an export of the database is a job" yes "$([ -n "$dbjob" ] && echo yes || echo "no: $(cat "$T/bf-dbjob")")" || return 1
	# A copy in the shop's files from the page's form: with files.job_wait_ms = 0 (t_browser.sh)
	# its 303 names the job's page, /sites/{id}/files/jobs/{job}.
	local fjob
	curl -s -o /dev/null -w '%{redirect_url}' -b "$j/admin-ff" -c "$j/admin-ff" -H "Origin: http://127.0.0.1:$PORT" \
		--data-urlencode "csrf=$(csrf_of "$j/admin-ff")" --data-urlencode path=index.html \
		--data-urlencode to=index-copy.html "$(url "/sites/$site/files/copy")" > "$T/bf-fjob"
	fjob=$(sed -n 's|.*/files/jobs/\([0-9][0-9]*\).*$|\1|p' "$T/bf-fjob")
	bf_need "a copy of a file is a job with its page" yes "$([ -n "$fjob" ] && echo yes || echo "no: $(cat "$T/bf-fjob")")" || return 1
	# The same in the admins' root www (t_browser.sh's files.roots): /files/roots/{root}/jobs/{job}.
	local rjob
	curl -s -o /dev/null -w '%{redirect_url}' -b "$j/admin-ff" -c "$j/admin-ff" -H "Origin: http://127.0.0.1:$PORT" \
		--data-urlencode "csrf=$(csrf_of "$j/admin-ff")" --data-urlencode path=tree \
		--data-urlencode to=tree-copy "$(url "/files/roots/www/copy")" > "$T/bf-rjob"
	rjob=$(sed -n 's|.*/files/roots/www/jobs/\([0-9][0-9]*\).*$|\1|p' "$T/bf-rjob")
	bf_need "a copy in the admins' root is a job with its page" yes "$([ -n "$rjob" ] && echo yes || echo "no: $(cat "$T/bf-rjob")")" || return 1

	# The firewall: a rule from a network and a block-list entry, stored (not applied).
	bf_cli firewall deny 8081/tcp --from "192.0.2.0/24 2001:db8::/32" --comment "no 8081" >/dev/null || return 1
	bf_cli firewall block 198.51.100.7 --comment abuser >/dev/null || return 1
	local fwr fwb
	fwr=$(bf_sql "SELECT id FROM firewall_rules ORDER BY id LIMIT 1")
	fwb=$(bf_sql "SELECT id FROM firewall_blocklist ORDER BY id LIMIT 1")

	# Backups: a local destination (restic init by the helper), a real run of the shop (its
	# database's server does not answer: failed, with the reason) and a successful one recorded
	# (the Restore button, a run's page). t_backups.sh makes and restores real ones.
	bf_cli backup-dest add local-bk --url local:/srv/backups >/dev/null || return 1
	bf_cli backup run --site shop.example.test --to local-bk >/dev/null 2>&1 || true
	bf_sql "INSERT INTO backup_runs (action, target_kind, target, dest, job_id, state, snapshot, message, started_at, ended_at) VALUES ('backup', 'site', 'shop.example.test', 'local-bk', NULL, 'done', '0123abcd', '', CAST(strftime('%s', 'now') AS INTEGER) - 3600, CAST(strftime('%s', 'now') AS INTEGER) - 3590)"
	# The panel's own backup: a real snapshot whose tree the walk browses (/backups/snapshots/{id}/tree).
	bf_cli backup run --panel --to local-bk >/dev/null 2>&1 || return 1
	local bksnap
	bksnap=$(bf_cli backup snapshots --from local-bk --panel --json | jq -r '.snapshots[0].id')
	local bkrun
	bkrun=$(bf_sql "SELECT MAX(id) FROM backup_runs WHERE target_kind = 'site'")

	local uid tid sid
	uid=$(bf_sql "SELECT id FROM users WHERE username='operator'")
	tid=$(bf_sql "SELECT id FROM api_tokens WHERE name='monitoring'")
	sid=$(bf_sql "SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username='admin' ORDER BY s.id LIMIT 1")
	jq -n --arg pw "$BROWSER_PW" --arg uid "$uid" --arg tid "$tid" --arg sid "$sid" --argjson codes "$codes" \
		--arg site "$site" --arg rid "$rid" --arg chid "$chid" --arg cert "$cert" --arg dbs "$dbs" --arg dbid "$dbid" --arg dbjob "$dbjob" --arg fjob "$fjob" --arg rjob "$rjob" --arg task "$task" --arg fwr "$fwr" --arg fwb "$fwb" --arg bkrun "$bkrun" --arg bksnap "$bksnap" \
		--arg name "$(bf_cli config show | awk -F'"' '/^panel = / {p = 1} p && /^  name = / {print $2; exit}')" '{
		accounts: { admin: {user: "admin", password: $pw}, operator: {user: "operator", password: $pw},
		            viewer: {user: "viewer", password: $pw} },
		mfa: {user: "mfa", password: $pw, recovery: $codes},
		ids: { "/users": $uid, "/tokens": $tid, "/account/tokens": $tid, "/account/sessions": $sid,
		       "/sites": $site, "/alerts/rules": $rid, "/alerts/channels": $chid, "/certificates": $cert,
		       "/database-servers": $dbs, "/databases": $dbid, "/sites/{id}/logs": "access", "/logs": "panel",
		       "/databases/{id}/jobs": $dbjob, "/sites/{id}/files/jobs": $fjob,
		       "/tasks": $task, "/services": "nginx.service",
		       "/firewall/rules": $fwr, "/firewall/block": $fwb,
		       "/backups/runs": $bkrun, "/backup-destinations": "local-bk", "/backups/snapshots": $bksnap,
		       "/files/roots": "www", "/files/roots/{root}/jobs": $rjob },
		app_name: (if $name == "" then "aaPanel" else $name end)
	}' > "$out"
}
