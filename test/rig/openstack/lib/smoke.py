#!/usr/bin/python3
"""Smoke scenario on a running rig: a host failure and its evacuation, with plain Nova API calls.

  1. boot N servers (m1.evac / cirros-evac, networks "none") on the victim host (availability zone nova:HOST)
  2. SIGKILL the victim's nova-compute (compute.sh kill), force the service down (microversion 2.53)
  3. evacuate every server (POST /servers/ID/action {"evacuate": {}}), wait until all are ACTIVE elsewhere
  4. start the victim's nova-compute again (compute.sh start), unset forced_down, wait until it is "up"
  5. delete the servers (unless --keep)
Usage: smoke.py [--servers N] [--victim compute2] [--keep]
"""
import argparse
import collections
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig  # noqa: E402

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
T0 = time.time()


def log(msg):
    print('[%6.2fs] %s' % (time.time() - T0, msg), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--servers', type=int, default=3)
    ap.add_argument('--victim', default='compute2')
    ap.add_argument('--keep', action='store_true')
    a = ap.parse_args()
    api = rig.Api()
    flavor = [f for f in api.nova('GET', '/flavors').json()['flavors'] if f['name'] == 'm1.evac'][0]['id']
    image = api.req('GET', rig.GLANCE + '/v2/images?name=cirros-evac').json()['images'][0]['id']
    svc = api.nova('GET', '/os-services?binary=nova-compute&host=%s' % a.victim).json()['services'][0]
    if svc['forced_down'] or svc['state'] != 'up':
        sys.exit('%s is not up and not forced down: %s' % (a.victim, svc))

    def servers(ids):
        ss = [s for s in api.nova('GET', '/servers/detail?all_tenants=1', mv='2.74').json()['servers'] if s['id'] in ids]
        bad = [s for s in ss if s['status'] == 'ERROR']
        if bad:
            sys.exit('servers in ERROR: %s' % [(s['id'], s.get('fault')) for s in bad])
        return ss

    def wait(ids, pred, what, timeout=180):
        t = time.time()
        while True:
            ss = servers(ids)
            if len(ss) == len(ids) and all(pred(s) for s in ss):
                log('%s (%.1fs)' % (what, time.time() - t))
                return ss
            if time.time() - t > timeout:
                sys.exit('timeout waiting: %s: %s' % (what, [(s['status'], s['OS-EXT-SRV-ATTR:host']) for s in ss]))
            time.sleep(0.3)

    # 1. boot
    ids = set()
    for i in range(a.servers):
        body = {'server': {'name': 'smoke-%d' % i, 'imageRef': image, 'flavorRef': flavor, 'networks': 'none',
                           'availability_zone': 'nova:%s' % a.victim}}
        ids.add(api.nova('POST', '/servers', mv='2.74', json=body).json()['server']['id'])
    log('%d boot requests accepted' % a.servers)
    wait(ids, lambda s: s['status'] == 'ACTIVE' and s['OS-EXT-SRV-ATTR:host'] == a.victim,
         '%d servers ACTIVE on %s' % (a.servers, a.victim))

    # 2. host failure
    t_fail = time.time()
    subprocess.run([os.path.join(HERE, 'compute.sh'), 'kill', a.victim], check=True)
    api.nova('PUT', '/os-services/%s' % svc['id'], json={'forced_down': True})
    s = api.nova('GET', '/os-services?binary=nova-compute&host=%s' % a.victim).json()['services'][0]
    log('%s forced down: state=%s forced_down=%s' % (a.victim, s['state'], s['forced_down']))

    # 3. evacuate
    t = time.time()
    for n, sid in enumerate(ids):
        r = api.nova('POST', '/servers/%s/action' % sid, json={'evacuate': {}})
        assert r.status_code == 200, r.text
        if n == 0:
            log('evacuate (2.53) -> %d, body %r' % (r.status_code, r.text[:120]))
    log('%d evacuate calls accepted (%.2fs)' % (len(ids), time.time() - t))
    final = wait(ids, lambda s: s['status'] == 'ACTIVE' and s['OS-EXT-STS:task_state'] is None
                 and s['OS-EXT-SRV-ATTR:host'] not in (None, a.victim), 'all ACTIVE on other hosts')
    log('kill -> all ACTIVE elsewhere: %.1fs; placement: %s' % (
        time.time() - t_fail, dict(collections.Counter(s['OS-EXT-SRV-ATTR:host'] for s in final))))

    # 4. the host comes back
    t = time.time()
    subprocess.run([os.path.join(HERE, 'compute.sh'), 'start', a.victim], check=True)
    # Nova refuses (400) to unset forced_down while "done" evacuation migrations remain on the host: the restarted
    # nova-compute first deletes the evacuated instances' leftovers and moves them to "completed"
    refused = 0
    while True:
        r = api.nova('PUT', '/os-services/%s' % svc['id'], json={'forced_down': False}, ok=None)
        if r.status_code == 200:
            break
        if r.status_code != 400 or time.time() - t > 120:
            sys.exit('cannot unset forced_down on %s: %s %s' % (a.victim, r.status_code, r.text[:300]))
        if not refused:
            log('forced_down=false refused while the evacuations are not cleaned up: %s' % r.text[:160])
        refused += 1
        time.sleep(0.5)
    log('forced_down=false accepted after %d refusal(s) (%.1fs)' % (refused, time.time() - t))
    while True:
        s = api.nova('GET', '/os-services?binary=nova-compute&host=%s' % a.victim).json()['services'][0]
        if s['state'] == 'up' and not s['forced_down']:
            break
        if time.time() - t > 120:
            sys.exit('%s did not come back: %s' % (a.victim, s))
        time.sleep(0.3)
    log('%s up again (%.1fs)' % (a.victim, time.time() - t))

    # 5. clean up
    if not a.keep:
        for sid in ids:
            api.nova('DELETE', '/servers/%s' % sid)
        t = time.time()
        while servers(ids):
            if time.time() - t > 60:
                sys.exit('servers not deleted')
            time.sleep(0.3)
        log('servers deleted')
    log('smoke scenario OK')


if __name__ == '__main__':
    main()
