# The virsh rig's settings (sourced by install.sh, start.sh, stop.sh and the test suite).
VIRSH_RIG_DIR=${VIRSH_RIG_DIR:-/tmp/oha-virsh-rig}   # state: config, host keys, pids, logs
VIRSH_RIG_USER=${VIRSH_RIG_USER:-ohavirsh}            # the SSH login; runs libvirtd (qemu:///session) and the domains
VIRSH_RIG_HOME=/var/lib/$VIRSH_RIG_USER
VIRSH_RIG_DOMAINS=(oha-vm1 oha-vm2 oha-vm3)           # vm1 and vm2 running after start, vm3 shut off
VIRSH_RIG_PACKAGES=(openssh-server openssh-client libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86
  seabios sudo python3 fence-agents)
