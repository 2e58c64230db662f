#!/usr/bin/env bats
# Cinder's control plane under a REAL single-node Pacemaker (test/rig/pacemaker), with the Cinder HA guide's pcs
# commands: cinder-api clone (the seed's ocf:openstack:cinder-api parameters), cinder-scheduler clone, cinder-volume
# active/passive with the shared host cinder-cluster-1, cinder-backup, order api -> scheduler -> volume and
# colocation. Our agents start the REAL daemons (/usr/bin/cinder-*, user cinder). Tests run in order.

load helpers

setup_file() {
  bash "$ROOT/test/rig/pacemaker/stop.sh" >/dev/null 2>&1 || true
  bash "$ROOT/test/rig/pacemaker/start.sh" >&3
  # the agents' on-disk token cache: start empty (the rig's Keystone is new)
  rm -rf /run/openstack-ha-agents
}
teardown_file() {
  local t
  t=$(now)
  bash "$ROOT/test/rig/pacemaker/stop.sh" >&3 || true
  record "single node: Pacemaker rig stop (stops all cinder resources): $(dt "$t" "$(now)") s"
}

@test "ocf-tester passes on cinder-api with the seed's parameters, against the real cinder-api" {
  run ocf-tester -n cp-cinder-api $(ocf_opts config="$CONF" "${SEED_CREDS[@]}") "$OCF/cinder-api"
  echo "$output"
  [ "$status" -eq 0 ]
  [ -z "$(daemon_pids cinder-api)" ]
}

@test "pcs: openstack-cinder-api clone (seed parameters) starts the real cinder-api; the API answers" {
  local t
  t=$(now)
  # pcs 0.11 syntax of the seed's "--clone interleave=true"
  pcs resource create openstack-cinder-api ocf:openstack:cinder-api config="$CONF" "${SEED_CREDS[@]}" \
    op monitor interval=30s timeout=30s clone interleave=true
  wait_for 120 started_on openstack-cinder-api node1
  record "single node: openstack-cinder-api clone Started: $(dt "$t" "$(now)") s after pcs resource create"
  run cinder wait-api 30
  [ "$status" -eq 0 ]
  [ -n "$(daemon_pids cinder-api)" ]
}

@test "ocf-tester passes on cinder-scheduler, cinder-volume and cinder-backup against the real daemons" {
  local a
  for a in cinder-scheduler cinder-volume cinder-backup; do
    run ocf-tester -n "cp-$a" $(ocf_opts config="$CONF" "${SEED_CREDS[@]}") "$OCF/$a"
    echo "$a: $output"
    [ "$status" -eq 0 ]
    [ -z "$(daemon_pids "$a")" ]
  done
}

@test "pcs: scheduler clone, cinder-volume A/P, cinder-backup, order and colocation; os-services shows them up" {
  local t
  t=$(now)
  pcs resource create openstack-cinder-scheduler ocf:openstack:cinder-scheduler config="$CONF" "${SEED_CREDS[@]}" \
    op monitor interval=30s timeout=30s clone interleave=true
  pcs resource create openstack-cinder-volume ocf:openstack:cinder-volume config="$CONF" host=cinder-cluster-1 \
    "${SEED_CREDS[@]}" op monitor interval=10s timeout=30s
  pcs resource create openstack-cinder-backup ocf:openstack:cinder-backup config="$CONF" host=cinder-cluster-1 \
    "${SEED_CREDS[@]}" op monitor interval=30s timeout=30s
  pcs constraint order start openstack-cinder-api-clone then openstack-cinder-scheduler-clone
  pcs constraint order start openstack-cinder-scheduler-clone then openstack-cinder-volume
  pcs constraint colocation add openstack-cinder-scheduler-clone with openstack-cinder-api-clone
  pcs constraint colocation add openstack-cinder-volume with openstack-cinder-scheduler-clone
  pcs constraint order start openstack-cinder-volume then openstack-cinder-backup
  pcs constraint colocation add openstack-cinder-backup with openstack-cinder-volume
  wait_for 180 started_on openstack-cinder-volume node1
  wait_for 120 started_on openstack-cinder-backup node1
  started_on openstack-cinder-scheduler node1
  record "single node: scheduler + volume + backup Started: $(dt "$t" "$(now)") s after the pcs commands"
  run cinder wait-up 30 cinder-scheduler@cinder-cluster-1 "$VOLUME_SVC" cinder-backup@cinder-cluster-1
  echo "$output"; [ "$status" -eq 0 ]
  cinder services
  # exactly one cinder-volume daemon (A/P), as user cinder
  [ "$(daemon_pids cinder-volume | head -1 | xargs -r ps -o user= -p)" = cinder ]
  run pcs constraint order
  [[ "$output" == *"start openstack-cinder-api-clone then start openstack-cinder-scheduler-clone"* ]]
  [[ "$output" == *"start openstack-cinder-scheduler-clone then start openstack-cinder-volume"* ]]
}

