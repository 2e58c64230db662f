# Shared by the multi-node bats files: test/multinode/run.sh has started the OpenStack rig (no computes of its own)
# and the cluster (test/rig/multinode: controllers n1..n3, pacemaker_remote compute nodes compute1..3) and installed
# our agents in /. Pacemaker commands run inside controller n1 (mnx 1 CMD), as an operator would run them there.
ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
PY=/usr/bin/python3
MN="$ROOT/test/rig/multinode/cluster.sh"
export OS_RIG_DIR=${OS_RIG_DIR:-/tmp/oha-openstack-rig}
export MN_OUT=${MN_OUT:-/tmp/oha-multinode-tests}
export MN_DIR=${MN_DIR:-/tmp/oha-multinode}
export PATH=$PATH:/usr/sbin:/sbin
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
# shellcheck disable=SC1091
. "$OS_RIG_DIR/rig.env"
# shellcheck source=../rig/lib.sh
. "$ROOT/test/rig/lib.sh"   # wait_for SECONDS COMMAND..., running
POWER_STATE=$MN_DIR/power
COMPUTES="compute1 compute2 compute3"

osctl() { "$PY" "$ROOT/test/e2e/lib/osctl.py" "$@"; }
mnx() { bash "$MN" exec "$@"; }          # mnx N|computeK CMD...: run inside that node
pcsx() { mnx 1 pcs "$@"; }
now_ms() { local t; t=$(date +%s%N); echo $((t / 1000000)); }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }
record() { echo "$*" >>"$MN_OUT/timings"; echo "# $*" >&3; }
# peak memory in use on the machine (MemTotal - MemAvailable), kept in $MN_OUT/mem-peak
mem_sample() {
  local used peak
  used=$(awk '/^MemTotal:/ {t = $2} /^MemAvailable:/ {a = $2} END {printf "%d", (t - a) / 1024}' /proc/meminfo)
  peak=$(cat "$MN_OUT/mem-peak" 2>/dev/null || echo 0)
  [ "$used" -gt "$peak" ] && echo "$used" >"$MN_OUT/mem-peak"
  return 0
}

# cm_xml, node_state, node_is, started_on, running_on (crm_mon -1 --output-as=xml from node 1)
# shellcheck source=../rig/multinode/crm.bash
. "$ROOT/test/rig/multinode/crm.bash"
attr() { mnx 1 attrd_updater -p -n evacuate -Q -N "$1" 2>/dev/null | sed -n 's/.*value="\(.*\)"/\1/p'; }
attr_is() { [ "$(attr "$1")" = "$2" ]; }
service_is() { [ "$(osctl service "$1")" = "$2" ]; }
placement_is() { [ "$(osctl placement "$1")" = "$2" ]; }
fenced_ok() { mnx 1 stonith_admin --history "$1" 2>/dev/null | grep -q "successful"; }
fence_count() { mnx 1 stonith_admin --history "$1" 2>/dev/null | grep -c "successful" || true; }
# fenced_since NODE SINCE_MS: the fencer has fenced NODE since SINCE_MS. A fencing "reboot" ends with the power
# device's on (after the off of every device of the level), which the rig's power switch logs. (stonith_admin
# --history keeps one entry per node and action, so it can't count fencings.)
fenced_since() { powered_since on "$1" "$2"; }
fenced_at() { power_events on "$1" "$2" | head -1 | cut -d' ' -f1; }
# the PIDs in network namespace of compute node NAME that run nova-compute (none when it is powered off)
nova_compute_pids() {
  local p
  # ip netns pids scans /proc in one process (a scan in bash forks per process: slow under bats' DEBUG trap)
  for p in $(ip netns pids "oha-c${1#compute}" 2>/dev/null); do
    tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q 'nova-compute' && echo "$p"
  done
  return 0
}
# power_events off|on NODE SINCE_MS: the rig's power switch records ("EPOCH_MS off|on NODE") since SINCE_MS
power_events() { awk -v w="$1" -v n="$2" -v t="$3" '$2 == w && $3 == n && $1 >= t' "$MN_DIR/power.log" 2>/dev/null; }
# powered_since off|on NODE SINCE_MS [N]: the switch was worked that way at least N (default 1) times since SINCE_MS
powered_since() { [ "$(power_events "$1" "$2" "$3" | wc -l)" -ge "${4:-1}" ]; }
# power_on NODE: as an operator would, through the power device (fence_rig on NODE, run on controller n1)
power_on() {
  printf 'action=on\nplug=%s\nstate_dir=%s\npower_hook=%s\n' "$1" "$POWER_STATE" "$ROOT/test/rig/multinode/power-hook" | mnx 1 fence_rig
}

bg_start() { local name=$1; shift; "$@" >/dev/null 2>>"$MN_OUT/$name.err" 3>&- & echo $! >"$MN_OUT/$name.pid"; }
bg_stop() {
  local f="$MN_OUT/$1.pid"
  [ -f "$f" ] || return 0
  pkill -P "$(cat "$f")" 2>/dev/null || true
  kill "$(cat "$f")" 2>/dev/null || true
  rm -f "$f"
}
# attr_watch HOST FILE: every change of HOST's evacuate attribute as "EPOCH_MS VALUE" lines, until killed
attr_watch() {
  local last=__none__ v
  while :; do
    v=$(attr "$1")
    [ "$v" != "$last" ] && { echo "$(now_ms) ${v:-<unset>}" >>"$2"; last=$v; }
    sleep 0.2
  done
}
# start_ms PID: when the process started, in epoch milliseconds (boot time + its start in clock ticks; within 1 s)
start_ms() {
  awk -v hz="$(getconf CLK_TCK)" -v bt="$(awk '/^btime/ {print $2}' /proc/stat)" \
    '{ sub(/^.*\) /, ""); printf "%d\n", bt * 1000 + $20 * 1000 / hz }' "/proc/$1/stat" 2>/dev/null
}
# evacuated_once IDFILE: every server of IDFILE has exactly one evacuation migration record in Nova
evacuated_once() {
  local out id n
  out=$(osctl evacuations "$1"); echo "$out"
  while read -r id n; do [ "$n" -eq 1 ] || { echo "$id: $n evacuation records" >&2; return 1; }; done <<<"$out"
}
never_evacuated() {
  local out id n
  out=$(osctl evacuations "$1"); echo "$out"
  while read -r id n; do [ "$n" -eq 0 ] || { echo "$id: $n evacuation records" >&2; return 1; }; done <<<"$out"
}

# recovered NODE: back in the cluster, nova-compute started there by NovaCompute, Nova has it up, enabled, not forced
# down, and Placement no longer marks it disabled
recovered() {
  wait_for 240 node_is "$1" online
  wait_for 300 started_on nova-compute "$1"
  wait_for 120 service_is "$1" 'status=enabled state=up forced_down=false'
  wait_for 120 placement_is "$1" schedulable
}
# first_event FILE EVENT: the first EPOCH_MS of a watch file line whose second field matches EVENT (a regex)
first_event() { awk -v e="$2" '$2 ~ e {print $1; exit}' "$1"; }
last_event() { awk -v e="$2" '$2 ~ e {t = $1} END {print t}' "$1"; }
