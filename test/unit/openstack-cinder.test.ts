/** The Cinder v3 client (lib/openstack/cinder.ts) against the fake's Block Storage API (test/fake/cinder-fake.ts). */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { openCloudWithConfig } from '../../lib/openstack/index';
import { volumeBaseFromUrl } from '../../lib/openstack/cinder';
import { OpenStackError } from '../../lib/openstack/types';
import { cinderOf } from '../fake/cinder-fake';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fakeCloud, fakeConfig, RawLogger, tmpDir, rmDir, type FakeCloud } from '../fake/harness';

let fc: FakeCloud;
beforeAll(async () => { fc = await fakeCloud({}, { attempts: 1 }); });
afterAll(async () => { await fc.close(); });

describe('volume API location', () => {
  it('keeps versioned URLs and maps unversioned and old ones to /v3', () => {
    expect(volumeBaseFromUrl('http://127.0.0.1:8776/')).toBe('http://127.0.0.1:8776/v3');
    expect(volumeBaseFromUrl('http://127.0.0.1:8776')).toBe('http://127.0.0.1:8776/v3');
    expect(volumeBaseFromUrl('http://127.0.0.1:8776/v1/')).toBe('http://127.0.0.1:8776/v3');
    expect(volumeBaseFromUrl('http://127.0.0.1:8776/v2/abc')).toBe('http://127.0.0.1:8776/v3');
    expect(volumeBaseFromUrl('http://127.0.0.1:8776/v3/')).toBe('http://127.0.0.1:8776/v3');
    expect(volumeBaseFromUrl('http://vip/volume/v3/0123456789abcdef0123456789abcdef')).toBe('http://vip/volume/v3/0123456789abcdef0123456789abcdef');
    expect(volumeBaseFromUrl('https://vip/volume')).toBe('https://vip/volume/v3');
  });
});

