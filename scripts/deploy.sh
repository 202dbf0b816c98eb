#!/usr/bin/env bash
# Deploy an aaPanel release with a health check and automatic rollback.
#
# usage: scripts/deploy.sh [OPTIONS] VERSION
#
# Layout under the deploy root (--root, default /opt/aapanel):
#   releases/VERSION/bin/aapanel         one directory per release: a
#   releases/VERSION/share/aapanel/      `make install DESTDIR=... PREFIX=/` tree
#   current  -> releases/VERSION         what runs (switched atomically)
#   previous -> releases/VERSION         what ran before (the rollback target)
#
# Steps: check the release (its binary runs --version and config check; free
# disk space), apply migrations with the new binary, switch `current`, restart
# the service, poll the health URL (HTTP 200 and "status":"ok", --tries times,
# --interval seconds apart). When the check fails: switch `current` back,
# restart, check again. A summary ends every run.
#
# Options:
#   --root DIR                  deploy root (default /opt/aapanel)
#   --config FILE               base configuration (default /etc/aapanel/aapanel.cfg)
#   --profile NAME              passed to aapanel (default: production with
#                               systemd, the panel's own detection with pidfile)
#   --service-manager systemd|pidfile
#                               systemd (default): `systemctl restart SERVICE`; a
#                               drop-in points ExecStart at ROOT/current.
#                               pidfile: SIGTERM the pid in --pidfile, wait, start
#                               ROOT/current/bin/aapanel ... serve in the background.
#   --service NAME              systemd service (default aapanel)
#   --pidfile FILE              pidfile mode: the master's pid file (required there)
#   --log FILE                  pidfile mode: the master's log (default ROOT/serve.log)
#   --user NAME                 run migrations and checks as NAME (default: www
#                               with systemd, the invoking user with pidfile)
#   --secret-key FILE           handed to those commands as the credential
#                               aapanel-secret (default /etc/aapanel/secret_key
#                               when it exists and --user is set)
#   --health-url URL            default http://127.0.0.1/healthz
#   --tries N                   health checks before giving up (default 15)
#   --interval SECONDS          between checks (default 2; decimals allowed)
#   --stop-timeout SECONDS      pidfile mode: wait for the old master (default 45)
#   --min-free-mb N             free space required on the deploy root (default 100)
#   --no-migrate                skip `aapanel db migrate`
#
# Exit: 0 deployed and healthy; 1 not deployed (the release failed its checks
# and nothing changed, or it was rolled back and the previous release is
# healthy); 2 usage error; 3 unhealthy with nothing to fall back on (no
# previous release, or the rollback failed its health check too).
# Functions run through act/trap/conditions look unreachable to shellcheck.
# shellcheck disable=SC2317
set -euo pipefail

PROG=deploy.sh
ROOT=/opt/aapanel CONFIG=/etc/aapanel/aapanel.cfg PROFILE="" MANAGER=systemd SERVICE=aapanel
PIDFILE="" LOG="" RUN_USER="" USER_SET=0 SECRET="" HEALTH_URL=http://127.0.0.1/healthz
TRIES=15 INTERVAL=2 STOP_TIMEOUT=45 MIN_FREE_MB=100 MIGRATE=1 VERSION=""

usage() { echo "$PROG: $*" >&2; echo "usage: scripts/deploy.sh [OPTIONS] VERSION (see the header of $0)" >&2; exit 2; }
say() { echo "deploy: $*"; }
need() { [ "$2" -ge 2 ] || usage "$1 needs a value"; }
while [ $# -gt 0 ]; do
	case "$1" in
	--root) need "$1" $#; ROOT=$2; shift 2 ;;
	--config) need "$1" $#; CONFIG=$2; shift 2 ;;
	--profile) need "$1" $#; PROFILE=$2; shift 2 ;;
	--service-manager) need "$1" $#; MANAGER=$2; shift 2 ;;
	--service) need "$1" $#; SERVICE=$2; shift 2 ;;
	--pidfile) need "$1" $#; PIDFILE=$2; shift 2 ;;
	--log) need "$1" $#; LOG=$2; shift 2 ;;
	--user) need "$1" $#; RUN_USER=$2; USER_SET=1; shift 2 ;;
	--secret-key) need "$1" $#; SECRET=$2; shift 2 ;;
	--health-url) need "$1" $#; HEALTH_URL=$2; shift 2 ;;
	--tries) need "$1" $#; TRIES=$2; shift 2 ;;
	--interval) need "$1" $#; INTERVAL=$2; shift 2 ;;
	--stop-timeout) need "$1" $#; STOP_TIMEOUT=$2; shift 2 ;;
	--min-free-mb) need "$1" $#; MIN_FREE_MB=$2; shift 2 ;;
	--no-migrate) MIGRATE=0; shift ;;
	-h | --help) sed -n '2,45p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) usage "unknown option '$1'" ;;
	*) [ -z "$VERSION" ] || usage "one VERSION only"; VERSION=$1; shift ;;
	esac
