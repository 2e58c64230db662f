#!/bin/bash
# A multi-node Pacemaker 2.1 + Corosync 3 cluster on ONE machine, one network namespace per node (adapted from the
# project's Pacemaker recipes). Needs root and the Pacemaker rig's packages (test/rig/pacemaker/install.sh).
#
#   cluster.sh start        nodes n1..nN (N = MN_NODES, default 2) with their own network, mount and UTS namespaces
#   cluster.sh stop         pacemakerd of every node (it stops the resources), then everything left in the node
#                           namespaces (found by network-namespace inode: pacemakerd's children setsid()), then the
#                           namespaces, the forwarders, the veth
#   cluster.sh exec N CMD   run CMD inside node N (its network, mounts and host name): pcs, crm_mon, ...
#   cluster.sh status       crm_mon -1 from node 1
#   cluster.sh power off|on|cut|status NODE
#                           the rig's power switch for node NODE (nN or computeK): off KILLs every process in the
#                           node's network namespace and takes its link down; on brings the link up and boots the node
#                           (corosync + pacemakerd, or pacemaker-remoted); cut takes only its link down (the node runs
#                           on, cut off). test/rig/multinode/power-hook calls it for
#                           fence_rig from inside a controller. Each switch is logged in $MN_DIR/power.log
#                           ("EPOCH_MS off|on NODE").
#
# Compute nodes (MN_COMPUTES=K, default 0): compute1..K, pacemaker_remote nodes (10.250.0.1K, namespaces oha-cK)
# running pacemaker-remoted only (unpacked by install.sh, as Debian's package conflicts with pacemaker); the cluster adds them with ocf:pacemaker:remote. Their private /etc/nova holds the
# OpenStack rig's nova.conf (MN_NOVA_CONF) and nova.conf.d/10-node.conf (host = computeK, own state and log), so a
# nova-compute started there with no arguments is host computeK. /etc/pacemaker/authkey is made when missing (and
# removed by stop when the rig made it).
#
# Network (nothing leaves this machine): namespace oha-hub holds bridge br0; node namespaces oha-n1..oha-nN
# have eth0 = 10.250.0.N/24 on it (corosync knet rings). The root namespace is joined to the bridge by a veth
# (oha-mn0, 10.250.0.254/24) and forwards 10.250.0.254:{13306,5672,5000,9292} to the OpenStack rig's
# MariaDB, RabbitMQ, Keystone and Glance on 127.0.0.1 (socat); in each node namespace socat forwards the same
# ports on the node's own 127.0.0.1 to 10.250.0.254. So an OpenStack daemon's configuration written for the rig
# (127.0.0.1 everywhere, Keystone catalog included) works unchanged on every node, and a service a node runs
# itself (cinder-api on 127.0.0.1:8776) is that node's own.
#
# Hooks (the guest-cluster rig, test/rig/guest): MN_NODE_INIT=SCRIPT runs as "bash SCRIPT nN" inside the node after
# its private mounts, at every boot (power on too); MN_PCMK_ENV="NAME=VALUE ..." is added to pacemakerd's environment
# (its resource agents inherit it).
#
# Per node, private mounts: /etc/corosync, /var/lib/corosync, /var/lib/pacemaker, /var/log/pacemaker,
# /var/lib/heartbeat, /etc/hosts (names the node), tmpfs on /run and /dev/shm. Everything else (the agents in
# /usr/lib/ocf, /tmp with the rig's state and its shared Cinder volume directory) is the machine's.
# State and logs: $MN_DIR (default /tmp/oha-multinode)/nN/{corosync.log,pacemaker.log,ra.log,...}.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
. "$HERE/../lib.sh"
MN_DIR=${MN_DIR:-/tmp/oha-multinode}
MN_NODES=${MN_NODES:-2}
MN_COMPUTES=${MN_COMPUTES:-0}
REMOTED=${MN_REMOTE_DIR:-/var/lib/oha-multinode/pacemaker-remote}/usr/sbin/pacemaker-remoted
MN_NOVA_CONF=${MN_NOVA_CONF:-${OS_RIG_DIR:-/tmp/oha-openstack-rig}/etc/nova/nova.conf}
PREFIX=oha
HUB=$PREFIX-hub
ROOT_IF=$PREFIX-mn0
ROOT_ADDR=10.250.0.254
FWD_PORTS=${MN_FWD_PORTS:-"13306 5672 5000 9292 8774 8778 9696"}
PATH=$PATH:/usr/sbin:/sbin
die() { echo "multinode: ERROR: $*" >&2; exit 1; }
say() { echo "multinode: $*"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

ns_inode() { stat -L -c %i "/run/netns/$1" 2>/dev/null; }
# PIDs whose network namespace is the one with inode $1
pids_in_netns() {
  local want="net:[$1]" d
  for d in /proc/[0-9]*; do
    [ "$(readlink "$d/ns/net" 2>/dev/null)" = "$want" ] && echo "${d#/proc/}"
  done
  return 0
}
node_dir() { case "$1" in compute*) echo "$MN_DIR/c${1#compute}" ;; n*) echo "$MN_DIR/$1" ;; *) echo "$MN_DIR/n$1" ;; esac; }
node_ns() { case "$1" in compute*) echo "$PREFIX-c${1#compute}" ;; n*) echo "$PREFIX-$1" ;; *) echo "$PREFIX-n$1" ;; esac; }
node_hub_if() { case "$1" in compute*) echo "hc${1#compute}" ;; n*) echo "h${1#n}" ;; *) echo "h$1" ;; esac; }
node_pid() { # the node's anchor process (corosync, or a compute node's pacemaker-remoted): nsenter target
  local f pid
  case "$1" in compute*) f=$(node_dir "$1")/remoted.pid ;; *) f=$(node_dir "$1")/corosync.pid ;; esac
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  running "$pid" || return 1
  echo "$pid"
}
nx() { # nx N CMD...: run inside node N
  local n=$1 pid; shift
  pid=$(node_pid "$n") || die "node $n is not running"
  nsenter -t "$pid" -n -m -u "$@"
}

