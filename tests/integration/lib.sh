# shellcheck shell=bash
# Integration test helpers: a private pool + nginx in a temp dir on loopback.
# Sourced by tests/integration/t_*.sh. Every process started here is stopped
# by it_teardown (registered on EXIT), by PID.
set -euo pipefail
SRC=${AAPANEL_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
. "$(dirname "${BASH_SOURCE[0]}")/signin.sh"
BIN="$SRC/build/aapanel"
T="" POOL_PID="" NGINX_PID="" HELPER_PID="" PORT=""
PASS=0 FAIL=0

it_free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 30000))
		ss -Htan "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return 0; }
	done
	echo "no free port" >&2
	return 1
}

# A panel that manages its own nginx (the Settings screen may move it): the
# settings layer and the include it_start_nginx writes. Pass it to it_setup
# (with the test's other groups; @T@ becomes the test's directory).
IT_MANAGED='panel = { settings_file = "@T@/var/sandbox/etc/aapanel/settings.cfg"; };
nginx = { listen_file = "@T@/var/sandbox/etc/nginx/listen.conf"; prefix = "@T@/nginx"; conf = "@T@/nginx/nginx.conf"; };'

# it_setup [extra libconfig text for the test profile overlay; @T@ = the test's directory]
it_setup() {
	local extra=${1:-}
	T=$(mktemp -d /tmp/aapanel-it.XXXXXX)
	mkdir -p "$T/conf/profiles" "$T/var/run" "$T/nginx"
	cp "$SRC/conf/aapanel.cfg" "$T/conf/aapanel.cfg"
	cat > "$T/conf/profiles/test.cfg" <<CFG
paths = { var_dir = "$T/var"; run_dir = "$T/var/run"; log_dir = "$T/var/log"; };
server = { socket = "$T/var/run/aapanel.sock"; };
db = { dsn = "sqlite:///$T/var/aapanel.db"; };
log = { level = "info"; };
${extra//@T@/$T}
CFG
	PORT=$(it_free_port)
	trap it_teardown EXIT
}

it_cfg() { echo "$T/conf/aapanel.cfg"; }

it_start_pool() {
	"$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" serve 2>>"$T/pool.log" &
	POOL_PID=$!
	for _ in $(seq 1 200); do
		[ -S "$T/var/run/aapanel.sock" ] && return 0
		kill -0 "$POOL_PID" 2>/dev/null || { echo "pool failed to start:"; cat "$T/pool.log"; return 1; }
		sleep 0.05
	done
	echo "pool socket never appeared"; cat "$T/pool.log"; return 1
}

it_start_nginx() {
	LISTEN_FILE="$T/var/sandbox/etc/nginx/listen.conf" \
		"$SRC/scripts/nginx-conf.sh" "$T/nginx" "$PORT" "$T/var/run/aapanel.sock" "$SRC/static" "${1:-2m}" "${2:-60}" "${3:-/}"
	nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -e "$T/nginx/error.log" &
	NGINX_PID=$!
	for _ in $(seq 1 200); do
		curl -s -o /dev/null "http://127.0.0.1:$PORT/" && return 0
		kill -0 "$NGINX_PID" 2>/dev/null || { echo "nginx failed to start:"; cat "$T/nginx/error.log"; return 1; }
		sleep 0.05
	done
	echo "nginx never answered"; return 1
}

# it_start_helper: the privileged helper, as you, on the socket and sandbox the
# test's profile names (helper.socket, helper.sandbox_root: set them beneath $T).
it_start_helper() {
	local sock=$1
	"$SRC/build/aapanel-helper" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" 2>>"$T/helper.log" &
	HELPER_PID=$!
	for _ in $(seq 1 200); do
		[ -S "$sock" ] && return 0
		kill -0 "$HELPER_PID" 2>/dev/null || { echo "helper failed to start:"; cat "$T/helper.log"; return 1; }
		sleep 0.05
	done
	echo "helper socket never appeared"; cat "$T/helper.log"; return 1
}

it_teardown() {
	local rc=$?
	trap - EXIT
	[ -n "$NGINX_PID" ] && kill -QUIT "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null || true
	[ -n "$HELPER_PID" ] && kill -TERM "$HELPER_PID" 2>/dev/null && wait "$HELPER_PID" 2>/dev/null || true
	if [ -n "$POOL_PID" ] && kill -0 "$POOL_PID" 2>/dev/null; then
		kill -TERM "$POOL_PID" 2>/dev/null || true
		for _ in $(seq 1 100); do kill -0 "$POOL_PID" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$POOL_PID" 2>/dev/null || true
		wait "$POOL_PID" 2>/dev/null || true
	fi
	if [ "$rc" -ne 0 ] || [ "$FAIL" -ne 0 ]; then
		echo "--- pool log (last 30 lines)"; tail -n 30 "$T/pool.log" 2>/dev/null || true
		echo "--- nginx error log"; tail -n 10 "$T/nginx/error.log" 2>/dev/null || true
	fi
	# Network namespaces the test made (ip netns add), by name.
	for ns in ${IT_NETNS:-}; do ip netns del "$ns" 2>/dev/null || true; done
	[ -n "$T" ] && rm -rf "$T"
	[ "$FAIL" -eq 0 ] && [ "$rc" -eq 0 ] || exit 1
	exit 0
}

ok() { PASS=$((PASS + 1)); echo "  ok   $*"; }
not_ok() { FAIL=$((FAIL + 1)); echo "  FAIL $*"; }
# check NAME COMMAND...: passes when COMMAND exits 0
check() { local n=$1; shift; if "$@"; then ok "$n"; else not_ok "$n"; fi; }

url() { echo "http://127.0.0.1:$PORT$1"; }
# status_of METHOD PATH [curl args...] → prints the HTTP status
status_of() { local m=$1 p=$2; shift 2; curl -s -o /dev/null -w '%{http_code}' -X "$m" "$@" "$(url "$p")"; }

# Worker pids of the pool, from the scoreboard.
worker_pids() {
	"$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" status | awk 'NR>2 && $1 ~ /^[0-9]+$/ {print $1}'
}

it_summary() { echo "$(basename "$0"): $PASS passed, $FAIL failed"; }
# jqe FILTER FILE: passes when the filter is true (quietly)
jqe() { jq -e "$@" >/dev/null; }
# quiet COMMAND...: run it with its output in $T/quiet.log (shown on failure by the caller's log)
quiet() { "$@" > "$T/quiet.log" 2>&1; }

# it_user NAME ROLE PASSWORD: create a panel user through the CLI.
it_user() {
	printf '%s\n' "$3" | "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" user add "$1" --role "$2" --password-stdin >/dev/null
}
# it_login JAR USER PASSWORD [BASE]: sign in like a browser (login form, double-submit token);
# prints the HTTP status of the POST. Cookies land in JAR.
it_login() { signin "http://127.0.0.1:$PORT" "$1" "$2" "$3" "${4:-}"; }
# csrf_of JAR [BASE]: the session's CSRF token, read from the account page.
csrf_of() { form_token "$1" "$(url "${2:-}/account")"; }
# login_token JAR [PATH]: the sign-in form's token (PATH /login or /login/2fa), cookies in JAR.
login_token() { form_token "$1" "$(url "${2:-/login}")"; }
