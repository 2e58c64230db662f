import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openCloudWithConfig } from '../../lib/openstack/index';
import { displayUrl, serviceMessage } from '../../lib/openstack/http';
import { OpenStackError, type Cloud } from '../../lib/openstack/types';
import { fakeCloud, fakeConfig, RawLogger, rmDir, tmpDir, type FakeCloud } from '../fake/harness';
import { startFakeOpenStack, type FakeOpenStack } from '../fake/openstack-fake';

describe('HTTP behaviour', () => {
  let fc: FakeCloud | undefined;
  afterEach(async () => { await fc?.close(); fc = undefined; });
  const calls = (method: string, re: RegExp) => fc!.fake.state.requestsTo(method, re);

  it('retries a GET on 503 and succeeds on the third attempt', async () => {
    fc = await fakeCloud({}, { attempts: 3 });
    fc.fake.state.failNext(2, 503, /os-services/);
    expect(await fc.cloud.nova().listServices()).toHaveLength(3);
    expect(calls('GET', /os-services$/).map((r) => r.status)).toEqual([503, 503, 200]);
    expect(fc.log.text()).toMatch(/retrying in 5 ms \(attempt 2 of 3\)/);
    expect(fc.log.text()).toMatch(/retrying in 10 ms \(attempt 3 of 3\)/);
  });

  it('gives up after the configured attempts with the last status', async () => {
    fc = await fakeCloud({}, { attempts: 3 });
    fc.fake.state.failNext(5, 500, /os-services/);
    const err = await fc.cloud.nova().listServices().catch((e) => e);
    expect(err).toBeInstanceOf(OpenStackError);
    expect(err.status).toBe(500);
    expect(err.message).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/compute\/v2\.1\/os-services returned HTTP 500: Injected failure 500 \(request id req-[0-9a-f-]+\) \(gave up after 3 attempts\)$/);
    expect(calls('GET', /os-services$/)).toHaveLength(3);
  });

  it('does not retry an evacuation that failed with 500, but does on 503', async () => {
    fc = await fakeCloud();
    const [a, b] = fc.fake.state.addServers('compute2', 2);
    fc.fake.state.killService('compute2');
    fc.fake.state.failNext(1, 500, /\/action$/);
    const err = await fc.cloud.nova().evacuate(a.id).catch((e) => e);
    expect(err.status).toBe(500);
    expect(calls('POST', /\/action$/)).toHaveLength(1);
    fc.fake.state.failNext(1, 503, /\/action$/);
    await fc.cloud.nova().evacuate(b.id);
    expect(calls('POST', new RegExp(`${b.id}/action$`)).map((r) => r.status)).toEqual([503, 200]);
  });

  it('reuses connections, except for requests that must not be repeated', async () => {
    fc = await fakeCloud();
    const [s] = fc.fake.state.addServers('compute2', 1);
    fc.fake.state.killService('compute2');
    const nova = fc.cloud.nova();
    await nova.listServices();
    await nova.listServices();
    await nova.evacuate(s.id);
    await nova.listServices();
    const gets = calls('GET', /os-services$/).map((r) => r.connection);
    expect(new Set(gets).size).toBe(1);
    const post = calls('POST', /\/action$/)[0].connection;
    expect(gets).not.toContain(post);
    // Keystone is asked to close its connection
    const auth = calls('POST', /auth\/tokens$/)[0].connection;
    expect(gets).not.toContain(auth);
  });

  it('does not retry client errors', async () => {
    fc = await fakeCloud();
    fc.fake.state.failNext(1, 404, /os-services/);
    const err = await fc.cloud.nova().listServices().catch((e) => e);
    expect(err.status).toBe(404);
    expect(calls('GET', /os-services$/)).toHaveLength(1);
  });

  it('times out slow requests with status 0', async () => {
    fc = await fakeCloud({}, { timeoutMs: 100, attempts: 2 });
    await fc.cloud.endpoint('compute');
    fc.fake.state.latencyMs = 400;
    const started = Date.now();
    const err = await fc.cloud.nova().listServices().catch((e) => e);
    expect(err).toBeInstanceOf(OpenStackError);
    expect(err.status).toBe(0);
    expect(err.message).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/compute\/v2\.1: timed out after 100ms \(gave up after 2 attempts\)$/);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('retries a refused connection, even for an evacuation', async () => {
    // a port nobody listens on
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const log = new RawLogger();
    const cloud = openCloudWithConfig({
      authUrl: `http://127.0.0.1:${port}/v3`, username: 'u', password: 'refused-Pw-1', projectName: 'p', interface: 'public', insecure: false,
      timeoutMs: 1000, attempts: 3, retryDelayMs: 1,
    }, log);
    const err = await cloud.endpoint('compute').catch((e) => e);
    expect(err.status).toBe(0);
    expect(err.message).toContain('connection failed (ECONNREFUSED)');
    expect(err.message).toContain('gave up after 3 attempts');
    expect(log.text()).not.toContain('refused-Pw-1');
  });

  it('never puts the password or the token into errors or logs', async () => {
    fc = await fakeCloud({ adminPassword: 'Sup3r-Secret-Pa55' });
    const [s] = fc.fake.state.addServers('compute1', 1);
    await fc.cloud.nova().evacuate(s.id).catch(() => undefined);
    await fc.cloud.nova().getServer('nope').catch(() => undefined);
    const token = [...fc.fake.state.tokens.keys()][0];
    const errs: Error[] = [];
    fc.fake.state.failNext(3, 500);
    await fc.cloud.nova().listServices().catch((e) => errs.push(e));
    const bad = openCloudWithConfig({ ...fc.config, password: 'Wr0ng-Pa55word' }, fc.log);
    await bad.nova().listServices().catch((e) => errs.push(e));
    bad.close();
    expect(errs).toHaveLength(2);
    const everything = [fc.log.text(), ...errs.map((e) => e.message)].join('\n');
    for (const secret of ['Sup3r-Secret-Pa55', 'Wr0ng-Pa55word', token]) expect(everything).not.toContain(secret);
    expect(JSON.stringify(fc.fake.state.requests)).not.toContain('Sup3r-Secret-Pa55');
  });

  it('extracts service messages and hides URL credentials', () => {
    expect(serviceMessage({ badRequest: { code: 400, message: 'bad' } })).toBe('bad');
    expect(serviceMessage({ error: { code: 401, message: 'no', title: 'Unauthorized' } })).toBe('no');
    expect(serviceMessage({ itemNotFound: { message: 'gone' } })).toBe('gone');
    expect(serviceMessage({ conflictingRequest: { message: 'busy' } })).toBe('busy');
    expect(serviceMessage('<html><body><h1>503 Service Unavailable</h1>\n No server</body></html>')).toBe('503 Service Unavailable No server');
    expect(serviceMessage(null)).toBeUndefined();
    expect(displayUrl('http://user:pw@h:5000/v3/x?y=1#frag')).toBe('http://h:5000/v3/x?y=1');
  });
});

