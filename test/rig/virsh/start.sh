#!/bin/bash
# Starts the virsh rig (root; no systemd): a test user with a password and an SSH key, an OpenSSH server of its own
# on 127.0.0.1 (own config and host keys in the state dir, never /etc/ssh/sshd_config), libvirtd for that user
# (qemu:///session: the domains are real QEMU processes, TCG, no disk, 32 MiB, sitting in SeaBIOS), three domains
# (oha-vm1 and oha-vm2 running, oha-vm3 shut off), and a "silent" TCP listener that accepts connections and never
# speaks SSH. Pids are recorded in $VIRSH_RIG_DIR/pids; a second start is refused while the first runs.
#   bash test/rig/virsh/start.sh        then:  . $VIRSH_RIG_DIR/env   (SSH_PORT, SILENT_PORT, RIG_USER, RIG_PASSWORD...)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/env.sh"
. "$HERE/../lib.sh"
D=$VIRSH_RIG_DIR U=$VIRSH_RIG_USER H=$VIRSH_RIG_HOME
[ "$(id -u)" -eq 0 ] || { echo "virsh rig: ERROR: run as root" >&2; exit 1; }

if [ -f "$D/pids" ]; then
  while read -r name pid start; do
    if [ "$(proc_start "$pid")" = "$start" ]; then
      echo "virsh rig: ERROR: already running ($name pid $pid; state $D): bash $HERE/stop.sh first" >&2; exit 1
    fi
  done <"$D/pids"
  echo "virsh rig: previous run left $D/pids but nothing runs: cleaning up"
  bash "$HERE/stop.sh" >/dev/null
fi
mapfile -t missing < <(apt_missing "${VIRSH_RIG_PACKAGES[@]}")
[ ${#missing[@]} -eq 0 ] || bash "$HERE/install.sh"

rm -rf "$D"; mkdir -p "$D/sshd" "$D/keys" "$D/logs"; chmod 755 "$D"
: >"$D/pids"
record() { echo "$1 $2 $(proc_start "$2")" >>"$D/pids"; }
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# --- the test user: password and key login, its own libvirt session
getent passwd "$U" >/dev/null || adduser --system --group --home "$H" --shell /bin/bash --quiet "$U"
mkdir -p "$H/.ssh" "$H/.config/libvirt"
PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
echo "$U:$PASSWORD" | chpasswd
printf '%s\n' "$PASSWORD" >"$D/keys/password"; chmod 600 "$D/keys/password"
ssh-keygen -q -t ed25519 -N '' -C "oha-virsh-rig" -f "$D/keys/id_ed25519"
ssh-keygen -q -t ed25519 -N "$PASSWORD" -C "oha-virsh-rig passphrase" -f "$D/keys/id_ed25519_pp"
ssh-keygen -q -t ed25519 -N '' -C "not authorized" -f "$D/keys/id_other"
cat "$D/keys/id_ed25519.pub" "$D/keys/id_ed25519_pp.pub" >"$H/.ssh/authorized_keys"
# stdio of the QEMU processes to files (no virtlogd needed)
echo 'stdio_handler = "file"' >"$H/.config/libvirt/qemu.conf"
chown -R "$U:$U" "$H"; chmod 700 "$H/.ssh"; chmod 600 "$H/.ssh/authorized_keys"
# use_sudo: sudo_path="/usr/bin/sudo -u $U" runs virsh through sudo as the same user (the session daemon is per user)
echo "$U ALL=($U) NOPASSWD: /usr/bin/virsh" >/etc/sudoers.d/oha-virsh-rig; chmod 440 /etc/sudoers.d/oha-virsh-rig

# --- sshd on 127.0.0.1 with its own config and host keys
SSH_PORT=$(free_port)
ssh-keygen -q -t ed25519 -N '' -f "$D/sshd/ssh_host_ed25519_key"
ssh-keygen -q -t rsa -b 2048 -N '' -f "$D/sshd/ssh_host_rsa_key"
ssh-keygen -q -t ed25519 -N '' -f "$D/sshd/other_host_key"   # for the "changed host key" known_hosts
cat >"$D/sshd/sshd_config" <<CONF
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $D/sshd/ssh_host_ed25519_key
HostKey $D/sshd/ssh_host_rsa_key
PidFile $D/sshd/sshd.pid
AllowUsers $U
PermitRootLogin no
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
MaxStartups 50:30:100
LogLevel VERBOSE
CONF
mkdir -p /run/sshd; chmod 755 /run/sshd
/usr/sbin/sshd -t -f "$D/sshd/sshd_config"
/usr/sbin/sshd -f "$D/sshd/sshd_config" -E "$D/logs/sshd.log"
wait_for 10 test -s "$D/sshd/sshd.pid"
record sshd "$(cat "$D/sshd/sshd.pid")"
wait_for 10 python3 -c "import socket;socket.create_connection(('127.0.0.1',$SSH_PORT),1).recv(4)"
# known_hosts files: the right key, another key for the same host (changed), none (unknown)
printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1,2 "$D/sshd/ssh_host_ed25519_key.pub")" >"$D/known_hosts"
printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1,2 "$D/sshd/other_host_key.pub")" >"$D/known_hosts.changed"
: >"$D/known_hosts.empty"
chmod 644 "$D"/known_hosts*

