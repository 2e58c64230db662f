/** The evacuation engine and the unfencing helper against the OpenStack fake (held to recorded real responses). */
import { describe, it, expect, afterEach } from 'vitest';
import { evacuateHost, forceHostDown } from '../../lib/instance-ha/evacuate';
import { unfenceHost } from '../../lib/instance-ha/index';
import { fakeCloud, waitFor, type FakeCloud } from '../fake/harness';

let fc: FakeCloud | undefined;
afterEach(async () => { await fc?.close(); fc = undefined; });

const evacuateCalls = (f: FakeCloud) => f.fake.state.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/action') && JSON.stringify(r.body).includes('evacuate'));

describe('evacuateHost', () => {
  it('forces the host down, evacuates only tagged instances once each, leaves untagged ones', async () => {
    fc = await fakeCloud();
    const st = fc.fake.state;
    const tagged = [...st.addServers('compute2', 3, { flavor: 'm1.evacuable' }), ...st.addServers('compute2', 1, { image: 'cirros-evacuable-prop' }),
      ...st.addServers('compute2', 1, { flavor: 'm1.evacuable', status: 'SHUTOFF' })];
    const untagged = st.addServers('compute2', 2, { flavor: 'm1.tiny' });
    st.killService('compute2');
    const r = await evacuateHost(fc.cloud, { host: 'compute2', noSharedStorage: false, instanceFiltering: true }, fc.log);
    expect(r.failed).toEqual([]);
    expect(r.accepted.sort()).toEqual(tagged.map((s) => s.id).sort());
    expect(r.filtered.sort()).toEqual(untagged.map((s) => s.id).sort());
    expect(evacuateCalls(fc)).toHaveLength(5);
    expect(st.service('compute2')!.forcedDown).toBe(true);
    await waitFor(() => tagged.every((s) => s.host !== 'compute2' && s.taskState === null), 3000);
    const off = tagged[4];
    expect((st.dump() as { servers: { id: string; status: string }[] }).servers.find((s) => s.id === off.id)!.status).toBe('SHUTOFF');
  });

  it('evacuates every instance when nothing is tagged, or when instance_filtering is off', async () => {
    fc = await fakeCloud();
    const st = fc.fake.state;
    st.addServers('compute1', 3, { flavor: 'm1.tiny' });
    st.killService('compute1');
    const r = await evacuateHost(fc.cloud, { host: 'compute1', noSharedStorage: false, instanceFiltering: false }, fc.log);
    expect(r.accepted).toHaveLength(3);
    expect(r.filtered).toHaveLength(0);
  });

  it('a second pass (a takeover) skips instances Nova is already rebuilding: nothing is evacuated twice', async () => {
    fc = await fakeCloud({ evacuateDelayMs: 2000 });
    const st = fc.fake.state;
    st.addServers('compute2', 4, { flavor: 'm1.evacuable' });
    st.killService('compute2');
    const first = await evacuateHost(fc.cloud, { host: 'compute2', noSharedStorage: false, instanceFiltering: true }, fc.log);
    const second = await evacuateHost(fc.cloud, { host: 'compute2', noSharedStorage: false, instanceFiltering: true }, fc.log);
    expect(first.accepted).toHaveLength(4);
    expect(second.accepted).toHaveLength(0);
    expect(second.skipped.map((s) => s.why)).toEqual(Array(4).fill('task_state rebuilding'));
    expect(evacuateCalls(fc)).toHaveLength(4);
  });

  it('a 500 on one evacuation is retried after looking at the instance; nothing is asked twice', async () => {
    fc = await fakeCloud();
    const st = fc.fake.state;
    st.addServers('compute2', 3, { flavor: 'm1.evacuable' });
    st.killService('compute2');
    st.failNext(1, 500, /\/action$/);
    const r = await evacuateHost(fc.cloud, { host: 'compute2', noSharedStorage: false, instanceFiltering: true, policy: { workers: 1 }, retryDelayMs: 5 }, fc.log);
    expect(r.failed).toEqual([]);
    expect(r.accepted).toHaveLength(3);
    // three accepted requests plus the one that got the 500
    expect(evacuateCalls(fc).filter((c) => c.status === 200)).toHaveLength(3);
    expect(evacuateCalls(fc)).toHaveLength(4);
  });

  it('reports failed evacuations without stopping the others; a retry picks up only what failed', async () => {
    fc = await fakeCloud();
    const st = fc.fake.state;
    const [first] = st.addServers('compute2', 3, { flavor: 'm1.evacuable' });
    st.killService('compute2');
    await forceHostDown(fc.cloud, 'compute2', fc.log);
    st.failNext(4, 500, new RegExp(`/servers/${first.id}/action$`));
    const r = await evacuateHost(fc.cloud, { host: 'compute2', noSharedStorage: false, instanceFiltering: true, skipForceDown: true, policy: { workers: 1 }, retryDelayMs: 5 }, fc.log);
    expect(r.failed).toHaveLength(1);
    expect(r.accepted).toHaveLength(2);
    const again = await evacuateHost(fc.cloud, { host: 'compute2', noSharedStorage: false, instanceFiltering: true }, fc.log);
    expect(again.accepted).toEqual([r.failed[0].id]);
  });

  it('an evacuation Nova refuses because the source is still up is a failure, not a success', async () => {
    fc = await fakeCloud();
    const st = fc.fake.state;
    st.addServers('compute3', 1, { flavor: 'm1.evacuable' });
    const r = await evacuateHost(fc.cloud, { host: 'compute3', noSharedStorage: false, instanceFiltering: true, skipForceDown: true }, fc.log);
    expect(r.failed).toHaveLength(1);
    expect(r.failed[0].reason).toMatch(/still in use/);
  });
});

describe('unfenceHost', () => {
  it('enables at once, but Nova keeps an evacuated host forced down until its nova-compute restarted', async () => {
    fc = await fakeCloud({ evacuateDelayMs: 10 });
    const st = fc.fake.state;
    const [s] = st.addServers('compute2', 1, { flavor: 'm1.evacuable' });
    st.killService('compute2');
    await evacuateHost(fc.cloud, { host: 'compute2', noSharedStorage: false, instanceFiltering: true }, fc.log);
    await waitFor(() => s.host !== 'compute2' && s.taskState === null, 3000);
    let r = await unfenceHost(fc.cloud, 'compute2', fc.log);
    expect(r.forcedDown).toBe(true);
    expect(st.service('compute2')!.status).toBe('enabled');
    expect(st.service('compute2')!.forcedDown).toBe(true);
    st.reviveService('compute2');
    const before = st.requests.length;
    r = await unfenceHost(fc.cloud, 'compute2', fc.log);
    expect(r.forcedDown).toBe(false);
    expect(st.service('compute2')!.forcedDown).toBe(false);
    // the simulator has no Placement: the COMPUTE_STATUS_DISABLED check is skipped with a warning, nothing else is
    // sent (test/unit/unfence.test.ts covers the trait)
    const puts = st.requests.slice(before).filter((q) => q.method === 'PUT').map((q) => q.body);
    expect(puts).toEqual([{ forced_down: false }]);
    expect(fc.log.lines.some((l) => l.level === 'warn' && /cannot check compute2's COMPUTE_STATUS_DISABLED/.test(l.msg))).toBe(true);
  });
});
