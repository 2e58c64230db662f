#!/bin/bash
# Real OpenStack clients (Debian's python3-openstackclient and python3-novaclient) against the OpenStack simulator
# (default: test/fake/serve.ts on a free 127.0.0.1 port, started and stopped by the bats file) or against the real
# rig (OHA_CLIENT_TARGET=real: credentials from $OS_RIG_DIR/rig.env; the rig must already run, nothing is started).
#   bash test/clients/run.sh [bats args...]
#   OHA_CLIENT_TARGET=real [OHA_CLIENT_MUTATE=1] bash test/clients/run.sh
# Against the real rig only the read-only tests run unless OHA_CLIENT_MUTATE=1: then it boots two servers on the
# last compute host, kills that nova-compute (test/rig/openstack/compute.sh, needs root and >= 2 compute hosts),
# forces it down, disables it, evacuates, and restores everything (restart, force up, enable, delete the servers).
# Installs the two client packages when missing (needs root then).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=../rig/lib.sh
. test/rig/lib.sh
pkgs=(python3-openstackclient python3-novaclient)
if [ -n "$(apt_missing "${pkgs[@]}")" ]; then
  apt_install clients "${TMPDIR:-/tmp}/oha-clients-apt.log" "${pkgs[@]}"
fi
exec node_modules/bats/bin/bats test/clients/openstack-cli.bats "$@"
