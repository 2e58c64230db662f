#!/bin/bash
# Runs the host-failure smoke scenario (lib/smoke.py) against a running rig: boot servers on compute2, kill its
# nova-compute, force it down, evacuate, check ACTIVE elsewhere, bring compute2 back, delete the servers.
# Usage: smoke.sh [--servers N] [--victim computeN] [--keep]
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
exec "$PY" "$RIG_HERE/lib/smoke.py" "$@"
