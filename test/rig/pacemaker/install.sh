#!/bin/bash
# Installs what the Pacemaker test rig needs, with apt-get, only when something is missing (idempotent).
#   bash test/rig/pacemaker/install.sh
# Needs root. Log: $RIG_DIR/apt-install.log (its tail is shown on failure).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=env.sh
. "$HERE/env.sh"

PACKAGES=(pacemaker pacemaker-cli-utils corosync pcs resource-agents fence-agents libxml2-utils time binutils curl)

missing=()
for p in "${PACKAGES[@]}"; do
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$st" = installed ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "rig install: all packages present (${PACKAGES[*]})"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "rig install: ERROR: missing packages (${missing[*]}) and not root: run as root" >&2
  exit 1
fi

mkdir -p "$RIG_DIR"
LOG="$RIG_DIR/apt-install.log"
: >"$LOG"
export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -y -q -o DPkg::Lock::Timeout=600)
fail() {
  echo "rig install: ERROR: $1 (log: $LOG); last lines:" >&2
  tail -n 25 "$LOG" >&2
  exit 1
}
echo "rig install: installing ${missing[*]} (log: $LOG)"
T0=$(date +%s)
"${APT[@]}" update >>"$LOG" 2>&1 || fail "apt-get update failed"
"${APT[@]}" install --no-install-recommends "${missing[@]}" >>"$LOG" 2>&1 || fail "apt-get install failed"
for p in "${missing[@]}"; do
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$st" = installed ] || fail "$p is still not installed"
done
echo "rig install: done in $(($(date +%s) - T0)) s"