# a forwarder in the current network namespace, detached, recorded in $MN_DIR/forwarders
forward() { # forward LISTEN_ADDR PORT TARGET_ADDR
  setsid socat "TCP-LISTEN:$2,bind=$1,fork,reuseaddr" "TCP:$3:$2" </dev/null >/dev/null 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
  echo "$! $(proc_start $!)" >>"$MN_DIR/forwarders"
}

# /etc/hosts of a node: itself on loopback, then every controller and compute node of the rig
hosts_file() {
  local i
  printf '127.0.0.1 localhost %s\n' "$1"
  for i in $(seq 1 "$MN_NODES"); do printf '10.250.0.%s n%s\n' "$i" "$i"; done
  for i in $(seq 1 "$MN_COMPUTES"); do printf '10.250.0.%s compute%s\n' "$((10 + i))" "$i"; done
}

# node_link NS HUB_IF ADDR: a veth from the hub's bridge into namespace NS (eth0 = ADDR/24)
node_link() {
  ip netns add "$1"
  ip link add "${PREFIX}v-$2" netns "$1" type veth peer name "$2" netns "$HUB"
  ip -n "$HUB" link set "$2" master br0
  ip -n "$HUB" link set "$2" up
  ip -n "$1" link set lo up
  ip -n "$1" link set "${PREFIX}v-$2" name eth0
  ip -n "$1" addr add "$3/24" dev eth0
  ip -n "$1" link set eth0 up
}
node_forwarders() { # node_forwarders NS: the node's own 127.0.0.1 ports forwarded to the OpenStack rig
  local p
  for p in $FWD_PORTS; do
    ip netns exec "$1" bash -c "$(declare -f forward proc_start proc_field); MN_DIR=$MN_DIR; forward 127.0.0.1 $p $ROOT_ADDR"
  done
}

