#!/usr/bin/env bats
# The hard failures of the book's deployment, on the cluster scenario A configured (a-compute-dies.bats runs first):
#   B  a compute node cut off but alive (link down, processes running): powered off by the fencing before anything
#      is evacuated
#   C  two compute nodes fail at once: both evacuated onto the one left
#   D  the controller running nova-evacuate dies mid-evacuation (inside its evacuate_delay, after its claim): it is
#      fenced, nova-evacuate starts on another controller and takes the claim over; each instance evacuated once
#   E  the recovered node comes back while its evacuation is still running (evacuate_delay holds it open): NovaCompute
#      holds, and nova-compute starts only once the evacuation is recorded done
# None is triggered with stonith_admin. Each checks exactly-once evacuation in Nova's migration records and records
# its timeline in $MN_OUT/timings.

load helpers

T="$MN_OUT/B"
mark() { echo "$1=$(now_ms)" >>"$T.times"; }
get() { sed -n "s/^$1=//p" "$T.times" | tail -1; }
setup_file() { rm -f "$MN_OUT"/B.*; }
teardown() { bg_stop B-watch; bg_stop B-attr; }
evacuator_running() { [ -n "$(running_on nova-evacuate)" ]; }

# timeline NAME IDFILE WATCH: failure -> fenced -> first rebuild -> last ACTIVE elsewhere -> schedulable
timeline() {
  local first last
  first=$(first_event "$3" rebuilding); last=$(last_event "$3" '^ACTIVE@')
  record "$1: failure -> fenced $(secs "$(get fail)" "$(get fenced)") s; first rebuild seen $(secs "$(get fail)" "${first:-0}") s;" \
    "last of $(wc -l <"$2") ACTIVE elsewhere $(secs "$(get fail)" "${last:-0}") s; host schedulable again $(secs "$(get fail)" "$(get schedulable)") s"
}

@test "B cut off but alive: compute3's link goes down, its nova-compute runs on; fenced (powered off) before any evacuation" {
  osctl boot B-cut compute3 4xm1.evac/cirros >"$T.cut"
  osctl wait "$T.cut" compute3 240
  bg_start B-watch osctl watch "$T.cut" compute3 "$T.cut.watch"
  before=$(nova_compute_pids compute3 | head -1)
  [ -n "$before" ]
  mark fail
  bash "$MN" power cut compute3
  wait_for 180 fenced_since compute3 "$(get fail)"
  echo "fenced=$(fenced_at "compute3" "$(get fail)")" >>"$T.times"
  wait_for 10 powered_since off compute3 "$(get fail)"
  off=$(power_events off compute3 "$(get fail)" | head -1 | cut -d' ' -f1)
  # until the power device switched it off, compute3 kept running its nova-compute (the same process)
  ! running "$before" || false
  osctl wait "$T.cut" '!compute3' 300
  first=$(first_event "$T.cut.watch" rebuilding)
  echo "power off at $off, first rebuild seen at $first"
  [ "$first" -gt "$off" ]
  evacuated_once "$T.cut"
  recovered compute3
  osctl schedulable compute3 180
  mark schedulable
  mem_sample
  timeline "M-B cut off but alive" "$T.cut" "$T.cut.watch"
}

@test "C two compute nodes fail at once: compute1 and compute2 evacuated onto compute3, each server once" {
  osctl boot C-one compute1 3xm1.evac/cirros >"$T.c1"
  osctl boot C-two compute2 3xm1.tiny/cirros-evac >"$T.c2"
  cat "$T.c1" "$T.c2" >"$T.c"
  osctl wait "$T.c1" compute1 240
  osctl wait "$T.c2" compute2 240
  bg_start B-watch osctl watch "$T.c" compute0 "$T.c.watch"   # compute0: no such host, every move is seen
  mark fail
  bash "$MN" power off compute1 & off1=$!
  bash "$MN" power off compute2
  wait "$off1"   # not a bare wait: the watcher runs in the background too
  wait_for 240 fenced_since compute1 "$(get fail)"
  wait_for 240 fenced_since compute2 "$(get fail)"
  echo "fenced=$(fenced_at compute2 "$(get fail)")" >>"$T.times"
  osctl wait "$T.c" compute3 300
  evacuated_once "$T.c"
  recovered compute1
  recovered compute2
  osctl schedulable compute1 180
  osctl schedulable compute2 180
  mark schedulable
  mem_sample
  timeline "M-C two computes at once" "$T.c" "$T.c.watch"
}

