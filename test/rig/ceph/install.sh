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
mapfile -t missing < <(apt_missing "${PACKAGES[@]}")
if [ ${#missing[@]} -eq 0 ]; then
  echo "ceph rig install: all ${#PACKAGES[@]} packages present"
  exit 0
fi
need_root "ceph rig install" "${missing[@]}"

# daemons that a postinst could start; any such process that appears during the install is ended afterwards
DAEMONS=" ceph-mon ceph-mgr ceph-osd ceph-crash ceph-mds radosgw dmeventd lvmetad lvmpolld "
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
printf '#!/bin/sh\n# written by openstack-ha-agents test/rig/ceph/install.sh: no service starts during the install\nexit 101\n' >"$POLICY"
chmod 755 "$POLICY"

T0=$(date +%s)
APT_OPTS="-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold" \
  apt_install "ceph rig install" "$CEPH_RIG_DIR/apt-install.log" "${missing[@]}"

# anything the postinsts started anyway (they should not have, with the policy above) is stopped now
stray=()
for pid in $(daemon_pids); do
  case "$before" in *" $pid "*) ;; *) stray+=("$pid") ;; esac
done
if [ ${#stray[@]} -gt 0 ]; then
  echo "ceph rig install: stopping daemons started by the install: ${stray[*]}"
  kill -TERM "${stray[@]}" 2>/dev/null || true
  wait_for 3 none_running "${stray[@]}" 2>/dev/null || true   # 3 s to exit on SIGTERM, then SIGKILL
  for pid in "${stray[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
fi
echo "ceph rig install: done in $(($(date +%s) - T0)) s ($(dpkg-query -W -f='${Version}' ceph-osd))"
