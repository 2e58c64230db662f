#!/usr/bin/env bats
# fence_virsh (the built binary) against the virsh rig (test/rig/virsh: real sshd on 127.0.0.1, libvirtd, QEMU
# domains), next to Debian's fence_virsh for the same operations: same exit codes. State is checked with virsh itself.
# Run by test/virsh/run.sh, which starts and stops the rig.

setup_file() {
  ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
  . "$ROOT/test/rig/virsh/env.sh"
  [ -f "$VIRSH_RIG_DIR/env" ] || { echo "the virsh rig is not running: bash test/virsh/run.sh" >&2; return 1; }
  export LINKS="$BATS_FILE_TMPDIR/bin"
  mkdir -p "$LINKS" && ln -f "$ROOT/dist/openstack-ha-agents" "$LINKS/fence_virsh"
}

setup() {
  ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
  . "$ROOT/test/rig/lib.sh"
  . "$ROOT/test/rig/virsh/env.sh"
  . "$VIRSH_RIG_DIR/env"
  REF=/usr/sbin/fence_virsh; [ -x "$REF.distrib" ] && REF=$REF.distrib
  # the reference's default ssh_options plus the rig's known_hosts (it would otherwise write root's)
  REF_PROMPT="-t '/bin/bash -c \"PS1=\\\\[EXPECT\\\\]# /bin/bash --noprofile --norc\"'"
}

# rv ARGS: virsh as the rig's user on its session daemon (what the domains really are)
rv() { setpriv --reuid="$RIG_USER" --regid="$RIG_USER" --init-groups env -i HOME="$VIRSH_RIG_HOME" PATH=/usr/bin:/bin virsh -q -c qemu:///session "$@"; }
state() { rv domstate "$1"; }
# ours ARGS / ref ARGS: the two agents on the rig, password login
ours() { "$LINKS/fence_virsh" -a 127.0.0.1 -u "$SSH_PORT" -l "$RIG_USER" -p "$RIG_PASSWORD" --known-hosts "$KNOWN_HOSTS" "$@"; }
ref() { "$REF" -a 127.0.0.1 -u "$SSH_PORT" -l "$RIG_USER" -p "$RIG_PASSWORD" --ssh-options="-o UserKnownHostsFile=$KNOWN_HOSTS $REF_PROMPT" "$@"; }
need_ref() {
  [ -x "$REF" ] || skip "Debian's fence_virsh is not installed"
  "$REF" -o metadata 2>/dev/null | grep -q openstack-ha-agents && skip "$REF is ours (installed without a .distrib)"
  return 0
}
# elapsed COMMAND...: run it (like bats' run) and set $secs
elapsed() { local t0; t0=$(date +%s.%N); run "$@"; secs=$(echo "$(date +%s.%N) - $t0" | bc); }

@test "status: running is ON (0), shut off is OFF (2), as virsh domstate says; the reference agrees" {
  need_ref
  [ "$(state oha-vm1)" = running ]; [ "$(state oha-vm3)" = "shut off" ]
  run ours -o status -n oha-vm1; [ "$status" -eq 0 ]; [ "$output" = "Status: ON" ]
  run ours -o status -n oha-vm3; [ "$status" -eq 2 ]; [ "$output" = "Status: OFF" ]
  run ref -o status -n oha-vm1; [ "$status" -eq 0 ]
  run ref -o status -n oha-vm3; [ "$status" -eq 2 ]
}

@test "list and list-status name every domain with virsh's state; same domains as the reference" {
  need_ref
  run ours -o list; [ "$status" -eq 0 ]
  [ "$output" = "$(rv list --all --name | sed '/^$/d' | sort | sed 's/$/,/')" ]
  run ours -o list-status; [ "$status" -eq 0 ]
  while IFS=, read -r dom alias st; do
    case $(state "$dom") in running) [ "$st" = ON ] ;; "shut off") [ "$st" = OFF ] ;; *) false ;; esac
  done <<<"$output"
  [ "$(echo "$output" | wc -l)" -eq 3 ]
  ours_ls=$output
  run ref -o list-status; [ "$status" -eq 0 ]
  [ "$(echo "$output" | tr a-z A-Z)" = "$(echo "$ours_ls" | tr a-z A-Z)" ]   # the reference prints on/off in lower case
}

