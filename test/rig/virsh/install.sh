#!/bin/bash
# Installs what the virsh rig needs (OpenSSH server, libvirt with its QEMU driver, QEMU, sudo; Debian's fence-agents
# for the reference fence_virsh), only when something is missing. Needs root then.
#   bash test/rig/virsh/install.sh
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/env.sh"
. "$HERE/../lib.sh"
mapfile -t missing < <(apt_missing "${VIRSH_RIG_PACKAGES[@]}")
if [ ${#missing[@]} -eq 0 ]; then echo "virsh rig install: all packages present"; exit 0; fi
T0=$(date +%s)
apt_install "virsh rig install" "$VIRSH_RIG_DIR-apt.log" "${missing[@]}"
echo "virsh rig install: done in $(($(date +%s) - T0)) s"
