#!/usr/bin/env python3
"""Cold start of our agents next to Debian's reference agents, side by side in one run, under `env -i`.

   python3 bench/cold-start.py [RUNS]     (after npm run build; the reference is /usr/sbin/fence_compute, or
                                           /usr/sbin/fence_compute.distrib once our install diverted it)
Each command is run RUNS times (default 30) alternating between the contenders; wall time is measured around the
process, max RSS is read from /usr/bin/time. Prints medians and quartiles."""
import os, shutil, statistics, subprocess, sys, tempfile, time

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 30
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, 'dist', 'openstack-ha-agents')
TIME = '/usr/bin/time'


def ref(name):
    for p in (f'/usr/sbin/{name}.distrib', f'/usr/sbin/{name}'):
        if os.path.exists(p):
            with open(p, 'rb') as f:
                if f.read(2) == b'#!':  # a script: the Python reference, not our binary
                    return p
    return None


def links():
    d = tempfile.mkdtemp(prefix='oha-bench-')
    for a in ('fence_compute', 'NovaEvacuate'):
        os.link(BIN, os.path.join(d, a))
    return d


def measure(cmd):
    out = tempfile.NamedTemporaryFile(delete=False)
    t = time.perf_counter()
    subprocess.run(['env', '-i', TIME, '-f', '%M', '-o', out.name, *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - t
    rss = int(open(out.name).read().split()[-1])
    os.unlink(out.name)
    return wall * 1000, rss / 1024


def main():
    if not os.path.exists(BIN):
        sys.exit('dist/openstack-ha-agents missing: run npm run build first')
    if not os.path.exists(TIME):
        sys.exit('/usr/bin/time missing: apt-get install time')
    d = links()
    cases = [
        ('ours   fence_compute -o metadata', [os.path.join(d, 'fence_compute'), '-o', 'metadata']),
        ('ours   NovaEvacuate meta-data', [os.path.join(d, 'NovaEvacuate'), 'meta-data']),
    ]
    r = ref('fence_compute')
    if r:
        cases.append((f'Debian {os.path.basename(r)} -o metadata', [r, '-o', 'metadata']))
    else:
        print('(Debian fence-agents reference not found: apt-get install fence-agents)')
    res = {name: [] for name, _ in cases}
    for _ in range(2):  # warm the page cache
        for _, c in cases:
            measure(c)
    for _ in range(RUNS):
        for name, c in cases:
            res[name].append(measure(c))
    print(f'{RUNS} runs each, env -i, {os.uname().nodename}, {os.cpu_count()} cores')
    print(f'{"command":44} {"median ms":>9} {"p25":>6} {"p75":>6} {"max RSS MiB":>11}')
    for name, _ in cases:
        w = sorted(x[0] for x in res[name])
        q = statistics.quantiles(w, n=4)
        print(f'{name:44} {statistics.median(w):9.1f} {q[0]:6.1f} {q[2]:6.1f} {max(x[1] for x in res[name]):11.1f}')
    shutil.rmtree(d)


main()
