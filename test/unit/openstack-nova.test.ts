import { afterEach, describe, expect, it } from 'vitest';
import { chooseMicroversion, computeUrls } from '../../lib/openstack/nova';
import { forEachLimited } from '../../lib/core/poll';
import { OpenStackError } from '../../lib/openstack/types';
import { fakeCloud, waitFor, type FakeCloud } from '../fake/harness';
import type { FakeOptions } from '../fake/openstack-fake';

describe('Nova client', () => {
  let fc: FakeCloud | undefined;
  afterEach(async () => { await fc?.close(); fc = undefined; });
  const start = async (opts: FakeOptions = {}) => (fc = await fakeCloud(opts));
  const calls = (method: string, re: RegExp) => fc!.fake.state.requestsTo(method, re);

  describe('microversion negotiation', () => {
    it('uses the server maximum up to 2.94 and sends both headers', async () => {
      await start({ maxMicroversion: '2.93' });
      const nova = fc!.cloud.nova();
      expect(await nova.microversion()).toBe('2.93');
      await nova.listServices();
      const list = calls('GET', /os-services$/)[0];
      expect(list.microversion).toBe('2.93');
      // the version document is read once per client
      await nova.listServices();
      expect(calls('GET', /^\/compute\/v2\.1$/)).toHaveLength(1);
    });

    it('never goes above 2.94', async () => {
      await start({ maxMicroversion: '2.99' });
      expect(await fc!.cloud.nova().microversion()).toBe('2.94');
      await fc!.cloud.nova().listServices();
      expect(calls('GET', /os-services$/)[0].microversion).toBe('2.94');
    });

    it('refuses Nova older than 2.11', async () => {
      await start({ maxMicroversion: '2.10' });
      const err = await fc!.cloud.nova().listServices().catch((e) => e);
      expect(err).toBeInstanceOf(OpenStackError);
      expect(err.message).toMatch(/^Nova too old: .* supports microversions up to 2\.10, 2\.11 or later is needed/);
      expect(calls('GET', /os-services/)).toHaveLength(0);
    });

    it('chooses and validates microversions', () => {
      expect(chooseMicroversion('2.1', '2.100', 'x')).toBe('2.94');
      expect(chooseMicroversion('2.1', '2.53', 'x')).toBe('2.53');
      expect(() => chooseMicroversion('', '', 'x')).toThrow(/Nova too old: .* has no microversions/);
      expect(() => chooseMicroversion('2.95', '2.99', 'x')).toThrow(/requires microversion 2.95/);
    });

    it('finds the version document of catalog URLs with or without a project id', () => {
      expect(computeUrls('http://h:8774/v2.1')).toEqual({ base: 'http://h:8774/v2.1', root: 'http://h:8774/v2.1' });
      expect(computeUrls('http://h/compute/v2.1/')).toEqual({ base: 'http://h/compute/v2.1', root: 'http://h/compute/v2.1' });
      expect(computeUrls('http://h:8774/v2.1/0123abcd')).toEqual({ base: 'http://h:8774/v2.1/0123abcd', root: 'http://h:8774/v2.1' });
      expect(computeUrls('http://h:8774')).toEqual({ base: 'http://h:8774/v2.1', root: 'http://h:8774/v2.1' });
    });
  });

  describe('services', () => {
    it('addresses services by id from 2.53', async () => {
      await start();
      const nova = fc!.cloud.nova();
      await nova.setForcedDown('compute2', true);
      const svc = fc!.fake.state.service('compute2')!;
      expect(svc.forcedDown).toBe(true);
      const lookups = calls('GET', /os-services$/);
      expect(lookups.map((r) => r.query)).toEqual(['host=compute2&binary=nova-compute']);
      const puts = calls('PUT', /os-services/);
      expect(puts.map((r) => [r.path, r.body])).toEqual([[`/compute/v2.1/os-services/${svc.id}`, { forced_down: true }]]);

      await nova.disableService('compute2', 'fenced by pacemaker');
      await nova.enableService('compute2');
      await nova.disableService('compute2');
      await nova.setForcedDown('compute2', false);
      expect(calls('PUT', /os-services/).slice(1).map((r) => r.body)).toEqual([
        { status: 'disabled', disabled_reason: 'fenced by pacemaker' },
        { status: 'enabled' },
        { status: 'disabled' },
        { forced_down: false },
      ]);
      const [listed] = await nova.listServices({ host: 'compute2' });
      expect(listed).toMatchObject({ id: svc.id, host: 'compute2', status: 'disabled', state: 'up', forcedDown: false, disabledReason: null });
    });

    it('fences a listed service in one PUT from 2.53, in the two 2.11 calls below', async () => {
      await start();
      let nova = fc!.cloud.nova();
      const [svc] = await nova.listServices({ host: 'compute2', binary: 'nova-compute' });
      await nova.fenceService(svc, 'openstack-ha-agents: evacuating since 1 by n1');
      expect(calls('PUT', /os-services/).map((r) => [r.path.replace('/compute/v2.1', ''), r.body])).toEqual([
        [`/os-services/${svc.id}`, { forced_down: true, status: 'disabled', disabled_reason: 'openstack-ha-agents: evacuating since 1 by n1' }],
      ]);
      expect(fc!.fake.state.service('compute2')).toMatchObject({ forcedDown: true, status: 'disabled', disabledReason: 'openstack-ha-agents: evacuating since 1 by n1' });
      await fc!.close();
      await start({ maxMicroversion: '2.20' });
      nova = fc!.cloud.nova();
      const [old] = await nova.listServices({ host: 'compute2', binary: 'nova-compute' });
      await nova.fenceService(old, 'r');
      expect(calls('PUT', /os-services/).map((r) => r.path.replace('/compute/v2.1', ''))).toEqual(['/os-services/force-down', '/os-services/disable-log-reason']);
      expect(fc!.fake.state.service('compute2')).toMatchObject({ forcedDown: true, status: 'disabled', disabledReason: 'r' });
    });

    it('uses the 2.11 host/binary forms below 2.53', async () => {
      await start({ maxMicroversion: '2.20' });
      const nova = fc!.cloud.nova();
      expect(await nova.microversion()).toBe('2.20');
      await nova.setForcedDown('compute2', true);
      await nova.disableService('compute2', 'fenced');
      await nova.enableService('compute2');
      await nova.disableService('compute2');
      expect(calls('PUT', /os-services/).map((r) => [r.path.replace('/compute/v2.1', ''), r.body])).toEqual([
        ['/os-services/force-down', { host: 'compute2', binary: 'nova-compute', forced_down: true }],
        ['/os-services/disable-log-reason', { host: 'compute2', binary: 'nova-compute', disabled_reason: 'fenced' }],
        ['/os-services/enable', { host: 'compute2', binary: 'nova-compute' }],
        ['/os-services/disable', { host: 'compute2', binary: 'nova-compute' }],
      ]);
      expect(calls('GET', /os-services$/)).toHaveLength(0);
      const services = await nova.listServices({ binary: 'nova-compute' });
      expect(services.find((s) => s.host === 'compute2')).toMatchObject({ id: 2, forcedDown: true, state: 'down', status: 'disabled' });
    });

    for (const mv of ['2.93', '2.20']) {
      it(`reports an unknown host as 404 at ${mv}`, async () => {
        await start({ maxMicroversion: mv });
        const err = await fc!.cloud.nova().setForcedDown('compute9', true).catch((e) => e);
        expect(err).toBeInstanceOf(OpenStackError);
        expect(err.status).toBe(404);
        expect(err.message).toMatch(/^no nova-compute service on host compute9/);
      });
    }
  });

  it('lists hypervisors, following pagination', async () => {
    await start({ hosts: 5, pageSize: 2 });
    const hvs = await fc!.cloud.nova().listHypervisors();
    expect(hvs.map((h) => h.hypervisorHostname)).toEqual(['compute1', 'compute2', 'compute3', 'compute4', 'compute5']);
    expect(hvs[0]).toMatchObject({ state: 'up', status: 'enabled', serviceHost: 'compute1' });
    expect(calls('GET', /os-hypervisors\/detail$/).length).toBe(3);
  });

  it('lists every server of a host across pages, with a bounded page size', async () => {
    await start({ pageSize: 3 });
    const created = fc!.fake.state.addServers('compute2', 10);
    fc!.fake.state.addServers('compute1', 2);
    fc!.fake.state.addServers('compute2', 1, { tenantId: 'another-project', status: 'SHUTOFF' });
    const servers = await fc!.cloud.nova().listServersOnHost('compute2');
    expect(servers).toHaveLength(11);
    expect(new Set(servers.map((s) => s.id)).size).toBe(11);
    for (const s of created) expect(servers.some((x) => x.id === s.id)).toBe(true);
    const pages = calls('GET', /servers\/detail$/);
    expect(pages).toHaveLength(4);
    expect(new URLSearchParams(pages[0].query).get('all_tenants')).toBe('1');
    expect(new URLSearchParams(pages[0].query).get('host')).toBe('compute2');
    expect(new URLSearchParams(pages[1].query).get('marker')).toBeTruthy();
    const off = servers.find((s) => s.tenantId === 'another-project')!;
    expect(off).toMatchObject({ status: 'SHUTOFF', vmState: 'stopped', taskState: null, host: 'compute2' });
  });

  it('maps the flavor by id before 2.47 and by name and extra specs from 2.47', async () => {
    await start({ maxMicroversion: '2.46' });
    const [s] = fc!.fake.state.addServers('compute1', 1, { flavor: 'm1.evacuable', image: 'cirros' });
    const old = await fc!.cloud.nova().getServer(s.id);
    expect(old).toMatchObject({ flavorId: '42', imageId: fc!.fake.state.images[0].id });
    expect(old.flavorName).toBeUndefined();
    await fc!.close();
    await start({ maxMicroversion: '2.47' });
    const [t] = fc!.fake.state.addServers('compute1', 1, { flavor: 'm1.evacuable', image: '' });
    const now = await fc!.cloud.nova().getServer(t.id);
    expect(now).toMatchObject({ flavorName: 'm1.evacuable', flavorExtraSpecs: { evacuable: 'true' } });
    expect(now.flavorId).toBeUndefined();
    expect(now.imageId).toBeUndefined();
  });

  describe('evacuate', () => {
    it('sends {"evacuate": {}} from 2.14, with host only when targeted', async () => {
      await start();
      const st = fc!.fake.state;
      const [a, b] = st.addServers('compute2', 2);
      st.killService('compute2');
      const nova = fc!.cloud.nova();
      await nova.evacuate(a.id, { onSharedStorage: true });
      await nova.evacuate(b.id, { targetHost: 'compute3' });
      expect(calls('POST', /\/action$/).map((r) => r.body)).toEqual([{ evacuate: {} }, { evacuate: { host: 'compute3' } }]);
      await waitFor(() => a.taskState === null && b.taskState === null);
      expect(b.host).toBe('compute3');
      expect(a.host).not.toBe('compute2');
    });

    it('sends onSharedStorage below 2.14', async () => {
      await start({ maxMicroversion: '2.13' });
      const st = fc!.fake.state;
      const [a, b] = st.addServers('compute2', 2);
      st.killService('compute2');
      await fc!.cloud.nova().evacuate(a.id);
      await fc!.cloud.nova().evacuate(b.id, { onSharedStorage: true, targetHost: 'compute1' });
      expect(calls('POST', /\/action$/).map((r) => r.body)).toEqual([
        { evacuate: { onSharedStorage: false } },
        { evacuate: { onSharedStorage: true, host: 'compute1' } },
      ]);
    });

    it('reports Nova refusing an evacuation with its message and request id', async () => {
      await start();
      const [s] = fc!.fake.state.addServers('compute1', 1);
      const err = await fc!.cloud.nova().evacuate(s.id).catch((e) => e);
      expect(err).toBeInstanceOf(OpenStackError);
      expect(err.status).toBe(400);
      expect(err.requestId).toMatch(/^req-/);
      expect(err.message).toMatch(new RegExp(`^POST http://127\\.0\\.0\\.1:\\d+/compute/v2\\.1/servers/${s.id}/action returned HTTP 400: ` +
        `Compute service of compute1 is still in use\\. \\(request id req-[0-9a-f-]+\\)$`));
    });
  });

  describe('evacuable flavors', () => {
    const addFlavors = (fcx: FakeCloud) => {
      const st = fcx.fake.state;
      st.addFlavor({ id: 'f-upper', name: 'upper', extraSpecs: { evacuable: ' TRUE ' } });
      st.addFlavor({ id: 'f-private', name: 'private', isPublic: false, extraSpecs: { evacuable: 'true' } });
      st.addFlavor({ id: 'f-false', name: 'nope', extraSpecs: { evacuable: 'false', other: 'true' } });
      st.addFlavor({ id: 'f-key', name: 'other-key', extraSpecs: { 'ha:evacuable': 'true' } });
    };

    it('reads extra specs from the flavor listing from 2.61', async () => {
      addFlavors(await start({ pageSize: 2 }));
      const nova = fc!.cloud.nova();
      expect([...(await nova.evacuableFlavorIds())].sort()).toEqual(['42', 'f-private', 'f-upper']);
      expect([...(await nova.evacuableFlavorNames())].sort()).toEqual(['m1.evacuable', 'private', 'upper']);
      expect(calls('GET', /os-extra_specs$/)).toHaveLength(0);
      const pages = calls('GET', /flavors\/detail$/);
      expect(new URLSearchParams(pages[0].query).get('is_public')).toBe('None');
    });

    it('asks each flavor for its extra specs before 2.61', async () => {
      addFlavors(await start({ maxMicroversion: '2.60' }));
      expect([...(await fc!.cloud.nova().evacuableFlavorIds())].sort()).toEqual(['42', 'f-private', 'f-upper']);
      expect(calls('GET', /os-extra_specs$/)).toHaveLength(fc!.fake.state.flavors.length);
    });
  });

  it('runs bounded work in parallel', async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    await forEachLimited([...Array(20).keys()], 8, async (i) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 2));
      running--;
      done.push(i);
    });
    expect(peak).toBe(8);
    expect(done.sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
  });
});
