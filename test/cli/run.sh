#!/bin/bash
# CLI tests of the built binary (bats). Needs: npm run build; xmllint, curl, fence-agents (reference metadata).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x dist/openstack-ha-agents ] || { echo "dist/openstack-ha-agents missing: run npm run build first" >&2; exit 1; }
exec node_modules/bats/bin/bats test/cli/*.bats
