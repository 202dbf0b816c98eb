#!/usr/bin/env bash
# Deploy this checkout's build to a server over SSH: pack a release, upload
# it, unpack it as ROOT/releases/VERSION there and run that release's own
# scripts/deploy.sh (health check, automatic rollback, summary). Used by
# .github/workflows/deploy.yml; works the same from an operator's machine.
#
# usage: scripts/deploy-ssh.sh [OPTIONS] --host HOST VERSION [-- DEPLOY_OPTIONS...]
#
# Options:
#   --host HOST            the server (name or address; required)
#   --user NAME            SSH user (default root). Any other user runs the
#                          remote part through `sudo -n` (passwordless sudo)
#   --port N               SSH port (default 22)
#   --identity FILE        private key (default: ssh's own choice)
#   --known-hosts FILE     the server's host key(s); ssh is run with
#                          StrictHostKeyChecking=yes, so an unknown or changed
#                          key stops the deploy (default: ssh's own file)
#   --root DIR             deploy root on the server (default /opt/aapanel)
#   --tarball FILE         keep the packed release here too (default: a temp file)
# Everything after `--` is handed to deploy.sh on the server (e.g.
# --health-url, --service, --tries); those words may only use the
# characters A-Z a-z 0-9 @ % + = : , . / _ - (they cross a remote shell).
#
# The release is `make install DESTDIR=... PREFIX=/` (bin/aapanel,
# share/aapanel/) plus share/aapanel/scripts/deploy.sh, so the server runs the
# deploy script of the release it deploys. VERSION already current on the
# server is redeployed as it is (restart and health check; the upload is
# dropped). Exit status: deploy.sh's (0 deployed, 1 not deployed or rolled
# back, 2 usage, 3 unhealthy with nothing to fall back on); 2 for this
# script's own usage errors, 4 when the upload or SSH itself failed.
set -euo pipefail

PROG=deploy-ssh.sh
SRC=$(cd "$(dirname "$0")/.." && pwd)
HOST="" SSH_USER=root PORT=22 IDENTITY="" KNOWN="" ROOT=/opt/aapanel TARBALL="" VERSION=""
usage() { echo "$PROG: $*" >&2; echo "usage: scripts/deploy-ssh.sh [OPTIONS] --host HOST VERSION [-- DEPLOY_OPTIONS...] (see $0)" >&2; exit 2; }
need() { [ "$2" -ge 2 ] || usage "$1 needs a value"; }
while [ $# -gt 0 ]; do
	case "$1" in
	--host) need "$1" $#; HOST=$2; shift 2 ;;
	--user) need "$1" $#; SSH_USER=$2; shift 2 ;;
	--port) need "$1" $#; PORT=$2; shift 2 ;;
	--identity) need "$1" $#; IDENTITY=$2; shift 2 ;;
	--known-hosts) need "$1" $#; KNOWN=$2; shift 2 ;;
	--root) need "$1" $#; ROOT=$2; shift 2 ;;
	--tarball) need "$1" $#; TARBALL=$2; shift 2 ;;
	--) shift; break ;;
	-h | --help) sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) usage "unknown option '$1'" ;;
	*) [ -z "$VERSION" ] || usage "one VERSION only"; VERSION=$1; shift ;;
	esac
done
DEPLOY_ARGS=("$@")

