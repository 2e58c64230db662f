#!/usr/bin/env bats
# Cinder's control plane on a REAL two-node Pacemaker cluster (test/rig/multinode: one network + mount namespace
# per node, corosync knet over a bridge). Every node runs cinder-api and cinder-scheduler (clones); cinder-volume is
# active/passive with the shared host cinder-cluster-1: moved to the other node, the same os-services entry
# cinder-volume@cinder-cluster-1@nfs is reported up again, now by the other node's daemon, and the volumes made
# before the move are served by it. Tests run in order.

load helpers
export CLUSTER=mn
MN_DIR=${MN_DIR:-/tmp/oha-multinode}

mnx() { bash "$MN" exec "$@"; }                   # mnx N CMD...: run inside node nN
ncinder() { mnx 1 "$PY" "$ROOT/test/rig/openstack/lib/cinder_rig.py" "$@"; }   # the API of node n1
node_netns() { readlink "/proc/$(cat "$MN_DIR/n$1/corosync.pid")/ns/net"; }
# the nodes (n1, n2) whose network namespace holds a cinder-volume daemon, one per line
volume_nodes() {
  local p n
  for p in $(daemon_pids cinder-volume); do
    for n in 1 2; do [ "$(netns_of "$p")" = "$(node_netns "$n")" ] && echo "n$n"; done
  done | sort -u
}
no_daemons_on() { # no_daemons_on N: no cinder daemon in node nN's network namespace
  local a p ns
  ns=$(node_netns "$1")
  for a in cinder-api cinder-scheduler cinder-volume; do
    for p in $(daemon_pids "$a"); do [ "$(netns_of "$p")" != "$ns" ] || return 1; done
  done
}
active_node() { # the node where Pacemaker runs openstack-cinder-volume
  local n
  for n in n1 n2; do started_on openstack-cinder-volume "$n" && { echo "$n"; return 0; }; done
  return 1
}

setup_file() {
  local t
  bash "$MN" stop >/dev/null 2>&1 || true
  t=$(now)
  MN_NODES=2 bash "$MN" start >&3
  record "multi-node: 2-node namespace cluster online in $(dt "$t" "$(now)") s"
}
teardown_file() {
  bash "$MN" stop >&3 || true
}

@test "multi-node: the seed's pcs commands on n1; api and scheduler run on both nodes, cinder-volume on one" {
  local t
  t=$(now)
  mnx 1 pcs resource create openstack-cinder-api ocf:openstack:cinder-api config="$CONF" "${SEED_CREDS[@]}" \
    op monitor interval=30s timeout=30s clone interleave=true
  mnx 1 pcs resource create openstack-cinder-scheduler ocf:openstack:cinder-scheduler config="$CONF" "${SEED_CREDS[@]}" \
    op monitor interval=30s timeout=30s clone interleave=true
  mnx 1 pcs resource create openstack-cinder-volume ocf:openstack:cinder-volume config="$CONF" host=cinder-cluster-1 \
    "${SEED_CREDS[@]}" op monitor interval=10s timeout=30s
  mnx 1 pcs constraint order start openstack-cinder-api-clone then openstack-cinder-scheduler-clone
  mnx 1 pcs constraint order start openstack-cinder-scheduler-clone then openstack-cinder-volume
  mnx 1 pcs constraint colocation add openstack-cinder-scheduler-clone with openstack-cinder-api-clone
  mnx 1 pcs constraint colocation add openstack-cinder-volume with openstack-cinder-scheduler-clone
  for n in n1 n2; do
    wait_for 240 started_on openstack-cinder-api "$n"
    wait_for 240 started_on openstack-cinder-scheduler "$n"
  done
  wait_for 240 active_node
  record "multi-node: api + scheduler on both nodes and cinder-volume on $(active_node) Started $(dt "$t" "$(now)") s after the pcs commands"
  # one volume daemon (parent + backend worker), in the network namespace of the node Pacemaker says
  [ "$(volume_nodes)" = "$(active_node)" ]
  # every node's own cinder-api answers inside that node
  mnx 1 "$PY" "$ROOT/test/rig/openstack/lib/cinder_rig.py" wait-api 30
  mnx 2 "$PY" "$ROOT/test/rig/openstack/lib/cinder_rig.py" wait-api 30
  SINCE=$(date +%s) run ncinder wait-up 90 cinder-scheduler@cinder-cluster-1 "$VOLUME_SVC"
  echo "$output"; [ "$status" -eq 0 ]
}

