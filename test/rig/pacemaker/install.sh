#!/bin/bash
# Installs what the Pacemaker test rig needs, with apt-get, only when something is missing (idempotent).
#   bash test/rig/pacemaker/install.sh
# Needs root. Log: $RIG_DIR/apt-install.log (its tail is shown on failure).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=env.sh
. "$HERE/env.sh"

PACKAGES=(pacemaker pacemaker-cli-utils corosync pcs resource-agents fence-agents libxml2-utils time binutils curl
  faketime python3-novaclient python3-keystoneauth1 python3-keystoneclient)
# the last four: npm run bench and its smoke test (test/cli/bench.bats); Debian's fence_compute imports keystoneclient
# at run time but its package does not depend on it

# shellcheck source=../lib.sh
. "$HERE/../lib.sh"
# the rigs' own power device (a fence agent), where pacemaker-fenced looks for agents
install -m 0755 "$HERE/../power/fence_rig" /usr/sbin/fence_rig
mapfile -t missing < <(apt_missing "${PACKAGES[@]}")
if [ ${#missing[@]} -eq 0 ]; then
  echo "rig install: all packages present (${PACKAGES[*]})"
  exit 0
fi
T0=$(date +%s)
apt_install "rig install" "$RIG_DIR/apt-install.log" "${missing[@]}"
echo "rig install: done in $(($(date +%s) - T0)) s"