start_node() {
  local n=$1 b=$MN_DIR/n$1 i nodes=''
  mkdir -p "$b"/{etc-corosync,var-lib-corosync,run,var-lib-heartbeat,var-lib-pacemaker/{cib,pengine,blackbox,cores},var-log-pacemaker/bundles}
  chown -R hacluster:haclient "$b/var-lib-pacemaker" "$b/var-log-pacemaker"
  chmod 750 "$b"/var-lib-pacemaker/*; chmod 770 "$b/var-log-pacemaker"
  for i in $(seq 1 "$MN_NODES"); do
    nodes="$nodes    node {
        name: n$i
        nodeid: $i
        ring0_addr: 10.250.0.$i
    }
"
  done
  cat >"$b/etc-corosync/corosync.conf" <<EOC
totem {
    version: 2
    cluster_name: oha-mn
    transport: knet
    crypto_cipher: none
    crypto_hash: none
    token: 3000
}
nodelist {
$nodes}
quorum {
    provider: corosync_votequorum
$([ "$MN_NODES" = 2 ] && echo "    two_node: 1")
}
logging {
    to_stderr: no
    to_logfile: yes
    logfile: /var/log/pacemaker/corosync.log
    to_syslog: no
    timestamp: on
}
EOC
  rm -f "$b"/var-lib-pacemaker/cib/* "$b"/var-lib-pacemaker/pengine/*
  cat >"$b/var-lib-pacemaker/cib/cib.xml" <<'EOX'
<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
  <configuration><crm_config><cluster_property_set id="cib-bootstrap-options">
    <nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"/>
    <nvpair id="cib-bootstrap-options-dc-deadtime" name="dc-deadtime" value="2s"/>
  </cluster_property_set></crm_config><nodes/><resources/><constraints/></configuration><status/>
</cib>
EOX
  chown hacluster:haclient "$b/var-lib-pacemaker/cib/cib.xml"; chmod 600 "$b/var-lib-pacemaker/cib/cib.xml"
  hosts_file "n$n" >"$b/hosts"
  for f in corosync.log pacemaker.log ra.log; do
    : >"$b/var-log-pacemaker/$f"; chown hacluster:haclient "$b/var-log-pacemaker/$f"; chmod 0664 "$b/var-log-pacemaker/$f"
  done
  rm -f "$b/corosync.pid" "$b/pacemakerd.pid"
  # the node's "init": private mounts, then corosync and pacemakerd; it waits for them (and dies with the namespace)
  ip netns exec "$PREFIX-n$n" unshare -m -u --propagation private bash -c "
    for fd in \$(ls /proc/\$\$/fd); do [ \"\$fd\" -gt 2 ] && eval \"exec \$fd>&-\"; done
    hostname n$n
    mount --bind $b/etc-corosync /etc/corosync
    mkdir -p /var/lib/corosync /var/lib/heartbeat
    mount --bind $b/var-lib-corosync /var/lib/corosync
    mount --bind $b/var-lib-pacemaker /var/lib/pacemaker
    mount --bind $b/var-log-pacemaker /var/log/pacemaker
    mount --bind $b/var-lib-heartbeat /var/lib/heartbeat
    mount --bind $b/hosts /etc/hosts
    mount -t tmpfs tmpfs /run
    mount -t tmpfs tmpfs /dev/shm
    mkdir -p /run/resource-agents /run/crm /run/pacemaker /run/netns
    ${MN_NODE_INIT:+bash $MN_NODE_INIT n$n || exit 1}
    corosync -f >$b/corosync.out 2>&1 </dev/null &
    echo \$! >$b/corosync.pid
    for i in \$(seq 1 150); do corosync-cfgtool -s >/dev/null 2>&1 && break; sleep 0.1; done
    corosync-cfgtool -s >/dev/null 2>&1 || exit 1
    PCMK_logfacility=none PCMK_logfile=/var/log/pacemaker/pacemaker.log HA_LOGFILE=/var/log/pacemaker/ra.log \
      HA_DEBUGLOG=/var/log/pacemaker/ra.log ${MN_PCMK_ENV:-} /usr/sbin/pacemakerd >$b/pacemakerd.out 2>&1 </dev/null &
    echo \$! >$b/pacemakerd.pid
    wait
  " </dev/null >"$b/init.out" 2>&1 &
}

# ------------------------------------------------------------------------------------------------ compute nodes
# the node's own nova configuration: the rig's nova.conf, and in nova.conf.d its host name, state and log
compute_nova_conf() {
  local k=$1 b=$2
  mkdir -p "$b/etc-nova/nova.conf.d" "$b/nova/instances" "$b/nova/locks"
  [ -f "$MN_NOVA_CONF" ] && cp "$MN_NOVA_CONF" "$b/etc-nova/nova.conf"
  cat >"$b/etc-nova/nova.conf.d/10-node.conf" <<EON
[DEFAULT]
host = compute$k
state_path = $b/nova
instances_path = $b/nova/instances
log_dir = $b
log_file = $b/nova-compute.log
[oslo_concurrency]
lock_path = $b/nova/locks
EON
  touch "$b/nova-compute.log"
  if id nova >/dev/null 2>&1; then chown -R nova: "$b/nova" "$b/nova-compute.log"; chgrp -R nova "$b/etc-nova"; fi
  chmod -R g+rX "$b/etc-nova"
}

# boots compute node K (namespace oha-cK, which exists): private mounts, then pacemaker-remoted, its "init"
start_compute() {
  local k=$1 b=$MN_DIR/c$1 ns=$PREFIX-c$1
  mkdir -p "$b"/{var-lib-heartbeat,var-lib-pacemaker/{cib,pengine,blackbox,cores},var-log-pacemaker/bundles}
  chown -R hacluster:haclient "$b/var-lib-pacemaker" "$b/var-log-pacemaker"
  chmod 750 "$b"/var-lib-pacemaker/*; chmod 770 "$b/var-log-pacemaker"
  hosts_file "compute$k" >"$b/hosts"
  for f in pacemaker.log ra.log; do
    touch "$b/var-log-pacemaker/$f"; chown hacluster:haclient "$b/var-log-pacemaker/$f"; chmod 0664 "$b/var-log-pacemaker/$f"
  done
  [ -f "$b/etc-nova/nova.conf.d/10-node.conf" ] || compute_nova_conf "$k" "$b"
  rm -f "$b/remoted.pid"
  node_forwarders "$ns"
  ip netns exec "$ns" unshare -m -u --propagation private bash -c "
    for fd in \$(ls /proc/\$\$/fd); do [ \"\$fd\" -gt 2 ] && eval \"exec \$fd>&-\"; done
    hostname compute$k
    mkdir -p /var/lib/heartbeat
    mount --bind $b/var-lib-pacemaker /var/lib/pacemaker
    mount --bind $b/var-log-pacemaker /var/log/pacemaker
    mount --bind $b/var-lib-heartbeat /var/lib/heartbeat
    mount --bind $b/hosts /etc/hosts
    mount --bind $b/etc-nova /etc/nova
    mount -t tmpfs tmpfs /run
    mount -t tmpfs tmpfs /dev/shm
    mkdir -p /run/resource-agents /run/crm /run/pacemaker
    PCMK_logfacility=none PCMK_logfile=/var/log/pacemaker/pacemaker.log HA_LOGFILE=/var/log/pacemaker/ra.log \
      HA_DEBUGLOG=/var/log/pacemaker/ra.log $REMOTED >$b/remoted.out 2>&1 </dev/null &
    echo \$! >$b/remoted.pid
    wait
  " </dev/null >"$b/init.out" 2>&1 &
}

start_computes() {
  local k i
  [ -x "$REMOTED" ] || die "pacemaker-remoted missing ($REMOTED): run test/rig/multinode/install.sh"
  if [ ! -f /etc/pacemaker/authkey ]; then
    mkdir -p /etc/pacemaker
    dd if=/dev/urandom of=/etc/pacemaker/authkey bs=4096 count=1 status=none
    chown hacluster:haclient /etc/pacemaker/authkey; chmod 640 /etc/pacemaker/authkey
    touch "$MN_DIR/authkey-made"
  fi
  if [ ! -d /etc/nova ]; then mkdir -p /etc/nova; touch "$MN_DIR/etc-nova-made"; fi
  for k in $(seq 1 "$MN_COMPUTES"); do rm -rf "$MN_DIR/c$k"; start_compute "$k"; done
  for k in $(seq 1 "$MN_COMPUTES"); do
    for i in $(seq 1 100); do node_pid "compute$k" >/dev/null && break; sleep 0.1; done
    node_pid "compute$k" >/dev/null || { cat "$MN_DIR/c$k/init.out" "$MN_DIR/c$k/remoted.out" >&2; die "pacemaker-remoted of compute$k did not start"; }
  done
  say "pacemaker-remoted up on compute1..$MN_COMPUTES (add them with: pcs resource create computeK ocf:pacemaker:remote ...)"
}

# -------------------------------------------------------------------------------------------------- power switch
kill_netns() { # kill_netns NS SIGNAL: every process in the network namespace NS, waited for
  local ino pids
  ino=$(ns_inode "$1") || return 0
  pids=$(pids_in_netns "$ino" | tr '\n' ' ')
  [ -n "${pids// /}" ] || return 0
  # shellcheck disable=SC2086
  kill "-$2" $pids 2>/dev/null || true
  # shellcheck disable=SC2086
  wait_gone 100 $pids || { kill -KILL $pids 2>/dev/null || true; wait_gone 50 $pids || true; }
}
power() { # power off|on|status NODE
  local what=$1 node=$2 ns hif
  ns=$(node_ns "$node"); hif=$(node_hub_if "$node")
  [ -e "/run/netns/$ns" ] || die "no such node: $node"
  [ "$what" = status ] || echo "$(date +%s%3N) $what $node" >>"$MN_DIR/power.log"   # the switch's own record
  case "$what" in
    off)
      kill_netns "$ns" KILL
      ip -n "$HUB" link set "$hif" down
      say "power off $node: every process in $ns killed, link $hif down" ;;
    on)
      ip -n "$HUB" link set "$hif" up
      if node_pid "$node" >/dev/null; then say "power on $node: already running"; return 0; fi
      kill_netns "$ns" KILL
      case "$node" in
        compute*) start_compute "${node#compute}" ;;
        *) node_forwarders "$ns"; start_node "${node#n}" ;;
      esac
      say "power on $node: booting" ;;
    cut) # the node's link only: it runs on, cut off from the others (a switch port or cable failure)
      ip -n "$HUB" link set "$hif" down
      say "link $hif of $node down (its processes run on)" ;;
    status) if node_pid "$node" >/dev/null; then echo on; else echo off; fi ;;
    *) die "usage: cluster.sh power off|on|cut|status NODE" ;;
  esac
}

start() {
  local t0 n i online
  [ "$(id -u)" = 0 ] || die "must run as root"
  command -v pacemakerd >/dev/null && command -v socat >/dev/null && command -v nsenter >/dev/null || \
    die "pacemaker, socat or nsenter missing: run test/rig/pacemaker/install.sh (and apt-get install socat)"
  [ -e "/run/netns/$HUB" ] && die "namespace $HUB exists: the cluster runs already (cluster.sh stop first)"
  t0=$(now)
  mkdir -p "$MN_DIR"; : >"$MN_DIR/forwarders"
  echo "$MN_NODES" >"$MN_DIR/nodes"
  echo "$MN_COMPUTES" >"$MN_DIR/computes"
  # the root namespaces' anchor: power-hook (run by the fencer inside a controller) enters them through it
  setsid sleep infinity </dev/null >/dev/null 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
  echo "$! $(proc_start $!)" >"$MN_DIR/anchor"
  ip netns add "$HUB"
  ip -n "$HUB" link add br0 type bridge
  ip -n "$HUB" link set br0 up
  ip -n "$HUB" link set lo up
  ip link add "$ROOT_IF" type veth peer name h0 netns "$HUB"
  ip -n "$HUB" link set h0 master br0
  ip -n "$HUB" link set h0 up
  ip addr add "$ROOT_ADDR/24" dev "$ROOT_IF"
  ip link set "$ROOT_IF" up
  for n in $(seq 1 "$MN_NODES"); do node_link "$PREFIX-n$n" "h$n" "10.250.0.$n"; done
  for n in $(seq 1 "$MN_COMPUTES"); do node_link "$PREFIX-c$n" "hc$n" "10.250.0.$((10 + n))"; done
  for p in $FWD_PORTS; do forward "$ROOT_ADDR" "$p" 127.0.0.1; done
  for n in $(seq 1 "$MN_NODES"); do node_forwarders "$PREFIX-n$n"; done
  for n in $(seq 1 "$MN_NODES"); do start_node "$n"; done
  [ "$MN_COMPUTES" -gt 0 ] && start_computes
  for n in $(seq 1 "$MN_NODES"); do
    for i in $(seq 1 100); do node_pid "$n" >/dev/null && break; sleep 0.1; done
    node_pid "$n" >/dev/null || { cat "$MN_DIR/n$n/init.out" "$MN_DIR/n$n/corosync.out" >&2; die "corosync of n$n did not start"; }
  done
  say "corosync up on $MN_NODES nodes after $(elapsed "$t0") s"
  local want
  want="Online: \[ $(seq -s ' ' -f 'n%g' 1 "$MN_NODES") \]"
  online=''
  for i in $(seq 1 600); do
    if nx 1 crm_mon -1 2>/dev/null | grep -q "$want"; then online=1; break; fi
    sleep 0.2
  done
  [ -n "$online" ] || { nx 1 crm_mon -1 >&2 || true; die "nodes not all online after 120 s; logs in $MN_DIR/nN/var-log-pacemaker"; }
  say "$MN_NODES nodes online after $(elapsed "$t0") s (pcs/crm_mon: cluster.sh exec N CMD; logs $MN_DIR/nN/var-log-pacemaker)"
}

wait_gone() { # wait_gone TENTHS PID...
  local t=$1 p left; shift
  while :; do
    left=''; for p in "$@"; do running "$p" && left=1; done
    [ -z "$left" ] && return 0
    [ "$t" -le 0 ] && return 1
    sleep 0.1; t=$((t - 1))
  done
}

stop() {
  local n nodes ino pids pcmk t0 pid st
  t0=$(now)
  nodes=$(cat "$MN_DIR/nodes" 2>/dev/null || echo "$MN_NODES")
  # 1. pacemakerd everywhere at once (each stops its resources: our agents stop the daemons)
  for n in $(seq 1 "$nodes"); do
    pcmk=$(cat "$MN_DIR/n$n/pacemakerd.pid" 2>/dev/null || true)
    [ -n "$pcmk" ] && running "$pcmk" && kill -TERM "$pcmk" 2>/dev/null || true
  done
  for n in $(seq 1 "$nodes"); do
    pcmk=$(cat "$MN_DIR/n$n/pacemakerd.pid" 2>/dev/null || true)
    [ -n "$pcmk" ] && ! wait_gone "${MN_STOP_TIMEOUT:-90}0" "$pcmk" && say "n$n: pacemakerd still runs: KILL everything in the node"
  done
  # 2. whatever is left in each node's network namespace (corosync, setsid()'d children, daemons, forwarders)
  for n in $(seq 1 "$nodes"); do
    ino=$(ns_inode "$PREFIX-n$n") || continue
    pids=$(pids_in_netns "$ino" | tr '\n' ' ')
    if [ -n "${pids// /}" ]; then
      # shellcheck disable=SC2086
      kill -TERM $pids 2>/dev/null || true
      # shellcheck disable=SC2086
      wait_gone 100 $pids || { kill -KILL $pids 2>/dev/null || true; wait_gone 50 $pids || true; }
    fi
    ip netns del "$PREFIX-n$n" 2>/dev/null || true
  done
  for n in $(seq 1 "$(cat "$MN_DIR/computes" 2>/dev/null || echo "$MN_COMPUTES")"); do
    kill_netns "$PREFIX-c$n" TERM
    ip netns del "$PREFIX-c$n" 2>/dev/null || true
  done
  [ -f "$MN_DIR/authkey-made" ] && rm -f /etc/pacemaker/authkey "$MN_DIR/authkey-made"
  [ -f "$MN_DIR/etc-nova-made" ] && rmdir /etc/nova 2>/dev/null; rm -f "$MN_DIR/etc-nova-made"
  if [ -f "$MN_DIR/anchor" ]; then
    read -r pid st <"$MN_DIR/anchor" || true
    [ -n "${pid:-}" ] && running "$pid" && [ "$(proc_start "$pid")" = "$st" ] && kill -TERM "$pid" 2>/dev/null
    rm -f "$MN_DIR/anchor"
  fi
  # 3. root-side forwarders (recorded), veth, hub
  if [ -f "$MN_DIR/forwarders" ]; then
    while read -r pid st; do
      [ -n "$pid" ] && running "$pid" && [ "$(proc_start "$pid")" = "$st" ] && kill -TERM "$pid" 2>/dev/null
    done <"$MN_DIR/forwarders"
    rm -f "$MN_DIR/forwarders"
  fi
  ip link del "$ROOT_IF" 2>/dev/null || true
  ino=$(ns_inode "$HUB") && { pids=$(pids_in_netns "$ino"); [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true; }
  ip netns del "$HUB" 2>/dev/null || true
  # libqb IPC files of the nodes' daemons were on the nodes' private /dev/shm (tmpfs, gone with them)
  say "stopped in $(elapsed "$t0") s"
}

cmd=${1:-}
case "$cmd" in
  start) start ;;
  stop) stop ;;
  exec) shift; [ $# -ge 2 ] || die "usage: cluster.sh exec N CMD..."; n=$1; shift; nx "$n" "$@" ;;
  status) nx 1 crm_mon -1 ;;
  power) shift; [ $# -eq 2 ] || die "usage: cluster.sh power off|on|cut|status NODE"
    MN_NODES=$(cat "$MN_DIR/nodes"); MN_COMPUTES=$(cat "$MN_DIR/computes" 2>/dev/null || echo 0); power "$1" "$2" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
esac
