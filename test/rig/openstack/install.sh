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
# daemons that a postinst could start
apt_install_quiet "openstack rig install" "$OS_RIG_DIR/apt-install.log" \
  "mariadbd mysqld beam.smp epmd rabbitmq-server rpcbind rpc.statd tgtd iscsid dmeventd lvmetad cinder-api cinder-scheduler cinder-volume cinder-backup" \
  "${PACKAGES[@]}"
