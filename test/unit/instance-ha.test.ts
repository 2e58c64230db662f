import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAttrdOutput, parseEvacState, spawnSyncText, runSync, Attrd, PacemakerError } from '../../lib/pacemaker/index';
import { tmpDir, rmDir } from '../fake/harness';
import { freshForeignClaims, hostsToEvacuate } from '../../agents/NovaEvacuate';
import { endedSince, type CrmMonStatus, type CrmNode } from '../../lib/pacemaker/crm-mon';
import { resolveNovaHost, hostNames, computeState, missingCredentials } from '../../lib/instance-ha/index';
import type { NovaService } from '../../lib/openstack/index';

const svc = (host: string, extra: Partial<NovaService> = {}): NovaService => ({
  id: host, binary: 'nova-compute', host, status: 'enabled', state: 'up', forcedDown: false, disabledReason: null, updatedAt: null, ...extra,
});

describe('attrd_updater output and the evacuate protocol', () => {
  it('parses -A/-Q lines exactly as attrd_updater prints them', () => {
    const out = 'name="evacuate" host="compute1" value="no"\nname="evacuate" host="compute2" value="yes"\nname="evacuate" host="compute3" value=""\n';
    expect(parseAttrdOutput(out)).toEqual([
      { name: 'evacuate', host: 'compute1', value: 'no' },
      { name: 'evacuate', host: 'compute2', value: 'yes' },
      { name: 'evacuate', host: 'compute3', value: '' },
    ]);
  });

  it('reads yes, node@epoch, no and empty', () => {
    expect(parseEvacState('yes')).toEqual({ kind: 'requested' });
    expect(parseEvacState('ctl1@1700000000')).toEqual({ kind: 'claimed', by: 'ctl1', since: 1700000000 });
    expect(parseEvacState('no')).toEqual({ kind: 'none' });
    expect(parseEvacState('')).toEqual({ kind: 'none' });
    expect(parseEvacState('maybe').kind).toBe('unknown');
  });

  it('picks requested hosts, stale claims of others, and its own claims; defers fresh claims of others', () => {
    const now = 1_000_000;
    const attrs = [
      { name: 'evacuate', host: 'c1', value: 'yes' },
      { name: 'evacuate', host: 'c2', value: `ctl2@${now - 10}` },
      { name: 'evacuate', host: 'c3', value: `ctl2@${now - 61}` },
      { name: 'evacuate', host: 'c4', value: `ctl1@${now - 5}` },
      { name: 'evacuate', host: 'c5', value: 'no' },
      { name: 'evacuate', host: 'c6', value: '' },
    ];
    expect(hostsToEvacuate(attrs, 'ctl1', now)).toEqual(['c1', 'c3', 'c4']);
    expect(freshForeignClaims(attrs, 'ctl1', now)).toBe(true);
    expect(freshForeignClaims(attrs.filter((a) => a.host !== 'c2'), 'ctl1', now)).toBe(false);
  });

  it('takes a fresh claim over at once when its claimer left the cluster or was fenced after claiming', () => {
    const now = Math.floor(Date.parse('2026-11-30T12:00:00Z') / 1000);
    const attrs = [{ name: 'evacuate', host: 'c2', value: `ctl2@${now - 10}` }];
    const st = (ctl2: Partial<CrmNode>, completed?: string): CrmMonStatus => ({
      nodes: ['ctl1', 'ctl2'].map((name) => ({ name, id: name, type: 'member', online: true, unclean: false, standby: false, maintenance: false,
        ...(name === 'ctl2' ? ctl2 : {}) })),
      resources: [],
      fenceHistory: completed ? [{ target: 'ctl2', action: 'reboot', status: 'success', client: 'pacemaker-controld.1', origin: 'ctl1', completed }] : [],
    });
    const take = (s: CrmMonStatus) => hostsToEvacuate(attrs, 'ctl1', now, undefined, (n, since) => endedSince(s, n, since));
    expect(take(st({}))).toEqual([]); // alive, never fenced: its evacuation may be in flight
    expect(take(st({}, '2026-11-30T11:59:40Z'))).toEqual([]); // fenced before it claimed
    expect(take(st({ online: false }))).toEqual(['c2']);
    expect(take(st({ unclean: true }))).toEqual(['c2']);
    expect(take(st({}, '2026-11-30T11:59:55Z'))).toEqual(['c2']); // fenced after claiming, and back already
    expect(take({ ...st({}), nodes: [] })).toEqual(['c2']); // not a node of the cluster at all
  });
});

