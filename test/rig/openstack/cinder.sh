#!/bin/bash
# Cinder (Debian 12 python3-cinder, Zed 21.x) for the OpenStack test rig, on demand: the rig's start.sh does not
# start it, so the other suites' start time is unchanged. Needs a running rig (start.sh) and the packages
# (install.sh --with-cinder).
#
#   cinder.sh setup             configuration, database (cinder-manage db sync), Keystone user/services/endpoints,
#                               the volume share; idempotent, no daemon started. Prints nothing secret.
#   cinder.sh start [SVC...]    setup, then start the daemons under the RIG's supervision (SVC: api scheduler
#                               volume backup; default all) and wait until os-services lists them up. NOT for the
#                               Pacemaker tests: there our agents start the daemons.
#   cinder.sh stop [SVC...]     stop what cinder.sh start started (recorded PIDs only)
#   cinder.sh status            os-services of Cinder (binary host state status)
#   cinder.sh unmount           undo the share mount (stop.sh does it too)
#
# Layout: configuration $OS_RIG_DIR/etc/cinder/cinder.conf (mode 0640 root:cinder: it holds the service
# password), state $OS_RIG_DIR/state/cinder (owned by cinder), logs $OS_RIG_DIR/log/cinder/<binary>.log.
# host = cinder-cluster-1 (the active/passive shared name of the Cinder HA guide), one backend "nfs"
# (volume_backend_name = nfs): the volume service is cinder-volume@cinder-cluster-1@nfs in os-services.
# API on 127.0.0.1:8776, report_interval 2 s, service_down_time 30 s. (cinder-volume registers its service row at
# start but reports periodically only once its driver is initialized, 5-15 s here: a shorter down time shows a
# starting volume service "down".)
#
# Volume backend: Cinder's real NFS driver (cinder.volume.drivers.nfs.NfsDriver) creating real (sparse) volume
# files. This VM's kernel has no NFS (neither client nor nfsd in /proc/filesystems), no device-mapper (no
# /dev/mapper/control: LVM cannot activate a logical volume) and no configfs/LIO (no iSCSI target); so the
# "NFS share" 127.0.0.1:/cinder-export is a local directory ($OS_RIG_DIR/state/cinder-export) bind-mounted where
# the driver mounts its shares ($nfs_mount_point_base/<md5 of the share>): os-brick finds the mount point in
# /proc/mounts and does not mount it again. Everything above the mount (share selection, capacity from stat -f,
# volume files created through cinder-rootwrap, permissions, deletion) is the driver's own code.
# Backup: cinder-backup with the POSIX driver into $OS_RIG_DIR/state/cinder/backups.
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

STATE=$OS_RIG_DIR/state
CETC=$ETC/cinder
CONF=$CETC/cinder.conf
CSTATE=$STATE/cinder
CLOG=$LOGDIR/cinder
EXPORT=$STATE/cinder-export
SHARE=127.0.0.1:/cinder-export
MNT_BASE=$CSTATE/mnt
MNT=$MNT_BASE/$(printf %s "$SHARE" | md5sum | cut -d' ' -f1)
CPY=("$PY" "$RIG_HERE/lib/cinder_rig.py")
ALL_SVCS="api scheduler volume backup"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

need_rig() {
  [ -x /usr/bin/cinder-volume ] && [ -x /usr/bin/cinder-manage ] || \
    die "Cinder packages missing: run $RIG_HERE/install.sh --with-cinder (as root)"
  id cinder >/dev/null 2>&1 || die "user cinder missing (package cinder-common): run $RIG_HERE/install.sh --with-cinder"
  [ -n "$(recorded_pid mariadb)" ] && [ -n "$(recorded_pid keystone)" ] && [ -n "$(recorded_pid rabbitmq)" ] || \
    die "the OpenStack rig is not running: start it with $RIG_HERE/start.sh"
}

mounted() { awk -v m="$MNT" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; }
do_mount() {
  mkdir -p "$EXPORT" "$MNT"
  chown cinder:cinder "$EXPORT"
  chmod 0775 "$EXPORT"
  mounted || mount --bind "$EXPORT" "$MNT"
}
do_unmount() {
  local i
  for i in 1 2 3; do mounted || return 0; umount "$MNT" 2>/dev/null || umount -l "$MNT" || true; done
}

