#!/bin/bash
# Runs the OpenStack client tests (test/unit/openstack-client.test.ts) against the running rig instead of the
# in-process fake. Starts nothing: start the rig first (start.sh). Extra arguments go to vitest.
# Usage: client-tests.sh [vitest args...]
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ENV_FILE=$OS_RIG_DIR/rig.env
[ -f "$ENV_FILE" ] || die "no $ENV_FILE: start the rig with $RIG_HERE/start.sh"
get() { sed -n "s/^$1=//p" "$ENV_FILE" | head -n1; }
export OHA_TEST_CLOUD_URL=$(get AUTH_URL)
export OHA_TEST_CLOUD_USER=$(get USERNAME)
export OHA_TEST_CLOUD_PASSWORD=$(get PASSWORD)
export OHA_TEST_CLOUD_PROJECT=$(get PROJECT)
export OHA_TEST_CLOUD_USER_DOMAIN=$(get USER_DOMAIN)
export OHA_TEST_CLOUD_PROJECT_DOMAIN=$(get PROJECT_DOMAIN)
export OHA_TEST_CLOUD_REGION=$(get REGION)
port_open 5000 || die "Keystone does not answer on 127.0.0.1:5000: is the rig running? ($RIG_HERE/status.sh)"
cd "$RIG_HERE/../../.."
exec npx vitest run test/unit/openstack-client.test.ts "$@"
