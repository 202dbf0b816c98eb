#!/usr/bin/env bash
# Install every Debian 12 package the build, the panel and the tests need.
# Idempotent: installs only what is missing; safe to run again.
# Usage: scripts/install-deps.sh [--check]   (--check: exit 1 if anything is missing, install nothing)
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
	nginx-light curl wrk jq procps sqlite3 iproute2 openssl systemd
)

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
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
