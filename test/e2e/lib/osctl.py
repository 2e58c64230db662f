#!/usr/bin/python3
"""Test-side OpenStack actions for the end-to-end scenarios (plain Nova/Glance API calls against the rig).

  osctl.py boot PREFIX HOST SPEC...        SPEC = COUNTxFLAVOR/IMAGE (e.g. 3xm1.evac/cirros); prints "ID NAME" lines
  osctl.py wait IDFILE HOST TIMEOUT [ID..]  wait until every server of IDFILE is ACTIVE (SHUTOFF: the IDs given) on HOST
                                            (!HOST: on any other host)
  osctl.py stop ID                          stop a server and wait for SHUTOFF
  osctl.py servers IDFILE                   "ID NAME STATUS HOST TASK_STATE" lines
  osctl.py evacuations IDFILE               "ID COUNT" lines: evacuation migrations per server (microversion 2.59)
  osctl.py unlimited-quota                  no instance/core/RAM quota for project admin (default: 10 instances)
  osctl.py service HOST                     "status=.. state=.. forced_down=.."
  osctl.py watch IDFILE SRC OUT             poll every 0.2 s until killed; append "EPOCH_MS EVENT ID" lines to OUT
                                            (task_state seen "rebuilding", status ACTIVE/SHUTOFF on a host other than SRC)
IDFILE holds "ID NAME" lines as printed by boot.
"""
import collections
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../rig/openstack/lib'))
import rig  # noqa: E402

MV = '2.74'


def api():
    return rig.Api()


def read_ids(path):
    out = []
    with open(path) as f:
        for line in f:
            p = line.split()
            if p:
                out.append((p[0], p[1]))
    return out


def servers(a, ids):
    want = set(ids)
    ss = a.nova('GET', '/servers/detail?all_tenants=1', mv=MV).json()['servers']
    return {s['id']: s for s in ss if s['id'] in want}


def boot(prefix, host, specs):
    a = api()
    flavors = {f['name']: f['id'] for f in a.nova('GET', '/flavors').json()['flavors']}
    images = {i['name']: i['id'] for i in a.req('GET', rig.GLANCE + '/v2/images').json()['images']}
    n = 0
    for spec in specs:
        count, fi = spec.split('x', 1)
        flavor, image = fi.split('/')
        for _ in range(int(count)):
            n += 1
            name = '%s-%02d-%s-%s' % (prefix, n, flavor.replace('.', ''), image)
            body = {'server': {'name': name, 'imageRef': images[image], 'flavorRef': flavors[flavor],
                               'networks': 'none', 'host': host}}
            sid = a.nova('POST', '/servers', mv=MV, json=body).json()['server']['id']
            print(sid, name, flush=True)


def wait(idfile, host, timeout, want_off=()):
    a = api()
    ids = [i for i, _ in read_ids(idfile)]
    t = time.time()
    while True:
        ss = servers(a, ids)
        err = [s for s in ss.values() if s['status'] == 'ERROR']
        if err:
            sys.exit('servers in ERROR: %s' % [(s['name'], s.get('fault')) for s in err])
        on = (lambda h: h != host[1:]) if host.startswith('!') else (lambda h: h == host)
        ok = [s for s in ss.values() if on(s['OS-EXT-SRV-ATTR:host']) and s['OS-EXT-STS:task_state'] is None
              and s['status'] == ('SHUTOFF' if s['id'] in want_off else 'ACTIVE')]
        if len(ok) == len(ids):
            return
        if time.time() - t > timeout:
            sys.exit('timeout: %s' % [(s['name'], s['status'], s['OS-EXT-SRV-ATTR:host']) for s in ss.values()])
        time.sleep(0.5)


def placement(host):
    """'disabled' while a resource provider of HOST carries COMPUTE_STATUS_DISABLED, else 'schedulable'."""
    a = api()
    h = {'OpenStack-API-Version': 'placement 1.6'}
    rps = a.req('GET', rig.PLACEMENT + '/resource_providers?name=%s' % host, headers=dict(h)).json()['resource_providers']
    if not rps:
        sys.exit('no resource provider named %s' % host)
    traits = a.req('GET', rig.PLACEMENT + '/resource_providers/%s/traits' % rps[0]['uuid'], headers=dict(h)).json()['traits']
    print('disabled' if 'COMPUTE_STATUS_DISABLED' in traits else 'schedulable')


