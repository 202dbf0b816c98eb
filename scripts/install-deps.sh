#!/usr/bin/env bash
# Install every Debian 12 package the build, the panel and the tests need.
# Idempotent: installs only what is missing; safe to run again.
# Usage: scripts/install-deps.sh [--check]    (--check: exit 1 if anything is missing, install nothing)
#        scripts/install-deps.sh --runtime    (a server: build + run the panel, nginx, certbot;
#                                              no test servers, browser or benchmark tools)
set -euo pipefail

PACKAGES=(
	# build
	build-essential pkg-config gettext
	libfcgi-dev libconfig-dev libjson-c-dev libsqlite3-dev libsystemd-dev check
	# data layer (issue 3)
	libmariadb-dev libpq-dev mariadb-server postgresql
	# accounts (issue 4)
	libargon2-dev liboath-dev libqrencode-dev libssl-dev oathtool
	# the panel at run time and the tests
	nginx-light curl wrk jq procps sqlite3 iproute2 openssl systemd strace libfcgi-bin
	# the HTTPS test (Debian's pebble ACME server and certbot)
	pebble certbot
	# the browser test (Debian's Chromium driven by playwright-core)
	chromium
	# quality gates (mk/quality.mk): make valgrind, make coverage (gcovr),
	# make analyze (gcc -fanalyzer, clang + scan-build, flawfinder; python3)
	valgrind gcovr clang clang-tools flawfinder python3
)

if [ "${1:-}" = "--runtime" ]; then
	PACKAGES=(
		build-essential pkg-config gettext
		libfcgi-dev libconfig-dev libjson-c-dev libsqlite3-dev libsystemd-dev
		libmariadb-dev libpq-dev libargon2-dev liboath-dev libqrencode-dev libssl-dev
		nginx-light certbot openssl curl sqlite3 jq procps iproute2 systemd
	)
fi

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing+=("$p")
	fi
done

# Node.js for the browser test: any node >= 18 will do (Debian's, or one already installed).
if [ "${1:-}" != "--runtime" ]; then
	command -v node >/dev/null 2>&1 || missing+=(nodejs)
	command -v npm >/dev/null 2>&1 || missing+=(npm)
fi
browser_modules() {
	local dir
	dir="$(cd "$(dirname "$0")/.." && pwd)/tests/browser"
	[ -d "$dir/node_modules/playwright-core" ] && return 0
	[ "${1:-}" = "--check" ] && return 1
	echo "install-deps: npm ci in tests/browser (playwright-core)"
	npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
}

if [ "${#missing[@]}" -eq 0 ]; then
	[ "${1:-}" = "--runtime" ] && exit 0
	browser_modules "${1:-}" || { echo "missing: tests/browser/node_modules" >&2; exit 1; }
	exit 0
fi
if [ "${1:-}" = "--check" ]; then
	echo "missing packages: ${missing[*]}" >&2
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: need root to install: ${missing[*]}" >&2
	echo "run: sudo $0" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
[ "${1:-}" = "--runtime" ] || browser_modules
