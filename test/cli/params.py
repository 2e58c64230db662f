"""Print 'name type default required' for each parameter of fence-agent metadata read on stdin, sorted."""
import sys
import xml.etree.ElementTree as ET

root = ET.fromstring(sys.stdin.read())
rows = []
for p in root.iter('parameter'):
    c = p.find('content')
    rows.append(f"{p.get('name')} {c.get('type')} default={c.get('default', '')!r} required={p.get('required')}")
print('\n'.join(sorted(rows)))