def schedulable(host, timeout):
    """Boot one server onto HOST and see it ACTIVE there, then delete it: the scheduler really uses HOST again."""
    a = api()
    flavors = {f['name']: f['id'] for f in a.nova('GET', '/flavors').json()['flavors']}
    images = {i['name']: i['id'] for i in a.req('GET', rig.GLANCE + '/v2/images').json()['images']}
    body = {'server': {'name': 'schedulable-%s' % host, 'imageRef': images['cirros'], 'flavorRef': flavors['m1.tiny'],
                       'networks': 'none', 'host': host}}
    t = time.time()
    sid = a.nova('POST', '/servers', mv=MV, json=body).json()['server']['id']
    try:
        while True:
            s = a.nova('GET', '/servers/%s' % sid, mv=MV).json()['server']
            if s['status'] == 'ERROR':
                sys.exit('server booted onto %s went to ERROR: %s' % (host, s.get('fault')))
            if s['status'] == 'ACTIVE' and s['OS-EXT-STS:task_state'] is None:
                if s['OS-EXT-SRV-ATTR:host'] != host:
                    sys.exit('server booted onto %s is ACTIVE on %s' % (host, s['OS-EXT-SRV-ATTR:host']))
                print('%s: a server booted onto it is ACTIVE there after %.1f s' % (host, time.time() - t))
                return
            if time.time() - t > timeout:
                sys.exit('server booted onto %s not ACTIVE after %d s: %s' % (host, timeout, s['status']))
            time.sleep(0.5)
    finally:
        a.nova('DELETE', '/servers/%s' % sid)
        while time.time() - t < timeout + 60:
            if a.nova('GET', '/servers/%s' % sid, mv=MV, ok=(200, 404)).status_code == 404:
                break
            time.sleep(0.5)


def stop(sid):
    a = api()
    a.nova('POST', '/servers/%s/action' % sid, json={'os-stop': None})
    t = time.time()
    while time.time() - t < 60:
        s = a.nova('GET', '/servers/%s' % sid, mv=MV).json()['server']
        if s['status'] == 'SHUTOFF' and s['OS-EXT-STS:task_state'] is None:
            return
        time.sleep(0.5)
    sys.exit('server %s not SHUTOFF after 60 s' % sid)


def list_servers(idfile):
    a = api()
    ss = servers(a, [i for i, _ in read_ids(idfile)])
    for sid, name in read_ids(idfile):
        s = ss.get(sid)
        if s is None:
            print(sid, name, 'MISSING', '-', '-')
        else:
            print(sid, name, s['status'], s['OS-EXT-SRV-ATTR:host'], s['OS-EXT-STS:task_state'] or '-')


def evacuations(idfile):
    a = api()
    ids = {i for i, _ in read_ids(idfile)}
    ms = a.nova('GET', '/os-migrations?migration_type=evacuation&limit=1000', mv='2.59').json()['migrations']
    c = collections.Counter(m['instance_uuid'] for m in ms if m['instance_uuid'] in ids)
    for sid, name in read_ids(idfile):
        print(sid, c.get(sid, 0))


def service(host):
    a = api()
    s = a.nova('GET', '/os-services?binary=nova-compute&host=%s' % host).json()['services'][0]
    print('status=%s state=%s forced_down=%s' % (s['status'], s['state'], str(s['forced_down']).lower()))


def watch(idfile, src, out):
    a = api()
    ids = [i for i, _ in read_ids(idfile)]
    seen = set()
    with open(out, 'a') as f:
        while True:
            try:
                ss = servers(a, ids)
            except Exception as e:  # noqa: BLE001 - keep watching through a transient API error
                print('watch: %s' % e, file=sys.stderr)
                time.sleep(0.5)
                continue
            now = int(time.time() * 1000)
            for sid, s in ss.items():
                ev = []
                if s['OS-EXT-STS:task_state'] in ('rebuilding', 'rebuild_block_device_mapping', 'rebuild_spawning'):
                    ev.append('rebuilding')
                if s['OS-EXT-SRV-ATTR:host'] != src and s['OS-EXT-STS:task_state'] is None and \
                        s['status'] in ('ACTIVE', 'SHUTOFF'):
                    ev.append('%s@%s' % (s['status'], s['OS-EXT-SRV-ATTR:host']))
                for e in ev:
                    if (sid, e) not in seen:
                        seen.add((sid, e))
                        f.write('%d %s %s\n' % (now, e, sid))
                        f.flush()
            time.sleep(0.2)


def unlimited_quota():
    a = api()
    pid = a.req('GET', 'http://127.0.0.1:5000/v3/projects?name=admin').json()['projects'][0]['id']
    body = {'quota_set': {'instances': -1, 'cores': -1, 'ram': -1}}
    a.nova('PUT', '/os-quota-sets/%s' % pid, json=body)


def main(argv):
    cmd = argv[0]
    if cmd == 'unlimited-quota':
        return unlimited_quota()
    if cmd == 'boot':
        boot(argv[1], argv[2], argv[3:])
    elif cmd == 'wait':
        wait(argv[1], argv[2], float(argv[3]), set(argv[4:]))
    elif cmd == 'placement':
        placement(argv[1])
    elif cmd == 'schedulable':
        schedulable(argv[1], float(argv[2]))
    elif cmd == 'stop':
        stop(argv[1])
    elif cmd == 'servers':
        list_servers(argv[1])
    elif cmd == 'evacuations':
        evacuations(argv[1])
    elif cmd == 'service':
        service(argv[1])
    elif cmd == 'watch':
        watch(argv[1], argv[2], argv[3])
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main(sys.argv[1:])
