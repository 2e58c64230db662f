#!/bin/bash
# npm run bench: our agents next to Debian's reference agents, side by side in one run (see bench/bench.ts).
#   bench/run.sh [--quick] [--runs N] [--sizes 100,500] [--workers 1,8,32] [--only cold,makespan,tokens]
# Needs: npm run build (dist/openstack-ha-agents); Debian packages fence-agents resource-agents python3-novaclient
# python3-keystoneauth1 faketime time (missing references are reported and skipped, not faked).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ -x "$ROOT/dist/openstack-ha-agents" ] || { echo "bench: dist/openstack-ha-agents missing: run npm run build first" >&2; exit 1; }
OUT=$(mktemp -d /tmp/oha-bench-XXXXXX)
trap 'rm -rf "$OUT"' EXIT
"$ROOT/node_modules/.bin/esbuild" "$ROOT/bench/bench.ts" --bundle --platform=node --format=cjs --log-level=warning --outfile="$OUT/bench.cjs"
# the measured processes run under env -i: nothing from this environment (NODE_EXTRA_CA_CERTS, NODE_OPTIONS...) reaches them
BENCH_ROOT="$ROOT" node "$OUT/bench.cjs" "$@"