# --- a TCP listener that accepts and never answers (sshd "not answering")
SILENT_PORT=$(free_port)
setsid python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(50); held = []
while True: held.append(s.accept()[0])
' "$SILENT_PORT" >"$D/logs/silent.log" 2>&1 </dev/null &
record silent $!
wait_for 10 python3 -c "import socket;socket.create_connection(('127.0.0.1',$SILENT_PORT),1)"

# --- libvirtd for the user (session mode: no system config touched); virsh over SSH finds it at ~/.cache/libvirt
as_user() { setpriv --reuid="$U" --regid="$U" --init-groups env -i HOME="$H" PATH=/usr/sbin:/usr/bin:/sbin:/bin USER="$U" "$@"; }
install -d -o "$U" -g "$U" "$D/libvirt"
as_user /usr/sbin/libvirtd --daemon --pid-file "$D/libvirt/libvirtd.pid" >"$D/logs/libvirtd.out" 2>&1
wait_for 15 test -s "$D/libvirt/libvirtd.pid"
record libvirtd "$(cat "$D/libvirt/libvirtd.pid")"
wait_for 15 as_user virsh -c qemu:///session version
for dom in "${VIRSH_RIG_DOMAINS[@]}"; do
  cat >"$D/$dom.xml" <<XML
<domain type='qemu'>
  <name>$dom</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='network'/></os>
  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator><memballoon model='none'/></devices>
</domain>
XML
  chmod 644 "$D/$dom.xml"
  # a definition left by an interrupted run
  as_user virsh -q -c qemu:///session undefine "$dom" >/dev/null 2>&1 || true
  as_user virsh -q -c qemu:///session define "$D/$dom.xml" >/dev/null
done
as_user virsh -q -c qemu:///session start oha-vm1 >/dev/null
as_user virsh -q -c qemu:///session start oha-vm2 >/dev/null

cat >"$D/env" <<ENV
RIG_DIR=$D
RIG_USER=$U
RIG_PASSWORD=$PASSWORD
SSH_PORT=$SSH_PORT
SILENT_PORT=$SILENT_PORT
KNOWN_HOSTS=$D/known_hosts
KEY=$D/keys/id_ed25519
KEY_PP=$D/keys/id_ed25519_pp
ENV
chmod 600 "$D/env"
echo "virsh rig: up: sshd 127.0.0.1:$SSH_PORT (user $U), silent listener :$SILENT_PORT, libvirtd (qemu:///session of $U)," \
  "domains: $(as_user virsh -c qemu:///session list --all --name | xargs)"