describe('TLS', () => {
  let dir: string;
  let fake: FakeOpenStack | undefined;
  let certFile = '';
  let haveOpenssl = true;
  const clouds: Cloud[] = [];

  beforeAll(async () => {
    dir = tmpDir('oha-tls-');
    const key = path.join(dir, 'key.pem');
    certFile = path.join(dir, 'cert.pem');
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', certFile, '-days', '1',
        '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    } catch {
      haveOpenssl = false;
      return;
    }
    fake = await startFakeOpenStack({ tls: { key: fs.readFileSync(key), cert: fs.readFileSync(certFile) } });
  });
  afterAll(async () => {
    for (const c of clouds) c.close();
    await fake?.close();
    rmDir(dir);
  });
  const open = (over: object) => {
    const c = openCloudWithConfig({ ...fakeConfig(fake!), attempts: 2, ...over }, new RawLogger());
    clouds.push(c);
    return c;
  };

  it('rejects an untrusted certificate without retrying', async (t) => {
    if (!haveOpenssl) t.skip();
    expect(fake!.url).toMatch(/^https:/);
    const err = await open({}).endpoint('compute').catch((e) => e);
    expect(err).toBeInstanceOf(OpenStackError);
    expect(err.status).toBe(0);
    expect(err.message).toMatch(/TLS error \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)\).*set cacert/);
    expect(err.message).not.toContain('gave up');
  });

  it('accepts it with insecure=true', async (t) => {
    if (!haveOpenssl) t.skip();
    expect(await open({ insecure: true }).nova().listServices()).toHaveLength(3);
  });

  it('accepts it with cacert', async (t) => {
    if (!haveOpenssl) t.skip();
    expect(await open({ cacert: certFile }).nova().listServices()).toHaveLength(3);
  });

  it('reports an unreadable cacert', async (t) => {
    if (!haveOpenssl) t.skip();
    await expect(open({ cacert: path.join(dir, 'missing.pem') }).endpoint('compute')).rejects.toThrow(/cannot read cacert .*missing\.pem/);
  });
});
