#!/bin/bash
# Shows, per component of the OpenStack rig, whether its recorded process runs and whether its port answers.
# Exit status 0 only when every component is up. With --services, also Nova's own view (os-services).
# Usage: status.sh [--services]
set -uo pipefail
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
n=${NCOMPUTE:-}
if [ -z "$n" ] && [ -f "$OS_RIG_DIR/rig.env" ]; then n=$(sed -n 's/^NCOMPUTE=//p' "$OS_RIG_DIR/rig.env"); fi
names="mariadb epmd rabbitmq keystone placement glance-api neutron-server nova-api nova-conductor nova-scheduler"
for i in $(seq 1 "${n:-3}"); do names="$names nova-compute-compute$i"; done
# computes started by compute.sh beyond NCOMPUTE
for r in $(recorded_names); do case " $names " in *" $r "*) ;; *) names="$names $r" ;; esac; done

bad=0
printf '%-22s %-16s %s\n' COMPONENT PROCESS PORT
for name in $names; do
  pid=$(recorded_pid "$name")
  if [ -n "$pid" ]; then proc="up (pid $pid)"
  elif [ -f "$RUN/$name.pid" ]; then proc="DEAD"; bad=1
  else proc="not started"; bad=1
  fi
  port=-
  for pp in $PORTS; do
    if [ "${pp%%:*}" = "$name" ]; then
      if port_open "${pp#*:}"; then port="${pp#*:} open"; else port="${pp#*:} CLOSED"; bad=1; fi
    fi
  done
  printf '%-22s %-16s %s\n' "$name" "$proc" "$port"
done
if [ "${1:-}" = --services ]; then
  echo; echo "os-services (binary host state status forced_down):"
  $PY "$RIG_HERE/lib/rig.py" services 2>&1 | sed 's/^/  /'
fi
if [ $bad = 0 ]; then echo "status: all up"; else echo "status: NOT all up"; fi
exit $bad
