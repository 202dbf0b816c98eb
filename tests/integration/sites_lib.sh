# shellcheck shell=bash
# Websites in an integration test (after lib.sh's it_setup): the helper on a
# temp socket with its sandbox $SB, the test's nginx including the sandbox's
# vhosts (sites on the test's own port, chosen by Host:), a php-fpm master
# whose pools are the sandbox's, and the processes stopped by PID at the end.
#
#   sites_setup [extra libconfig text]   config overlay + sandbox directories
#   sites_start_helper [NGINX_BINARY]    aapanel-helper (waits for a ping)
#   sites_start_php                      php-fpm (every installed version's first: PHP_VERSION)
#   sites_start_nginx                    it_start_nginx with the vhost directory
#   sites_stop_helper / sites_kill_helper
# Every process started here is stopped by sites_teardown (installed as the
# EXIT trap; it then runs lib.sh's it_teardown).
HELPER="$SRC/build/aapanel-helper"
SEND="$SRC/build/tests/helper_send"
HPID="" PHPPID="" SITES_PIDS=""
PHP_VERSION=$(ls /usr/sbin/php-fpm* 2>/dev/null | sed -n 's|^/usr/sbin/php-fpm\([0-9.]*\)$|\1|p' | sort -V | tail -1)

sites_setup() {
	HS="$T/var/run/helper.sock"
	SB="$T/var/sandbox"
	VHOSTS="$SB/etc/nginx/aapanel/sites"
	cat >> "$T/conf/profiles/test.cfg" <<CFG
helper = { socket = "$HS"; sandbox_root = "$SB"; timeout_ms = 5000; };
sites = { http_port = $PORT; listen_address = "127.0.0.1"; nginx_conf = "$T/nginx/nginx.conf";
          nginx_prefix = "$T/nginx"; php_fpm_conf = "$T/php/{version}/php-fpm.conf";
          php_fpm_pid = "$T/php/{version}/php-fpm.pid"; ${1:-system_users = false;} };
CFG
	# What the system has before any site: the vhost, pool, socket, log and web directories.
	mkdir -p "$VHOSTS" "$SB/run/php" "$SB/var/log/nginx" "$SB/var/www"
	[ -n "$PHP_VERSION" ] && mkdir -p "$SB/etc/php/$PHP_VERSION/fpm/pool.d"
	trap sites_teardown EXIT
}

sites_start_helper() {
	local bin=${1:-}
	sed -i 's|^sites = { nginx = "[^"]*"; |sites = { |' "$T/conf/profiles/test.cfg"
	[ -z "$bin" ] || sed -i "s|^sites = { |sites = { nginx = \"$bin\"; |" "$T/conf/profiles/test.cfg"
	"$HELPER" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" 2>>"$T/helper.log" &
	HPID=$!
	for _ in $(seq 1 200); do
		"$SEND" --call "$HS" helper.ping >/dev/null 2>&1 && return 0
		kill -0 "$HPID" 2>/dev/null || { echo "helper failed to start:"; tail "$T/helper.log"; return 1; }
		sleep 0.05
	done
	echo "helper never answered"; return 1
}

sites_stop_helper() {
	[ -n "$HPID" ] || return 0
	kill -TERM "$HPID" 2>/dev/null || true
	for _ in $(seq 1 100); do kill -0 "$HPID" 2>/dev/null || break; sleep 0.05; done
	kill -KILL "$HPID" 2>/dev/null || true
	wait "$HPID" 2>/dev/null || true
	HPID=""
}

sites_kill_helper() {
	[ -n "$HPID" ] || return 0
	kill -KILL "$HPID" 2>/dev/null || true
	{ wait "$HPID"; } 2>/dev/null || true
	HPID=""
}

# php-fpm of PHP_VERSION, in the foreground, as root (pools switch to their users):
# a base pool of its own, and the sandbox's pool directory included.
sites_start_php() {
	local v=$PHP_VERSION d="$T/php/$PHP_VERSION"
	[ -n "$v" ] || { echo "no php-fpm installed (scripts/install-deps.sh installs php-fpm)"; return 1; }
	mkdir -p "$d"
	cat > "$d/php-fpm.conf" <<FPM
[global]
pid = $d/php-fpm.pid
error_log = $d/php-fpm.log
daemonize = no
[aapanel-test-base]
user = nobody
group = nogroup
listen = $d/base.sock
pm = ondemand
pm.max_children = 1
include = $SB/etc/php/$v/fpm/pool.d/*.conf
FPM
	"/usr/sbin/php-fpm$v" -F -R -y "$d/php-fpm.conf" 2>>"$T/php-fpm.out" &
	PHPPID=$!
	for _ in $(seq 1 200); do
		[ -S "$d/base.sock" ] && [ -s "$d/php-fpm.pid" ] && return 0
		kill -0 "$PHPPID" 2>/dev/null || { echo "php-fpm failed to start:"; cat "$T/php-fpm.out" "$d/php-fpm.log" 2>/dev/null; return 1; }
		sleep 0.05
	done
	echo "php-fpm never started"; return 1
}

sites_start_nginx() {
	NGINX_SITES_DIR="$VHOSTS" it_start_nginx "$@"
}

# sites_bg PID...: more processes for the teardown to stop.
sites_bg() { SITES_PIDS="$SITES_PIDS $*"; }

sites_teardown() {
	local rc=$?
	for p in $SITES_PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $SITES_PIDS; do wait "$p" 2>/dev/null || true; done
	sites_stop_helper
	if [ -n "$PHPPID" ]; then
		kill -QUIT "$PHPPID" 2>/dev/null || true
		for _ in $(seq 1 100); do kill -0 "$PHPPID" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$PHPPID" 2>/dev/null || true
		wait "$PHPPID" 2>/dev/null || true
	fi
	if [ "$rc" -ne 0 ] || [ "$FAIL" -ne 0 ]; then
		echo "--- helper log (last 30 lines)"; tail -n 30 "$T/helper.log" 2>/dev/null || true
		echo "--- php-fpm log"; tail -n 10 "$T/php/$PHP_VERSION/php-fpm.log" 2>/dev/null || true
	fi
	set +e # lib.sh's teardown reads the status
	(exit "$rc")
	it_teardown
}

# api METHOD PATH [JSON]: through nginx with the test's Bearer token ($TOKEN); the
# body in $T/api.json, the status printed.
api() {
	local m=$1 p=$2
	shift 2
	curl -s -o "$T/api.json" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/json' ${1:+--data-binary "$1"} "$(url "/api/v1$p")"
}
# site_get HOST PATH [curl args]: the site as a visitor sees it (body in $T/site.out, status printed).
site_get() {
	local h=$1 p=$2
	shift 2
	curl -s -o "$T/site.out" -w '%{http_code}' -H "Host: $h" "$@" "$(url "$p")"
}