describe('Cinder client', () => {
  it('lists volume types through the catalog (volumev3)', async () => {
    const types = await fc.cloud.cinder().listVolumeTypes();
    expect(types.map((t) => t.name)).toEqual(['__DEFAULT__', 'ceph']);
    expect(types[0]).toMatchObject({ isPublic: true, description: 'Default Volume Type' });
    expect(fc.fake.state.requests.some((r) => r.path === '/volume/v3/types' && r.status === 200)).toBe(true);
  });

  it('lists os-services with host/binary filters and maps the fields', async () => {
    const c = cinderOf(fc.fake.state);
    c.report('cinder-scheduler', 'cinder-cluster-1');
    c.report('cinder-volume', 'cinder-cluster-1@ceph');
    c.report('cinder-volume', 'cinder-cluster-1@lvm');
    c.services.find((s) => s.host === 'cinder-cluster-1@lvm')!.status = 'disabled';
    c.services.find((s) => s.host === 'cinder-cluster-1@lvm')!.disabledReason = 'maintenance';
    const all = await fc.cloud.cinder().listServices();
    expect(all).toHaveLength(3);
    const vols = await fc.cloud.cinder().listServices({ binary: 'cinder-volume' });
    expect(vols.map((s) => s.host)).toEqual(['cinder-cluster-1@ceph', 'cinder-cluster-1@lvm']);
    expect(vols[1]).toMatchObject({ status: 'disabled', disabledReason: 'maintenance', state: 'up', zone: 'nova' });
    expect(vols[0].updatedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    const one = await fc.cloud.cinder().listServices({ host: 'cinder-cluster-1', binary: 'cinder-scheduler' });
    expect(one).toHaveLength(1);
    expect(fc.fake.state.requests.some((r) => r.path === '/volume/v3/os-services' && r.query === 'host=cinder-cluster-1&binary=cinder-scheduler')).toBe(true);
  });

  it('reports a service down after service_down_time without reports', async () => {
    const c = cinderOf(fc.fake.state);
    c.report('cinder-backup', 'bk1');
    c.services.find((s) => s.host === 'bk1')!.reportedAt = Date.now() - 61_000;
    const [s] = await fc.cloud.cinder().listServices({ binary: 'cinder-backup' });
    expect(s.state).toBe('down');
  });

  it('uses a given endpoint instead of the catalog', async () => {
    const before = fc.fake.state.requests.length;
    const types = await fc.cloud.cinder({ endpoint: `${fc.fake.baseUrl}/volume/v1/` }).listVolumeTypes();
    expect(types).toHaveLength(2);
    const req = fc.fake.state.requests.slice(before).find((r) => r.path.endsWith('/types'));
    expect(req?.path).toBe('/volume/v3/types');
  });

  it('errors carry the HTTP status: 403 for non-admin os-services, 503 injected, 0 for no connection', async () => {
    fc.fake.state.addUser('member', 'memberpw', 'admin', ['member']);
    const log = new RawLogger();
    const member = openCloudWithConfig(fakeConfig(fc.fake, { username: 'member', password: 'memberpw', attempts: 1 }), log);
    try {
      await expect(member.cinder().listServices()).rejects.toMatchObject({ status: 403 });
      expect((await member.cinder().listVolumeTypes()).length).toBe(2);
    } finally { member.close(); }
    cinderOf(fc.fake.state).apiStatus = 503;
    try {
      const e = await fc.cloud.cinder().listVolumeTypes().catch((x) => x);
      expect(e).toBeInstanceOf(OpenStackError);
      expect(e.status).toBe(503);
      expect(e.message).toMatch(/HTTP 503/);
    } finally { cinderOf(fc.fake.state).apiStatus = undefined; }
    const e2 = await fc.cloud.cinder({ endpoint: 'http://127.0.0.1:1/' }).listVolumeTypes().catch((x) => x);
    expect(e2).toBeInstanceOf(OpenStackError);
    expect(e2.status).toBe(0);
    expect(e2.message).toMatch(/ECONNREFUSED/);
  });

  it('the fake answers the version documents without a token and 401 with a bad one', async () => {
    const root = await fetch(`${fc.fake.baseUrl}/volume/`);
    expect(root.status).toBe(300);
    const body = await root.json() as { versions: { id: string; version: string; min_version: string }[] };
    expect(body.versions[0]).toMatchObject({ id: 'v3.0', version: '3.70', min_version: '3.0' });
    const denied = await fetch(`${fc.fake.baseUrl}/volume/v3/types`, { headers: { 'X-Auth-Token': 'bogus' } });
    expect(denied.status).toBe(401);
  });
});

describe('token cache and new endpoints', () => {
  it('a cached token whose catalog predates the volume endpoints is replaced, not trusted until it expires', async () => {
    const dir = tmpDir('oha-cinder-cache-');
    try {
      const config = fakeConfig(fc.fake, { attempts: 1, tokenCacheDir: dir });
      const first = openCloudWithConfig(config, new RawLogger());
      await first.nova().listServices();
      first.close();
      const [file] = fs.readdirSync(dir).filter((f) => f.startsWith('token-'));
      const cached = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
      cached.catalog = cached.catalog.filter((s: { type: string }) => !['volumev3', 'block-storage', 'volumev2'].includes(s.type));
      fs.writeFileSync(path.join(dir, file), JSON.stringify(cached));
      const before = fc.fake.state.requests.filter((r) => r.path === '/identity/v3/auth/tokens').length;
      const log = new RawLogger();
      const second = openCloudWithConfig(config, log);
      try {
        expect(await second.cinder().listVolumeTypes()).toHaveLength(2);
      } finally { second.close(); }
      expect(fc.fake.state.requests.filter((r) => r.path === '/identity/v3/auth/tokens').length).toBe(before + 1);
      expect(log.text()).toMatch(/cached Keystone token's catalog has no volumev3 endpoint: requesting a new token/);
      const now = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
      expect(now.token).not.toBe(cached.token);
      expect(now.catalog.some((s: { type: string }) => s.type === 'volumev3')).toBe(true);
      // a catalog that really lacks the service still fails (after one fresh token, not in a loop)
      const third = openCloudWithConfig(config, new RawLogger());
      try {
        await expect(third.endpoint('no-such-service')).rejects.toThrow(/no public endpoint for service type no-such-service/);
      } finally { third.close(); }
      expect(fc.fake.state.requests.filter((r) => r.path === '/identity/v3/auth/tokens').length).toBe(before + 2);
    } finally {
      rmDir(dir);
    }
  });
});

describe('volumes and their attachments (Cinder getVolume, Nova os-volume_attachments)', () => {
  const until = async (ok: () => boolean) => { for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10)); };

  it('attach: attaching (not listed by Cinder) then in-use with the attachment; detach: detaching then available', async () => {
    const c = cinderOf(fc.fake.state);
    const [s] = fc.fake.state.addServers('compute1', 1);
    const v = c.addVolume({ projectId: fc.fake.state.admin.projectId });
    const nova = fc.cloud.nova();
    const cinder = fc.cloud.cinder();
    expect(await cinder.getVolume(v.id)).toMatchObject({ id: v.id, status: 'available', multiattach: false, volumeType: '__DEFAULT__', attachments: [] });
    expect(await nova.attachVolume(s.id, v.id)).toEqual({ serverId: s.id, volumeId: v.id, device: '/dev/vdb' });
    expect(await cinder.getVolume(v.id)).toMatchObject({ status: 'attaching', attachments: [] });
    await until(() => v.status === 'in-use');
    const used = await cinder.getVolume(v.id);
    expect(used.attachments).toEqual([{ serverId: s.id, attachmentId: v.attachments[0].id, hostName: 'compute1', device: '/dev/vdb', attachedAt: expect.any(String) }]);
    // the negotiated microversion (2.89 and later): Cinder's attachment id instead of the volume id
    expect(await nova.listVolumeAttachments(s.id)).toEqual([{ serverId: s.id, volumeId: v.id, device: '/dev/vdb', attachmentId: v.attachments[0].id }]);
    await nova.detachVolume(s.id, v.id);
    expect((await cinder.getVolume(v.id)).status).toBe('detaching');
    await until(() => v.status === 'available');
    expect(await cinder.getVolume(v.id)).toMatchObject({ status: 'available', attachments: [] });
    expect(await nova.listVolumeAttachments(s.id)).toEqual([]);
  });

  it('Nova\'s refusals: in-use single-attach to a second server 400, multiattach below 2.60 400, unknown ids 404, not attached 404', async () => {
    const st = fc.fake.state;
    const c = cinderOf(st);
    const [a, b] = st.addServers('compute2', 2);
    const single = c.addVolume({ projectId: st.admin.projectId });
    const multi = c.addVolume({ projectId: st.admin.projectId, multiattach: true });
    const status = async (p: Promise<unknown>) => p.then(() => 0, (e) => (e as OpenStackError).status);
    await fc.cloud.nova().attachVolume(a.id, single.id);
    await fc.cloud.nova().attachVolume(a.id, multi.id);
    await until(() => single.status === 'in-use' && multi.status === 'in-use');
    expect(await status(fc.cloud.nova().attachVolume(b.id, single.id))).toBe(400);
    expect(await status(fc.cloud.nova().attachVolume(b.id, multi.id))).toBe(0);
    expect(await status(fc.cloud.nova().attachVolume(a.id, '00000000-0000-4000-8000-000000000000'))).toBe(404);
    expect(await status(fc.cloud.nova().attachVolume('00000000-0000-4000-8000-000000000000', single.id))).toBe(404);
    expect(await status(fc.cloud.nova().detachVolume(b.id, single.id))).toBe(404);
    expect(await status(fc.cloud.cinder().getVolume('00000000-0000-4000-8000-000000000000'))).toBe(404);
    await fc.cloud.endpoint('compute'); // (authenticated: the newest token of the fake is the client's)
    const token = [...st.tokens.keys()].pop()!;
    const old = await fetch(`${fc.fake.baseUrl}/compute/v2.1/servers/${b.id}/os-volume_attachments`, {
      method: 'POST', headers: { 'X-Auth-Token': token, 'OpenStack-API-Version': 'compute 2.59', 'Content-Type': 'application/json' },
      body: JSON.stringify({ volumeAttachment: { volumeId: multi.id } }),
    });
    expect(old.status).toBe(400);
    expect(await old.text()).toContain('only supported starting with compute API version 2.60');
    // what the simulator does not model: 501 naming it
    const tagged = await fetch(`${fc.fake.baseUrl}/compute/v2.1/servers/${b.id}/os-volume_attachments`, {
      method: 'POST', headers: { 'X-Auth-Token': token, 'OpenStack-API-Version': 'compute 2.60', 'Content-Type': 'application/json' },
      body: JSON.stringify({ volumeAttachment: { volumeId: single.id, tag: 'data' } }),
    });
    expect(tagged.status).toBe(501);
    expect(await tagged.text()).toContain('does not model volumeAttachment.tag');
    st.notModelled.length = 0;
  });
});
