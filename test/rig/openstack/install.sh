#!/bin/bash
# Installs the Debian 12 packages the OpenStack test rig needs (Keystone, Nova, Placement, Glance, Neutron code,
# MariaDB, RabbitMQ, uwsgi, the openstack CLI). Idempotent: does nothing when everything is installed.
#   bash test/rig/openstack/install.sh [--with-cinder]
# --with-cinder also installs Cinder (cinder-api, -scheduler, -volume, -backup; python3-cinder) and nfs-common
# (the NFS volume driver checks for mount.nfs), for test/rig/openstack/cinder.sh and test/controlplane.
# Needs root. Log: $OS_RIG_DIR/apt-install.log (default /tmp/oha-openstack-rig), its tail is shown on failure.
# Debian's postinst scripts would start mariadb and rabbitmq-server through invoke-rc.d: a policy-rc.d that
# forbids starting services is put in place for the duration of the install (an existing one is restored after).
set -euo pipefail
OS_RIG_DIR=${OS_RIG_DIR:-/tmp/oha-openstack-rig}
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

PACKAGES=(
  python3-keystone python3-nova python3-placement python3-glance python3-glance-store python3-neutron
  python3-openstackclient python3-novaclient python3-glanceclient python3-keystoneclient python3-pymysql
  python3-requests rabbitmq-server uwsgi-core uwsgi-plugin-python3 mariadb-server mariadb-client curl
)
CINDER_PACKAGES=(python3-cinder cinder-common cinder-api cinder-scheduler cinder-volume cinder-backup
  python3-cinderclient nfs-common sudo dmidecode)
# dmidecode: os-brick asks it for the system UUID when a connector is built (cinder-backup reading a volume); without
# the program that raises FileNotFoundError (this VM has no DMI table: dmidecode fails, which os-brick tolerates)
for a in "$@"; do
  case "$a" in
    --with-cinder) PACKAGES+=("${CINDER_PACKAGES[@]}") ;;
    *) echo "usage: install.sh [--with-cinder]" >&2; exit 2 ;;
  esac
done

# shellcheck source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
mapfile -t missing < <(apt_missing "${PACKAGES[@]}")
if [ ${#missing[@]} -eq 0 ]; then
  echo "openstack rig install: all ${#PACKAGES[@]} packages present"
  exit 0
fi
need_root "openstack rig install" "${missing[@]}"

# daemons that a postinst could start; any such process that appears during the install is ended afterwards
DAEMONS=" mariadbd mysqld beam.smp epmd rabbitmq-server rpcbind rpc.statd tgtd iscsid dmeventd lvmetad cinder-api cinder-scheduler cinder-volume cinder-backup "
daemon_pids() {
  local d n
  for d in /proc/[0-9]*; do
    n=$({ tr '\0' '\n' <"$d/cmdline"; } 2>/dev/null | head -n1) || continue
    n=${n##*/}
    case "$DAEMONS" in *" $n "*) echo "${d#/proc/}" ;; esac
  done
  return 0
}
before=" $(daemon_pids | tr '\n' ' ') "

POLICY=/usr/sbin/policy-rc.d
SAVED=
if [ -e "$POLICY" ]; then SAVED=$(mktemp); cp -p "$POLICY" "$SAVED"; fi
restore_policy() {
  if [ -n "$SAVED" ]; then cp -p "$SAVED" "$POLICY"; rm -f "$SAVED"; else rm -f "$POLICY"; fi
}
trap restore_policy EXIT
printf '#!/bin/sh\n# written by openstack-ha-agents test/rig/openstack/install.sh: no service starts during the install\nexit 101\n' >"$POLICY"
chmod 755 "$POLICY"

T0=$(date +%s)
APT_OPTS="-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold" \
  apt_install "openstack rig install" "$OS_RIG_DIR/apt-install.log" "${missing[@]}"

# anything the postinsts started anyway (they should not have, with the policy above) is stopped now
stray=()
for pid in $(daemon_pids); do
  case "$before" in *" $pid "*) ;; *) stray+=("$pid") ;; esac
done
if [ ${#stray[@]} -gt 0 ]; then
  echo "openstack rig install: stopping daemons started by the install: ${stray[*]}"
  kill -TERM "${stray[@]}" 2>/dev/null || true
  wait_for 3 none_running "${stray[@]}" 2>/dev/null || true   # 3 s to exit on SIGTERM, then SIGKILL
  for pid in "${stray[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
fi
echo "openstack rig install: done in $(($(date +%s) - T0)) s"
