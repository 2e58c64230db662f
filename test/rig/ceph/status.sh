#!/bin/bash
# Shows whether the Ceph rig's recorded daemons (mon.a, mgr.x, osd.0) run and whether the cluster answers, with
# `ceph -s` (asked with --connect-timeout 10: a cluster without a monitor fails instead of hanging).
# Exit status 0 only when all three daemons run and `ceph -s` answered.
# Usage: status.sh
set -uo pipefail
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
case "${1:-}" in
  '') ;;
  -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument $1 (usage: status.sh)" ;;
esac

bad=0
printf '%-8s %s\n' DAEMON PROCESS
for name in $DAEMONS; do
  pid=$(recorded_pid "$name")
  if [ -n "$pid" ]; then proc="up (pid $pid)"
  elif [ -f "$RUN/$name.pid" ]; then proc="DEAD (see $LOGDIR/ceph-$name.log)"; bad=1
  else proc="not started"; bad=1
  fi
  printf '%-8s %s\n' "$name" "$proc"
done
echo
if [ -f "$CONF" ] && [ -f "$ADMIN_KEYRING" ] && out=$(timeout 15 "${CEPH_CMD[@]}" -s 2>&1); then
  echo "$out"
else
  echo "ceph -s did not answer:"
  # shellcheck disable=SC2001
  echo "${out:-($CONF or $ADMIN_KEYRING missing)}" | sed 's/^/  /'
  bad=1
fi
if [ $bad = 0 ]; then echo "status: all up"; else echo "status: NOT all up"; fi
exit $bad
