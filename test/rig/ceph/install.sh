#!/bin/bash
# Installs the Debian 12 packages the Ceph test rig needs (Ceph 16.2.15 "pacific"): ceph-mon, ceph-mgr, ceph-osd,
# ceph-common (ceph, rbd, ceph-authtool CLIs), python3-rbd and python3-rados (what Glance, Cinder and Nova load).
# Idempotent: does nothing when everything is installed.
#   bash test/rig/ceph/install.sh
# Nothing else is needed for the rig's one file-backed OSD: `ceph-osd --mkfs` creates and formats the BlueStore
# file itself (bluestore_block_path, bluestore_block_create). ceph-volume (LVM or raw block devices) is not used;
# Debian's ceph-osd depends on lvm2 and sudo anyway (they come in, unused). ceph-base (monmaptool, ceph-crash)
# comes with ceph-mon. Recommends (ceph-mgr-dashboard & co.) are not installed.
# Needs root. Log: $CEPH_RIG_DIR/apt-install.log (default /tmp/oha-ceph-rig), its tail is shown on failure.
# Debian's postinst scripts would start ceph-mon/-mgr/-osd/-crash and lvm2's daemons through invoke-rc.d: a
# policy-rc.d that forbids starting services is put in place for the duration of the install (an existing one is
# restored after); any such daemon that appears anyway is ended.
set -euo pipefail
CEPH_RIG_DIR=${CEPH_RIG_DIR:-/tmp/oha-ceph-rig}
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

PACKAGES=(ceph-mon ceph-mgr ceph-osd ceph-common python3-rbd python3-rados)
for a in "$@"; do
  case "$a" in
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: install.sh" >&2; exit 2 ;;
  esac
done

# shellcheck source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# daemons that a postinst could start
apt_install_quiet "ceph rig install" "$CEPH_RIG_DIR/apt-install.log" \
  "ceph-mon ceph-mgr ceph-osd ceph-crash ceph-mds radosgw dmeventd lvmetad lvmpolld" "${PACKAGES[@]}"
echo "ceph rig install: Ceph $(dpkg-query -W -f='${Version}' ceph-osd)"
