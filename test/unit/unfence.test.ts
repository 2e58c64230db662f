import { describe, it, expect } from 'vitest';
import { unfenceHost, unfenceDone } from '../../lib/instance-ha/index';
import { MemoryLogger } from '../../lib/core/log';
import { ConfigError, OpenStackError, type Cloud, type NovaService } from '../../lib/openstack/index';

/**
 * A cloud that behaves as Nova and Placement do around an unfence: enabling a service drops the host's
 * COMPUTE_STATUS_DISABLED trait only while the service is up (Nova's API asks the compute service over RPC);
 * clearing forced_down is refused while evacuation records remain.
 */
function cloudOf(opts: { up: boolean; forcedDown?: boolean; recordsRemain?: boolean; trait?: boolean; placement?: boolean }) {
  const svc: NovaService = {
    id: 'c2', binary: 'nova-compute', host: 'compute2', status: 'disabled', state: opts.up && !opts.forcedDown ? 'up' : 'down',
    forcedDown: opts.forcedDown ?? false, disabledReason: 'fenced', updatedAt: null,
  };
  const calls: string[] = [];
  let trait = opts.trait ?? true;
  const cloud = {
    endpoint: async (type: string) => {
      if (type === 'placement' && opts.placement === false) throw new ConfigError('no public endpoint for service type placement in any region');
      return `http://127.0.0.1:8778`;
    },
    nova: () => ({
      listServices: async () => [{ ...svc }],
      enableService: async () => { calls.push('enable'); svc.status = 'enabled'; if (svc.state === 'up') trait = false; },
      setForcedDown: async (_h: string, v: boolean) => {
        calls.push(`forced_down=${v}`);
        if (opts.recordsRemain) throw new OpenStackError('Not all migration records remain completed', 400);
        svc.forcedDown = v; if (opts.up) svc.state = 'up';
      },
      listHypervisors: async () => [{ id: '4a5c0f3e-2c39-4c8a-9a8e-0f7f8b6f1e01', hypervisorHostname: 'compute2', state: svc.state, status: svc.status, serviceHost: 'compute2' }],
    }),
    placement: () => ({
      providerUuid: async (id: string) => id,
      providerTraits: async () => (trait ? ['COMPUTE_STATUS_DISABLED', 'COMPUTE_NET_ATTACH_INTERFACE'] : ['COMPUTE_NET_ATTACH_INTERFACE']),
    }),
  } as unknown as Cloud;
  return { cloud, calls, trait: () => trait };
}

describe('unfencing leaves the host schedulable (enabled, forced_down cleared, COMPUTE_STATUS_DISABLED gone)', () => {
  it('enabled while forced down (no RPC), forced_down cleared once up: enables again so Nova drops the trait', async () => {
    const c = cloudOf({ up: true, forcedDown: true, trait: true });
    const log = new MemoryLogger();
    const r = await unfenceHost(c.cloud, 'compute2', log);
    expect(r).toEqual({ forcedDown: false, traitPending: false });
    expect(unfenceDone(r)).toBe(true);
    expect(c.trait()).toBe(false);
    expect(c.calls).toEqual(['enable', 'forced_down=false', 'enable']);
    expect(log.lines.map((l) => l.msg).join('\n')).toMatch(/compute2 is schedulable again/);
  });

  it('nova-compute not running yet: the trait stays and the result says pending, in the log too', async () => {
    const c = cloudOf({ up: false, trait: true });
    const log = new MemoryLogger();
    const r = await unfenceHost(c.cloud, 'compute2', log);
    expect(r).toEqual({ forcedDown: false, traitPending: true });
    expect(unfenceDone(r)).toBe(false);
    expect(log.lines.map((l) => l.msg).join('\n')).toMatch(/Placement still marks compute2 COMPUTE_STATUS_DISABLED: pending/);
  });

  it('Nova still holds the evacuation records: forced down, pending', async () => {
    const c = cloudOf({ up: true, forcedDown: true, recordsRemain: true });
    const r = await unfenceHost(c.cloud, 'compute2', new MemoryLogger());
    expect(r).toEqual({ forcedDown: true, traitPending: false });
    expect(unfenceDone(r)).toBe(false);
  });

  it('no trait: done without a second enable', async () => {
    const c = cloudOf({ up: true, trait: false });
    const r = await unfenceHost(c.cloud, 'compute2', new MemoryLogger());
    expect(unfenceDone(r)).toBe(true);
    expect(c.calls).toEqual(['enable']);
  });

  it('no Placement in the catalog: warns that the trait was not checked, and does not fail the unfence', async () => {
    const c = cloudOf({ up: true, trait: true, placement: false });
    const log = new MemoryLogger();
    const r = await unfenceHost(c.cloud, 'compute2', log);
    expect(unfenceDone(r)).toBe(true);
    expect(log.lines.some((l) => l.level === 'warn' && /cannot check compute2's COMPUTE_STATUS_DISABLED trait/.test(l.msg))).toBe(true);
  });
});