[ -n "$HOST" ] || usage "missing --host"
[[ "$HOST" =~ ^[A-Za-z0-9]([A-Za-z0-9.:-]{0,252})$ ]] || usage "--host must be a host name or address"
[[ "$SSH_USER" =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] || usage "--user must be a user name"
[[ "$PORT" =~ ^[1-9][0-9]{0,4}$ ]] && [ "$PORT" -le 65535 ] || usage "--port must be 1..65535"
[[ "$ROOT" =~ ^/[A-Za-z0-9._/-]*$ ]] && [[ "$ROOT" != *..* ]] || usage "--root must be an absolute path of [A-Za-z0-9._/-]"
[ -n "$VERSION" ] || usage "missing VERSION"
[[ "$VERSION" =~ ^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$ ]] || usage "VERSION must be 1..64 of [A-Za-z0-9._+-]"
for a in "${DEPLOY_ARGS[@]}"; do
	[[ "$a" =~ ^[A-Za-z0-9@%+=:,./_-]+$ ]] || usage "deploy.sh option '$a' has a character that cannot cross the remote shell"
done
[ -z "$IDENTITY" ] || [ -r "$IDENTITY" ] || usage "--identity $IDENTITY is not readable"
[ -z "$KNOWN" ] || [ -r "$KNOWN" ] || usage "--known-hosts $KNOWN is not readable"

SSH=(ssh -p "$PORT" -o BatchMode=yes -o StrictHostKeyChecking=yes -o ConnectTimeout=20 -o ServerAliveInterval=15)
[ -z "$IDENTITY" ] || SSH+=(-i "$IDENTITY" -o IdentitiesOnly=yes)
[ -z "$KNOWN" ] || SSH+=(-o UserKnownHostsFile="$KNOWN")
SSH+=("$SSH_USER@$HOST")
SUDO=""
[ "$SSH_USER" = root ] || SUDO="sudo -n"

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/aapanel-release.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT

# 1. Pack: the same tree docs/deploy.md makes by hand, plus deploy.sh.
echo "deploy-ssh: packing release $VERSION"
make -s -C "$SRC" install DESTDIR="$STAGE/tree" PREFIX=/ > "$STAGE/make.log" 2>&1 ||
	{ cat "$STAGE/make.log" >&2; echo "deploy-ssh: make install failed" >&2; exit 4; }
install -D -m 0755 "$SRC/scripts/deploy.sh" "$STAGE/tree/share/aapanel/scripts/deploy.sh"
tar -C "$STAGE/tree" -czf "$STAGE/release.tar.gz" bin share
[ -z "$TARBALL" ] || cp "$STAGE/release.tar.gz" "$TARBALL"
echo "deploy-ssh: $(du -h "$STAGE/release.tar.gz" | cut -f1) release; uploading to $SSH_USER@$HOST:$PORT"

# 2. Upload into a private temporary directory on the server.
rtmp=$("${SSH[@]}" mktemp -d /tmp/aapanel-deploy.XXXXXX) || { echo "deploy-ssh: ssh to $HOST failed" >&2; exit 4; }
[[ "$rtmp" =~ ^/tmp/aapanel-deploy\.[A-Za-z0-9]+$ ]] || { echo "deploy-ssh: unexpected temp dir '$rtmp' on $HOST" >&2; exit 4; }
"${SSH[@]}" "cat > $rtmp/release.tar.gz" < "$STAGE/release.tar.gz" ||
	{ echo "deploy-ssh: upload to $HOST failed" >&2; exit 4; }

# 3. On the server, as root: unpack beside the other releases, then exec
# the release's deploy.sh. Its exit status is ours.
set +e
"${SSH[@]}" "$SUDO bash -s -- $rtmp $ROOT $VERSION ${DEPLOY_ARGS[*]}" << 'REMOTE'
set -euo pipefail
# In a function: bash reads all of it before running any of it, so nothing
# run here can swallow the rest of the script from stdin.
main() {
	tmp=$1 root=$2 version=$3
	shift 3
	rel="$root/releases/$version" up="$root/releases/.upload-$version"
	trap 'rm -rf "$tmp" "$up"' EXIT
	mkdir -p "$root/releases"
	rm -rf "$up"
	mkdir -m 0755 "$up"
	tar -xzf "$tmp/release.tar.gz" -C "$up" --no-same-owner
	if [ ! -x "$up/bin/aapanel" ] || [ ! -x "$up/share/aapanel/scripts/deploy.sh" ]; then
		echo "deploy-ssh: the upload is not a release tree" >&2
		exit 2
	fi
	if [ "$(readlink "$root/current" 2>/dev/null)" = "releases/$version" ]; then
		echo "deploy-ssh: $version is current on $(hostname): redeploying it as it is"
	else
		rm -rf "$rel"
		mv -T "$up" "$rel"
	fi
	rm -rf "$tmp" "$up"
	trap - EXIT
	exec "$rel/share/aapanel/scripts/deploy.sh" --root "$root" "$@" "$version"
}
main "$@"
REMOTE
rc=$?
set -e
# ssh itself fails with 255: nothing (or not everything) ran.
[ "$rc" -ne 255 ] || { echo "deploy-ssh: ssh to $HOST failed during the deploy" >&2; exit 4; }
exit "$rc"
