#!/usr/bin/env bash
# setup-https.sh — put the aaPanel nginx site behind HTTPS in two phases.
#
#   phase 1  HTTP-only site (ACME challenges; the panel itself only with
#            --allow-http-panel), nginx -t, reload, certbot certonly --webroot
#   phase 2  HTTPS site (Mozilla intermediate TLS, HSTS, HTTP/2, rate limits),
#            nginx -t — on failure the previous site is put back — reload;
#            the HTTPS server block includes the panel-managed listen file
#            (nginx.listen_file), written here the first time and kept after,
#            which aapanel-helper rewrites when Settings moves the panel
#   renewal  a certbot deploy hook that checks and reloads nginx
#
# Idempotent: files are compared before they are written ("unchanged") and
# certbot runs with --keep-until-expiring. Exit status: 0 done, 1 a step
# failed, 2 bad usage or value, 3 phase 2 was rejected and phase 1 kept.
# See docs/https.md.
set -euo pipefail

PROG=setup-https
SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
	cat <<'USAGE'
usage: setup-https.sh DOMAIN EMAIL [options]

Certificate (certbot):
  --staging                 Let's Encrypt's staging CA (try this first)
  --server URL              any ACME directory URL (e.g. a test CA)
  --ca-bundle FILE          CA bundle to trust for the ACME server (REQUESTS_CA_BUNDLE)
  --webroot DIR             ACME webroot (default /var/lib/aapanel-acme)
  --certbot-dir DIR         certbot config dir; work/ and logs/ go inside it
                            (default: the system's /etc/letsencrypt ...)
  --certbot-cmd PATH        certbot program (default certbot)
nginx:
  --nginx-dir DIR           where the site file aapanel.conf goes (default
                            /etc/nginx/sites-available, linked from sites-enabled)
  --snippets-dir DIR        fastcgi params and DH parameters (default /etc/nginx/snippets)
  --nginx-cmd PATH          nginx program (default nginx)
  --nginx-prefix DIR        passed to nginx as -p (a private nginx)
  --nginx-conf FILE         passed to nginx as -c
  --nginx-error-log FILE    passed to nginx as -e
  --http-port N             default 80;  --https-port N  default 443
  --listen-address ADDR     listen on ADDR only (default: every IPv4 and IPv6 address)
  --listen-file FILE        the panel-managed include with the HTTPS listen lines and the
                            entrance (default: the panel's nginx.listen_file, else
                            /etc/nginx/aapanel/listen.conf); written when absent, else
                            kept: its port and address win over --https-port/--listen-address
  --allow-http-panel        serve the panel over plain HTTP until HTTPS is installed
  --rate-limit NAME=RATE:BURST   login (5r/m:5), api (10r/s:20), general (20r/s:50)
  --resolver ADDR           DNS resolver for OCSP stapling (default: /etc/resolv.conf)
Panel (read with `aapanel config show`, or given here):
  --aapanel-cmd PATH        default aapanel
  --panel-config FILE       --panel-profile NAME   --panel-root DIR
  --base-path P  --socket PATH  --static-dir DIR  --max-upload BYTES  --read-timeout S
  --events-socket PATH      the sampler's live-stream socket (monitor.socket)
  --origins-file FILE       the profile whose panel.origins gets https://DOMAIN[:PORT]
                            (default: profiles/PROFILE.cfg beside --panel-config, or
                            /etc/aapanel/profiles/production.cfg); the panel is reloaded
  --no-origins              leave panel.origins alone
Other:
  --templates DIR           directory holding aapanel-*.conf.in and fastcgi_params
  --dry-run                 print every step, change nothing
  -h, --help
USAGE
}

say() { printf '%s: %s\n' "$PROG" "$*"; }
step() { printf '\n==> %s\n' "$*"; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
bad() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 2; }

# ---- options
domain="" email="" dry_run=0 staging=0 acme_server="" ca_bundle=""
webroot=/var/lib/aapanel-acme certbot_dir="" certbot_cmd=certbot
nginx_dir=/etc/nginx/sites-available snippets_dir=/etc/nginx/snippets nginx_cmd=nginx
nginx_prefix="" nginx_conf="" nginx_error_log="" http_port=80 https_port=443
listen_address="" allow_http_panel=0 resolver=""
aapanel_cmd=aapanel panel_config="" panel_profile="" panel_root=""
base_path="" socket="" static_dir="" max_upload="" read_timeout="" events_socket=""
templates="" origins_file="" no_origins=0 listen_file=""
rate_login=5r/m burst_login=5 rate_api=10r/s burst_api=20 rate_general=20r/s burst_general=50