@test "D the controller running nova-evacuate dies mid-evacuation: fenced, nova-evacuate moves and takes the claim over" {
  # evacuate_delay keeps the claimer's evacuation open for 25 s after its claim, so the cut lands inside it
  pcsx resource update nova-evacuate evacuate_delay=25
  wait_for 120 evacuator_running
  osctl boot D-ev compute1 8xm1.evac/cirros >"$T.d"
  osctl wait "$T.d" compute1 300
  ctl=$(running_on nova-evacuate)
  [[ "$ctl" =~ ^n[123]$ ]]
  bg_start B-watch osctl watch "$T.d" compute1 "$T.d.watch"
  bg_start B-attr attr_watch compute1 "$T.d.attr"
  mark fail
  bash "$MN" power off compute1
  # the claim of the controller running nova-evacuate ("nX@EPOCH") starts its evacuation: cut it there
  wait_for 180 grep -q " $ctl@" "$T.d.attr"
  mark ctlfail
  bash "$MN" power off "$ctl"
  wait_for 240 fenced_since "$ctl" "$(get fail)"
  wait_for 240 fenced_since compute1 "$(get fail)"
  echo "fenced=$(fenced_at compute1 "$(get fail)")" >>"$T.times"
  osctl wait "$T.d" '!compute1' 420
  wait_for 180 attr_is compute1 no
  cat "$T.d.attr"
  # another controller claimed compute1 after the cut, and nothing was rebuilt before it: a real takeover
  now_on=$(sed -n "s/^[0-9]* \(n[123]\)@.*/\1/p" "$T.d.attr" | grep -vx "$ctl" | head -1)
  [ -n "$now_on" ]
  first=$(first_event "$T.d.watch" rebuilding)
  [ -n "$first" ] && [ "$first" -gt "$(get ctlfail)" ]
  evacuated_once "$T.d"
  how="after the claim went stale (60 s)"
  grep -q "claimed by $ctl .* left the cluster or was fenced since" "$MN_DIR/$now_on"/var-log-pacemaker/*.log && how="at once (the claimer was fenced)"
  wait_for 240 node_is "$ctl" online
  recovered compute1
  osctl schedulable compute1 180
  mark schedulable
  mem_sample
  record "M-D nova-evacuate ran on $ctl, cut $(secs "$(get fail)" "$(get ctlfail)") s after the compute failure, as it claimed;" \
    "$now_on took the claim over $how"
  timeline "M-D controller dies mid-evacuation" "$T.d" "$T.d.watch"
}

@test "E the recovered node comes back while its evacuation is still running: nova-compute starts only after it" {
  # the evacuation is held open well past compute2's return (the remote connection retries after reconnect_interval=60)
  pcsx resource update nova-evacuate evacuate_delay=100 op monitor interval=10s timeout=300s
  wait_for 120 evacuator_running
  osctl boot E-back compute2 3xm1.evac/cirros >"$T.e"
  osctl wait "$T.e" compute2 240
  bg_start B-watch osctl watch "$T.e" compute2 "$T.e.watch"
  bg_start B-attr attr_watch compute2 "$T.e.attr"
  mark fail
  bash "$MN" power off compute2
  wait_for 180 fenced_since compute2 "$(get fail)"
  echo "fenced=$(fenced_at compute2 "$(get fail)")" >>"$T.times"
  if [ "$(bash "$MN" power status compute2)" = off ]; then power_on compute2; fi
  wait_for 240 node_is compute2 online
  mark rejoined
  # back in the cluster before its evacuation is done (Pacemaker erases a remote node's attributes as it rejoins;
  # NovaCompute asks again, evacuate=yes): its start holds, no nova-compute runs
  cat "$T.e.attr"
  # (the watcher's first line is the value before the failure, whenever it got to read it)
  [ -z "$(awk -v t="$(get rejoined)" 'NR > 1 && $2 == "no" && $1 <= t' "$T.e.attr")" ]
  ! started_on nova-compute compute2 || false
  [ -z "$(nova_compute_pids compute2)" ]
  osctl wait "$T.e" '!compute2' 300
  wait_for 180 attr_is compute2 no
  wait_for 300 started_on nova-compute compute2
  evacuated_once "$T.e"
  # nova-compute started (its process start time) only after the evacuation was recorded done
  done_at=$(awk 'NR > 1 && $2 == "no" {print $1; exit}' "$T.e.attr")
  # (every nova-compute process on compute2 now was started after the power cut, which ended the old one)
  for p in $(nova_compute_pids compute2); do echo "$(start_ms "$p") $p"; done | sort -n >"$T.e.pids"
  first_pid=$(head -1 "$T.e.pids" | cut -d' ' -f1)
  cat "$T.e.attr" "$T.e.pids"
  [ -n "$done_at" ] && [ -n "$first_pid" ] && [ "$first_pid" -gt "$done_at" ]
  recovered compute2
  osctl schedulable compute2 180
  mark schedulable
  pcsx resource update nova-evacuate evacuate_delay=0 op monitor interval=10s timeout=120s
  mem_sample
  record "M-E compute2 back $(secs "$(get fail)" "$(get rejoined)") s after the failure, its evacuation not done;" \
    "evacuation done $(secs "$(get fail)" "$done_at") s; its nova-compute started $(secs "$(get fail)" "$first_pid") s"
  timeline "M-E node back during its evacuation" "$T.e" "$T.e.watch"
}
