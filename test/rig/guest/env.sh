# The guest-cluster rig's settings (sourced by test/guest/run.sh and its tests): a two-node Pacemaker cluster of the
# multi-node rig (test/rig/multinode/cluster.sh, nodes n1 and n2) whose nodes play the Nova servers oha-guest-n1/-n2
# of the OpenStack rig (test/rig/guest/guest_rig.py setup). Each node reaches the rig's APIs on its own 127.0.0.1
# (forwarders, Cinder's 8776 included), boots with its config drive (node-init), and its resource agents look for
# attached disks in the node's private /run/disk/by-id (OPENSTACK_HA_AGENTS_DISK_BY_ID: this machine cannot hot-plug
# a block device into a namespace, so the rig's hypervisor watcher makes the by-id link there).
GUEST_RIG=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export GUEST_DIR=${GUEST_DIR:-/tmp/oha-guest}
export MN_DIR=${MN_DIR:-/tmp/oha-guest-cluster}
export MN_NODES=2 MN_COMPUTES=0
export MN_FWD_PORTS="13306 5672 5000 9292 8774 8778 9696 8776"
export MN_NODE_INIT=$GUEST_RIG/node-init
export MN_PCMK_ENV="OPENSTACK_HA_AGENTS_DISK_BY_ID=/run/disk/by-id"
export OS_RIG_DIR=${OS_RIG_DIR:-/tmp/oha-openstack-rig}
