import { describe, it, expect } from 'vitest';
import { parseAttrdOutput, parseEvacState } from '../../lib/pacemaker/index';
import { hostsToEvacuate } from '../../agents/NovaEvacuate';
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
