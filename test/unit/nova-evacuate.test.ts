/** NovaEvacuate (and nova-compute-wait) run in-process: deadlines inside the action timeout. */
import { describe, it, expect } from 'vitest';
import { makeContext } from '../../lib/ocf/index';
import { definition as novaEvacuate, boundedPolicy } from '../../agents/NovaEvacuate';

const CREDS = { OCF_RESKEY_auth_url: 'http://127.0.0.1:9/v3', OCF_RESKEY_username: 'a', OCF_RESKEY_password: 'b', OCF_RESKEY_tenant_name: 'c' };

describe('NovaEvacuate: the verification deadline stays inside the monitor timeout', () => {
  it('a 60 s monitor timeout caps verify_timeout (default 600 s) below 60 s', () => {
    const ctx = makeContext(novaEvacuate, 'monitor', { ...CREDS, OCF_RESKEY_CRM_meta_timeout: '60000' });
    const p = boundedPolicy(ctx);
    expect(p.verifyTimeoutSec).toBeGreaterThan(0);
    expect(p.verifyTimeoutSec).toBeLessThan(60);
  });

  it('without a timeout, verify_timeout is used as configured', () => {
    const ctx = makeContext(novaEvacuate, 'monitor', { ...CREDS, OCF_RESKEY_verify_timeout: '120' });
    expect(boundedPolicy(ctx).verifyTimeoutSec).toBe(120);
  });
});

describe('OCF context: remaining()', () => {
  it('is the seconds left until OCF_RESKEY_CRM_meta_timeout, undefined without one', () => {
    const ctx = makeContext(novaEvacuate, 'monitor', { OCF_RESKEY_CRM_meta_timeout: '60000' });
    const left = ctx.remaining();
    expect(left).toBeGreaterThan(59);
    expect(left).toBeLessThanOrEqual(60);
    expect(makeContext(novaEvacuate, 'monitor', {}).remaining()).toBeUndefined();
  });
});