need_arg() { [ "$2" -ge 2 ] || bad "$1 needs a value (see --help)"; }
positional=()
while [ $# -gt 0 ]; do
	case "$1" in
	-h | --help) usage; exit 0 ;;
	--dry-run) dry_run=1 ;;
	--staging) staging=1 ;;
	--allow-http-panel) allow_http_panel=1 ;;
	--no-origins) no_origins=1 ;;
	--server | --ca-bundle | --webroot | --certbot-dir | --certbot-cmd | --nginx-dir | \
		--snippets-dir | --nginx-cmd | --nginx-prefix | --nginx-conf | --nginx-error-log | \
		--http-port | --https-port | --listen-address | --rate-limit | --resolver | \
		--aapanel-cmd | --panel-config | --panel-profile | --panel-root | --base-path | \
		--socket | --static-dir | --max-upload | --read-timeout | --templates | --events-socket | \
		--origins-file | --listen-file)
		need_arg "$1" $#
		v=$2
		case "$1" in
		--server) acme_server=$v ;;
		--ca-bundle) ca_bundle=$v ;;
		--webroot) webroot=$v ;;
		--certbot-dir) certbot_dir=$v ;;
		--certbot-cmd) certbot_cmd=$v ;;
		--nginx-dir) nginx_dir=$v ;;
		--snippets-dir) snippets_dir=$v ;;
		--nginx-cmd) nginx_cmd=$v ;;
		--nginx-prefix) nginx_prefix=$v ;;
		--nginx-conf) nginx_conf=$v ;;
		--nginx-error-log) nginx_error_log=$v ;;
		--http-port) http_port=$v ;;
		--https-port) https_port=$v ;;
		--listen-address) listen_address=$v ;;
		--resolver) resolver=$v ;;
		--aapanel-cmd) aapanel_cmd=$v ;;
		--panel-config) panel_config=$v ;;
		--panel-profile) panel_profile=$v ;;
		--panel-root) panel_root=$v ;;
		--base-path) base_path=$v ;;
		--socket) socket=$v ;;
		--static-dir) static_dir=$v ;;
		--max-upload) max_upload=$v ;;
		--read-timeout) read_timeout=$v ;;
		--templates) templates=$v ;;
		--events-socket) events_socket=$v ;;
		--origins-file) origins_file=$v ;;
		--listen-file) listen_file=$v ;;
		--rate-limit)
			[[ "$v" =~ ^(login|api|general)=([1-9][0-9]{0,5}r/[sm]):([0-9]{1,5})$ ]] ||
				bad "--rate-limit: expected login|api|general=RATE:BURST (e.g. login=5r/m:5), got '$v'"
			printf -v "rate_${BASH_REMATCH[1]}" '%s' "${BASH_REMATCH[2]}"
			printf -v "burst_${BASH_REMATCH[1]}" '%s' "${BASH_REMATCH[3]}"
			;;
		esac
		shift
		;;
	--) shift; positional+=("$@"); break ;;
	-*) bad "unknown option '$1' (see --help)" ;;
	*) positional+=("$1") ;;
	esac
	shift