@test "a 1 GiB volume created through the API becomes available (a real file on the share), and backs up" {
  local t vid bid f
  # a periodic report after now: the volume driver is initialized (the service row is written before that)
  SINCE=$(date +%s) cinder wait-up 60 "$VOLUME_SVC"
  cinder wait-pools 60
  t=$(now)
  vid=$(cinder create-volume cp-vol1 1 120)
  record "single node: 1 GiB volume available $(dt "$t" "$(now)") s after POST /volumes"
  f=$OS_RIG_DIR/state/cinder-export/volume-$vid
  [ -f "$f" ]
  [ "$(stat -c %s "$f")" -eq 1073741824 ]
  echo "$vid" >"$CP_OUT/volume-single"
  t=$(now)
  bid=$(cinder backup "$vid" 180)
  record "single node: backup of the 1 GiB volume (posix driver) available in $(dt "$t" "$(now)") s"
  [ -n "$(ls -A "$OS_RIG_DIR/state/cinder/backups")" ]
  cinder delete-backup "$bid" 120
}

@test "kill -9 of the cinder-volume daemon: Pacemaker restarts it (fail count 1), os-services up again" {
  local pid newpid t0 t1 since
  pid=$(pidfile_pid /run/resource-agents/openstack-cinder-volume.pid)
  [ -n "$pid" ]
  [[ " $(daemon_pids cinder-volume | tr '\n' ' ') " == *" $pid "* ]]
  t0=$(now)
  kill -9 "$pid"
  # the monitor (interval 10 s) sees it gone, Pacemaker stops (the leftover backend child too) and starts it
  wait_for 120 bash -c "[ \"\$(awk '{print \$1; exit}' /run/resource-agents/openstack-cinder-volume.pid 2>/dev/null)\" != '' ] && \
    [ \"\$(awk '{print \$1; exit}' /run/resource-agents/openstack-cinder-volume.pid)\" != $pid ]"
  wait_for 120 started_on openstack-cinder-volume node1
  t1=$(now)
  since=$(($(date +%s) + 1))
  newpid=$(pidfile_pid /run/resource-agents/openstack-cinder-volume.pid)
  [ "$newpid" != "$pid" ]
  kill -0 "$newpid"
  run crm_failcount --query -r openstack-cinder-volume -N node1
  echo "$output"
  [[ "$output" == *"value=1"* ]]
  # up, with a periodic report after the restart (the restarted driver is initialized)
  SINCE=$since run cinder wait-up 90 "$VOLUME_SVC"
  echo "$output"; [ "$status" -eq 0 ]
  record "single node: kill -9 cinder-volume -> restarted by Pacemaker (Started, new PID) in $(dt "$t0" "$t1") s; periodic reports (driver initialized) in os-services $(dt "$t0" "$(now)") s after the kill"
  # the volume made before is still served: delete it through the restarted daemon
  cinder delete-volume "$(cat "$CP_OUT/volume-single")" 120
  pcs resource cleanup openstack-cinder-volume >/dev/null
}

@test "credentials: the password is in no process's command line and not in the agents' log" {
  local d hits=''
  for d in /proc/[0-9]*; do
    if tr '\0' ' ' 2>/dev/null <"$d/cmdline" | grep -qF -- "$AGENT_PW"; then
      hits="$hits ${d#/proc/}:$(tr '\0' ' ' <"$d/cmdline" | cut -c1-80)"
    fi
  done
  echo "processes with the password: ${hits:-none}"
  [ -z "$hits" ]
  # every daemon runs with the configuration file only
  for d in $(daemon_pids cinder-api) $(daemon_pids cinder-scheduler) $(daemon_pids cinder-volume); do
    ! tr '\0' ' ' <"/proc/$d/cmdline" | grep -q -i 'password' || false
  done
  [ -s "$RIG_DIR/ra.log" ]
  ! grep -qF -- "$AGENT_PW" "$RIG_DIR/ra.log" || false
}

@test "stopping the resources stops every cinder daemon (pcs resource disable, in constraint order)" {
  local t
  t=$(now)
  pcs resource disable openstack-cinder-api-clone
  wait_for 120 bash -c "[ -z \"\$(crm_mon -1 --output-as=xml | grep 'role=\"Started\"' | grep openstack-cinder)\" ]"
  record "single node: disable api clone -> backup, volume, scheduler, api all stopped: $(dt "$t" "$(now)") s"
  for a in cinder-api cinder-scheduler cinder-volume cinder-backup; do
    [ -z "$(daemon_pids "$a")" ] || { echo "$a still runs: $(daemon_pids "$a")"; false; }
  done
}