// the idle monitor's attrd_updater -QA (runSync) goes through Node's spawn_sync binding, child_process.spawnSync where
// the binding is not available: both give the same outcomes
describe('synchronous runs of the Pacemaker tools', () => {
  let dir: string;
  const script = (name: string, body: string) => {
    fs.writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return path.join(dir, name);
  };
  beforeAll(() => { dir = tmpDir(); });
  afterAll(() => rmDir(dir));

  for (const via of ['binding', 'child_process'] as const) {
    it(`${via}: exit status, stdout, stderr and the environment`, () => {
      const cmd = script('out', 'printf "a=%s é\\n" "$A"; echo err >&2; exit 3');
      expect(spawnSyncText(cmd, [], { PATH: '/usr/bin:/bin', A: 'x' }, 5000, via)).toEqual({ status: 3, stdout: 'a=x é\n', stderr: 'err\n' });
      expect(spawnSyncText('/bin/echo', ['-n', 'b c'], {}, 5000, via)).toEqual({ status: 0, stdout: 'b c', stderr: '' });
    });

    it(`${via}: a missing command is ENOENT, found on the PATH given`, () => {
      expect(spawnSyncText('no-such-tool-oha', [], { PATH: '/usr/bin:/bin' }, 5000, via).error).toBe('ENOENT');
      expect(spawnSyncText('out', [], { PATH: dir }, 5000, via).status).toBe(3);
    });

    it(`${via}: a hanging command (its child holding the pipes) is killed at the timeout: ETIMEDOUT`, () => {
      const pidFile = path.join(dir, `sleep-${via}.pid`);
      const cmd = script(`hang-${via}`, `echo started; sleep 60 & echo $! >${pidFile}; wait`);
      const t0 = Date.now();
      try {
        const r = spawnSyncText(cmd, [], {}, 700, via);
        expect(r.error).toBe('ETIMEDOUT');
        expect(r.status).toBeNull();
        expect(Date.now() - t0).toBeLessThan(3000);
      } finally {
        try { process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL'); } catch { /* gone */ }
      }
    });
  }

  it('runSync: attrd_updater missing, timing out, refusing; Attrd.queryAllSync parses its answer', () => {
    expect(() => runSync('no-such-tool-oha', [])).toThrow(/not found \(is Pacemaker installed\?\)/);
    const hang = script('hang-exec', 'exec sleep 60');
    expect(() => runSync(hang, ['-x'], { timeoutMs: 300 })).toThrow(new PacemakerError(`${hang} -x timed out after 300 ms`));
    expect(runSync(script('fail', 'echo no >&2; exit 102'), [])).toEqual({ code: 102, stdout: '', stderr: 'no\n' });
    script('attrd_updater', `[ "$*" = "-n evacuate -QA" ] || exit 64; [ -z "$OCF_RESKEY_CRM_meta_on_node" ] || exit 65
echo 'name="evacuate" host="c1" value="yes"'; echo 'name="other" host="c2" value="no"'`);
    const env = { PATH: `${dir}:/usr/bin:/bin`, OCF_RESKEY_CRM_meta_on_node: 'ctl1' };
    expect(new Attrd({ env }).queryAllSync('evacuate')).toEqual([{ name: 'evacuate', host: 'c1', value: 'yes' }]);
  });
});

describe('cluster node names and Nova host names', () => {
  const services = [svc('compute1.example.com'), svc('compute2.example.com'), svc('other')];
  it('maps short names to FQDNs and back, with or without a domain', () => {
    expect(resolveNovaHost(services, 'compute1')).toBe('compute1.example.com');
    expect(resolveNovaHost(services, 'compute1', 'example.com')).toBe('compute1.example.com');
    expect(resolveNovaHost(services, 'compute2.example.com')).toBe('compute2.example.com');
    expect(resolveNovaHost(services, 'other.example.com')).toBe('other');
    expect(resolveNovaHost(services, 'compute9')).toBeUndefined();
  });
  it('an ambiguous short name matches nothing', () => {
    expect(resolveNovaHost([svc('a.one'), svc('a.two')], 'a')).toBeUndefined();
    expect(resolveNovaHost([svc('a.one'), svc('a.two')], 'a', 'two')).toBe('a.two');
  });
  it('lists long and short names, as fence_compute -o list does', () => {
    expect(hostNames(services)).toEqual(['compute1.example.com', 'compute1', 'compute2.example.com', 'compute2', 'other']);
  });
  it('computes the reference power states', () => {
    expect(computeState(svc('a'))).toBe('on');
    expect(computeState(svc('a', { state: 'down', status: 'disabled' }))).toBe('off');
    expect(computeState(svc('a', { state: 'down' }))).toBe('failed');
    expect(computeState(svc('a', { status: 'disabled' }))).toBe('running');
    expect(computeState(undefined)).toBe('unknown');
  });
});

describe('credentials', () => {
  it('a clouds.yaml entry (parameter or OS_CLOUD) needs nothing else; otherwise OS_* variables fill the gaps', () => {
    expect(missingCredentials({ cloud: 'prod' }, {})).toEqual([]);
    expect(missingCredentials({}, { OS_CLOUD: 'prod' })).toEqual([]);
    expect(missingCredentials({ auth_url: 'http://k/v3', username: 'u' }, {})).toEqual(['password', 'tenant_name']);
    expect(missingCredentials({ auth_url: 'http://k/v3', username: 'u' }, { OS_PASSWORD: 'p', OS_TENANT_NAME: 't' })).toEqual([]);
  });
});
