#!/bin/bash
# fence_openstack, ours vs fence-agents' (Debian's /usr/sbin/fence_openstack), side by side in one run, each under
# `env -i`, alternating rounds, median wall time and the ratio ours / reference (below 1 is better):
#   cold start     -o metadata (nothing contacted)
#   status         of one server, by UUID, with 100 and with 1000 servers in the project
#   list           every server of the project, with 100 and with 1000
# against the OpenStack simulator (test/fake, on 127.0.0.1, started and stopped here). Ours keeps its Keystone token
# in its state directory (here a temporary one) and reuses it from the second run on, as it does on a node; the
# reference authenticates on every run. The reference needs python3-novaclient and python3-keystoneauth1 for
# status and list: without them those rows say so and show ours alone (nothing is installed here).
#   bash bench/fence-openstack.sh [ROUNDS]     (default 15; needs npm run build)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-15}
BIN=$PWD/dist/openstack-ha-agents
[ -x "$BIN" ] || { echo "bench: run npm run build first" >&2; exit 1; }
REF=/usr/sbin/fence_openstack; [ -x "$REF.distrib" ] && REF=$REF.distrib
have_ref=; [ -x "$REF" ] && ! "$REF" -o metadata 2>/dev/null | grep -q openstack-ha-agents && have_ref=1
ref_api=
if [ -n "$have_ref" ]; then
  # the reference's own interpreter (its #! line), not whatever python3 comes first on PATH
  if /usr/bin/python3 -c 'import novaclient, keystoneauth1' 2>/dev/null; then ref_api=1
  else echo "bench: python3-novaclient / python3-keystoneauth1 are not installed: the reference's status and list are not measured"; fi
else
  echo "bench: no reference fence_openstack ($REF): only ours is measured"
fi

W=$(mktemp -d)
SIM_PID=
cleanup() { [ -z "$SIM_PID" ] || kill "$SIM_PID" 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
node test/fake/sim.mjs --port 0 --hosts 2 --port-file "$W/port" >"$W/sim.out" 2>"$W/sim.err" &
SIM_PID=$!
for _ in $(seq 1 200); do [ -s "$W/port" ] && break; sleep 0.05; done
[ -s "$W/port" ] || { echo "bench: the simulator did not start: $(cat "$W/sim.err")" >&2; exit 1; }
FAKE="http://127.0.0.1:$(cat "$W/port")"
AUTH_URL="$FAKE/identity/v3"
add_servers() { curl -fsS -X POST -H 'Content-Type: application/json' -d "{\"host\": \"compute1\", \"count\": $1}" "$FAKE/_fake/servers" >/dev/null; }

ln "$BIN" "$W/fence_openstack" 2>/dev/null || cp "$BIN" "$W/fence_openstack"
mkdir -m 0700 "$W/state"
common=(--auth-url "$AUTH_URL" --username admin --password admin --project-name admin)
ours() { env -i PATH=/usr/bin:/bin HOME="$W" OPENSTACK_HA_AGENTS_STATE_DIR="$W/state" "$W/fence_openstack" "$@"; }
ref() { env -i PATH=/usr/bin:/bin HOME="$W" "$REF" "$@"; }
ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s%N); echo $(((t1 - t0) / 1000000)); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# measure LABEL REF_TOO ARGS...: ROUNDS alternating rounds, one line
measure() {
  local label=$1 both=$2; shift 2
  : >"$W/o"; : >"$W/r"
  for _ in $(seq "$ROUNDS"); do
    ms ours "$@" >>"$W/o"
    [ -z "$both" ] || ms ref "$@" >>"$W/r"
  done
  local o r; o=$(median <"$W/o")
  if [ -n "$both" ]; then
    r=$(median <"$W/r")
    printf '%-36s %8s ms %8s ms %6.2f×\n' "$label" "$o" "$r" "$(echo "$o / $r" | bc -l)"
  else
    printf '%-36s %8s ms %11s %7s\n' "$label" "$o" "-" "-"
  fi
}

# check: ours answers (and warms its token cache), the reference too when it can
check() {
  local out; out=$(ours "$@" 2>&1) || { echo "bench: our fence_openstack $* failed: $out" >&2; exit 1; }
  [ -z "$ref_api" ] || { out=$(ref "$@" 2>&1) || { echo "bench: the reference $* failed: $out" >&2; exit 1; }; }
}

printf '%-36s %11s %11s %7s\n' "median of $ROUNDS (env -i)" ours reference ratio
measure "fence_openstack -o metadata" "$have_ref" -o metadata
total=0
for n in 100 1000; do
  add_servers $((n - total)); total=$n
  id=$(ours "${common[@]}" -o list | head -1 | cut -d, -f1)
  [ -n "$id" ] || { echo "bench: our list printed nothing" >&2; exit 1; }
  [ "$(ours "${common[@]}" -o list | wc -l)" -eq "$n" ] || { echo "bench: our list does not show $n servers" >&2; exit 1; }
  check "${common[@]}" -o status -n "$id"
  measure "-o status ($n servers)" "$ref_api" "${common[@]}" -o status -n "$id"
  measure "-o list ($n servers)" "$ref_api" "${common[@]}" -o list
done