@test "multi-node: a 1 GiB volume is created through the cluster (available)" {
  local vid
  ncinder wait-pools 60
  vid=$(ncinder create-volume mn-vol1 1 120)
  [ -f "$OS_RIG_DIR/state/cinder-export/volume-$vid" ]
  echo "$vid" >"$CP_OUT/volume-mn"
}

@test "multi-node: pcs resource move: cinder-volume runs on the other node, cinder-cluster-1@nfs up again from there" {
  local from to t0 t1 since vid
  from=$(active_node)
  if [ "$from" = n1 ]; then to=n2; else to=n1; fi
  t0=$(now)
  mnx 1 pcs resource move openstack-cinder-volume "$to"
  wait_for 180 started_on openstack-cinder-volume "$to"
  t1=$(now)
  since=$(($(date +%s) + 1))
  [ "$(volume_nodes)" = "$to" ]
  SINCE=$since run ncinder wait-up 90 "$VOLUME_SVC"
  echo "$output"; [ "$status" -eq 0 ]
  record "multi-node: pcs resource move $from -> $to: Started on $to in $(dt "$t0" "$t1") s; os-services periodic reports from $to $(dt "$t0" "$(now)") s after the move"
  mnx 1 pcs resource clear openstack-cinder-volume
  # the volume made before the move belongs to the shared host: the new node's daemon deletes it
  ncinder delete-volume "$(cat "$CP_OUT/volume-mn")" 120
  [ ! -e "$OS_RIG_DIR/state/cinder-export/volume-$(cat "$CP_OUT/volume-mn")" ]
  # and creates new ones
  ncinder wait-pools 60
  vid=$(ncinder create-volume mn-vol2 1 120)
  echo "$vid" >"$CP_OUT/volume-mn"
}

@test "multi-node: standby of the active node moves cinder-volume back; os-services up again" {
  local from to t0 t1 since
  from=$(active_node)
  if [ "$from" = n1 ]; then to=n2; else to=n1; fi
  t0=$(now)
  mnx 1 pcs node standby "$from"
  wait_for 180 started_on openstack-cinder-volume "$to"
  t1=$(now)
  since=$(($(date +%s) + 1))
  [ "$(volume_nodes)" = "$to" ]
  SINCE=$since run mnx "${to#n}" "$PY" "$ROOT/test/rig/openstack/lib/cinder_rig.py" wait-up 90 "$VOLUME_SVC"
  echo "$output"; [ "$status" -eq 0 ]
  record "multi-node: pcs node standby $from: cinder-volume Started on $to in $(dt "$t0" "$t1") s; os-services periodic reports from $to $(dt "$t0" "$(now)") s after the standby"
  # the standby node runs no cinder daemon at all any more (its api and scheduler instances stop too)
  wait_for 90 no_daemons_on "${from#n}"
  mnx "${to#n}" "$PY" "$ROOT/test/rig/openstack/lib/cinder_rig.py" delete-volume "$(cat "$CP_OUT/volume-mn")" 120
  mnx 1 pcs node unstandby "$from"
}

@test "multi-node: disabling the api clone stops every cinder daemon on every node (constraint order)" {
  local t
  t=$(now)
  mnx 1 pcs resource disable openstack-cinder-api-clone
  wait_for 120 bash -c "[ -z \"\$(bash $MN exec 1 crm_mon -1 --output-as=xml | grep 'role=\"Started\"' | grep openstack-cinder)\" ]"
  record "multi-node: disable api clone -> volume, schedulers, apis stopped on 2 nodes: $(dt "$t" "$(now)") s"
  # the agents stopped the daemons (the cluster, and with it the namespaces, still run)
  for a in cinder-api cinder-scheduler cinder-volume; do
    [ -z "$(daemon_pids "$a")" ] || { echo "$a still runs: $(daemon_pids "$a")"; false; }
  done
}
