import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCloudWithConfig } from '../../lib/openstack/index';
import { defaultStateDir, TokenCache, tokenCacheKey } from '../../lib/openstack/token-cache';
import type { Cloud, CloudConfig } from '../../lib/openstack/types';
import { fakeConfig, RawLogger, rmDir, tmpDir } from '../fake/harness';
import { startFakeOpenStack, type FakeOpenStack, type FakeOptions } from '../fake/openstack-fake';

describe('token cache', () => {
  let dir: string;
  let cacheDir: string;
  let fake: FakeOpenStack | undefined;
  const clouds: Cloud[] = [];
  const open = (config: CloudConfig, log = new RawLogger()) => {
    const c = openCloudWithConfig(config, log);
    clouds.push(c);
    return c;
  };
  const start = async (opts: FakeOptions = {}) => {
    fake = await startFakeOpenStack(opts);
    return fakeConfig(fake, { tokenCacheDir: cacheDir });
  };
  const auths = () => fake!.state.requestsTo('POST', /auth\/tokens$/).length;
  const cacheFiles = () => (fs.existsSync(cacheDir) ? fs.readdirSync(cacheDir) : []);

  beforeEach(() => {
    dir = tmpDir('oha-cache-');
    cacheDir = path.join(dir, 'state', 'tokens');
  });
  afterEach(async () => {
    for (const c of clouds.splice(0)) c.close();
    await fake?.close();
    fake = undefined;
    rmDir(dir);
  });

  it('defaults the state directory', () => {
    expect(defaultStateDir({})).toBe('/run/openstack-ha-agents');
    expect(defaultStateDir({ OPENSTACK_HA_AGENTS_STATE_DIR: '/var/lib/x' })).toBe('/var/lib/x');
  });

  it('creates a 0700 directory and a 0600 file, and a second client reuses the token', async () => {
    const config = await start();
    await open(config).nova().listServices();
    expect(fs.statSync(cacheDir).mode & 0o777).toBe(0o700);
    const files = cacheFiles();
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^token-[0-9a-f]{64}\.json$/);
    const file = path.join(cacheDir, files[0]);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const content = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(Object.keys(content).sort()).toEqual(['catalog', 'expires_at', 'token']);
    expect(fake!.state.tokens.has(content.token)).toBe(true);
    expect(auths()).toBe(1);

    const log = new RawLogger();
    await open(config, log).nova().listServices();
    expect(auths()).toBe(1);
    expect(log.text()).toContain('using the cached Keystone token');
    expect(log.text()).not.toContain(content.token);
  });

  it('keys the cache by identity and password, not by region', () => {
    const c: CloudConfig = { authUrl: 'http://k:5000', username: 'u', password: 'p', projectName: 'pr', interface: 'public', insecure: false,
      timeoutMs: 1, attempts: 1 };
    const k = tokenCacheKey(c);
    expect(tokenCacheKey({ ...c, authUrl: 'http://k:5000/v3/' })).toBe(k);
    expect(tokenCacheKey({ ...c, regionName: 'R2', interface: 'internal' })).toBe(k);
    expect(tokenCacheKey({ ...c, password: 'p2' })).not.toBe(k);
    expect(tokenCacheKey({ ...c, projectName: 'other' })).not.toBe(k);
    expect(tokenCacheKey({ ...c, username: 'v' })).not.toBe(k);
    expect(k).not.toContain('p');
  });

  it('drops a revoked token, authenticates again and retries the request once', async () => {
    const config = await start();
    await open(config).nova().listServices();
    const file = path.join(cacheDir, cacheFiles()[0]);
    const oldToken = JSON.parse(fs.readFileSync(file, 'utf8')).token;
    fake!.state.revokeAllTokens();
    fake!.state.resetRequests();

    const log = new RawLogger();
    const services = await open(config, log).nova().listServices();
    expect(services).toHaveLength(3);
    const seen = fake!.state.requests.map((r) => `${r.method} ${r.path} ${r.status}`);
    expect(seen).toEqual([
      'GET /compute/v2.1 200',
      'GET /compute/v2.1/os-services 401',
      'POST /identity/v3/auth/tokens 201',
      'GET /compute/v2.1/os-services 200',
    ]);
    const newToken = JSON.parse(fs.readFileSync(file, 'utf8')).token;
    expect(newToken).not.toBe(oldToken);
    expect(log.text()).toContain('token was refused');
  });

  it('gives up after one new token when the service keeps refusing', async () => {
    const config = await start();
    const cloud = open(config);
    await cloud.nova().listServices();
    fake!.state.failNext(2, 401, /os-services/);
    const err = await cloud.nova().listServices().catch((e) => e);
    expect(err.status).toBe(401);
    expect(fake!.state.requestsTo('GET', /os-services$/).filter((r) => r.status === 401)).toHaveLength(2);
    expect(auths()).toBe(2);
  });

  it('does not reuse a token that expires within 120 s', async () => {
    const config = await start({ tokenTtlSec: 100 });
    await open(config).nova().listServices();
    await open(config).nova().listServices();
    expect(auths()).toBe(2);
  });

  it('ignores an expired or tampered cache file', async () => {
    const config = await start();
    const cache = new TokenCache(cacheDir, tokenCacheKey(config), new RawLogger());
    cache.save({ token: 'stale-token', expiresAt: new Date(Date.now() - 1000).toISOString(), catalog: [] });
    await open(config).nova().listServices();
    expect(auths()).toBe(1);
    const file = cache.path;
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).token).not.toBe('stale-token');
    // group-writable: not trusted
    fs.chmodSync(file, 0o660);
    await open(config).nova().listServices();
    expect(auths()).toBe(2);
    fs.writeFileSync(file, '{not json');
    fs.chmodSync(file, 0o600);
    await open(config).nova().listServices();
    expect(auths()).toBe(3);
  });

  it('carries on without a cache when the directory cannot be used', async () => {
    const config = await start();
    const blocker = path.join(dir, 'a-file');
    fs.writeFileSync(blocker, '');
    const log = new RawLogger();
    const services = await open({ ...config, tokenCacheDir: path.join(blocker, 'tokens') }, log).nova().listServices();
    expect(services).toHaveLength(3);
    expect(log.lines.some((l) => l.level === 'debug' && /token cache .*cannot save/.test(l.msg))).toBe(true);
  });

  it('keeps a newer token written by another agent when dropping a rejected one', () => {
    fs.mkdirSync(cacheDir, { recursive: true });
    const cache = new TokenCache(cacheDir, 'k', new RawLogger());
    const later = new Date(Date.now() + 3600_000).toISOString();
    cache.save({ token: 'newer', expiresAt: later, catalog: [] });
    cache.drop('older');
    expect(cache.load()?.token).toBe('newer');
    cache.drop('newer');
    expect(fs.existsSync(cache.path)).toBe(false);
    expect(fs.readdirSync(cacheDir)).toEqual([]);
  });
});
