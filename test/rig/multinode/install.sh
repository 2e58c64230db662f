#!/bin/bash
# Installs what the multi-node rig needs beyond the Pacemaker rig's packages (test/rig/pacemaker/install.sh):
# socat (forwards the OpenStack rig's ports into the node namespaces), iproute2, util-linux (nsenter, unshare),
# pacemaker-remote (pacemaker-remoted on the compute nodes).
# Idempotent; needs root when something is missing.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
. "$HERE/../lib.sh"
PACKAGES=(socat iproute2 util-linux pacemaker-remote)
mapfile -t missing < <(apt_missing "${PACKAGES[@]}")
if [ ${#missing[@]} -eq 0 ]; then
  echo "multinode rig install: all packages present (${PACKAGES[*]})"
  exit 0
fi
T0=$(date +%s)
apt_install "multinode rig install" "${MN_DIR:-/tmp/oha-multinode}/apt-install.log" "${missing[@]}"
echo "multinode rig install: done in $(($(date +%s) - T0)) s"
