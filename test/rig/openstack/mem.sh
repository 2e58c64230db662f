#!/bin/bash
# Prints the memory of the rig's processes: the recorded services and every process in their sessions.
#   mem.sh        one line: "rss_mib=N pss_mib=N processes=N"
#   mem.sh -v     also one line per component
# A caller wanting the peak samples it in a loop.
set -uo pipefail
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
verbose=0; [ "${1:-}" = -v ] && verbose=1
tot_rss=0; tot_pss=0; procs=0
for name in $(recorded_names); do
  pid=$(recorded_pid "$name")
  [ -n "$pid" ] || continue
  rss=0; pss=0
  for p in $(session_members "$pid"); do
    read -r r s < <(awk '/^Rss:/{r=$2} /^Pss:/{s=$2} END{print r+0, s+0}' "/proc/$p/smaps_rollup" 2>/dev/null || echo "0 0")
    rss=$((rss + r)); pss=$((pss + s)); procs=$((procs + 1))
  done
  [ $verbose = 1 ] && printf '%-22s rss %5d MiB  pss %5d MiB\n' "$name" $((rss / 1024)) $((pss / 1024))
  tot_rss=$((tot_rss + rss)); tot_pss=$((tot_pss + pss))
done
echo "rss_mib=$((tot_rss / 1024)) pss_mib=$((tot_pss / 1024)) processes=$procs"