done

[ -n "$VERSION" ] || usage "missing VERSION"
[[ "$VERSION" =~ ^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$ ]] || usage "VERSION must be 1..64 of [A-Za-z0-9._+-]"
case "$ROOT" in /*) ROOT=${ROOT%/} ;; *) usage "--root must be an absolute path" ;; esac
case "$CONFIG" in /*) ;; *) usage "--config must be an absolute path" ;; esac
[[ "$TRIES" =~ ^[1-9][0-9]{0,3}$ ]] || usage "--tries must be 1..9999"
[[ "$INTERVAL" =~ ^[0-9]{1,4}(\.[0-9]{1,3})?$ ]] || usage "--interval must be seconds, e.g. 2 or 0.5"
[[ "$STOP_TIMEOUT" =~ ^[1-9][0-9]{0,4}$ ]] || usage "--stop-timeout must be whole seconds"
[[ "$MIN_FREE_MB" =~ ^[0-9]{1,9}$ ]] || usage "--min-free-mb must be a number"
[[ "$HEALTH_URL" =~ ^https?://[^[:space:]]+$ ]] || usage "--health-url must be an http(s) URL"
[[ -z "$PROFILE" || "$PROFILE" =~ ^[a-z]+$ ]] || usage "--profile must be a profile name"
case "$MANAGER" in
systemd)
	[[ "$SERVICE" =~ ^[A-Za-z0-9@._-]+$ ]] || usage "--service must be a unit name"
	[ "$USER_SET" -eq 1 ] || RUN_USER=www
	PROFILE=${PROFILE:-production}
	;;
pidfile)
	case "$PIDFILE" in /*) ;; *) usage "pidfile mode needs --pidfile /ABSOLUTE/FILE" ;; esac
	LOG=${LOG:-$ROOT/serve.log}
	;;
*) usage "--service-manager must be systemd or pidfile" ;;
esac
[ -d "$ROOT/releases/$VERSION" ] || usage "no release $ROOT/releases/$VERSION"
if [ -z "$SECRET" ] && [ -n "$RUN_USER" ] && [ -f /etc/aapanel/secret_key ]; then SECRET=/etc/aapanel/secret_key; fi

START_NS=$(date +%s%N)
NEW="releases/$VERSION"
OLD=""
[ -L "$ROOT/current" ] && OLD=$(readlink "$ROOT/current")
TARGET="" # the rollback target
if [ -n "$OLD" ] && [ "$OLD" != "$NEW" ]; then
	TARGET=$OLD
elif [ -L "$ROOT/previous" ] && [ "$(readlink "$ROOT/previous")" != "$NEW" ]; then
	TARGET=$(readlink "$ROOT/previous")
fi
HEALTH_LAST="not checked"

TMPS=()
cleanup() { local d; for d in "${TMPS[@]}"; do [ -n "$d" ] && rm -rf "$d"; done; }
trap cleanup EXIT

# summary RESULT EXIT: the closing lines every run prints, then exit.
summary() {
	local ms=$((($(date +%s%N) - START_NS) / 1000000))
	echo
	echo "deploy summary"
	echo "  result:   $1"
	echo "  current:  $(readlink "$ROOT/current" 2>/dev/null || echo none)"
	echo "  previous: $(readlink "$ROOT/previous" 2>/dev/null || echo none)"
	echo "  health:   $HEALTH_LAST"
	printf '  time:     %d.%03d s\n' $((ms / 1000)) $((ms % 1000))
	exit "$2"
}

# ------------------------------------------------------------ running aapanel
# The credential dance: like systemd, hand the key over as a private copy
# named aapanel-secret in $CREDENTIALS_DIRECTORY that only RUN_USER can read.
CRED=""
if [ -n "$SECRET" ]; then
	[ -r "$SECRET" ] || usage "--secret-key $SECRET is not readable"
	CRED=$(mktemp -d "${TMPDIR:-/tmp}/aapanel-deploy.XXXXXX")
	TMPS+=("$CRED")
	install -m 0600 "$SECRET" "$CRED/aapanel-secret"
	if [ -n "$RUN_USER" ]; then chown -R "$RUN_USER:" "$CRED"; fi
fi
# cli RELEASE ARGS...: that release's binary with its share directory.
cli() {
	local rel=$1
	shift
	local cmd=("$ROOT/$rel/bin/aapanel")
	[ -z "$PROFILE" ] || cmd+=(--profile "$PROFILE")
	cmd+=(--root "$ROOT/$rel/share/aapanel" --config "$CONFIG" "$@")
	local envv=()
	[ -z "$CRED" ] || envv=(CREDENTIALS_DIRECTORY="$CRED")
	if [ -n "$RUN_USER" ] && [ "$RUN_USER" != "$(id -un)" ]; then
		(umask 027 && setpriv --reuid="$RUN_USER" --regid="$(id -g "$RUN_USER")" --init-groups \
			env "${envv[@]}" "${cmd[@]}")
	else
		(umask 027 && env "${envv[@]}" "${cmd[@]}")
	fi
}

# ------------------------------------------------------------ service control
systemd_dropin() {
	local dir="/etc/systemd/system/$SERVICE.service.d" want
	want=$(printf '%s\n' "# Written by scripts/deploy.sh: run the release ROOT/current points at." \
		"[Service]" "ExecStart=" \
		"ExecStart=$ROOT/current/bin/aapanel${PROFILE:+ --profile $PROFILE} --root $ROOT/current/share/aapanel --config $CONFIG serve")
	if [ "$(cat "$dir/deploy.conf" 2>/dev/null)" != "$want" ]; then
		mkdir -p "$dir"
		printf '%s\n' "$want" > "$dir/deploy.conf"
		systemctl daemon-reload
		say "wrote $dir/deploy.conf (ExecStart from $ROOT/current)"
	fi
}
# alive PID: running and not a zombie (the master is not our child once the
# deploy that started it has exited; its new parent may reap it late).
alive() {
	local st
	st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null || true)
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
# pidfile_pid: the live aapanel master named in the pid file, or nothing.
pidfile_pid() {
	local pid
	pid=$(cat "$PIDFILE" 2>/dev/null || true)
	[[ "$pid" =~ ^[1-9][0-9]*$ ]] || return 0
	alive "$pid" || return 0
	# Never signal a recycled pid that is no longer our master.
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = aapanel ] || return 0
	echo "$pid"
}
stop_pidfile() {
	local pid i
	pid=$(pidfile_pid)
	[ -n "$pid" ] || return 0
	kill -TERM "$pid"
	for ((i = 0; i < STOP_TIMEOUT * 20; i++)); do
		alive "$pid" || { rm -f "$PIDFILE"; return 0; }
		sleep 0.05
	done
	say "master $pid still running after ${STOP_TIMEOUT}s: SIGKILL"
	kill -KILL "$pid" 2>/dev/null || true
	rm -f "$PIDFILE"
}
start_pidfile() {
	local cmd=("$ROOT/current/bin/aapanel")
	[ -z "$PROFILE" ] || cmd+=(--profile "$PROFILE")
	cmd+=(--root "$ROOT/current/share/aapanel" --config "$CONFIG" serve)
	# Detached from our output so callers reading it do not wait for the pool.
	(cd / && exec "${cmd[@]}") < /dev/null >> "$LOG" 2>&1 &
	echo "$!" > "$PIDFILE"
}
restart() {
	if [ "$MANAGER" = systemd ]; then
		systemd_dropin
		# The socket unit keeps listening meanwhile: requests queue, not fail.
		systemctl restart "$SERVICE.service"
	else
		stop_pidfile
		start_pidfile
	fi
}
# switch REL: point current at REL atomically (rename over the old link).
switch() {
	ln -sfn "$1" "$ROOT/.current.tmp.$$"
	mv -T "$ROOT/.current.tmp.$$" "$ROOT/current"
}

# healthy: poll HEALTH_URL until it answers 200 with "status":"ok".
healthy() {
	local i code body
	body=$(mktemp "${TMPDIR:-/tmp}/aapanel-health.XXXXXX")
	TMPS+=("$body")
	for ((i = 1; i <= TRIES; i++)); do
		sleep "$INTERVAL"
		code=$(curl -s -m 5 -o "$body" -w '%{http_code}' "$HEALTH_URL" || true)
		if [ "$code" = 200 ] && grep -Eq '"status"[[:space:]]*:[[:space:]]*"ok"' "$body"; then
			HEALTH_LAST="ok (HTTP 200 on try $i/$TRIES): $(head -c 300 "$body")"
			say "health: $HEALTH_LAST"
			return 0
		fi
		HEALTH_LAST="failing: HTTP $code on try $i/$TRIES"
		say "health: $HEALTH_LAST"
		if [ "$MANAGER" = pidfile ] && [ -z "$(pidfile_pid)" ]; then
			HEALTH_LAST="failing: the master exited (see $LOG)"
			say "health: $HEALTH_LAST"
			return 1
		fi
	done
	return 1
}

# ------------------------------------------------------------ 1. prerequisites
say "deploying $VERSION to $ROOT (${OLD:-nothing} is current)"
fail_checks() { say "$1"; HEALTH_LAST="not checked (nothing changed)"; summary "NOT DEPLOYED: $1" 1; }
[ -x "$ROOT/$NEW/bin/aapanel" ] || fail_checks "$ROOT/$NEW/bin/aapanel is missing or not executable"
[ -d "$ROOT/$NEW/share/aapanel/templates" ] || fail_checks "$ROOT/$NEW/share/aapanel/templates is missing"
ver=$(cli "$NEW" --version 2>&1) || fail_checks "$NEW/bin/aapanel --version failed: $ver"
say "release binary: $ver"
free_mb=$(df -Pm "$ROOT" | awk 'NR == 2 {print $4}')
[ "$free_mb" -ge "$MIN_FREE_MB" ] || fail_checks "only $free_mb MB free on $ROOT (need $MIN_FREE_MB)"
out=$(cli "$NEW" config check 2>&1) || fail_checks "config check with the new release failed: $out"
say "config check: ok"

# ------------------------------------------------------------ 2. migrations
if [ "$MIGRATE" -eq 1 ]; then
	# Forward only: a rollback keeps the migrated schema, so migrations must
	# stay readable by the previous release (add, don't drop or rename).
	out=$(cli "$NEW" db migrate 2>&1) || fail_checks "db migrate failed: $out"
	say "migrations: $(printf '%s\n' "$out" | grep -v '^[0-9]\{4\}-' | tail -n 1)"
fi

# ------------------------------------------------------------ 3. switch, restart, check
switch "$NEW"
say "current -> $NEW; restarting ($MANAGER)"
if restart && healthy; then
	if [ -n "$OLD" ] && [ "$OLD" != "$NEW" ]; then
		ln -sfn "$OLD" "$ROOT/.previous.tmp.$$"
		mv -T "$ROOT/.previous.tmp.$$" "$ROOT/previous"
	fi
	summary "DEPLOYED $VERSION" 0
fi

# ------------------------------------------------------------ 4. rollback
if [ -z "$TARGET" ]; then
	summary "FAILED: $VERSION is unhealthy and there is no previous release to roll back to" 3
fi
failed_health=$HEALTH_LAST
say "$VERSION is unhealthy ($failed_health): rolling back to $TARGET"
switch "$TARGET"
if restart && healthy; then
	HEALTH_LAST="$HEALTH_LAST; $VERSION was $failed_health"
	summary "ROLLED BACK to ${TARGET#releases/} ($VERSION failed its health check)" 1
fi
summary "FAILED: $VERSION and the rollback to ${TARGET#releases/} are both unhealthy" 3
