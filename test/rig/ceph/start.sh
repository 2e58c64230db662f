#!/bin/bash
# Starts a small but REAL single-node Ceph (Debian 12 packages, Ceph 16.2.15 "pacific") on 127.0.0.1, without
# systemd, for the agents' tests against Ceph-backed Cinder/Glance/Nova:
#   one monitor mon.a on 127.0.0.1 (msgr2 :3300, msgr1 :6789), one manager mgr.x, ONE OSD osd.0 (BlueStore on a
#   sparse file, see "OSD" below), cephx everywhere, pool size 1. Then the pools and users of Ceph's OpenStack guide
#   (docs.ceph.com/en/pacific/rbd/rbd-openstack): pools volumes, images, backups, vms (8 PGs each, rbd pool init) and
#   users client.glance, client.cinder, client.cinder-backup with exactly the guide's capabilities.
#
# Usage: start.sh [--fresh]
#   (no option)  start with the data left by the last run (pools, images, users), or bootstrap on the first run
#   --fresh      throw the cluster away (data, keyrings, fsid) and bootstrap a new one; the logs move to log.prev
# Environment: CEPH_RIG_DIR (default /tmp/oha-ceph-rig), CEPH_RIG_OBJECTSTORE (bluestore, default, or memstore),
#   CEPH_RIG_OSD_SIZE_GB (size of the sparse BlueStore file, default 10), CEPH_RIG_TIMEOUT (seconds per milestone,
#   default 120), CEPH_RIG_KEEP_ON_FAILURE=1 leaves the daemons running when the start fails (default: stop.sh).
# Results: $CEPH_RIG_DIR/ceph.conf, $CEPH_RIG_DIR/ceph.env (KEY=VALUE: CEPH_CONF, FSID, keyring paths...), keyrings
#   in $CEPH_RIG_DIR/etc (ceph.client.NAME.keyring; admin 0600 root, the OpenStack users' 0640 root:cinder or
#   root:glance when those groups exist), logs in $CEPH_RIG_DIR/log. Stop with stop.sh; see README.md.
#
# Daemons: each runs in the foreground (-f) under setsid, as root, with --cluster ceph -c $CEPH_RIG_DIR/ceph.conf.
#   Root, not the package's user ceph: the daemons stay whoever starts them unless given --setuser, the rig owns
#   everything under a /tmp directory that root made, and the other rigs run their daemons as root too; running as
#   ceph would only add a chown of the data and of the sparse block file (possible later: --setuser ceph
#   --setgroup ceph).
# OSD: BlueStore on a sparse file (bluestore_block_path = data/osd.0.block, bluestore_block_create: ceph-osd --mkfs
#   creates it with ftruncate, nothing is preallocated). It needs no kernel help beyond O_DIRECT and libaio on the
#   file system of $CEPH_RIG_DIR (ext4 here); ceph-volume is out (its lvm mode needs device-mapper and LVM
#   activation, which this machine lacks; its raw mode wants a block device). MemStore (everything in RAM, lost when
#   the OSD stops) is used only when BlueStore cannot work: $CEPH_RIG_DIR on tmpfs (no O_DIRECT), or
#   CEPH_RIG_OBJECTSTORE=memstore; with memstore every start bootstraps anew.
set -euo pipefail
RIG_T0=$(($(date +%s%N) / 1000000))
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

FRESH=0
for a in "$@"; do
  case "$a" in
    --fresh) FRESH=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $a (usage: start.sh [--fresh])" ;;
  esac
done
TIMEOUT=${CEPH_RIG_TIMEOUT:-120}
SIZE_GB=${CEPH_RIG_OSD_SIZE_GB:-10}
[[ "$SIZE_GB" =~ ^[1-9][0-9]{0,3}$ ]] || die "CEPH_RIG_OSD_SIZE_GB must be 1..9999"
POOLS="volumes images backups vms"
PG_NUM=8
[ "$(id -u)" -eq 0 ] || die "must run as root"
for t in ceph-mon ceph-mgr ceph-osd ceph rbd ceph-authtool monmaptool; do
  command -v "$t" >/dev/null 2>&1 || die "$t not found: run bash $RIG_HERE/install.sh (as root) first"
done

