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
#
# Network (nothing leaves this machine): namespace oha-hub holds bridge br0; node namespaces oha-n1..oha-nN
# have eth0 = 10.250.0.N/24 on it (corosync knet rings). The root namespace is joined to the bridge by a veth
# (oha-mn0, 10.250.0.254/24) and forwards 10.250.0.254:{13306,5672,5000,9292} to the OpenStack rig's
# MariaDB, RabbitMQ, Keystone and Glance on 127.0.0.1 (socat); in each node namespace socat forwards the same
# ports on the node's own 127.0.0.1 to 10.250.0.254. So an OpenStack daemon's configuration written for the rig
# (127.0.0.1 everywhere, Keystone catalog included) works unchanged on every node, and a service a node runs
# itself (cinder-api on 127.0.0.1:8776) is that node's own.
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
PREFIX=oha
HUB=$PREFIX-hub
ROOT_IF=$PREFIX-mn0
ROOT_ADDR=10.250.0.254
FWD_PORTS=${MN_FWD_PORTS:-"13306 5672 5000 9292"}
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
node_pid() { # the node's anchor process (its corosync): nsenter target
  local f=$MN_DIR/n$1/corosync.pid pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  running "$pid" || return 1
  echo "$pid"
}
nx() { # nx N CMD...: run inside node N
  local n=$1 pid; shift
  pid=$(node_pid "$n") || die "node n$n is not running"
  nsenter -t "$pid" -n -m -u "$@"
}

# a forwarder in the current network namespace, detached, recorded in $MN_DIR/forwarders
forward() { # forward LISTEN_ADDR PORT TARGET_ADDR
  setsid socat "TCP-LISTEN:$2,bind=$1,fork,reuseaddr" "TCP:$3:$2" </dev/null >/dev/null 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
  echo "$! $(proc_start $!)" >>"$MN_DIR/forwarders"
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
  printf '127.0.0.1 localhost n%s\n' "$n" >"$b/hosts"
  for i in $(seq 1 "$MN_NODES"); do printf '10.250.0.%s n%s\n' "$i" "$i" >>"$b/hosts"; done
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
    corosync -f >$b/corosync.out 2>&1 </dev/null &
    echo \$! >$b/corosync.pid
    for i in \$(seq 1 150); do corosync-cfgtool -s >/dev/null 2>&1 && break; sleep 0.1; done
    corosync-cfgtool -s >/dev/null 2>&1 || exit 1
    PCMK_logfacility=none PCMK_logfile=/var/log/pacemaker/pacemaker.log HA_LOGFILE=/var/log/pacemaker/ra.log \
      HA_DEBUGLOG=/var/log/pacemaker/ra.log /usr/sbin/pacemakerd >$b/pacemakerd.out 2>&1 </dev/null &
    echo \$! >$b/pacemakerd.pid
    wait
  " </dev/null >"$b/init.out" 2>&1 &
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
  ip netns add "$HUB"
  ip -n "$HUB" link add br0 type bridge
  ip -n "$HUB" link set br0 up
  ip -n "$HUB" link set lo up
  ip link add "$ROOT_IF" type veth peer name h0 netns "$HUB"
  ip -n "$HUB" link set h0 master br0
  ip -n "$HUB" link set h0 up
  ip addr add "$ROOT_ADDR/24" dev "$ROOT_IF"
  ip link set "$ROOT_IF" up
  for n in $(seq 1 "$MN_NODES"); do
    ip netns add "$PREFIX-n$n"
    ip link add "${PREFIX}v$n" netns "$PREFIX-n$n" type veth peer name "h$n" netns "$HUB"
    ip -n "$HUB" link set "h$n" master br0
    ip -n "$HUB" link set "h$n" up
    ip -n "$PREFIX-n$n" link set lo up
    ip -n "$PREFIX-n$n" link set "${PREFIX}v$n" name eth0
    ip -n "$PREFIX-n$n" addr add "10.250.0.$n/24" dev eth0
    ip -n "$PREFIX-n$n" link set eth0 up
  done
  for p in $FWD_PORTS; do forward "$ROOT_ADDR" "$p" 127.0.0.1; done
  for n in $(seq 1 "$MN_NODES"); do
    for p in $FWD_PORTS; do ip netns exec "$PREFIX-n$n" bash -c "$(declare -f forward proc_start proc_field); MN_DIR=$MN_DIR; forward 127.0.0.1 $p $ROOT_ADDR"; done
  done
  for n in $(seq 1 "$MN_NODES"); do start_node "$n"; done
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
  local n nodes ino pids pcmk t0
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
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
esac
