/**
 * Client behaviour that needs no fault injection, so that it can run against a real OpenStack as well as the fake.
 *
 * By default an in-process fake (test/fake/openstack-fake.ts) is started. To run against a real cloud instead, set
 *   OHA_TEST_CLOUD_URL        Keystone auth URL, e.g. http://192.0.2.10:5000/v3
 *   OHA_TEST_CLOUD_USER       an admin user
 *   OHA_TEST_CLOUD_PASSWORD
 *   OHA_TEST_CLOUD_PROJECT
 * and optionally OHA_TEST_CLOUD_USER_DOMAIN, OHA_TEST_CLOUD_PROJECT_DOMAIN (default "Default"), OHA_TEST_CLOUD_REGION,
 * OHA_TEST_CLOUD_INTERFACE (default public), OHA_TEST_CLOUD_INSECURE=1, OHA_TEST_CLOUD_CACERT. The tests only read:
 * they never change services or servers of that cloud.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCloudWithConfig } from '../../lib/openstack/index';
import { compareMicroversions } from '../../lib/openstack/nova';
import { OpenStackError, type Cloud, type CloudConfig } from '../../lib/openstack/types';
import { parseInterface } from '../../lib/openstack/config';
import { startFakeOpenStack, type FakeOpenStack } from '../fake/openstack-fake';
import { fakeConfig, RawLogger, rmDir, tmpDir } from '../fake/harness';

const real = !!process.env.OHA_TEST_CLOUD_URL;

function realConfig(): CloudConfig {
  const e = process.env;
  return {
    authUrl: e.OHA_TEST_CLOUD_URL!,
    username: e.OHA_TEST_CLOUD_USER,
    password: e.OHA_TEST_CLOUD_PASSWORD,
    projectName: e.OHA_TEST_CLOUD_PROJECT,
    userDomainName: e.OHA_TEST_CLOUD_USER_DOMAIN || 'Default',
    projectDomainName: e.OHA_TEST_CLOUD_PROJECT_DOMAIN || 'Default',
    regionName: e.OHA_TEST_CLOUD_REGION || undefined,
    interface: parseInterface(e.OHA_TEST_CLOUD_INTERFACE || 'public'),
    insecure: e.OHA_TEST_CLOUD_INSECURE === '1',
    cacert: e.OHA_TEST_CLOUD_CACERT || undefined,
    timeoutMs: 30000,
    attempts: 3,
    retryDelayMs: 200,
  };
}

describe(`OpenStack client against ${real ? process.env.OHA_TEST_CLOUD_URL : 'the fake'}`, () => {
  let fake: FakeOpenStack | undefined;
  let base: CloudConfig;
  let cacheDir: string;
  const clouds: Cloud[] = [];
  const open = (over: Partial<CloudConfig> = {}, log = new RawLogger()) => {
    const c = openCloudWithConfig({ ...base, ...over }, log);
    clouds.push(c);
    return c;
  };

  beforeAll(async () => {
    if (!real) {
      fake = await startFakeOpenStack({ serversOn: { compute2: 4 }, adminPassword: 'fake-Pw-4f1c9' });
      fake.state.addServers('compute1', 1, { flavor: 'm1.evacuable', image: 'cirros-evacuable-tag' });
      base = fakeConfig(fake);
    } else {
      base = realConfig();
    }
    cacheDir = tmpDir('oha-client-');
  });
  afterAll(async () => {
    for (const c of clouds) c.close();
    await fake?.close();
    rmDir(cacheDir);
  });

  it('authenticates and finds the compute and image endpoints', async () => {
    const cloud = open();
    const compute = await cloud.endpoint('compute');
    expect(compute).toMatch(/^https?:\/\//);
    expect(compute.endsWith('/')).toBe(false);
    expect(await cloud.endpoint('image')).toMatch(/^https?:\/\//);
    await expect(cloud.endpoint('no-such-service-type')).rejects.toThrow(/no public|no internal|no admin/);
  });

  it('does nothing on the network until asked', () => {
    const log = new RawLogger();
    open({ authUrl: 'http://127.0.0.1:1/v3' }, log).nova();
    expect(log.raw).toEqual([]);
  });

  it('negotiates a microversion between 2.11 and 2.94', async () => {
    const mv = await open().nova().microversion();
    expect(compareMicroversions(mv, '2.11')).toBeGreaterThanOrEqual(0);
    expect(compareMicroversions(mv, '2.94')).toBeLessThanOrEqual(0);
    if (fake) expect(mv).toBe('2.93');
  });

  it('lists nova-compute services', async () => {
    const nova = open().nova();
    const services = await nova.listServices({ binary: 'nova-compute' });
    expect(services.length).toBeGreaterThan(0);
    for (const s of services) {
      expect(s.binary).toBe('nova-compute');
      expect(['up', 'down']).toContain(s.state);
      expect(['enabled', 'disabled']).toContain(s.status);
      expect(typeof s.forcedDown).toBe('boolean');
      if (compareMicroversions(await nova.microversion(), '2.53') >= 0) expect(String(s.id)).toMatch(/^[0-9a-f-]{36}$/);
    }
    const one = await nova.listServices({ host: services[0].host, binary: 'nova-compute' });
    expect(one.map((s) => s.host)).toEqual([services[0].host]);
  });

  it('lists hypervisors with their service host', async () => {
    const nova = open().nova();
    const hosts = new Set((await nova.listServices({ binary: 'nova-compute' })).map((s) => s.host));
    const hvs = await nova.listHypervisors();
    expect(hvs.length).toBeGreaterThan(0);
    for (const h of hvs) {
      expect(h.hypervisorHostname).toBeTruthy();
      expect(hosts.has(h.serviceHost!)).toBe(true);
    }
  });

  it('lists the servers of one host across projects, and reads one', async () => {
    const nova = open().nova();
    const hosts = (await nova.listServices({ binary: 'nova-compute' })).map((s) => s.host);
    let seen = 0;
    for (const host of hosts) {
      const servers = await nova.listServersOnHost(host);
      for (const s of servers) expect(s.host).toBe(host);
      if (servers.length && seen === 0) {
        const one = await nova.getServer(servers[0].id);
        expect(one.id).toBe(servers[0].id);
        expect(one.host).toBe(host);
        if (compareMicroversions(await nova.microversion(), '2.47') >= 0) expect(one.flavorName).toBeTruthy();
        else expect(one.flavorId).toBeTruthy();
      }
      seen += servers.length;
    }
    if (fake) expect(seen).toBe(5);
    expect(await nova.listServersOnHost('no-such-host.invalid')).toEqual([]);
  });

  it('lists host aggregates', async () => {
    if (fake && !fake.state.aggregates.length) fake.state.addAggregate('oha-evacuable', ['compute1', 'compute3'], { evacuable: 'true' });
    const aggs = await open().nova().listAggregates();
    for (const a of aggs) {
      expect(Number.isInteger(a.id)).toBe(true);
      expect(typeof a.name).toBe('string');
      expect(Array.isArray(a.hosts)).toBe(true);
      expect(typeof a.metadata).toBe('object');
    }
    if (fake) expect(aggs).toEqual([{ id: 1, name: 'oha-evacuable', availabilityZone: null, hosts: ['compute1', 'compute3'], metadata: { evacuable: 'true' } }]);
  });

  it('lists the evacuations of a host (os-migrations)', async () => {
    if (fake && !fake.state.migrations.length) {
      // recorded moves of other kinds and hosts, which the client must leave out
      const rec = (id: number, source: string, type: string, status: string) => ({
        id, uuid: `00000000-0000-4000-8000-00000000000${id}`, instanceUuid: `10000000-0000-4000-8000-00000000000${id}`, source, dest: 'compute1',
        status, type, created: `2026-01-01T00:00:0${id}.000000`, updated: `2026-01-01T00:00:0${id}.000000`, userId: 'u', projectId: 'p',
      });
      fake.state.migrations.push(rec(1, 'compute3', 'evacuation', 'done'), rec(2, 'compute3', 'live-migration', 'completed'),
        rec(3, 'compute2', 'evacuation', 'error'), rec(4, 'compute3', 'evacuation', 'failed'));
    }
    const nova = open().nova();
    const hosts = (await nova.listServices({ binary: 'nova-compute' })).map((s) => s.host);
    for (const host of hosts) {
      for (const m of await nova.listEvacuations(host)) {
        expect(m.sourceCompute).toBe(host);
        expect(m.migrationType).toBe('evacuation');
        expect(typeof m.status).toBe('string');
        expect(m.instanceUuid).toMatch(/^[0-9a-f-]{36}$/);
      }
    }
    if (fake) {
      expect((await nova.listEvacuations('compute3')).map((m) => [m.id, m.status])).toEqual([[4, 'failed'], [1, 'done']]);
      expect(await nova.listEvacuations('compute3', '2026-01-01T00:00:03Z')).toHaveLength(1);
    }
  });

  it('reports a missing server as 404', async () => {
    const err = await open().nova().getServer('00000000-0000-0000-0000-000000000000').catch((e) => e);
    expect(err).toBeInstanceOf(OpenStackError);
    expect((err as OpenStackError).status).toBe(404);
  });

  it('lists a server\'s volume attachments (openstack-cinder-volume), 404 for a missing server', async () => {
    const nova = open().nova();
    const hosts = (await nova.listServices({ binary: 'nova-compute' })).map((s) => s.host);
    const server = (await Promise.all(hosts.map((h) => nova.listServersOnHost(h)))).flat()[0];
    if (fake) expect(server).toBeDefined();
    // (a real cloud without servers: the 404 below only)
    if (server) for (const a of await nova.listVolumeAttachments(server.id)) expect(a).toMatchObject({ serverId: server.id, volumeId: expect.any(String) });
    const err = await nova.listVolumeAttachments('00000000-0000-0000-0000-000000000000').catch((e) => e);
    expect((err as OpenStackError).status).toBe(404);
  });

  it('refuses to force down a host without nova-compute, before changing anything', async () => {
    const err = await open().nova().setForcedDown('no-such-host.invalid', true).catch((e) => e);
    expect(err).toBeInstanceOf(OpenStackError);
    expect((err as OpenStackError).status).toBe(404);
    expect((err as Error).message).toContain('no nova-compute service on host no-such-host.invalid');
  });

  it('finds evacuable flavors and images', async () => {
    const cloud = open();
    const ids = await cloud.nova().evacuableFlavorIds();
    const names = await cloud.nova().evacuableFlavorNames();
    const images = await cloud.images().evacuableImageIds();
    expect(ids).toBeInstanceOf(Set);
    expect(names.size).toBeLessThanOrEqual(ids.size);
    expect(images).toBeInstanceOf(Set);
    if (fake) {
      expect([...ids]).toEqual(['42']);
      expect([...names]).toEqual(['m1.evacuable']);
      const want = fake.state.images.filter((i) => i.name.includes('evacuable')).map((i) => i.id).sort();
      expect([...images].sort()).toEqual(want);
    }
  });

  it('shares the token through the cache between two clients', async () => {
    const first = open({ tokenCacheDir: cacheDir });
    await first.nova().listServices();
    const files = fs.readdirSync(cacheDir).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(1);
    const file = path.join(cacheDir, files[0]);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const before = fs.readFileSync(file, 'utf8');
    const mtime = fs.statSync(file).mtimeMs;
    const authsBefore = fake?.state.requestsTo('POST', /auth\/tokens$/).length;

    const second = open({ tokenCacheDir: cacheDir });
    await second.nova().listServices();
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
    expect(fs.statSync(file).mtimeMs).toBe(mtime);
    if (fake) expect(fake.state.requestsTo('POST', /auth\/tokens$/).length).toBe(authsBefore);
  });

  it('never logs the password or the token', async () => {
    const log = new RawLogger();
    const cloud = open({}, log);
    await cloud.nova().listServices();
    await cloud.images().evacuableImageIds();
    const text = log.text();
    // (a real cloud's password might legitimately be part of a user or host name: only check distinctive ones)
    const pw = base.password!;
    if (pw.length >= 6 && !base.authUrl.includes(pw) && !base.username?.includes(pw)) expect(text).not.toContain(pw);
    const token = fake ? [...fake.state.tokens.keys()].pop()! : undefined;
    if (token) expect(text).not.toContain(token);
  });
});
