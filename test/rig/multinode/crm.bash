# The cluster's view, from crm_mon's XML on node ${CRM_NODE:-1} of the multi-node rig (test/rig/multinode/cluster.sh):
# sourced by the multi-node and guest-cluster bats helpers, which define mnx N CMD... (run CMD inside node N) and PY.
# (a suite that reads its cluster otherwise defines cm_xml before sourcing this file)
declare -F cm_xml >/dev/null || cm_xml() { mnx "${CRM_NODE:-1}" crm_mon -1 --output-as=xml 2>/dev/null; }
# node_state NODE: online, offline or unclean (fenced pending), from the cluster's view on n1
node_state() {
  cm_xml | "$PY" -c '
import sys, xml.etree.ElementTree as ET
name = sys.argv[1]
for n in ET.fromstring(sys.stdin.read()).iter("node"):
    if n.get("name") == name and n.get("type") in ("member", "remote"):
        print("unclean" if n.get("unclean") == "true" else "online" if n.get("online") == "true" else "offline")
        break' "$1"
}
node_is() { [ "$(node_state "$1")" = "$2" ]; }
started_on() { # started_on RESOURCE NODE: an instance of RESOURCE runs on NODE, no pending action, not failed
  cm_xml | "$PY" -c '
import sys, xml.etree.ElementTree as ET
rid, node = sys.argv[1], sys.argv[2]
try:
    root = ET.fromstring(sys.stdin.read())
except ET.ParseError:
    sys.exit(1)
sys.exit(0 if any(r.get("id") == rid and r.get("role") == "Started" and r.get("failed") == "false"
                  and not r.get("pending") and any(n.get("name") == node for n in r.findall("node"))
                  for r in root.iter("resource")) else 1)' "$1" "$2"
}
running_on() { # running_on RESOURCE: the nodes an instance of RESOURCE is started on
  cm_xml | "$PY" -c '
import sys, xml.etree.ElementTree as ET
rid = sys.argv[1]
for r in ET.fromstring(sys.stdin.read()).iter("resource"):
    if r.get("id") == rid and r.get("role") == "Started":
        for n in r.findall("node"):
            print(n.get("name"))' "$1"
}
