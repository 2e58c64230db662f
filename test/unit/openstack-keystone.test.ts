import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/openstack/config';
import { openCloudWithConfig } from '../../lib/openstack/index';
import { findEndpoint, normalizeAuthUrl, type CatalogService } from '../../lib/openstack/keystone';
import { OpenStackError } from '../../lib/openstack/types';
import { fakeCloud, RawLogger, type FakeCloud } from '../fake/harness';

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/openstack-zed/keystone_post_auth_tokens.json'), 'utf8'));

describe('Keystone', () => {
  let fc: FakeCloud | undefined;
  afterEach(async () => { await fc?.close(); fc = undefined; });

  it('normalizes the auth URL to /v3', () => {
    expect(normalizeAuthUrl('http://k:5000')).toBe('http://k:5000/v3');
    expect(normalizeAuthUrl('http://k:5000/')).toBe('http://k:5000/v3');
    expect(normalizeAuthUrl('http://k:5000/v3/')).toBe('http://k:5000/v3');
    expect(normalizeAuthUrl('http://k:5000/v2.0')).toBe('http://k:5000/v3');
    expect(normalizeAuthUrl('https://h/identity')).toBe('https://h/identity/v3');
  });

  it('sends a password request scoped to a project by name, like the recorded one', async () => {
    fc = await fakeCloud();
    await fc.cloud.endpoint('compute');
    const auths = fc.fake.state.requestsTo('POST', /^\/identity\/v3\/auth\/tokens$/);
    expect(auths).toHaveLength(1);
    expect(auths[0].body).toEqual(fixture.request.body);
    expect(auths[0].status).toBe(201);
  });

  it('scopes by project id and authenticates a user by id and domain id', async () => {
    fc = await fakeCloud();
    const { admin } = fc.fake.state;
    const cloud = openCloudWithConfig({
      ...fc.config, username: undefined, userDomainName: undefined, userId: admin.id, projectName: undefined, projectId: admin.projectId,
    }, new RawLogger());
    await cloud.endpoint('compute');
    cloud.close();
    const cloud2 = openCloudWithConfig({ ...fc.config, userDomainName: undefined, userDomainId: 'default', projectDomainName: undefined,
      projectDomainId: 'default' }, new RawLogger());
    await cloud2.endpoint('compute');
    cloud2.close();
    const bodies = fc.fake.state.requestsTo('POST', /auth\/tokens$/).map((r) => r.body);
    expect(bodies[0]).toEqual({ auth: {
      identity: { methods: ['password'], password: { user: { id: admin.id, password: '***' } } },
      scope: { project: { id: admin.projectId } },
    } });
    expect(bodies[1]).toEqual({ auth: {
      identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: '***' } } },
      scope: { project: { name: 'admin', domain: { id: 'default' } } },
    } });
  });

  it('authenticates with an application credential by id, or by name and user, without a scope', async () => {
    fc = await fakeCloud();
    const cred = fc.fake.state.addAppCredential('admin', 'ha-agents', 'app-cred-secret-1');
    const log = new RawLogger();
    const byId = openCloudWithConfig({
      authUrl: fc.fake.url, applicationCredentialId: cred.id, applicationCredentialSecret: cred.secret,
      interface: 'public', insecure: false, timeoutMs: 5000, attempts: 1,
    }, log);
    expect((await byId.nova().listServices()).length).toBe(3);
    byId.close();
    const byName = openCloudWithConfig({
      authUrl: fc.fake.url, applicationCredentialName: 'ha-agents', applicationCredentialSecret: cred.secret, username: 'admin',
      userDomainName: 'Default', interface: 'public', insecure: false, timeoutMs: 5000, attempts: 1,
    }, log);
    await byName.endpoint('compute');
    byName.close();
    const bodies = fc.fake.state.requestsTo('POST', /auth\/tokens$/).map((r) => r.body);
    expect(bodies).toEqual([
      { auth: { identity: { methods: ['application_credential'], application_credential: { id: cred.id, secret: '***' } } } },
      { auth: { identity: { methods: ['application_credential'], application_credential: {
        name: 'ha-agents', secret: '***', user: { name: 'admin', domain: { name: 'Default' } } } } } },
    ]);
    expect(log.text()).not.toContain('app-cred-secret-1');
  });

  it('reports failed authentication without the password', async () => {
    fc = await fakeCloud({}, { password: 'wrong-Password-77', attempts: 3 });
    const err = await fc.cloud.nova().listServices().catch((e) => e);
    expect(err).toBeInstanceOf(OpenStackError);
    expect(err.status).toBe(401);
    expect(err.message).toContain(`authentication failed for user admin at ${fc.fake.url}/auth/tokens`);
    expect(err.message).toMatch(/request id req-/);
    expect(err.message).not.toContain('wrong-Password-77');
    expect(fc.log.text()).not.toContain('wrong-Password-77');
    // a 401 from Keystone is not retried
    expect(fc.fake.state.requestsTo('POST', /auth\/tokens$/)).toHaveLength(1);
  });

  it('selects the catalog endpoint by interface and region', () => {
    const catalog = fixture.body.token.catalog as CatalogService[];
    expect(findEndpoint(catalog, 'compute', 'internal')).toBe('http://127.0.0.1:8774/v2.1');
    const two: CatalogService[] = [{
      type: 'compute',
      endpoints: [
        { interface: 'public', region_id: 'R1', url: 'http://r1-public' },
        { interface: 'internal', region_id: 'R1', url: 'http://r1-internal' },
        { interface: 'internal', region: 'R2', url: 'http://r2-internal' },
      ],
    }];
    expect(findEndpoint(two, 'compute', 'internal', 'R2')).toBe('http://r2-internal');
    expect(findEndpoint(two, 'compute', 'internal', 'R1')).toBe('http://r1-internal');
    expect(findEndpoint(two, 'compute', 'public')).toBe('http://r1-public');
    expect(() => findEndpoint(two, 'compute', 'admin', 'R1')).toThrow(ConfigError);
    expect(() => findEndpoint(two, 'compute', 'public', 'R2')).toThrow('no public endpoint for service type compute in region R2');
    expect(() => findEndpoint(two, 'image', 'public')).toThrow('no public endpoint for service type image in any region');
  });

  it('uses the configured interface and region of the fake catalog', async () => {
    fc = await fakeCloud({ regions: ['RegionOne', 'RegionTwo'] }, { interface: 'internal', regionName: 'RegionTwo' });
    await fc.cloud.nova().listServices();
    const novaCalls = fc.fake.state.requests.filter((r) => r.path.startsWith('/compute'));
    expect(novaCalls.length).toBeGreaterThan(0);
    for (const r of novaCalls) expect([r.iface, r.region]).toEqual(['internal', 'RegionTwo']);
    const err = await openCloudWithConfig({ ...fc.config, regionName: 'RegionThree' }, new RawLogger()).endpoint('compute').catch((e) => e);
    expect(err.message).toBe('no internal endpoint for service type compute in region RegionThree');
  });

  it('fails clearly when Keystone is unreachable', async () => {
    fc = await fakeCloud({}, { attempts: 2 });
    fc.fake.state.keystoneDown = true;
    const err = await fc.cloud.endpoint('compute').catch((e) => e);
    expect(err).toBeInstanceOf(OpenStackError);
    expect(err.status).toBe(0);
    expect(err.message).toMatch(/^POST http:\/\/127\.0\.0\.1:\d+\/identity\/v3\/auth\/tokens: connection failed \(ECONNRESET\)/);
    // the token request is safe to repeat
    expect(fc.fake.state.requestsTo('POST', /auth\/tokens$/)).toHaveLength(2);
  });
});