@test "off, on, reboot change the domain as virsh domstate shows; already-off/on succeed; the reference does the same" {
  need_ref
  run ours -o off -n oha-vm2; [ "$status" -eq 0 ]; [ "$output" = "Success: Powered OFF" ]
  [ "$(state oha-vm2)" = "shut off" ]
  run ours -o off -n oha-vm2; [ "$status" -eq 0 ]; [ "$output" = "Success: Already OFF" ]
  run ref -o off -n oha-vm2; [ "$status" -eq 0 ]
  run ours -o on -n oha-vm2; [ "$status" -eq 0 ]; [ "$output" = "Success: Powered ON" ]
  [ "$(state oha-vm2)" = running ]
  run ours -o on -n oha-vm2; [ "$status" -eq 0 ]; [ "$output" = "Success: Already ON" ]
  id=$(rv domid oha-vm2)
  run ours -o reboot -n oha-vm2; [ "$status" -eq 0 ]; [ "$output" = "Success: Rebooted" ]
  [ "$(state oha-vm2)" = running ]; [ "$(rv domid oha-vm2)" != "$id" ]   # a new QEMU process
  # the reference on the same domain
  run ref -o off -n oha-vm2; [ "$status" -eq 0 ]; [ "$(state oha-vm2)" = "shut off" ]
  run ref -o on -n oha-vm2; [ "$status" -eq 0 ]; [ "$(state oha-vm2)" = running ]
  id=$(rv domid oha-vm2)
  run ref -o reboot -n oha-vm2; [ "$status" -eq 0 ]; [ "$(rv domid oha-vm2)" != "$id" ]
  # reboot of a shut-off domain powers it on (both)
  run ours -o reboot -n oha-vm3; [ "$status" -eq 0 ]; [ "$(state oha-vm3)" = running ]
  run ours -o off -n oha-vm3; [ "$status" -eq 0 ]; [ "$(state oha-vm3)" = "shut off" ]
}

@test "options on stdin (Pacemaker's form), with the deprecated names" {
  run bash -c "printf 'action=status\nipaddr=127.0.0.1\nipport=%s\nlogin=%s\npasswd=%s\nport=oha-vm1\nknown_hosts=%s\n' \
    '$SSH_PORT' '$RIG_USER' '$RIG_PASSWORD' '$KNOWN_HOSTS' | '$LINKS/fence_virsh'"
  [ "$status" -eq 0 ]; [ "$output" = "Status: ON" ]
  run bash -c "printf 'action=status\nip=127.0.0.1\nipport=%s\nusername=%s\npassword=%s\nplug=oha-vm3\nssh_options=-o UserKnownHostsFile=%s\n' \
    '$SSH_PORT' '$RIG_USER' '$RIG_PASSWORD' '$KNOWN_HOSTS' | '$LINKS/fence_virsh'"
  [ "$status" -eq 2 ]; [ "$output" = "Status: OFF" ]
}

@test "key login (identity_file), a key with a passphrase (password), passwd_script; no secret in the verbose log" {
  need_ref
  run "$LINKS/fence_virsh" -a 127.0.0.1 -u "$SSH_PORT" -l "$RIG_USER" -k "$KEY" --known-hosts "$KNOWN_HOSTS" -o status -n oha-vm1
  [ "$status" -eq 0 ]
  run "$REF" -a 127.0.0.1 -u "$SSH_PORT" -l "$RIG_USER" -k "$KEY" --ssh-options="-o UserKnownHostsFile=$KNOWN_HOSTS $REF_PROMPT" -o status -n oha-vm1
  [ "$status" -eq 0 ]
  run "$LINKS/fence_virsh" -a 127.0.0.1 -u "$SSH_PORT" -l "$RIG_USER" -k "$KEY_PP" -p "$RIG_PASSWORD" --known-hosts "$KNOWN_HOSTS" -o status -n oha-vm1
  [ "$status" -eq 0 ]
  run bash -c "'$LINKS/fence_virsh' -a 127.0.0.1 -u '$SSH_PORT' -l '$RIG_USER' -S 'cat $RIG_DIR/keys/password' --known-hosts '$KNOWN_HOSTS' -o status -n oha-vm1 -v 2>&1"
  [ "$status" -eq 0 ]; [[ "$output" == *"Status: ON"* ]]; [[ "$output" == *"exec: virsh domstate oha-vm1"* ]]
  [[ "$output" != *"$RIG_PASSWORD"* ]]
  run bash -c "'$REF' -a 127.0.0.1 -u '$SSH_PORT' -l '$RIG_USER' -S 'cat $RIG_DIR/keys/password' --ssh-options=\"-o UserKnownHostsFile=$KNOWN_HOSTS \$1\" -o status -n oha-vm1" _ "$REF_PROMPT"
  [ "$status" -eq 0 ]
}