write_conf() {
  mkdir -p "$CETC" "$CSTATE"/{locks,backups,tmp} "$CLOG" "$MNT_BASE"
  chown cinder:cinder "$CSTATE" "$CSTATE"/{locks,backups,tmp} "$CLOG" "$MNT_BASE"
  chmod 0750 "$CSTATE"
  echo "$SHARE" >"$CETC/nfs_shares"
  local tmp=$CONF.tmp
  cat >"$tmp" <<EOF
[DEFAULT]
host = cinder-cluster-1
my_ip = 127.0.0.1
transport_url = rabbit://guest:guest@127.0.0.1:5672/
auth_strategy = keystone
state_path = $CSTATE
log_dir = $CLOG
rootwrap_config = /etc/cinder/rootwrap.conf
api_paste_config = /etc/cinder/api-paste.ini
osapi_volume_listen = 127.0.0.1
osapi_volume_listen_port = 8776
osapi_volume_workers = 1
enabled_backends = nfs
report_interval = 2
service_down_time = 30
periodic_interval = 5
glance_api_servers = http://127.0.0.1:9292
backup_driver = cinder.backup.drivers.posix.PosixBackupDriver
backup_posix_path = $CSTATE/backups
# os-brick's NFS connector (cinder-backup reading a volume) mounts shares under this base: the same as the backend's
nfs_mount_point_base = $MNT_BASE
[database]
connection = $DB_URL/cinder?charset=utf8
[keystone_authtoken]
www_authenticate_uri = http://127.0.0.1:5000/v3
auth_url = http://127.0.0.1:5000/v3
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = cinder
password = cinder
region_name = RegionOne
[oslo_concurrency]
lock_path = $CSTATE/locks
[oslo_policy]
enforce_new_defaults = false
enforce_scope = false
[nfs]
volume_driver = cinder.volume.drivers.nfs.NfsDriver
volume_backend_name = nfs
nfs_shares_config = $CETC/nfs_shares
nfs_mount_point_base = $MNT_BASE
nfs_sparsed_volumes = true
nfs_snapshot_support = false
nas_secure_file_operations = false
nas_secure_file_permissions = false
# The NFS driver does not report multiattach itself; a file on a shared export can be attached by several hosts,
# so the rig declares it, for the scheduler to place a multiattach volume type here (the guest-cluster suite).
extra_capabilities = {"multiattach": true}
EOF
  chown root:cinder "$tmp" "$CETC/nfs_shares"
  chmod 0640 "$tmp"
  chmod 0644 "$CETC/nfs_shares"
  mv -f "$tmp" "$CONF"
  chmod 0755 "$CETC"
}

setup() {
  local t0
  need_rig
  write_conf
  do_mount
  if [ ! -f "$STATE/.cinder-db" ]; then
    t0=$(now_ms)
    mariadb --defaults-file="$ETC/my.cnf" -uroot -e "CREATE DATABASE IF NOT EXISTS cinder"
    runuser -u cinder -- cinder-manage --config-file "$CONF" db sync >"$CLOG/db-sync.log" 2>&1 || \
      die "cinder-manage db sync failed, see $CLOG/db-sync.log"
    "${CPY[@]}" keystone-setup >>"$CLOG/db-sync.log" 2>&1 || die "cinder keystone setup failed, see $CLOG/db-sync.log"
    touch "$STATE/.cinder-db"
    ts "cinder database and keystone catalog ready ($(($(now_ms) - t0)) ms)"
  fi
  ts "cinder configured: $CONF (host cinder-cluster-1, backend nfs on $MNT)"
}

svc_cmd() { # svc -> command line (runs as user cinder)
  echo "runuser -u cinder -- /usr/bin/cinder-$1 --config-file $CONF"
}

start() {
  local svcs=${*:-$ALL_SVCS} s want=()
  setup
  for s in $svcs; do
    case " $ALL_SVCS " in *" $s "*) ;; *) die "unknown service $s (one of: $ALL_SVCS)" ;; esac
    [ -z "$(recorded_pid "cinder-$s")" ] || { ts "cinder-$s already running"; continue; }
    # shellcheck disable=SC2046
    start_service "cinder-$s" $(svc_cmd "$s")
    ts "cinder-$s launched"
  done
  case " $svcs " in *" api "*) "${CPY[@]}" wait-api 60 >/dev/null || die "cinder-api does not answer, see $CLOG"; ts "cinder-api answers";; esac
  for s in $svcs; do
    case $s in
      scheduler) want+=(cinder-scheduler@cinder-cluster-1) ;;
      volume) want+=(cinder-volume@cinder-cluster-1@nfs) ;;
      backup) want+=(cinder-backup@cinder-cluster-1) ;;
    esac
  done
  if [ ${#want[@]} -gt 0 ]; then
    "${CPY[@]}" wait-up 90 "${want[@]}" || die "cinder services not up, see $CLOG"
    ts "up in os-services: ${want[*]}"
  fi
}

stop() {
  local svcs=${*:-$ALL_SVCS} s pid members i
  for s in $svcs; do
    pid=$(recorded_pid "cinder-$s")
    [ -n "$pid" ] || { rm -f "$RUN/cinder-$s.pid"; continue; }
    mapfile -t members < <(session_members "$pid")
    kill -TERM "${members[@]}" 2>/dev/null || true
    for i in $(seq 1 150); do running "$pid" || break; sleep 0.1; done
    if running "$pid"; then
      mapfile -t members < <(session_members "$pid")
      kill -KILL "${members[@]}" 2>/dev/null || true
    fi
    rm -f "$RUN/cinder-$s.pid"
    ts "cinder-$s stopped"
  done
}

[ $# -ge 1 ] || { usage; exit 2; }
cmd=$1; shift
case "$cmd" in
  setup) setup ;;
  start) start "$@" ;;
  stop) stop "$@" ;;
  status) "${CPY[@]}" services ;;
  unmount) do_unmount ;;
  -h|--help) usage ;;
  *) usage >&2; exit 2 ;;
esac
