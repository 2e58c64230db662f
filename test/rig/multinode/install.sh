#!/bin/bash
# Installs what the multi-node rig needs beyond the Pacemaker rig's packages (test/rig/pacemaker/install.sh):
# socat (forwards the OpenStack rig's ports into the node namespaces), iproute2, util-linux (nsenter, unshare),
# and pacemaker-remoted for the compute nodes.
# Debian 12's pacemaker-remote package Conflicts: pacemaker (a machine is a cluster node or a remote node, not both),
# but this rig plays both kinds of machine on one. So its daemon is not installed: the package is downloaded with
# apt-get download and unpacked (dpkg-deb -x) into $MN_REMOTE_DIR (default /var/lib/oha-multinode/pacemaker-remote);
# /usr/sbin/pacemaker-remoted there uses pacemaker's own libraries (same source version, checked).
# Idempotent; needs root when something is missing.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
. "$HERE/../lib.sh"
MN_REMOTE_DIR=${MN_REMOTE_DIR:-/var/lib/oha-multinode/pacemaker-remote}
PACKAGES=(socat iproute2 util-linux)
T0=$(date +%s)
mapfile -t missing < <(apt_missing "${PACKAGES[@]}")
if [ ${#missing[@]} -eq 0 ]; then
  echo "multinode rig install: all packages present (${PACKAGES[*]})"
else
  apt_install "multinode rig install" "${MN_DIR:-/tmp/oha-multinode}/apt-install.log" "${missing[@]}"
fi
want=$(dpkg-query -W -f='${Version}' pacemaker 2>/dev/null) || { echo "multinode rig install: pacemaker is not installed (test/rig/pacemaker/install.sh)" >&2; exit 1; }
if [ "$(cat "$MN_REMOTE_DIR/version" 2>/dev/null)" != "$want" ]; then
  need_root "multinode rig install" pacemaker-remote
  rm -rf "$MN_REMOTE_DIR"; mkdir -p "$MN_REMOTE_DIR/deb"
  ( cd "$MN_REMOTE_DIR/deb" && apt-get download -q "pacemaker-remote=$want" ) >/dev/null 2>&1 || \
    { apt-get update -q >/dev/null 2>&1; ( cd "$MN_REMOTE_DIR/deb" && apt-get download -q "pacemaker-remote=$want" ); } || \
    { echo "multinode rig install: could not download pacemaker-remote $want" >&2; exit 1; }
  dpkg-deb -x "$MN_REMOTE_DIR"/deb/pacemaker-remote_*.deb "$MN_REMOTE_DIR"
  [ -x "$MN_REMOTE_DIR/usr/sbin/pacemaker-remoted" ] || { echo "multinode rig install: no pacemaker-remoted in the package" >&2; exit 1; }
  echo "$want" >"$MN_REMOTE_DIR/version"
  echo "multinode rig install: pacemaker-remoted $want unpacked in $MN_REMOTE_DIR"
fi
echo "multinode rig install: done in $(($(date +%s) - T0)) s"