@test "use_sudo runs virsh through sudo_path; uri runs virsh --connect URI" {
  need_ref
  run ours -o status -n oha-vm1 --use-sudo --sudo-path="/usr/bin/sudo -u $RIG_USER" -v
  [ "$status" -eq 0 ]; [[ "$output" == *"exec: /usr/bin/sudo -u $RIG_USER virsh domstate oha-vm1"* ]]
  run ref -o status -n oha-vm1 --use-sudo --sudo-path="/usr/bin/sudo -u $RIG_USER"
  [ "$status" -eq 0 ]
  # sudo refused (no rule for root): a clear error, exit 1 like the reference
  run ours -o status -n oha-vm1 --use-sudo --sudo-path="/usr/bin/sudo -n -u root"
  [ "$status" -eq 1 ]; [[ "$output" == *"sudo"* ]]
  run ours -o status -n oha-vm1 --uri qemu:///session -v
  [ "$status" -eq 0 ]; [[ "$output" == *"exec: virsh --connect qemu:///session domstate oha-vm1"* ]]
  run ours -o status -n oha-vm1 --uri 'qemu:///system'
  [ "$status" -eq 1 ]; [[ "$output" == *"virsh domstate oha-vm1"*"error"* ]]
}

@test "missing domain: status fails (1) without missing_as_off; OFF (2) with it, and off succeeds; as the reference" {
  need_ref
  run ours -o status -n no-such-vm; [ "$status" -eq 1 ]
  [[ "$output" == *"You have to enter existing name/UUID of virtual machine"*"no-such-vm"* ]]
  run ref -o status -n no-such-vm; [ "$status" -eq 1 ]
  run ours -o status -n no-such-vm --missing-as-off; [ "$status" -eq 2 ]; [ "$output" = "Status: OFF" ]
  run ref -o status -n no-such-vm --missing-as-off; [ "$status" -eq 2 ]
  run ours -o off -n no-such-vm --missing-as-off; [ "$status" -eq 0 ]; [ "$output" = "Success: Already OFF" ]
  run ref -o off -n no-such-vm --missing-as-off; [ "$status" -eq 0 ]
  run ours -o off -n no-such-vm; [ "$status" -eq 1 ]
  run ref -o off -n no-such-vm; [ "$status" -eq 1 ]
  # on: virsh start fails, the status never becomes ON: "Timed out waiting to power ON" (1) after power_timeout
  elapsed ours -o on -n no-such-vm --missing-as-off --power-timeout 2; [ "$status" -eq 1 ]
  [[ "$output" == *"Timed out waiting to power ON"* ]]; [ "$(echo "$secs < 6" | bc)" = 1 ]
  run ref -o on -n no-such-vm --missing-as-off --power-timeout 2; [ "$status" -eq 1 ]
}

@test "wrong password: exit 1 (Unable to connect/login) with a clear message, fast; the reference: 1 after login_timeout" {
  need_ref
  elapsed "$LINKS/fence_virsh" -a 127.0.0.1 -u "$SSH_PORT" -l "$RIG_USER" -p wrong-password --known-hosts "$KNOWN_HOSTS" -o status -n oha-vm1
  [ "$status" -eq 1 ]
  [[ "$output" == *"Unable to connect/login to fencing device: authentication as $RIG_USER on 127.0.0.1 port $SSH_PORT failed"* ]]
  [ "$(echo "$secs < 5" | bc)" = 1 ]
  run "$REF" -a 127.0.0.1 -u "$SSH_PORT" -l "$RIG_USER" -p wrong-password --login-timeout 2 \
    --ssh-options="-o UserKnownHostsFile=$KNOWN_HOSTS $REF_PROMPT" -o status -n oha-vm1
  [ "$status" -eq 1 ]
  # a key the server does not know
  run "$LINKS/fence_virsh" -a 127.0.0.1 -u "$SSH_PORT" -l "$RIG_USER" -k "$RIG_DIR/keys/id_other" --known-hosts "$KNOWN_HOSTS" -o status -n oha-vm1
  [ "$status" -eq 1 ]; [[ "$output" == *"failed (key $RIG_DIR/keys/id_other)"* ]]
}

