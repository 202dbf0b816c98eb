#!/usr/bin/env bash
# Install every Debian 12 package the build, the panel and the tests need.
# Idempotent: installs only what is missing; safe to run again.
# Usage: scripts/install-deps.sh [--check]           everything `make check` needs
#        scripts/install-deps.sh --runtime [--check] a server: build and run the panel, nginx,
#                                                    certbot (no test servers, browser, bench tools)
#        scripts/install-deps.sh --run [--check]     `make run` on a workstation: the runtime set,
#                                                    nginx installed without starting Debian's
#                                                    service (make run starts its own)
# --check: exit 1 if anything is missing, install nothing.
set -euo pipefail

mode=all check=0
for arg in "$@"; do
	case $arg in
	--check) check=1 ;;
	--runtime) mode=runtime ;;
	--run) mode=run ;;
	*) echo "install-deps: unknown option $arg" >&2; exit 2 ;;
	esac
done

PACKAGES=(
	# build
	build-essential pkg-config gettext
	libfcgi-dev libconfig-dev libjson-c-dev libsqlite3-dev libsystemd-dev check
	# monitoring (issue 14): alert e-mail and webhooks
	libcurl4-openssl-dev
	# data layer (issue 3)
	libmariadb-dev libpq-dev mariadb-server postgresql
	# accounts (issue 4)
	libargon2-dev liboath-dev libqrencode-dev libssl-dev oathtool
	# the panel at run time and the tests
	nginx-light curl wrk jq procps sqlite3 iproute2 openssl systemd strace libfcgi-bin
	# files (issue 16): archives with libarchive in the helper; t_files.sh identifies them with file
	libarchive-dev file
	# logs (issue 16): .gz rotations read with zlib in the worker
	zlib1g-dev
	# websites (issue 12): PHP sites get their own PHP-FPM pool; the tests
	# start their own php-fpm master (the Debian service is held back)
	php-fpm
	# databases (issue 15): the sites' PHP reaches the databases the panel makes; the tests
	# start their own mariadbd and postgres and log in with the generated credentials
	php-mysql php-pgsql mariadb-client postgresql-client
	# backups (issue 18): restic run by the helper; the test starts its own sshd (SFTP)
	restic openssh-server openssh-client
	# their import and export: the servers' own clients (above), gzip in the helper with zlib
	zlib1g-dev
	# the HTTPS test (Debian's pebble ACME server and certbot)
	pebble certbot
	# the firewall (issue 17): nftables through libnftables; the tests use
	# network namespaces with a veth pair (iproute2) and python3 listeners
	libnftables-dev nftables
	# the browser test (Debian's Chromium driven by playwright-core)
	chromium
	# scheduled tasks (issue 17): the system's cron daemon (t_tasks runs its own,
	# in a mount namespace it creates with util-linux's unshare)
	cron
	# quality gates (mk/quality.mk): make valgrind, make coverage (gcovr),
	# make analyze (gcc -fanalyzer, clang + scan-build, flawfinder; python3)
	valgrind gcovr clang clang-tools flawfinder python3
)

# Test servers: the tests start their own instances on loopback, so on a
# developer's machine the Debian services these packages bring (nginx on
# port 80, MariaDB, PostgreSQL) must not start when they are installed.
TEST_SERVERS=(nginx-light mariadb-server postgresql php-fpm)

if [ "$mode" != all ]; then
	# A server's nginx is the real one; make run starts its own.
	if [ "$mode" = run ]; then TEST_SERVERS=(nginx-light php-fpm); else TEST_SERVERS=(); fi
	PACKAGES=(
		build-essential pkg-config gettext
		libfcgi-dev libconfig-dev libjson-c-dev libsqlite3-dev libsystemd-dev
		libmariadb-dev libpq-dev libargon2-dev liboath-dev libqrencode-dev libssl-dev
		libcurl4-openssl-dev libcurl4 libarchive-dev libnftables-dev nftables zlib1g-dev
		nginx-light certbot openssl curl sqlite3 jq procps iproute2 systemd php-fpm
		cron zlib1g-dev mariadb-client postgresql-client
	)