done
[ ${#positional[@]} -eq 2 ] || { usage >&2; exit 2; }
domain=${positional[0],,} email=${positional[1]}

# ---- validation: everything that reaches an nginx file matches a strict
# pattern first, so the sed substitution below cannot inject directives.
valid_hostname() {
	local h=$1 label
	[ ${#h} -ge 1 ] && [ ${#h} -le 253 ] || return 1
	[[ "$h" != .* && "$h" != *. && "$h" != *..* ]] || return 1
	local IFS=.
	for label in $h; do
		[[ "$label" =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]] || return 1
	done
}
valid_port() { [[ "$1" =~ ^[1-9][0-9]{0,4}$ ]] && [ "$1" -le 65535 ]; }
valid_path() { [[ "$1" =~ ^/[A-Za-z0-9/._-]*$ ]] && [[ "$1" != *..* ]]; }
check_path() { valid_path "$2" || bad "$1: expected an absolute path of [A-Za-z0-9/._-], got '$2'"; }

valid_hostname "$domain" || bad "DOMAIN: '$domain' is not a valid host name (RFC 1123)"
[[ "$email" =~ ^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$ ]] || bad "EMAIL: '$email' is not a valid address"
valid_port "$http_port" || bad "--http-port: expected 1..65535, got '$http_port'"
valid_port "$https_port" || bad "--https-port: expected 1..65535, got '$https_port'"
[ "$http_port" != "$https_port" ] || bad "--http-port and --https-port must differ"
[ -z "$acme_server" ] || [[ "$acme_server" =~ ^https://[A-Za-z0-9.:/_~%-]+$ ]] || bad "--server: expected an https:// URL, got '$acme_server'"
[ "$staging" -eq 0 ] || [ -z "$acme_server" ] || bad "--staging and --server exclude each other"
check_path --webroot "$webroot"
check_path --nginx-dir "$nginx_dir"
check_path --snippets-dir "$snippets_dir"
for o in certbot-dir:"$certbot_dir" nginx-prefix:"$nginx_prefix" nginx-conf:"$nginx_conf" \
	nginx-error-log:"$nginx_error_log" ca-bundle:"$ca_bundle" templates:"$templates" \
	listen-file:"$listen_file"; do
	[ -z "${o#*:}" ] || check_path "--${o%%:*}" "${o#*:}"
done
[ -z "$ca_bundle" ] || [ -r "$ca_bundle" ] || bad "--ca-bundle: cannot read '$ca_bundle'"
if [ -n "$listen_address" ]; then
	[[ "$listen_address" =~ ^([0-9]{1,3}(\.[0-9]{1,3}){3}|\[[0-9A-Fa-f:.]+\])$ ]] ||
		bad "--listen-address: expected an IPv4 address or [IPv6], got '$listen_address'"
fi
[ -z "$resolver" ] || [[ "$resolver" =~ ^[0-9A-Fa-f:.\[\]]+$ ]] || bad "--resolver: expected an address, got '$resolver'"

if [ -z "$templates" ]; then
	for d in "$SELF_DIR/../conf/nginx" "$SELF_DIR/../nginx" /usr/local/share/aapanel/nginx /usr/share/aapanel/nginx; do
		[ -f "$d/aapanel-https.conf.in" ] && { templates=$(cd "$d" && pwd); break; }
	done
	[ -n "$templates" ] || bad "cannot find the nginx templates (aapanel-https.conf.in); pass --templates DIR"
fi
for f in aapanel-http.conf.in aapanel-https.conf.in aapanel-common.conf.in fastcgi_params; do
	[ -r "$templates/$f" ] || bad "missing template $templates/$f"
done
renew_hook_src="$SELF_DIR/renew-hook.sh"
[ -r "$renew_hook_src" ] || bad "missing $renew_hook_src"

# ---- the panel's configuration
cfg_get() { # cfg_get GROUP KEY < config-show output
	awk -v g="$1" -v k="$2" '
		/^[a-z_]+ = \{/ { grp = $1; next }
		grp == g && $1 == k && $2 == "=" {
			v = $0; sub(/^[^=]*= */, "", v); sub(/;[ \t]*$/, "", v)
			gsub(/^"|"$/, "", v); sub(/L$/, "", v); print v; exit
		}'
}
if [ -z "$base_path" ] || [ -z "$socket" ] || [ -z "$static_dir" ] || [ -z "$max_upload" ] || [ -z "$read_timeout" ]; then
	acmd=("$aapanel_cmd")
	[ -z "$panel_profile" ] || acmd+=(--profile "$panel_profile")
	[ -z "$panel_config" ] || acmd+=(--config "$panel_config")
	[ -z "$panel_root" ] || acmd+=(--root "$panel_root")
	acmd+=(config show)
	say "reading the panel configuration: ${acmd[*]}"
	if ! show=$("${acmd[@]}" 2>&1); then
		printf '%s\n' "$show" >&2
		die "'${acmd[*]}' failed; fix the panel configuration or pass --panel-config (or the values as options)"
	fi
	[ -n "$base_path" ] || base_path=$(cfg_get panel base_path <<<"$show")
	[ -n "$socket" ] || socket=$(cfg_get server socket <<<"$show")
	[ -n "$static_dir" ] || static_dir=$(cfg_get paths static <<<"$show")
	[ -n "$max_upload" ] || max_upload=$(cfg_get limits max_upload <<<"$show")
	[ -n "$read_timeout" ] || read_timeout=$(cfg_get nginx fastcgi_read_timeout <<<"$show")
	[ -n "$events_socket" ] || events_socket=$(cfg_get monitor socket <<<"$show")
	[ -n "$listen_file" ] || listen_file=$(cfg_get nginx listen_file <<<"$show")
fi
# The panel-managed include: the panel's nginx.listen_file (production.cfg
# sets it), else where production.cfg puts it.
[ -n "$listen_file" ] || listen_file=/etc/nginx/aapanel/listen.conf
check_path "nginx.listen_file" "$listen_file"
# Beside it, the HTTP server's redirect (listen.conf → listen.redirect.conf),
# which aapanel-helper rewrites with the listen file when Settings moves the panel.
redirect_file="${listen_file%.conf}.redirect.conf"
# The sampler's stream socket: monitor.socket, by default beside server.socket.
[ -n "$events_socket" ] || events_socket="$(dirname "$socket")/aapanel-events.sock"
check_path "monitor.socket" "$events_socket"
check_path "panel.base_path" "$base_path"
check_path "server.socket" "$socket"
check_path "paths.static" "$static_dir"
[[ "$max_upload" =~ ^[1-9][0-9]{0,11}$ ]] || bad "limits.max_upload: expected a byte count, got '$max_upload'"
# The file manager's streamed uploads (files.max_upload), allowed on their two routes only;
# without the panel's configuration at hand, limits.max_upload.
files_max_upload=$(cfg_get files max_upload <<<"${show:-}")
[ -n "$files_max_upload" ] || files_max_upload=$max_upload
[[ "$files_max_upload" =~ ^[1-9][0-9]{0,11}$ ]] || bad "files.max_upload: expected a byte count, got '$files_max_upload'"
# A database's dump imported (databases.import_max), on its two routes only.
db_import_max=$(cfg_get databases import_max <<<"${show:-}")
[ -n "$db_import_max" ] || db_import_max=1073741824
[[ "$db_import_max" =~ ^[1-9][0-9]{0,11}$ ]] || bad "databases.import_max: expected a byte count, got '$db_import_max'"
# nginx allows 64 KiB more: the page's form wraps the dump in its boundaries and csrf field,
# and a dump over the limit is then refused by the panel itself (413, the form again, a
# failed row in the database's history) rather than by nginx's own error page.
db_import_body=$((db_import_max + 65536))
[[ "$read_timeout" =~ ^[1-9][0-9]{0,4}$ ]] || bad "nginx.fastcgi_read_timeout: expected seconds, got '$read_timeout'"

# An existing listen file is the panel's (Settings may have moved the
# panel since the first run): its port and address are the HTTPS ones.
listen_kept=0
if [ -f "$listen_file" ]; then
	hdr=$(head -1 "$listen_file")
	[[ "$hdr" =~ ^#\ aapanel-listen:\ address=([^ ]+)\ port=([0-9]+)\ base=([^ ]+)\ tls=([01])\ certificate=([^ ]+)$ ]] ||
		die "$listen_file is not a panel-managed include (no '# aapanel-listen:' first line); move it away and rerun"
	lf_addr=${BASH_REMATCH[1]} lf_port=${BASH_REMATCH[2]} lf_base=${BASH_REMATCH[3]}
	valid_port "$lf_port" || die "$listen_file: bad port '$lf_port'"
	if [ "$lf_addr" = "*" ]; then lf_listen=""
	elif [[ "$lf_addr" =~ ^[0-9.]+$ ]]; then lf_listen=$lf_addr
	elif [[ "$lf_addr" =~ ^[0-9A-Fa-f:.]+$ ]]; then lf_listen="[$lf_addr]"
	else die "$listen_file: bad address '$lf_addr'"; fi
	if [ "$lf_port" != "$https_port" ] || [ "$lf_listen" != "$listen_address" ]; then
		say "keeping $listen_file: the panel is on ${lf_listen:-every address} port $lf_port (not --https-port $https_port${listen_address:+ --listen-address $listen_address})"
	fi
	[ "${lf_base%/}" = "${base_path%/}" ] || [ "$lf_base" = "$base_path" ] ||
		say "warning: $listen_file has the entrance $lf_base, the panel's panel.base_path is $base_path"
	https_port=$lf_port listen_address=$lf_listen listen_kept=1
	[ "$http_port" != "$https_port" ] || bad "$listen_file has the HTTP port $http_port as the panel's port"
fi

# ---- derived values
cb_args=()
if [ -n "$certbot_dir" ]; then
	cb_config=$certbot_dir
	cb_args=(--config-dir "$certbot_dir" --work-dir "$certbot_dir/work" --logs-dir "$certbot_dir/logs")
else
	cb_config=/etc/letsencrypt
fi
live="$cb_config/live/$domain"
cert="$live/fullchain.pem" key="$live/privkey.pem" chain="$live/chain.pem"
site="$nginx_dir/aapanel.conf"
enabled_dir=""
if [ "$(basename "$nginx_dir")" = sites-available ] && [ -d "$(dirname "$nginx_dir")/sites-enabled" ]; then
	enabled_dir="$(dirname "$nginx_dir")/sites-enabled"
fi
params="$snippets_dir/aapanel-fastcgi_params.conf"
dhparam="$snippets_dir/aapanel-ffdhe2048.pem"
hook="$cb_config/renewal-hooks/deploy/aapanel-reload-nginx.sh"
base=${base_path%/}/
base_noslash=${base%/}
base_re=${base//./\\.}
if [ "$https_port" = 443 ]; then https_authority=$domain; else https_authority="$domain:$https_port"; fi
listen_prefix="" probe_addr=127.0.0.1
if [ -n "$listen_address" ]; then listen_prefix="$listen_address:" probe_addr=$listen_address; fi

NGINX=("$nginx_cmd")
[ -z "$nginx_prefix" ] || NGINX+=(-p "$nginx_prefix")
[ -z "$nginx_conf" ] || NGINX+=(-c "$nginx_conf")
[ -z "$nginx_error_log" ] || NGINX+=(-e "$nginx_error_log")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/setup-https.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# ---- helpers
# render TEMPLATE OUT FLAGS...: expand "#@include", keep or drop "#@if"
# blocks by FLAGS, fill @NAME@; refuse output with a placeholder left over.
render() {
	local tpl=$1 out=$2 flags=" ${*:3} "
	awk -v common="$templates/aapanel-common.conf.in" '
		BEGIN {
			while ((getline l < common) > 0) {
				if (l ~ /^#@section /) { split(l, a, " "); sec = a[2]; continue }
				if (l ~ /^#@end$/) { sec = ""; continue }
				if (sec != "") body[sec] = body[sec] l "\n"
			}
		}
		# Sections may include sections (not themselves).
		function expand(name, depth,   n, i, ls, f) {
			if (!(name in body) || depth > 4) { print "bad #@include " name > "/dev/stderr"; exit 1 }
			n = split(body[name], ls, "\n")
			for (i = 1; i < n; i++) {
				if (ls[i] ~ /^#@include /) { split(ls[i], f, " "); expand(f[2], depth + 1) }
				else print ls[i]
			}
		}
		/^#@include / { expand($2, 0); next }
		{ print }' "$tpl" |
		awk -v flags="$flags" '
		/^#@if / {
			saved[++d] = skip; n = $2; neg = sub(/^!/, "", n)
			has = index(flags, " " n " ") > 0
			if (neg) has = !has
			if (!has) skip = 1
			next
		}
		/^#@endif$/ { if (d == 0) exit 1; skip = saved[d--]; next }
		!skip { print }
		END { if (d != 0) exit 1 }' |
		sed -e "s|@DOMAIN@|$domain|g" -e "s|@HTTP_PORT@|$http_port|g" \
			-e "s|@HTTPS_PORT@|$https_port|g" -e "s|@HTTPS_AUTHORITY@|$https_authority|g" \
			-e "s|@LISTEN_PREFIX@|$listen_prefix|g" -e "s|@WEBROOT@|$webroot|g" \
			-e "s|@BASE_RE@|${base_re//\\/\\\\}|g" -e "s|@BASE_NOSLASH@|$base_noslash|g" \
			-e "s|@BASE@|$base|g" -e "s|@SOCKET@|$socket|g" -e "s|@STATIC@|$static_dir|g" \
			-e "s|@EVENTS_SOCKET@|$events_socket|g" -e "s|@LISTEN_FILE@|$listen_file|g" \
			-e "s|@REDIRECT_FILE@|$redirect_file|g" \
			-e "s|@MAX_UPLOAD@|$max_upload|g" -e "s|@READ_TIMEOUT@|$read_timeout|g" \
			-e "s|@FILES_MAX_UPLOAD@|$files_max_upload|g" \
			-e "s|@DB_IMPORT_MAX@|$db_import_body|g" \
			-e "s|@SNIPPETS@|$snippets_dir|g" -e "s|@CERT@|$cert|g" -e "s|@KEY@|$key|g" \
			-e "s|@CHAIN@|$chain|g" -e "s|@DHPARAM@|$dhparam|g" -e "s|@RESOLVER@|$resolver|g" \
			-e "s|@RATE_LOGIN@|$rate_login|g" -e "s|@BURST_LOGIN@|$burst_login|g" \
			-e "s|@RATE_API@|$rate_api|g" -e "s|@BURST_API@|$burst_api|g" \
			-e "s|@RATE_GENERAL@|$rate_general|g" -e "s|@BURST_GENERAL@|$burst_general|g" \
			>"$out"
	if grep -n -e '@[A-Z_]\+@' -e '^#@' "$out" >&2; then die "template $tpl: unfilled placeholder or directive (above)"; fi
}

# install_file SRC DEST MODE: write DEST only when its content differs.
# Sets $changed to 1 when it wrote (or would write, in a dry run).
changed=0
install_file() {
	local src=$1 dest=$2 mode=$3 tmp
	if [ -f "$dest" ] && cmp -s "$src" "$dest"; then
		say "unchanged $dest"
		return 0
	fi
	changed=1
	if [ "$dry_run" -eq 1 ]; then
		say "would write $dest"
		return 0
	fi
	mkdir -p "$(dirname "$dest")"
	tmp="$dest.tmp.$$"
	cp "$src" "$tmp"
	chmod "$mode" "$tmp"
	mv -f "$tmp" "$dest"
	say "wrote $dest"
}

# run CMD...: print it, and run it unless this is a dry run.
run() {
	printf '+ %s\n' "$*"
	[ "$dry_run" -eq 1 ] || "$@"
}

nginx_test() {
	local out
	printf '+ %s -t\n' "${NGINX[*]}"
	[ "$dry_run" -eq 0 ] || return 0
	if out=$("${NGINX[@]}" -t 2>&1); then
		return 0
	fi
	nginx_error=$(printf '%s\n' "$out" | grep -v 'test failed' | grep -E 'emerg|alert|crit|error' || printf '%s' "$out")
	return 1
}

nginx_reload() {
	local out
	printf '+ %s -s reload\n' "${NGINX[*]}"
	[ "$dry_run" -eq 0 ] || return 0
	out=$("${NGINX[@]}" -s reload 2>&1) ||
		die "nginx did not reload (is it running? start it, e.g. systemctl start nginx): $out"
}

# wait_http_challenge: the challenge location answers from this host.
wait_http_challenge() {
	local name token got="" url
	[ "$dry_run" -eq 0 ] || { say "would check http://$domain:$http_port/.well-known/acme-challenge/ from $probe_addr"; return 0; }
	command -v curl >/dev/null || { say "curl not found: not checking the challenge location"; sleep 1; return 0; }
	name="aapanel-probe-$$" token="probe-$RANDOM$RANDOM"
	mkdir -p "$webroot/.well-known/acme-challenge"
	printf '%s' "$token" >"$webroot/.well-known/acme-challenge/$name"
	url="http://$domain:$http_port/.well-known/acme-challenge/$name"
	for _ in $(seq 1 50); do
		got=$(curl -s --max-time 2 --resolve "$domain:$http_port:${probe_addr//[\[\]]/}" "$url" 2>/dev/null || true)
		[ "$got" = "$token" ] && break
		sleep 0.2
	done
	rm -f "$webroot/.well-known/acme-challenge/$name"
	[ "$got" = "$token" ] ||
		die "nginx does not serve $webroot/.well-known/acme-challenge/ at $url (can nginx's user read $webroot? does DNS point $domain here?)"
	say "the challenge location answers: $url"
}

cert_serial() { openssl x509 -noout -serial -in "$1" 2>/dev/null | sed 's/^serial=//'; }

# wait_https: nginx presents the certificate on disk (the reload took effect).
wait_https() {
	local want got=""
	[ "$dry_run" -eq 0 ] || return 0
	want=$(cert_serial "$cert")
	for _ in $(seq 1 50); do
		got=$(openssl s_client -connect "$probe_addr:$https_port" -servername "$domain" </dev/null 2>/dev/null |
			openssl x509 -noout -serial 2>/dev/null | sed 's/^serial=//' || true)
		[ "$got" = "$want" ] && { say "nginx serves the certificate (serial $want) on port $https_port"; return 0; }
		sleep 0.2
	done
	die "nginx does not serve the new certificate on $probe_addr:$https_port (got serial '${got:-none}', want $want)"
}

phase_of() {
	[ -f "$1" ] || return 0
	sed -n 's/^# aapanel-nginx-phase: \([0-9]\)$/\1/p' "$1" | head -1
}

# ---- common flags
flags=()
[ -n "$listen_address" ] || flags+=(listen_v6)
[ "$allow_http_panel" -eq 0 ] || flags+=(allow_http_panel)

[ "$dry_run" -eq 0 ] || say "dry run: nothing is changed"
say "domain $domain, HTTP port $http_port, HTTPS port $https_port, panel at $base (socket $socket)"

# ---- shared files
step "shared files: FastCGI parameters, DH parameters, ACME webroot"
install_file "$templates/fastcgi_params" "$params" 0644
openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out "$WORK/ffdhe2048.pem" 2>/dev/null ||
	die "openssl could not produce the ffdhe2048 parameters"
if [ -f "$dhparam" ]; then
	say "keeping existing $dhparam"
else
	install_file "$WORK/ffdhe2048.pem" "$dhparam" 0644
fi
if [ -d "$webroot" ]; then say "unchanged $webroot"; else run mkdir -p -m 0755 "$webroot"; fi

# ---- phase 1
step "phase 1: HTTP site for the ACME challenge"
render "$templates/aapanel-http.conf.in" "$WORK/phase1.conf" "${flags[@]}"
current_phase=$(phase_of "$site")
site_before=0
if [ -f "$site" ]; then cp "$site" "$WORK/before.conf"; site_before=1; fi
if [ "$current_phase" = 2 ] && [ -s "$cert" ]; then
	# A working HTTPS site also answers the challenges on port 80: keep it.
	say "phase 2 is installed; it serves the ACME location on port $http_port: keeping it for this step"
	phase1_changed=0
else
	changed=0
	install_file "$WORK/phase1.conf" "$site" 0644
	phase1_changed=$changed
fi
link_changed=0
if [ -n "$enabled_dir" ]; then
	if [ "$(readlink "$enabled_dir/aapanel.conf" 2>/dev/null)" = "$site" ]; then
		say "unchanged $enabled_dir/aapanel.conf -> $site"
	else
		run ln -sfn "$site" "$enabled_dir/aapanel.conf"
		link_changed=1
	fi
fi
if [ "$phase1_changed" -eq 1 ] || [ "$link_changed" -eq 1 ]; then
	if ! nginx_test; then
		# Put back what served before (if anything) so nginx keeps working.
		if [ "$site_before" -eq 1 ]; then cp "$WORK/before.conf" "$site"; else rm -f "$site"; fi
		[ "$link_changed" -eq 0 ] || [ "$site_before" -eq 1 ] || rm -f "$enabled_dir/aapanel.conf"
		printf '%s\n' "$nginx_error" >&2
		die "nginx rejected the phase 1 configuration (above); the previous configuration is back in place"
	fi
	nginx_reload
else
	say "nginx configuration unchanged: not reloading"
fi
wait_http_challenge

step "certificate for $domain (certbot certonly --webroot)"
cb=("$certbot_cmd" certonly --webroot -w "$webroot" -d "$domain" --cert-name "$domain"
	--agree-tos -m "$email" --no-eff-email -n --keep-until-expiring)
[ -z "$acme_server" ] || cb+=(--server "$acme_server")
[ "$staging" -eq 0 ] || cb+=(--staging)
cb+=("${cb_args[@]}")
serial_before=$(cert_serial "$cert" || true)
if [ -n "$ca_bundle" ]; then
	run env REQUESTS_CA_BUNDLE="$ca_bundle" "${cb[@]}" || die "certbot could not obtain the certificate (see its output above and $cb_config/logs or /var/log/letsencrypt)"
else
	run "${cb[@]}" || die "certbot could not obtain the certificate (see its output above and /var/log/letsencrypt)"
fi
if [ "$dry_run" -eq 0 ]; then
	if [ ! -s "$cert" ] || [ ! -s "$key" ]; then die "certbot finished but $cert / $key are missing"; fi
	serial_now=$(cert_serial "$cert")
	if [ "$serial_now" = "$serial_before" ]; then
		say "certificate unchanged (serial $serial_now, not yet due for renewal)"
	else
		say "new certificate (serial $serial_now)"
	fi
fi

# ---- renewal hook
step "renewal: certbot deploy hook that reloads nginx"
awk -v cmd="$nginx_cmd" -v prefix="$nginx_prefix" -v conf="$nginx_conf" -v elog="$nginx_error_log" '
	/^# --- settings/ { print; print "NGINX_CMD=" cmd; print "NGINX_PREFIX=" prefix
		print "NGINX_CONF=" conf; print "NGINX_ERROR_LOG=" elog; skip = 1; next }
	/^# --- end settings/ { skip = 0 }
	!skip { print }' "$renew_hook_src" >"$WORK/hook.sh"
install_file "$WORK/hook.sh" "$hook" 0755

# ---- phase 2
step "phase 2: HTTPS site"
ocsp_flag=()
if [ -s "$cert" ] && [ -n "$(openssl x509 -noout -ocsp_uri -in "$cert" 2>/dev/null)" ]; then
	[ -n "$resolver" ] || resolver=$(awk '$1 == "nameserver" { print $2; exit }' /etc/resolv.conf 2>/dev/null || true)
	if [ -n "$resolver" ] && [[ "$resolver" =~ ^[0-9A-Fa-f:.]+$ ]]; then
		[[ "$resolver" != *:* ]] || resolver="[$resolver]"
		ocsp_flag=(ocsp)
		say "the certificate names an OCSP responder: stapling on (resolver $resolver)"
	else
		say "the certificate names an OCSP responder but no resolver is known (--resolver): stapling off"
	fi
else
	say "the certificate names no OCSP responder: stapling off"
fi
render "$templates/aapanel-https.conf.in" "$WORK/phase2.conf" "${flags[@]}" https "${ocsp_flag[@]}"
# The listen file the HTTPS server block includes: the same text
# aapanel-helper renders from templates/nginx/listen.conf.
listen_changed=0
if [ "$listen_kept" -eq 1 ]; then
	say "keeping $listen_file (the panel's; Settings may change it)"
else
	lf_addr=${listen_address//[\[\]]/}
	{
		echo "# aapanel-listen: address=${lf_addr:-*} port=$https_port base=${base_noslash:-/} tls=1 certificate=$cert"
		echo "# The panel's listen lines and entrance, included by its nginx server block."
		echo "# Written by scripts/setup-https.sh; aapanel-helper (operation panel.listen)"
		echo "# rewrites it from templates/nginx/listen.conf when Settings changes them."
		if [ -n "$listen_address" ]; then
			echo "listen $listen_address:$https_port ssl http2;"
		else
			echo "listen $https_port ssl http2;"
			echo "listen [::]:$https_port ssl http2;"
		fi
		echo "set \$aapanel_base \"$base_noslash\";"
	} >"$WORK/listen.conf"
	changed=0
	install_file "$WORK/listen.conf" "$listen_file" 0644
	listen_changed=$changed
fi
# The redirect the HTTP server includes: the same text aapanel-helper renders
# from templates/nginx/redirect.conf (the port is the listen file's).
{
	echo "# aapanel-redirect: host=$domain port=$https_port"
	echo "# The HTTP server's redirect to the panel's HTTPS address, included by its"
	echo "# location /. Written by scripts/setup-https.sh; aapanel-helper (operation"
	echo "# panel.listen) rewrites it when Settings moves the panel."
	echo "return 301 https://$https_authority\$request_uri;"
} >"$WORK/redirect.conf"
[ -f "$redirect_file" ] && cp "$redirect_file" "$WORK/before-redirect.conf"
changed=0
install_file "$WORK/redirect.conf" "$redirect_file" 0644
redirect_changed=$changed
[ -f "$site" ] && cp "$site" "$WORK/before2.conf"
changed=0
install_file "$WORK/phase2.conf" "$site" 0644
if [ "$changed" -eq 1 ] || [ "$phase1_changed" -eq 1 ] || [ "$link_changed" -eq 1 ] || [ "$listen_changed" -eq 1 ] ||
	[ "$redirect_changed" -eq 1 ]; then
	if ! nginx_test; then
		cp "$WORK/before2.conf" "$site"
		# A listen file written just now goes too (nothing else includes it).
		[ "$listen_changed" -eq 0 ] || rm -f "$listen_file"
		if [ "$redirect_changed" -eq 1 ]; then
			if [ -f "$WORK/before-redirect.conf" ]; then cp "$WORK/before-redirect.conf" "$redirect_file"
			else rm -f "$redirect_file"; fi
		fi
		printf '%s\n' "$nginx_error" >&2
		say "nginx rejected the phase 2 (HTTPS) configuration: $(printf '%s' "$nginx_error" | head -1)"
		say "restored the previous configuration ($(basename "$site"), phase $(phase_of "$site")); it keeps serving"
		exit 3
	fi
	nginx_reload
else
	say "nginx configuration unchanged: not reloading"
fi
wait_https

# ---- the panel's origins: forms and sign-ins from https://DOMAIN are the
# panel's own from now on (panel.origins; without it they are refused).
step "panel origins: https://$https_authority"
pcmd=("$aapanel_cmd")
[ -z "$panel_profile" ] || pcmd+=(--profile "$panel_profile")
[ -z "$panel_config" ] || pcmd+=(--config "$panel_config")
[ -z "$panel_root" ] || pcmd+=(--root "$panel_root")
if [ "$no_origins" -eq 1 ]; then
	say "--no-origins: panel.origins left as it is (add https://$https_authority to it yourself)"
else
	if [ -z "$origins_file" ]; then
		if [ -n "$panel_config" ]; then
			origins_file="$(dirname "$panel_config")/profiles/${panel_profile:-production}.cfg"
		else
			origins_file=/etc/aapanel/profiles/${panel_profile:-production}.cfg
		fi
	fi
	[ -f "$origins_file" ] || die "--origins-file: $origins_file does not exist (pass the profile file, or --no-origins)"
	want="https://$https_authority"
	cur=$("${pcmd[@]}" config show 2>/dev/null | cfg_get panel origins || true)
	case " ${cur//,/ } " in
	*" $want "*) say "panel.origins already has $want: unchanged" ;;
	*)
		new=$(printf '%s' "${cur:+$cur, }$want")
		# Replace origins in the file's panel group, add it to the group, or
		# add the group; the rest of the file is kept as it is.
		awk -v v="$new" '
			/^panel[ \t]*[=:][ \t]*\{.*\};[ \t]*$/ && !done {   # the group on one line
				if (!sub(/origins[ \t]*[=:][ \t]*"[^"]*"[ \t]*;/, "origins = \"" v "\";"))
					sub(/\};[ \t]*$/, "origins = \"" v "\"; };")
				print; done = 1; next
			}
			/^panel[ \t]*[=:][ \t]*\{/ { print; inp = 1; next }
			inp && /^[ \t]*origins[ \t]*[=:]/ { print "  origins = \"" v "\";"; done = 1; next }
			inp && /^\};/ { if (!done) print "  origins = \"" v "\";"; done = 1; inp = 0 }
			{ print }
			END { if (!done) { print ""; print "panel = {"; print "  origins = \"" v "\";"; print "};" } }
		' "$origins_file" >"$WORK/origins.cfg"
		if [ "$dry_run" -eq 1 ]; then
			printf '+ panel.origins = "%s" in %s\n' "$new" "$origins_file"
		else
			cp -p "$origins_file" "$WORK/origins.before"
			cat "$WORK/origins.cfg" >"$origins_file"
			if ! out=$("${pcmd[@]}" config check 2>&1); then
				cat "$WORK/origins.before" >"$origins_file"
				printf '%s\n' "$out" >&2
				die "the panel refused panel.origins = \"$new\"; $origins_file is as it was"
			fi
			say "panel.origins = \"$new\" in $origins_file"
			if "${pcmd[@]}" reload >/dev/null 2>&1; then
				say "the panel reloaded with it"
			else
				say "the panel is not running here: it takes the new origins when it starts (or: systemctl reload aapanel)"
			fi
		fi
		;;
	esac
fi

step "done"
if [ "$dry_run" -eq 1 ]; then
	say "dry run finished; nothing was changed"
else
	say "the panel is at https://$https_authority$base"
	say "renewal: certbot's timer runs 'certbot renew'; $hook reloads nginx after each renewal"
fi