# ------------------------------------------------------------------------------------------ refuse to double-start
mkdir -p "$RUN"
for name in $DAEMONS; do
  pid=$(recorded_pid "$name")
  [ -z "$pid" ] || die "the rig is already running ($name has PID $pid): run $RIG_HERE/stop.sh first"
done
for p in $MON_PORTS; do port_open "$p" && die "port $p (a Ceph monitor?) is already in use on 127.0.0.1"; done
rm -f "$RUN"/*.pid

# ------------------------------------------------------------------------------------------ object store, state
STORE=${CEPH_RIG_OBJECTSTORE:-bluestore}
case "$STORE" in bluestore|memstore) ;; *) die "CEPH_RIG_OBJECTSTORE must be bluestore or memstore" ;; esac
mkdir -p "$CEPH_RIG_DIR"
if [ "$STORE" = bluestore ] && [ "$(stat -f -c %T "$CEPH_RIG_DIR")" = tmpfs ]; then
  say "$CEPH_RIG_DIR is on tmpfs (no O_DIRECT for BlueStore): using memstore"
  STORE=memstore
fi
STAMP="layout=1 objectstore=$STORE ceph=$(dpkg-query -W -f='${Version}' ceph-osd 2>/dev/null || echo unknown)"

wipe() {
  rm -rf "$DATA" "$ETC" "$SOCK" "$CONF" "$CEPH_RIG_DIR/ceph.env" "$CEPH_RIG_DIR/crash" "$LOGDIR.prev"
  if [ -d "$LOGDIR" ]; then mv "$LOGDIR" "$LOGDIR.prev"; fi
}
if [ $FRESH = 1 ] || [ "$STORE" = memstore ]; then
  wipe; ts "old cluster removed (logs of the last run: $LOGDIR.prev)"
elif [ -d "$DATA" ] && [ ! -f "$DATA/.initialized" ]; then
  wipe; ts "the last bootstrap did not finish: starting over (its logs: $LOGDIR.prev)"
elif [ -f "$DATA/.initialized" ] && [ "$(cat "$DATA/.initialized")" != "$STAMP" ]; then
  die "the cluster in $DATA was made by other packages or settings ($(cat "$DATA/.initialized")): start with --fresh"
fi
MODE=reuse
[ -f "$DATA/.initialized" ] || MODE=bootstrap
mkdir -p "$DATA" "$ETC" "$SOCK" "$LOGDIR" "$CEPH_RIG_DIR/crash"
chmod 0755 "$CEPH_RIG_DIR" "$ETC"     # ceph.conf and the users' keyrings are read by cinder and glance
chmod 0700 "$DATA"
[ -f "$DATA/fsid" ] || cat /proc/sys/kernel/random/uuid >"$DATA/fsid"
FSID=$(cat "$DATA/fsid")

# ------------------------------------------------------------------------------------------ ceph.conf
# Memory: BlueStore's cache is fixed at 128 MiB (bluestore_cache_autotune off, so osd_memory_target does not grow
# it); osd_memory_target is 896 MiB, not 512: recent releases enforce 896 MiB as its minimum (to verify on the
# first run: ceph config show osd.0 osd_memory_target), and a refused value would leave the 4 GiB default. Few OSD worker shards/threads: the machine has 2 cores. The manager starts with the
# iostat module only (mgr_initial_modules, read when the monitor is created): no dashboard, restful or nfs; the
# always-on modules (devicehealth, rbd_support, pg_autoscaler, ...) cannot be disabled in pacific.
write_conf() {
  local store_conf
  if [ "$STORE" = bluestore ]; then
    store_conf="osd_objectstore = bluestore
bluestore_block_path = $DATA/osd.\$id.block
bluestore_block_create = true
bluestore_block_size = $((SIZE_GB * 1024 * 1024 * 1024))
bluestore_cache_autotune = false
bluestore_cache_size = 134217728"
  else
    store_conf="osd_objectstore = memstore
memstore_device_bytes = 1073741824"
  fi
  cat >"$CONF.tmp" <<EOF
# written by openstack-ha-agents test/rig/ceph/start.sh (rewritten at every start)
[global]
fsid = $FSID
mon_host = [v2:127.0.0.1:3300,v1:127.0.0.1:6789]
mon_initial_members = $MON_ID
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
auth_allow_insecure_global_id_reclaim = false
run_dir = $SOCK
crash_dir = $CEPH_RIG_DIR/crash
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = $PG_NUM
osd_pool_default_pgp_num = $PG_NUM
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_warn_on_pool_no_redundancy = false
mon_data_avail_warn = 10
mgr_initial_modules = iostat

[mon]
mon_data = $DATA/mon.\$id
keyring = $DATA/mon.\$id/keyring
log_file = $LOGDIR/\$cluster-\$name.log
mon_cluster_log_file = $LOGDIR/\$cluster.log

[mgr]
mgr_data = $DATA/mgr.\$id
keyring = $DATA/mgr.\$id/keyring
log_file = $LOGDIR/\$cluster-\$name.log

[osd]
osd_data = $DATA/osd.\$id
keyring = $DATA/osd.\$id/keyring
log_file = $LOGDIR/\$cluster-\$name.log
osd_memory_target = 939524096
osd_op_num_shards = 2
osd_op_num_threads_per_shard = 1
$store_conf

[client.admin]
keyring = $ADMIN_KEYRING

[client]
keyring = $ETC/\$cluster.\$name.keyring
admin_socket =
EOF
  chmod 0644 "$CONF.tmp"
  mv "$CONF.tmp" "$CONF"
}

# ------------------------------------------------------------------------------------------ failure handling, waits
OK=0
on_exit() {
  [ $OK = 1 ] && return 0
  local d
  echo "start.sh failed; logs in $LOGDIR" >&2
  for d in $DAEMONS; do
    [ -f "$LOGDIR/ceph-$d.log" ] || continue
    echo "--- last lines of $LOGDIR/ceph-$d.log:" >&2; tail -n 8 "$LOGDIR/ceph-$d.log" >&2
  done
  if [ "${CEPH_RIG_KEEP_ON_FAILURE:-0}" = 1 ]; then
    echo "CEPH_RIG_KEEP_ON_FAILURE=1: daemons left running, stop them with $RIG_HERE/stop.sh" >&2
  else
    bash "$RIG_HERE/stop.sh" >&2 || true
  fi
}
trap on_exit EXIT

# await WHAT CMD...: run CMD every second until it succeeds; fail when a started daemon died or after $TIMEOUT s
STARTED=
await() {
  local what=$1 end d; shift
  end=$(($(date +%s) + TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    for d in $STARTED; do
      [ -n "$(recorded_pid "$d")" ] || die "$d died while waiting for $what (see $LOGDIR/$d.out and ceph-$d.log)"
    done
    [ "$(date +%s)" -lt "$end" ] || die "timed out after ${TIMEOUT}s waiting for $what"
    sleep 1
  done
}
mon_quorum() { ceph_cli quorum_status -f json | json_true "'$MON_ID' in j['quorum_names']"; }
mgr_available() { ceph_cli mgr dump -f json | json_true "j['available'] and j['active_name'] == '$MGR_ID'"; }
# (pacific prints the counts at the top level; older releases nested them under "osdmap")
osd_up_in() { ceph_cli osd stat -f json | json_true "j.get('osdmap', j)['num_up_osds'] == 1 and j.get('osdmap', j)['num_in_osds'] == 1"; }
health_not_err() { ceph_cli health | grep -qE '^HEALTH_(OK|WARN)'; }
# every PG of the 4 pools (and of the manager's device_health_metrics pool) active, as the manager reports them
pgs_active() {
  ceph_cli status -f json | json_true "j['pgmap']['num_pgs'] >= $((4 * PG_NUM)) and \
sum(s['count'] for s in j['pgmap']['pgs_by_state'] if 'active' in s['state_name'].split('+')) == j['pgmap']['num_pgs']"
}

start_ceph_daemon() { # TYPE ID
  start_daemon "$1.$2" "ceph-$1" -f --cluster ceph -c "$CONF" -i "$2"
  STARTED="$STARTED $1.$2"
}

# ------------------------------------------------------------------------------------------ bootstrap steps
# monitor: keyrings and monmap as in Ceph's manual deployment guide (doc/install/manual-deployment.rst)
mkfs_mon() {
  local monkr=$ETC/ceph.mon.keyring
  ceph-authtool --create-keyring "$monkr" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool --create-keyring "$ADMIN_KEYRING" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' \
    --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
  chmod 0600 "$monkr" "$ADMIN_KEYRING"
  ceph-authtool "$monkr" --import-keyring "$ADMIN_KEYRING" >/dev/null
  monmaptool --create --addv "$MON_ID" '[v2:127.0.0.1:3300,v1:127.0.0.1:6789]' --fsid "$FSID" "$DATA/monmap" >/dev/null
  ceph-mon --cluster ceph -c "$CONF" --mkfs -i "$MON_ID" --monmap "$DATA/monmap" --keyring "$monkr" \
    >"$LOGDIR/mon.$MON_ID-mkfs.out" 2>&1 || die "ceph-mon --mkfs failed, see $LOGDIR/mon.$MON_ID-mkfs.out"
}
# manager key: caps of doc/mgr/administrator.rst
mgr_key() {
  mkdir -p "$DATA/mgr.$MGR_ID"
  ceph_cli auth get-or-create "mgr.$MGR_ID" mon 'allow profile mgr' osd 'allow *' mds 'allow *' \
    -o "$DATA/mgr.$MGR_ID/keyring" >/dev/null 2>&1 || die "could not create the key of mgr.$MGR_ID"
  chmod 0600 "$DATA/mgr.$MGR_ID/keyring"
}
# OSD: the guide's "long form" (ceph osd new with the OSD's cephx secret, keyring, ceph-osd --mkfs --osd-uuid);
# `osd new` registers the key with the standard OSD caps, so no caps are spelled out here. --mkfs creates the
# sparse block file. The OSD joins the CRUSH map under this host when it first boots (osd_crush_update_on_start).
mkfs_osd() {
  local uuid secret dir=$DATA/osd.$OSD_ID
  uuid=$(cat /proc/sys/kernel/random/uuid)
  secret=$(ceph-authtool --gen-print-key)
  mkdir -p "$dir"
  printf '{"cephx_secret": "%s"}' "$secret" | ceph_cli osd new "$uuid" "$OSD_ID" -i - >/dev/null \
    || die "ceph osd new failed"
  ceph-authtool --create-keyring "$dir/keyring" --name "osd.$OSD_ID" --add-key "$secret" >/dev/null
  chmod 0600 "$dir/keyring"
  timeout 300 ceph-osd --cluster ceph -c "$CONF" -i "$OSD_ID" --mkfs --osd-uuid "$uuid" \
    >"$LOGDIR/osd.$OSD_ID-mkfs.out" 2>&1 || die "ceph-osd --mkfs failed, see $LOGDIR/osd.$OSD_ID-mkfs.out"
}

# ------------------------------------------------------------------------------------------ pools, users, keyrings
# modules left enabled by an older cluster or an mgr_initial_modules that did not apply (each change respawns mgr.x)
disable_extra_modules() {
  local m changed=0
  for m in dashboard prometheus restful nfs; do
    if ceph_cli mgr module ls -f json | json_true "'$m' in j['enabled_modules']"; then
      ceph_cli mgr module disable "$m"; changed=1
    fi
  done
  ceph_cli config set mgr mgr/devicehealth/enable_monitoring false || say "could not turn devicehealth monitoring off"
  [ $changed = 0 ] || { sleep 2; await "mgr.$MGR_ID available again" mgr_available; }
}
make_pools() {
  local p
  for p in $POOLS; do ceph_cli osd pool create "$p" "$PG_NUM" "$PG_NUM" >/dev/null 2>&1 || die "pool $p: create failed"; done
  await "all PGs active" pgs_active
  for p in $POOLS; do timeout 60 "${RBD_CMD[@]}" pool init "$p" || die "rbd pool init $p failed"; done
}
# The capabilities are EXACTLY those of Ceph's OpenStack guide, doc/rbd/rbd-openstack.rst ("Setup Ceph Client
# Authentication"), as published since Nautilus and for pacific at docs.ceph.com/en/pacific/rbd/rbd-openstack/:
#   ceph auth get-or-create client.glance mon 'profile rbd' osd 'profile rbd pool=images' mgr 'profile rbd pool=images'
#   ceph auth get-or-create client.cinder mon 'profile rbd' osd 'profile rbd pool=volumes, profile rbd pool=vms, profile rbd-read-only pool=images' mgr 'profile rbd pool=volumes, profile rbd pool=vms'
#   ceph auth get-or-create client.cinder-backup mon 'profile rbd' osd 'profile rbd pool=backups' mgr 'profile rbd pool=backups'
# (Older versions of that page gave mon 'allow r' osd 'allow class-read object_prefix rbd_children, allow rwx
# pool=...' (Luminous), then the profiles without mgr caps and with 'profile rbd pool=images' for cinder (Mimic).)
# `auth caps` sets them exactly even when a user already exists with other caps (get-or-create would refuse).
USERS="glance cinder cinder-backup"
user_caps() {
  case $1 in
    glance) echo "mon|profile rbd|osd|profile rbd pool=images|mgr|profile rbd pool=images" ;;
    cinder) echo "mon|profile rbd|osd|profile rbd pool=volumes, profile rbd pool=vms, profile rbd-read-only pool=images|mgr|profile rbd pool=volumes, profile rbd pool=vms" ;;
    cinder-backup) echo "mon|profile rbd|osd|profile rbd pool=backups|mgr|profile rbd pool=backups" ;;
  esac
}
# the group that reads a user's keyring (the guide chowns them glance:glance, cinder:cinder, cinder:cinder)
user_group() { case $1 in glance) echo glance ;; *) echo cinder ;; esac; }
make_user() {
  local u=$1 caps kr=$ETC/ceph.client.$1.keyring g
  IFS='|' read -r -a caps <<<"$(user_caps "$u")"
  ceph_cli auth get-or-create "client.$u" >/dev/null
  ceph_cli auth caps "client.$u" "${caps[@]}" >/dev/null 2>&1 || die "ceph auth caps client.$u failed"
  ceph_cli auth get "client.$u" -o "$kr.tmp" >/dev/null 2>&1 || die "ceph auth get client.$u failed"
  g=$(user_group "$u")
  chmod 0640 "$kr.tmp"
  if getent group "$g" >/dev/null; then chgrp "$g" "$kr.tmp"; fi
  mv "$kr.tmp" "$kr"
}

write_env() {
  cat >"$CEPH_RIG_DIR/ceph.env.tmp" <<EOF
CEPH_RIG_DIR=$CEPH_RIG_DIR
CEPH_CONF=$CONF
CEPH_CLUSTER=ceph
FSID=$FSID
MON_HOST=[v2:127.0.0.1:3300,v1:127.0.0.1:6789]
OBJECTSTORE=$STORE
POOLS=$POOLS
ADMIN_KEYRING=$ADMIN_KEYRING
GLANCE_KEYRING=$ETC/ceph.client.glance.keyring
CINDER_KEYRING=$ETC/ceph.client.cinder.keyring
CINDER_BACKUP_KEYRING=$ETC/ceph.client.cinder-backup.keyring
EOF
  mv "$CEPH_RIG_DIR/ceph.env.tmp" "$CEPH_RIG_DIR/ceph.env"
}

# ------------------------------------------------------------------------------------------ main
write_conf
if [ $MODE = bootstrap ]; then mkfs_mon; ts "mon.$MON_ID created (fsid $FSID)"; fi
start_ceph_daemon mon "$MON_ID"
[ $MODE = bootstrap ] || { start_ceph_daemon mgr "$MGR_ID"; start_ceph_daemon osd "$OSD_ID"; }
await "mon.$MON_ID in quorum" mon_quorum
ts "mon.$MON_ID in quorum"
if [ $MODE = bootstrap ]; then
  mgr_key; start_ceph_daemon mgr "$MGR_ID"
  mkfs_osd; ts "osd.$OSD_ID created ($STORE$([ "$STORE" = memstore ] || echo ", ${SIZE_GB} GiB sparse file"))"
  start_ceph_daemon osd "$OSD_ID"
fi
await "mgr.$MGR_ID available" mgr_available;     ts "mgr.$MGR_ID available"
await "osd.$OSD_ID up and in" osd_up_in;         ts "osd.$OSD_ID up and in"
await "health not HEALTH_ERR" health_not_err;    ts "health: $(ceph_cli health)"
disable_extra_modules
make_pools;                                      ts "pools $POOLS ready ($PG_NUM PGs each, rbd pool init)"
for u in $USERS; do make_user "$u"; done;        ts "users client.glance, client.cinder, client.cinder-backup; keyrings in $ETC"
write_env
echo "$STAMP" >"$DATA/.initialized"
OK=1
ts "READY ($MODE): $(ceph_cli health), 1 mon 1 mgr 1 osd ($STORE); settings: $CEPH_RIG_DIR/ceph.env"
