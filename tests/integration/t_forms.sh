#!/usr/bin/env bash
# The form contract, for every form of the panel, through the real nginx
# and pool (the routes come from `aapanel routes --json`, so a new form is
# held to it automatically):
#  - a value the route's validator refuses comes back as the same form, the
#    value kept (unless secret), the reason next to the field, in English
#    and in Arabic; JSON clients get the 400 with field and reason;
#  - after every successful change the answer is 303 to a page that shows a
#    one-time message (post/redirect/get: a reload does not resubmit);
#  - every destructive action asked without its confirmation changes nothing
#    and answers with the confirmation page.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites_lib.sh"
# The firewall's forms apply rules: to a network namespace of the test's (lib.sh deletes IT_NETNS).
IT_NETNS="aptest-forms-$$"
ip netns add "$IT_NETNS"
it_setup "auth = { lockout_threshold = 50; };
firewall = { netns = \"/run/netns/$IT_NETNS\"; confirm_seconds = 60; };
$IT_MANAGED"
# The websites' forms change the system: the helper and the sites in nginx (sites_lib.sh).
sites_setup
# The databases' forms: a throwaway MariaDB (dbservers.sh) with an admin login the panel keeps.
. "$(dirname "$0")/dbservers.sh"
DBD=$(mktemp -d /tmp/aapanel-formsdb.XXXXXX)
chmod 0755 "$DBD"
forms_teardown() { local rc=$?; db_stop_all || true; rm -rf "$DBD"; (exit "$rc"); sites_teardown; }
trap forms_teardown EXIT
check "MariaDB starts for the databases' forms" db_start_mariadb "$DBD/my"
DBPW=$(openssl rand -hex 16)
printf '%s\n' "$DBPW" > "$DBD/admin.pw"
_db_my_sql "CREATE USER 'dbadmin'@'127.0.0.1' IDENTIFIED BY '$DBPW'; GRANT ALL ON *.* TO 'dbadmin'@'127.0.0.1' WITH GRANT OPTION;"
# Certificates: TLS servers on a free port; the ACME server a closed loopback port (an issuance
# started by a form fails quickly; never Let's Encrypt).
cat >> "$T/conf/profiles/test.cfg" <<CFG
certs = { https_port = $(it_free_port); acme_server = "https://127.0.0.1:$(it_free_port)/dir"; certbot_dir = "$T/certbot"; };
CFG
# The admins' other roots' editor form (/files/roots/{root}/edit): one root.
echo 'files = { roots = "www:/srv/www"; };' >> "$T/conf/profiles/test.cfg"
mkdir -p "$SB/srv/www"
it_start_pool
sites_start_nginx
sites_start_helper
DB="$T/var/aapanel.db"
PW='correct horse battery staple'
ORIGIN="http://127.0.0.1:$PORT"
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
it_user admin admin "$PW"
it_user target viewer "$PW"
TARGET_ID=$(sqlite3 "$DB" "SELECT id FROM users WHERE username = 'target'")
A site add forms.test --type static > /dev/null
SITE_ID=$(sqlite3 "$DB" "SELECT id FROM sites WHERE domain = 'forms.test'")
# forms.test's certificate (self-signed, uploaded with the CLI) for the /certificates/{id} forms
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=forms.test -addext subjectAltName=DNS:forms.test \
	-keyout "$T/forms.key" -out "$T/forms.pem" 2>/dev/null
A cert upload forms.test --cert "$T/forms.pem" --key "$T/forms.key" > /dev/null
CERT_ID=$(sqlite3 "$DB" "SELECT id FROM certificates WHERE domain = 'forms.test'")
# a database server, a database and a scheduled task for the /databases, /database-servers and /tasks forms
A dbserver add formsdb --dsn "mysql://dbadmin@127.0.0.1:$MYSQL_PORT/" --password-file "$DBD/admin.pw" > /dev/null
A database add forms_one --server formsdb --site forms.test > /dev/null
DBSRV_ID=$(sqlite3 "$DB" "SELECT id FROM db_servers WHERE name = 'formsdb'")
DBDB_ID=$(sqlite3 "$DB" "SELECT id FROM managed_databases WHERE name = 'forms_one'")
A task add forms-task --schedule '@daily' --command /bin/true > /dev/null
TASK_ID=$(sqlite3 "$DB" "SELECT id FROM cron_jobs WHERE name = 'forms-task'")
check "a database server, a database and a task for their forms (ids ${DBSRV_ID:-none}, ${DBDB_ID:-none}, ${TASK_ID:-none})" \
	test -n "$DBSRV_ID" -a -n "$DBDB_ID" -a -n "$TASK_ID"
# Backups: a local destination (restic init) and one backup of the site (and its database).
A backup-dest add formsbk --url local:/srv/backups/forms > /dev/null
A backup run --site forms.test --to formsbk > /dev/null
BK_RUN=$(sqlite3 "$DB" "SELECT MAX(id) FROM backup_runs")
BK_SNAP=$(sqlite3 "$DB" "SELECT snapshot FROM backup_runs WHERE id = ${BK_RUN:-0}")
check "a backup destination and a snapshot for the backups' forms (run ${BK_RUN:-none}, ${BK_SNAP:-none})" \
	test -n "$BK_SNAP"
# path PATTERN: the pattern with its {id}: a site's for /sites/..., a certificate's for
# /certificates/..., else the target user's.
path_of() {
	case $1 in
	/sites/*) echo "${1//\{id\}/$SITE_ID}" ;;
	/certificates/*) echo "${1//\{id\}/$CERT_ID}" ;;
	/database-servers/*) echo "${1//\{id\}/$DBSRV_ID}" ;;
	/databases/*) echo "${1//\{id\}/$DBDB_ID}" ;;
	/tasks/*) echo "${1//\{id\}/$TASK_ID}" ;;
	/backups/runs/*) echo "${1//\{id\}/$BK_RUN}" ;;
	/backup-destinations/*) echo "${1//\{name\}/formsbk}" ;;
	/files/roots/*) echo "${1//\{root\}/www}" ;;
	*) echo "${1//\{id\}/$TARGET_ID}" ;;
	esac
}
"$BIN" routes --json > "$T/routes.json"
check "aapanel routes --json lists the POST forms" jqe '[.[] | select(.has_form_page)] | length >= 8' "$T/routes.json"

J="$T/jar"
check "the admin signs in" test "$(it_login "$J" admin "$PW")" = 303
# post PATH [curl args]: a form POST with the session's CSRF token; body in $T/out, headers in $T/hdr.
post() {
	local p=$1
	shift
	curl -s -o "$T/out" -D "$T/hdr" -w '%{http_code}' -b "$J" -c "$J" -H "Origin: $ORIGIN" \
		--data-urlencode "csrf=$(csrf_of "$J")" "$@" "$(url "$p")"
}
location() { awk 'tolower($1) == "location:" {print $2}' "$T/hdr" | tr -d '\r'; }
has_arabic() { grep -qP '[\x{0600}-\x{06FF}]' "$1"; }

# ---------------------------------------------------------------- 1. invalid values
# For each form route: the first field whose validator can be failed from a
# form, a value it refuses, and valid values for the other required fields.
jq -c '.[] | select(.has_form_page and (.methods | index("POST")))' "$T/routes.json" > "$T/forms"
# Forms that need a state this test does not set up (they are walked in t_auth):
skip_form() {
	case $1 in
	/login/2fa) return 0 ;;             # a session between the two factors
	/account/2fa/disable | /account/2fa/recovery) return 0 ;; # two-factor on (section 4)
	# A job's page is its form: shown again only for a job that runs (t_files_jobs_cancel.sh
	# cancels running ones from the page; the contract, an unknown one)
	/sites/{id}/files/jobs/{job}/cancel | /files/roots/{root}/jobs/{job}/cancel) return 0 ;;
	*) return 1 ;;
	esac
}
bad_value() { # field-json → a value its validator refuses
	jq -r 'if .type == "int" then "not-a-number"
		elif .type == "enum" then "no-such-choice"
		elif .type == "bool" then "maybe"
		elif .type == "name" then "has space"
		elif .type == "hostname" then "-bad-.example"
		elif .type == "email" then "no-at-sign"
		elif (.max // 0) > 0 then ("x" * (.max + 1))
		else empty end' <<< "$1"
}
good_value() { # field-json → a value it accepts
	jq -r 'if .type == "int" then (.min // 1 | tostring)
		elif .type == "enum" then .choices[-1]
		elif .type == "bool" then "1"
		elif .type == "name" then "validname"
		elif .secret then "a long enough passphrase here"
		else "ok" end' <<< "$1"
}
nforms=0
while IFS= read -r route; do
	pattern=$(jq -r .pattern <<< "$route")
	skip_form "$pattern" && continue
	path=$(path_of "$pattern")
	target=$(jq -c '[.fields[] | select(.in == "form" and (.type != "text" or (.max // 0) > 0))][0] // empty' <<< "$route")
	if [ -z "$target" ]; then
		# Only a path id: the form is a button; a bad id is a 404 (below).
		continue
	fi
	field=$(jq -r .name <<< "$target")
	bad=$(bad_value "$target")
	args=()
	while IFS= read -r f; do
		n=$(jq -r .name <<< "$f")
		[ "$n" = "$field" ] && continue
		args+=(--data-urlencode "$n=$(good_value "$f")")
	done < <(jq -c '.fields[] | select(.in == "form" and .required)' <<< "$route")
	args+=(--data-urlencode "$field=$bad")
	for lang in en ar; do
		curl -s -o /dev/null -b "$J" -c "$J" -H "Origin: $ORIGIN" --data-urlencode "csrf=$(csrf_of "$J")" --data-urlencode "lang=$lang" "$(url /lang)"
		[ "$pattern" = /login ] && login_token "$J" > /dev/null
		if [ "$pattern" = /login ]; then
			code=$(curl -s -o "$T/out" -D "$T/hdr" -w '%{http_code}' -b "$J" -c "$J" -H "Origin: $ORIGIN" \
				--data-urlencode "csrf=$(login_token "$J")" "${args[@]}" "$(url /login)")
		else
			code=$(post "$path" "${args[@]}")
		fi
		check "$pattern [$lang]: '$field' refused with 400 (got $code)" test "$code" = 400
		check "$pattern [$lang]: the same form comes back" grep -q "action=\"[^\"]*${path}\"" "$T/out"
		check "$pattern [$lang]: the reason stands next to the field" grep -q 'class="field-error' "$T/out"
		if [ "$lang" = ar ]; then
			check "$pattern [ar]: the reason is in Arabic" bash -c "grep -o 'class=\"field-error[^<]*' '$T/out' | grep -qP '[\x{0600}-\x{06FF}]'"
		fi
		secret=$(jq -r .secret <<< "$target")
		kind=$(jq -r .type <<< "$target")
		# (a choice among options, <select>, cannot show a value that is not one of them)
		if [ "$secret" = false ] && { [ "$kind" = text ] || [ "$kind" = name ]; } &&
			! grep -q "<select[^>]* name=\"$field\"" "$T/out"; then
			esc=$(printf '%s' "$bad" | sed 's/&/\&amp;/g; s/"/\&quot;/g')
			check "$pattern [$lang]: what was typed is kept" grep -qF "value=\"$esc\"" "$T/out"
		fi
		if [ "$secret" = true ]; then
			check "$pattern [$lang]: a secret is never echoed" bash -c "! grep -qF -- '$bad' '$T/out'"
		fi
	done
	code=$(curl -s -o "$T/out.json" -w '%{http_code}' -b "$J" -H "Origin: $ORIGIN" -H 'Accept: application/json' \
		-H "X-CSRF-Token: $(csrf_of "$J")" "${args[@]}" "$(url "$path")")
	if [ "$pattern" != /login ]; then
		check "$pattern [json]: 400 naming '$field' with a reason" jqe --arg f "$field" \
			'.error.status == 400 and .error.field == $f and (.error.reason | length) > 0' "$T/out.json"
	fi
	nforms=$((nforms + 1))
done < "$T/forms"
check "invalid values were tried on $nforms forms" test "$nforms" -ge 6
curl -s -o /dev/null -b "$J" -c "$J" -H "Origin: $ORIGIN" --data-urlencode "csrf=$(csrf_of "$J")" --data-urlencode "lang=en" "$(url /lang)"
check "a malformed {id} is a page that does not exist (404)" test "$(post /users/abc/disable)" = 404
check "an {id} out of range too (404)" test "$(post /users/0/role --data-urlencode role=viewer)" = 404

# ---------------------------------------------------------------- 2. confirmations
# Everything a confirmation guards, before and after an unconfirmed POST.
state() {
	sqlite3 "$DB" "SELECT id, role, disabled FROM users ORDER BY id;
		SELECT id, revoked_at IS NULL FROM api_tokens ORDER BY id;
		SELECT id FROM sessions ORDER BY id;
		SELECT id, status, revision, kind FROM sites ORDER BY id;
		SELECT id, state, serial FROM certificates ORDER BY id;
		SELECT COUNT(*) FROM audit_log WHERE action NOT IN ('login', 'lang')"
}
it_login "$T/jother" admin "$PW" > /dev/null   # another session to revoke
A token create --user admin --scope read --name keep > /dev/null
TOKEN_ID=$(sqlite3 "$DB" "SELECT MAX(id) FROM api_tokens")
OTHER_SESSION=$(sqlite3 "$DB" "SELECT MAX(id) FROM sessions")
# An alert channel and rule for the monitoring routes to ask about.
curl -s -o /dev/null -b "$J" -H "Origin: $ORIGIN" -H 'Accept: application/json' -H "X-CSRF-Token: $(csrf_of "$J")" \
	--data-urlencode name=keep-channel --data-urlencode kind=email --data-urlencode email=keep@example.com "$(url /alerts/channels)"
curl -s -o /dev/null -b "$J" -H "Origin: $ORIGIN" -H 'Accept: application/json' -H "X-CSRF-Token: $(csrf_of "$J")" \
	--data-urlencode metric=memory --data-urlencode threshold=95 "$(url /alerts/rules)"
ALERT_CHANNEL=$(sqlite3 "$DB" "SELECT MAX(id) FROM alert_channels")
ALERT_RULE=$(sqlite3 "$DB" "SELECT MAX(id) FROM alert_rules")
nconfirm=0
for pattern in $(jq -r '.[] | select(.confirm) | .pattern' "$T/routes.json"); do
	case $pattern in
	/account/sessions/\{id\}/revoke) path=${pattern//\{id\}/$OTHER_SESSION} ;;
	*/tokens/\{id\}/revoke) path=${pattern//\{id\}/$TOKEN_ID} ;;
	/alerts/rules/\{id\}/*) path=${pattern//\{id\}/$ALERT_RULE} ;;
	/alerts/channels/\{id\}/*) path=${pattern//\{id\}/$ALERT_CHANNEL} ;;
	*) path=$(path_of "$pattern") ;;
	esac
	extra=()
	# a restore names what it restores (into place: the case that asks)
	[ "$pattern" = /backups/restore ] && extra=(--data-urlencode dest=formsbk --data-urlencode "snapshot=$BK_SNAP"
		--data-urlencode kind=site --data-urlencode target=forms.test)
	before=$(state)
	vhost_before=$(cat "$VHOSTS"/*.conf | sha256sum)
	code=$(post "$path" "${extra[@]}")
	check "$pattern without its confirmation: the confirmation page (got $code)" test "$code" = 200
	check "$pattern: the page asks, with the same form and confirmed=yes" \
		bash -c "grep -q 'class=\"confirm-form\"' '$T/out' && grep -q 'name=\"confirmed\" value=\"yes\"' '$T/out' && grep -q 'action=\"${path}\"' '$T/out'"
	check "$pattern: nothing changed" test "$(state)" = "$before"
	check "$pattern: the alert rule and channel are still there" test "$(sqlite3 "$DB" "SELECT COUNT(*) FROM alert_rules WHERE id = $ALERT_RULE") $(sqlite3 "$DB" "SELECT COUNT(*) FROM alert_channels WHERE id = $ALERT_CHANNEL")" = "1 1"
	check "$pattern: no vhost changed" test "$(cat "$VHOSTS"/*.conf | sha256sum)" = "$vhost_before"
	nconfirm=$((nconfirm + 1))
done
check "every destructive route was tried ($nconfirm)" test "$nconfirm" -ge 4

# ---------------------------------------------------------------- 3. post/redirect/get
# prg NAME PATTERN PATH EXPECT_PAGE [curl args]: 303 to EXPECT_PAGE, which
# shows the message once; a second look (the reload) shows it no more.
WALKED=" "
prg() {
	local name=$1 pattern=$2 p=$3 page=$4 code loc
	shift 4
	WALKED+="$pattern "
	code=$(post "$p" "$@")
	loc=$(location)
	check "$name: 303 after the change (got $code)" test "$code" = 303
	check "$name: back to $page" test "$loc" = "$page"
	curl -s -b "$J" -c "$J" "$(url "$loc")" > "$T/page1"
	check "$name: the page says what happened" grep -q 'class="flash flash-ok"' "$T/page1"
	curl -s -b "$J" -c "$J" "$(url "$loc")" > "$T/page2"
	check "$name: a reload shows it no more" bash -c "! grep -q 'class=\"flash' '$T/page2'"
}
prg "add a user" /users /users /users --data-urlencode username=newbie --data-urlencode role=viewer \
	--data-urlencode "password=$PW and more"
check "the user was added once" test "$(sqlite3 "$DB" "SELECT COUNT(*) FROM users WHERE username='newbie'")" = 1
NEW_ID=$(sqlite3 "$DB" "SELECT id FROM users WHERE username='newbie'")
prg "change a role" "/users/{id}/role" "/users/$NEW_ID/role" /users --data-urlencode role=operator
prg "reset a password" "/users/{id}/password" "/users/$NEW_ID/password" /users --data-urlencode "password=$PW, reset"
prg "disable a user" "/users/{id}/disable" "/users/$NEW_ID/disable" /users --data-urlencode confirmed=yes
check "the user is disabled" test "$(sqlite3 "$DB" "SELECT disabled FROM users WHERE id=$NEW_ID")" = 1
prg "enable a user" "/users/{id}/enable" "/users/$NEW_ID/enable" /users
NEXT_SITE=$(( $(sqlite3 "$DB" "SELECT seq FROM sqlite_sequence WHERE name = 'sites'") + 1 ))
prg "add a site" /sites /sites "/sites/$NEXT_SITE" --data-urlencode domain=prg.test --data-urlencode kind=static
check "the site was added once, and nginx serves it" bash -c "[ \$(sqlite3 '$DB' \"SELECT COUNT(*) FROM sites WHERE domain='prg.test'\") = 1 ] && [ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: prg.test' '$(url /)')\" = 200 ]"
prg "change a site" "/sites/{id}" "/sites/$NEXT_SITE" "/sites/$NEXT_SITE" --data-urlencode kind=static --data-urlencode aliases=www.prg.test
prg "disable a site" "/sites/{id}/disable" "/sites/$NEXT_SITE/disable" "/sites/$NEXT_SITE" --data-urlencode confirmed=yes
check "the disabled site answers 503" test "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: prg.test' "$(url /)")" = 503
prg "enable a site" "/sites/{id}/enable" "/sites/$NEXT_SITE/enable" "/sites/$NEXT_SITE"
prg "re-apply a site" "/sites/{id}/reapply" "/sites/$NEXT_SITE/reapply" "/sites/$NEXT_SITE"
prg "delete a site" "/sites/{id}/delete" "/sites/$NEXT_SITE/delete" /sites --data-urlencode confirmed=yes --data-urlencode delete_files=1
check "the deleted site's vhost and files are gone" bash -c "[ ! -e '$VHOSTS/prg.test.conf' ] && [ ! -e '$SB/var/www/prg.test' ]"
# Backups: a backup, a restore (to a new folder), a destination added and removed.
prg "back up a site" /backups /backups "/backups/runs/$((BK_RUN + 1))" --data-urlencode kind=site \
	--data-urlencode target=forms.test --data-urlencode dest=formsbk
prg "restore a site to a new folder" /backups/restore /backups/restore "/backups/runs/$((BK_RUN + 2))" \
	--data-urlencode dest=formsbk --data-urlencode "snapshot=$BK_SNAP" --data-urlencode kind=site \
	--data-urlencode target=forms.test --data-urlencode to=path --data-urlencode new_dir=restored
prg "back up the panel" /backups/panel /backups/panel "/backups/runs/$((BK_RUN + 3))" --data-urlencode dest=formsbk
PANEL_SNAP=""
for _ in $(seq 1 240); do
	curl -s -o /dev/null -b "$J" "$(url "/backups/runs/$((BK_RUN + 3))")" # the run's page settles it
	PANEL_SNAP=$(sqlite3 "$DB" "SELECT snapshot FROM backup_runs WHERE id = $((BK_RUN + 3)) AND state = 'done'")
	[ -n "$PANEL_SNAP" ] && break; sleep 0.25
done
check "the panel's backup made a snapshot (${PANEL_SNAP:-none})" test -n "$PANEL_SNAP"
prg "restore the panel to a new folder" /backups/panel/restore /backups/panel/restore "/backups/runs/$((BK_RUN + 4))" \
	--data-urlencode dest=formsbk --data-urlencode "snapshot=$PANEL_SNAP" --data-urlencode new_dir=formsrestore
prg "add a backup destination" /backup-destinations /backup-destinations /backup-destinations \
	--data-urlencode name=formsbk2 --data-urlencode url=local:/srv/backups/forms2
prg "remove a backup destination" "/backup-destinations/{name}/remove" /backup-destinations/formsbk2/remove \
	/backup-destinations --data-urlencode confirmed=yes

# A site's files (t_files.sh walks them in depth): each change back to its folder with a message.
FB="/sites/$SITE_ID/files?path="
prg "create a folder" "/sites/{id}/files/create" "/sites/$SITE_ID/files/create" "$FB" --data-urlencode name=prgdir --data-urlencode type=dir
prg "create a file" "/sites/{id}/files/create" "/sites/$SITE_ID/files/create" "${FB}prgdir" --data-urlencode path=prgdir \
	--data-urlencode name=prg.txt --data-urlencode type=file
prg "save a file" "/sites/{id}/files/edit" "/sites/$SITE_ID/files/edit" "${FB}prgdir" --data-urlencode path=prgdir/prg.txt \
	--data-urlencode content=hello --data-urlencode eol=lf
prg "rename a file" "/sites/{id}/files/rename" "/sites/$SITE_ID/files/rename" "${FB}prgdir" --data-urlencode path=prgdir/prg.txt \
	--data-urlencode to=prgdir/moved.txt
prg "copy a folder" "/sites/{id}/files/copy" "/sites/$SITE_ID/files/copy" "$FB" --data-urlencode path=prgdir --data-urlencode to=prgcopy
prg "change permissions" "/sites/{id}/files/chmod" "/sites/$SITE_ID/files/chmod" "${FB}prgcopy" --data-urlencode path=prgcopy/moved.txt \
	--data-urlencode mode=600
prg "pack a folder" "/sites/{id}/files/archive" "/sites/$SITE_ID/files/archive" "$FB" --data-urlencode path=prgdir \
	--data-urlencode to=prg.zip --data-urlencode format=zip
prg "extract an archive" "/sites/{id}/files/extract" "/sites/$SITE_ID/files/extract" "$FB" --data-urlencode path=prg.zip --data-urlencode to=prgx
prg "delete a folder" "/sites/{id}/files/delete" "/sites/$SITE_ID/files/delete" "$FB" --data-urlencode path=prgcopy
ENTRY=$(ls "$SB/var/www/forms.test/.aapanel-trash" | head -1)
prg "restore it" "/sites/{id}/files/trash/restore" "/sites/$SITE_ID/files/trash/restore" "$FB" --data-urlencode "entry=$ENTRY"
check "the restored folder is back" test -f "$SB/var/www/forms.test/public/prgcopy/moved.txt"
post "/sites/$SITE_ID/files/delete" --data-urlencode path=prgcopy > /dev/null
prg "empty the trash" "/sites/{id}/files/trash/empty" "/sites/$SITE_ID/files/trash/empty" "/sites/$SITE_ID/files/trash" --data-urlencode confirmed=yes
prg "save a setting" /settings/security /settings/security /settings --data-urlencode require_2fa=0
# The port, entrance, access and timeouts as they are (moving them for real: t_settings.sh).
prg "keep the panel's address" /settings/listen /settings/listen /settings --data-urlencode confirmed=yes
prg "keep the entrance" /settings/entrance /settings/entrance /settings --data-urlencode confirmed=yes
prg "keep the allowed addresses" /settings/access /settings/access /settings --data-urlencode confirmed=yes
prg "keep the session timeouts" /settings/sessions /settings/sessions /settings
prg "create a token" /account/tokens /account/tokens /account --data-urlencode name=ci --data-urlencode scope=read
check "the new token is shown once, on the page after the redirect" grep -q 'id="new-token" type="text" readonly value="apn_' "$T/page1"
check "and not again" bash -c "! grep -q 'apn_' '$T/page2'"
check "one token, not one per look" test "$(sqlite3 "$DB" "SELECT COUNT(*) FROM api_tokens WHERE name='ci'")" = 1
CI_ID=$(sqlite3 "$DB" "SELECT id FROM api_tokens WHERE name='ci'")
prg "revoke your token" "/account/tokens/{id}/revoke" "/account/tokens/$CI_ID/revoke" /account --data-urlencode confirmed=yes
prg "revoke any token" "/tokens/{id}/revoke" "/tokens/$TOKEN_ID/revoke" /tokens --data-urlencode confirmed=yes
prg "sign out another session" "/account/sessions/{id}/revoke" "/account/sessions/$OTHER_SESSION/revoke" /account --data-urlencode confirmed=yes
it_login "$T/jother" admin "$PW" > /dev/null
prg "sign out the other sessions" /account/sessions/revoke-others /account/sessions/revoke-others /account --data-urlencode confirmed=yes

prg "add an alert channel" /alerts/channels /alerts/channels /alerts --data-urlencode name=ops \
	--data-urlencode kind=email --data-urlencode email=ops@example.com
OPS_ID=$(sqlite3 "$DB" "SELECT id FROM alert_channels WHERE name = 'ops'")
prg "add an alert rule" /alerts/rules /alerts/rules /alerts --data-urlencode metric=disk_space \
	--data-urlencode target=/ --data-urlencode threshold=90 --data-urlencode duration=5 --data-urlencode "channel=$OPS_ID"
RULE_ID=$(sqlite3 "$DB" "SELECT MAX(id) FROM alert_rules")
check "the rule was added once, for 5 minutes" test "$(sqlite3 "$DB" "SELECT COUNT(*) FROM alert_rules WHERE metric = 'disk_space' AND duration = 300")" = 1
prg "turn an alert rule off" "/alerts/rules/{id}/disable" "/alerts/rules/$RULE_ID/disable" /alerts
prg "turn an alert rule on" "/alerts/rules/{id}/enable" "/alerts/rules/$RULE_ID/enable" /alerts
prg "send a channel a test" "/alerts/channels/{id}/test" "/alerts/channels/$OPS_ID/test" /alerts
check "the test is queued for the sampler" test "$(sqlite3 "$DB" "SELECT COUNT(*) FROM alert_outbox WHERE kind = 'test' AND channel_id = $OPS_ID")" = 1
prg "delete an alert rule" "/alerts/rules/{id}/delete" "/alerts/rules/$RULE_ID/delete" /alerts --data-urlencode confirmed=yes
prg "delete a channel" "/alerts/channels/{id}/delete" "/alerts/channels/$OPS_ID/delete" /alerts --data-urlencode confirmed=yes
# Certificates: an upload through the form (replaces the CLI's: the same row), an issuance and a
# renewal started (their jobs fail: no ACME server), removal.
prg "upload a certificate" /certificates /certificates "/certificates/$CERT_ID" --data-urlencode domain=forms.test \
	--data-urlencode "cert@$T/forms.pem" --data-urlencode "key@$T/forms.key"
settled() { # wait until the certificate's job is over
	for _ in $(seq 1 100); do
		[ "$(curl -s -b "$J" -H 'Accept: application/json' "$(url "/certificates/$CERT_ID")" | jq -r .certificate.state)" != pending ] && return 0
		sleep 0.2
	done
	return 1
}
prg "ask for a certificate" /certificate-requests /certificate-requests "/certificates/$CERT_ID" --data-urlencode domain=forms.test
check "the issuance's job ends (failed: no ACME server)" settled
prg "renew a certificate" "/certificates/{id}/renew" "/certificates/$CERT_ID/renew" "/certificates/$CERT_ID"
check "the renewal's job ends" settled
prg "remove a certificate" "/certificates/{id}/remove" "/certificates/$CERT_ID/remove" /certificates --data-urlencode confirmed=yes
check "the certificate is gone" test "$(sqlite3 "$DB" "SELECT COUNT(*) FROM certificates WHERE domain = 'forms.test'")" = 0
# Scheduled tasks (the cron file in the test's sandbox): add, run now, disable, enable, remove.
NEXT_TASK=$(( $(sqlite3 "$DB" "SELECT seq FROM sqlite_sequence WHERE name = 'cron_jobs'") + 1 ))
prg "add a scheduled task" /tasks /tasks "/tasks/$NEXT_TASK" --data-urlencode name=prg-task --data-urlencode 'schedule=0 3 * * *' \
	--data-urlencode kind=command --data-urlencode command=/bin/true
PRG_TASK=$(sqlite3 "$DB" "SELECT id FROM cron_jobs WHERE name = 'prg-task'")
prg "run a task now" "/tasks/{id}/run" "/tasks/$PRG_TASK/run" "/tasks/$PRG_TASK"
prg "disable a task" "/tasks/{id}/disable" "/tasks/$PRG_TASK/disable" "/tasks/$PRG_TASK"
prg "enable a task" "/tasks/{id}/enable" "/tasks/$PRG_TASK/enable" "/tasks/$PRG_TASK"
prg "remove a task" "/tasks/{id}/remove" "/tasks/$PRG_TASK/remove" /tasks --data-urlencode confirmed=yes
# Databases on the test's MariaDB: a server, a database, its password, a reader, a site, the drops.
prg "add a database server" /database-servers /database-servers /database-servers --data-urlencode name=prgsrv \
	--data-urlencode "dsn=mysql://dbadmin@127.0.0.1:$MYSQL_PORT/" --data-urlencode "password=$DBPW"
PRG_SRV=$(sqlite3 "$DB" "SELECT id FROM db_servers WHERE name = 'prgsrv'")
NEXT_DB=$(( $(sqlite3 "$DB" "SELECT seq FROM sqlite_sequence WHERE name = 'managed_databases'") + 1 ))
prg "create a database" /databases /databases "/databases/$NEXT_DB" --data-urlencode server=prgsrv --data-urlencode name=prg_db
PRG_DB=$(sqlite3 "$DB" "SELECT id FROM managed_databases WHERE name = 'prg_db'")
prg "a new database password" "/databases/{id}/password" "/databases/$PRG_DB/password" "/databases/$PRG_DB"
prg "a read-only user" "/databases/{id}/reader" "/databases/$PRG_DB/reader" "/databases/$PRG_DB"
prg "link a database to a site" "/databases/{id}/site" "/databases/$PRG_DB/site" "/databases/$PRG_DB" --data-urlencode site=forms.test
prg "drop a database" "/databases/{id}/remove" "/databases/$PRG_DB/remove" /databases --data-urlencode confirmed=yes \
	--data-urlencode confirm_name=prg_db
prg "remove a database server" "/database-servers/{id}/remove" "/database-servers/$PRG_SRV/remove" /database-servers \
	--data-urlencode confirmed=yes
# The firewall (its rules go to the test's namespace): add, block, settings, apply, confirm, remove.
prg "add a firewall rule" /firewall/rules /firewall/rules /firewall --data-urlencode action=allow \
	--data-urlencode ports=8443 --data-urlencode "from=192.0.2.0/24 2001:db8::/32" --data-urlencode comment=forms
FW_RULE=$(sqlite3 "$DB" "SELECT MAX(id) FROM firewall_rules")
prg "block an address" /firewall/block /firewall/block /firewall --data-urlencode address=198.51.100.7
FW_BLOCK=$(sqlite3 "$DB" "SELECT MAX(id) FROM firewall_blocklist")
prg "set the firewall's policy" /firewall/settings /firewall/settings /firewall --data-urlencode policy=accept \
	--data-urlencode icmp_echo=1
prg "apply the firewall's rules" /firewall/apply /firewall/apply /firewall
prg "confirm them" /firewall/confirm /firewall/confirm /firewall
prg "remove a firewall rule" "/firewall/rules/{id}/remove" "/firewall/rules/$FW_RULE/remove" /firewall --data-urlencode confirmed=yes
prg "unblock the address" "/firewall/block/{id}/remove" "/firewall/block/$FW_BLOCK/remove" /firewall --data-urlencode confirmed=yes
check "every alert change is in the audit log" test "$(sqlite3 "$DB" "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'alert.%'")" -ge 9

# ---------------------------------------------------------------- 4. two-factor
curl -s -b "$J" -H 'Accept: application/json' "$(url /account/2fa)" > "$T/2fa.json"
secret=$(jq -r '.secret // empty' "$T/2fa.json")
prg "turn two-factor on" /account/2fa/enable /account/2fa/enable /account/2fa --data-urlencode "code=$(oathtool --totp -b "$secret")"
check "the recovery codes are shown once, with a download" bash -c "grep -q 'download=\"aapanel-recovery-codes.txt\"' '$T/page1' && [ \$(grep -oE '<code>[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}</code>' '$T/page1' | sort -u | wc -l) = 10 ]"
check "and never again" bash -c "! grep -qE '<code>[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}</code>' '$T/page2'"
old=$(grep -oE '<code>[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}</code>' "$T/page1" | head -1 | sed 's/<[^>]*>//g')
code=$(post /account/2fa/recovery --data-urlencode "password=not my password")
check "new recovery codes need the password (400)" test "$code" = 400
prg "make new recovery codes" /account/2fa/recovery /account/2fa/recovery /account/2fa --data-urlencode "password=$PW"
check "ten new codes, none of them the old one" bash -c "! grep -q '$old' '$T/page1' && [ \$(grep -oE '<code>[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}</code>' '$T/page1' | sort -u | wc -l) = 10 ]"
check "the old codes are gone from the database" test "$(sqlite3 "$DB" "SELECT COUNT(*) FROM recovery_codes r JOIN users u ON u.id = r.user_id WHERE u.username = 'admin'")" = 10
prg "turn two-factor off" /account/2fa/disable /account/2fa/disable /account/2fa --data-urlencode "password=$PW" \
	--data-urlencode "code=$(oathtool --totp -b "$secret" -N 'now + 30 seconds')"

# ---------------------------------------------------------------- 5. the password, last
prg "change your password" /account/password /account/password /account --data-urlencode "current=$PW" \
	--data-urlencode "password=$PW, changed" --data-urlencode "confirm=$PW, changed"
code=$(post /logout)
check "sign out: 303 to the sign-in page" bash -c "[ '$code' = 303 ] && [ '$(location)' = /login ]"
curl -s -b "$J" -c "$J" "$(url /login)" > "$T/page1"
check "which says so, once" grep -q 'class="flash flash-ok"' "$T/page1"

# ---------------------------------------------------------------- every POST route was walked
# A new POST route fails here until this test walks it (or says where it is walked).
for pattern in $(jq -r '.[] | select(.methods | index("POST")) | .pattern' "$T/routes.json"); do
	case $pattern in
	/lang | /login | /logout) continue ;; # sections 1 and 5, lib.sh's it_login
	/login/2fa) continue ;;               # t_auth.sh (a session between the two factors)
	/sites/{id}/files/content) continue ;; # a streamed body, not a form: t_files.sh
	/sites/{id}/files/upload) continue ;;  # multipart with files: t_files.sh (two files from the form)
	/sites/{id}/files/chown) continue ;;   # needs the site's own system user: t_files_owner.sh walks its form
	/files/roots/{root}/content | /files/roots/{root}/edit) continue ;; # needs files.roots: t_files_roots.sh
	                                      # (a streamed body; the editor's form, 303 to the folder)
	/files/roots/{root}/*) continue ;;    # needs files.roots: t_files_roots_more.sh walks every form (303 back)
	/service-actions) continue ;;         # t_services.sh (needs systemd: PID 1 of a namespace of its own)
	/backups/runs/{id}/cancel) continue ;; # t_backups.sh: a running backup cancelled from its page's form
	/sites/{id}/files/jobs/{job}/cancel) continue ;; # t_files_jobs_cancel.sh: a running copy cancelled from its page
	/databases/{id}/export | /databases/{id}/import | /databases/{id}/import/upload) continue ;; # t_dbio.sh: jobs
	                                      # on real MariaDB/PostgreSQL (the page's export and upload forms, PRG to the job)
	esac
	check "POST $pattern: a change followed by post/redirect/get was walked" test "${WALKED/ $pattern /}" != "$WALKED"
done
it_summary
