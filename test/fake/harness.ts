/** Helpers shared by the unit tests of lib/openstack: a fake, a client configured for it, temporary directories. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryLogger, type Level } from '../../lib/core/log';
import { openCloudWithConfig } from '../../lib/openstack/index';
import type { Cloud, CloudConfig } from '../../lib/openstack/index';
import { startFakeOpenStack, type FakeOpenStack, type FakeOptions } from './openstack-fake';

/** A MemoryLogger that also keeps every message as it was before secrets were scrubbed. */
export class RawLogger extends MemoryLogger {
  raw: string[] = [];
  override log(level: Level, msg: string): void {
    this.raw.push(msg);
    super.log(level, msg);
  }
  text(): string { return this.raw.join('\n'); }
}

export function fakeConfig(fake: FakeOpenStack, over: Partial<CloudConfig> = {}): CloudConfig {
  return {
    authUrl: fake.url,
    username: 'admin',
    password: fake.state.admin.password,
    userDomainName: 'Default',
    projectName: 'admin',
    projectDomainName: 'Default',
    interface: 'public',
    insecure: false,
    timeoutMs: 5000,
    attempts: 3,
    retryDelayMs: 5,
    ...over,
  };
}

export interface FakeCloud { fake: FakeOpenStack; cloud: Cloud; log: RawLogger; config: CloudConfig; close(): Promise<void> }

/** Start a fake and open a client on it; close() stops both. */
export async function fakeCloud(opts: FakeOptions = {}, over: Partial<CloudConfig> = {}): Promise<FakeCloud> {
  const fake = await startFakeOpenStack(opts);
  const log = new RawLogger();
  const config = fakeConfig(fake, over);
  const cloud = openCloudWithConfig(config, log);
  return { fake, cloud, log, config, close: async () => { cloud.close(); await fake.close(); } };
}

export function tmpDir(prefix = 'oha-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function rmDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

export { sleep } from '../../lib/core/poll';
import { sleep } from '../../lib/core/poll';

/** Poll until fn() is truthy (default 2 s). */
export async function waitFor(fn: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await sleep(10);
  }
}

/** A free loopback port. */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}