fi

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing+=("$p")
	fi
done

# Node.js for the browser test: any node >= 18 will do (Debian's, or one already installed).
if [ "$mode" = all ]; then
	command -v node >/dev/null 2>&1 || missing+=(nodejs)
	command -v npm >/dev/null 2>&1 || missing+=(npm)
fi
# The npm packages of the browser test (tests/browser) and of the API
# contract test (tests/api), each pinned in its lock file.
BROWSER_NPM=(playwright-core axe-core)
API_NPM=(@apidevtools/swagger-parser ajv ajv-formats)
S3_NPM=(s3rver) # the backups test's S3 endpoint (tests/s3)
npm_dir() { # DIR MODULE...: npm ci in tests/DIR unless every module is there
	local dir m have=1
	dir="$(cd "$(dirname "$0")/.." && pwd)/tests/$1"
	shift
	for m in "$@"; do
		[ -d "$dir/node_modules/$m" ] || have=0
	done
	[ "$have" -eq 1 ] && return 0
	[ "$check" -eq 1 ] && return 1
	echo "install-deps: npm ci in tests/$(basename "$dir") ($*)"
	npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
}
browser_modules() {
	npm_dir browser "${BROWSER_NPM[@]}" || { echo "missing: tests/browser/node_modules" >&2; return 1; }
	npm_dir api "${API_NPM[@]}" || { echo "missing: tests/api/node_modules" >&2; return 1; }
	npm_dir s3 "${S3_NPM[@]}" || { echo "missing: tests/s3/node_modules" >&2; return 1; }
}

if [ "${#missing[@]}" -eq 0 ]; then
	[ "$mode" = all ] || exit 0
	browser_modules || exit 1
	exit 0
fi
if [ "$check" -eq 1 ]; then
	echo "missing packages: ${missing[*]}" >&2
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: need root to install: ${missing[*]}" >&2
	echo "run: sudo $0" >&2
	exit 1
fi
# Split what is missing: the test servers are installed on their own, with
# their services held back.
servers=() others=()
for p in "${missing[@]}"; do
	case " ${TEST_SERVERS[*]} " in
	*" $p "*) servers+=("$p") ;;
	*) others+=("$p") ;;
	esac
done

# Debian's maintainer scripts start services through invoke-rc.d and
# deb-systemd-invoke, which ask /usr/sbin/policy-rc.d first; 101 means
# "action forbidden". It exists only while the test servers are installed
# (removed afterwards, also on failure or interruption); one that was already
# there (a container image's, an administrator's) is left as it is.
POLICY=/usr/sbin/policy-rc.d
policy_created=0
policy_remove() {
	if [ "$policy_created" -eq 1 ]; then
		rm -f "$POLICY"
		policy_created=0
	fi
}
trap policy_remove EXIT
trap 'policy_remove; exit 130' INT
trap 'policy_remove; exit 143' TERM
install_without_services() {
	if [ -e "$POLICY" ]; then
		echo "install-deps: $POLICY exists already; left as it is"
	else
		printf '#!/bin/sh\n# scripts/install-deps.sh: no service starts while test servers are installed.\nexit 101\n' > "$POLICY"
		chmod 0755 "$POLICY"
		policy_created=1
	fi
	local rc=0
	apt-get install -y -qq --no-install-recommends "$@" || rc=$?
	policy_remove
	return "$rc"
}

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
[ "${#others[@]}" -eq 0 ] || apt-get install -y -qq --no-install-recommends "${others[@]}"
if [ "${#servers[@]}" -gt 0 ]; then
	echo "install-deps: installing the test servers ${servers[*]} without starting their services"
	install_without_services "${servers[@]}"
fi
[ "$mode" = all ] && browser_modules
exit 0
