#!/bin/bash
# CLI tests of the built binary (bats). Needs: npm run build; xmllint, curl, fence-agents (reference metadata).
#   bash test/cli/run.sh [BATS_FILE...]   (default: every test/cli/*.bats)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x dist/openstack-ha-agents ] || { echo "dist/openstack-ha-agents missing: run npm run build first" >&2; exit 1; }
[ $# -gt 0 ] || set -- test/cli/*.bats
exec node_modules/bats/bin/bats "$@"
