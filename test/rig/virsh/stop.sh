#!/bin/bash
# Stops what test/rig/virsh/start.sh started: the domains (destroyed and undefined), libvirtd, sshd, the silent
# listener (the pids it recorded, checked against their start times), and removes its sudoers entry. Keeps the user
# and the state dir's logs. Idempotent.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/env.sh"
. "$HERE/../lib.sh"
D=$VIRSH_RIG_DIR U=$VIRSH_RIG_USER H=$VIRSH_RIG_HOME
[ -f "$D/pids" ] || { echo "virsh rig: not running (no $D/pids)"; exit 0; }
as_user() { setpriv --reuid="$U" --regid="$U" --init-groups env -i HOME="$H" PATH=/usr/sbin:/usr/bin:/sbin:/bin USER="$U" "$@"; }
alive() { [ "$(proc_start "$1")" = "$2" ]; }
libvirtd=$(awk '$1 == "libvirtd" {print $2, $3}' "$D/pids")
if [ -n "$libvirtd" ] && alive $libvirtd; then
  for dom in "${VIRSH_RIG_DOMAINS[@]}"; do
    as_user timeout 20 virsh -q -c qemu:///session destroy "$dom" >/dev/null 2>&1
    as_user timeout 20 virsh -q -c qemu:///session undefine "$dom" >/dev/null 2>&1
  done
fi
# QEMU processes of the rig's domains that outlived libvirtd
for p in $(pgrep -u "$U" -f 'qemu-system-x86_64 .*guest=oha-vm' || true); do kill "$p" 2>/dev/null; done
pids=()
while read -r name pid start; do
  alive "$pid" "$start" || continue
  kill "$pid" 2>/dev/null && pids+=("$pid")
done <"$D/pids"
[ ${#pids[@]} -eq 0 ] || wait_for 15 none_running "${pids[@]}" || {
  echo "virsh rig: SIGKILL to ${pids[*]}" >&2; kill -9 "${pids[@]}" 2>/dev/null; }
rm -f /etc/sudoers.d/oha-virsh-rig "$D/pids"
echo "virsh rig: stopped (logs kept in $D/logs)"
