#!/bin/bash
# Real-Pacemaker tests: installs the rig's packages and our agents (in /, diverting Debian's fence_compute and
# fence_evacuate), then runs the bats suite. Needs root.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "the Pacemaker tests need root" >&2; exit 1; }
[ -x dist/openstack-ha-agents ] || { echo "dist/openstack-ha-agents missing: run npm run build first" >&2; exit 1; }
bash test/rig/pacemaker/install.sh
DESTDIR= bash build/install.sh
exec node_modules/bats/bin/bats test/pacemaker/pacemaker.bats