@test "unknown host key: exit 1 naming host and fingerprint; StrictHostKeyChecking=no skips the check (the reference accepts any new key)" {
  need_ref
  fp=$(ssh-keygen -l -f "$RIG_DIR/sshd/ssh_host_ed25519_key.pub" | awk '{print $2}')
  run "$LINKS/fence_virsh" -a 127.0.0.1 -u "$SSH_PORT" -l "$RIG_USER" -p "$RIG_PASSWORD" --known-hosts "$RIG_DIR/known_hosts.empty" -o status -n oha-vm1
  [ "$status" -eq 1 ]
  [[ "$output" == *"host key of 127.0.0.1 port $SSH_PORT is not known: it offers ED25519 key $fp"* ]]
  run "$LINKS/fence_virsh" -a 127.0.0.1 -u "$SSH_PORT" -l "$RIG_USER" -p "$RIG_PASSWORD" --known-hosts "$RIG_DIR/known_hosts.empty" \
    --ssh-options "-o StrictHostKeyChecking=no" -o status -n oha-vm1
  [ "$status" -eq 0 ]
  # the reference answers "yes" to ssh's question and records the key
  cp "$RIG_DIR/known_hosts.empty" "$BATS_TEST_TMPDIR/kh"
  run "$REF" -a 127.0.0.1 -u "$SSH_PORT" -l "$RIG_USER" -p "$RIG_PASSWORD" --ssh-options="-o UserKnownHostsFile=$BATS_TEST_TMPDIR/kh $REF_PROMPT" -o status -n oha-vm1
  [ "$status" -eq 0 ]; [ -s "$BATS_TEST_TMPDIR/kh" ]
  # ... which then satisfies ours
  run "$LINKS/fence_virsh" -a 127.0.0.1 -u "$SSH_PORT" -l "$RIG_USER" -p "$RIG_PASSWORD" --known-hosts "$BATS_TEST_TMPDIR/kh" -o status -n oha-vm1
  [ "$status" -eq 0 ]
}

@test "changed host key: exit 1 naming host, offered and known fingerprints; the reference: 1 too" {
  need_ref
  fp=$(ssh-keygen -l -f "$RIG_DIR/sshd/ssh_host_ed25519_key.pub" | awk '{print $2}')
  old=$(ssh-keygen -l -f "$RIG_DIR/sshd/other_host_key.pub" | awk '{print $2}')
  run "$LINKS/fence_virsh" -a 127.0.0.1 -u "$SSH_PORT" -l "$RIG_USER" -p "$RIG_PASSWORD" --known-hosts "$RIG_DIR/known_hosts.changed" -o status -n oha-vm1
  [ "$status" -eq 1 ]
  [[ "$output" == *"HOST KEY OF 127.0.0.1 port $SSH_PORT HAS CHANGED"*"offers ED25519 key $fp"*"known_hosts.changed:1 (ED25519 key $old)"* ]]
  run "$REF" -a 127.0.0.1 -u "$SSH_PORT" -l "$RIG_USER" -p "$RIG_PASSWORD" --login-timeout 2 \
    --ssh-options="-o UserKnownHostsFile=$RIG_DIR/known_hosts.changed $REF_PROMPT" -o status -n oha-vm1
  [ "$status" -eq 1 ]
}

@test "sshd not answering (TCP accepted, no SSH banner): exit 1 within login_timeout; the reference: 1" {
  need_ref
  elapsed "$LINKS/fence_virsh" -a 127.0.0.1 -u "$SILENT_PORT" -l "$RIG_USER" -p "$RIG_PASSWORD" --known-hosts "$KNOWN_HOSTS" --login-timeout 2 -o status -n oha-vm1
  [ "$status" -eq 1 ]
  [[ "$output" == *"no SSH session with 127.0.0.1 port $SILENT_PORT within login_timeout (2 s)"* ]]
  [ "$(echo "$secs >= 2 && $secs < 4" | bc)" = 1 ]
  elapsed "$REF" -a 127.0.0.1 -u "$SILENT_PORT" -l "$RIG_USER" -p "$RIG_PASSWORD" --login-timeout 2 \
    --ssh-options="-o UserKnownHostsFile=$KNOWN_HOSTS $REF_PROMPT" -o status -n oha-vm1
  [ "$status" -eq 1 ]
}

@test "nothing listening (connection refused): exit 1 at once, like the reference" {
  need_ref
  port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  elapsed "$LINKS/fence_virsh" -a 127.0.0.1 -u "$port" -l "$RIG_USER" -p x --known-hosts "$KNOWN_HOSTS" -o status -n oha-vm1
  [ "$status" -eq 1 ]; [[ "$output" == *"cannot connect to 127.0.0.1 port $port: ECONNREFUSED"* ]]
  [ "$(echo "$secs < 2" | bc)" = 1 ]
  run "$REF" -a 127.0.0.1 -u "$port" -l "$RIG_USER" -p x --ssh-options="$REF_PROMPT" -o status -n oha-vm1
  [ "$status" -eq 1 ]
}

@test "monitor lists the domains over SSH (0); bad option values fail before connecting" {
  run ours -o monitor; [ "$status" -eq 0 ]
  run "$LINKS/fence_virsh" -a 127.0.0.1 -o status -n oha-vm1
  [ "$status" -eq 1 ]; [[ "$output" == *"You have to set login name"* ]]
  run "$LINKS/fence_virsh" -l x -p y -o status -n oha-vm1
  [ "$status" -eq 1 ]; [[ "$output" == *"You have to enter fence address"* ]]
}
