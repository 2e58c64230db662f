/** fence_compute run in-process against the OpenStack fake. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as path from 'node:path';
import { runFence } from '../../lib/runtime/fence/index';
import { definition } from '../../agents/fence_compute';
import { startFakeOpenStack, type FakeOpenStack } from '../fake/openstack-fake';
import { tmpDir, rmDir } from '../fake/harness';
import { capture } from './capture';

let fake: FakeOpenStack;
let dir: string;
const savedStateDir = process.env.OPENSTACK_HA_AGENTS_STATE_DIR;

beforeAll(async () => {
  dir = tmpDir();
  process.env.OPENSTACK_HA_AGENTS_STATE_DIR = path.join(dir, 'state');
  fake = await startFakeOpenStack({ hosts: 3 });
  // compute2 fenced in Nova: forced down and disabled
  const svc = fake.state.services.find((s) => s.host === 'compute2' && s.binary === 'nova-compute')!;
  svc.forcedDown = true;
  svc.status = 'disabled';
});
afterAll(async () => {
  await fake.close();
  rmDir(dir);
  if (savedStateDir === undefined) delete process.env.OPENSTACK_HA_AGENTS_STATE_DIR; else process.env.OPENSTACK_HA_AGENTS_STATE_DIR = savedStateDir;
});

const creds = () => ['-k', fake.url, '-l', 'admin', '-p', fake.state.admin.password, '-t', 'admin', '-e', 'public'];

describe('fence_compute list-status', () => {
  it('reports each host its own state (compute2 forced down and disabled is OFF, the others ON)', async () => {
    const r = await capture(() => runFence(definition, ['-o', 'list-status', ...creds()]));
    expect(r.result).toBe(0);
    expect(r.stdout).toBe('compute1,,ON\ncompute2,,OFF\ncompute3,,ON\n');
  });

  it('agrees with status of the single host', async () => {
    const r = await capture(() => runFence(definition, ['-o', 'status', '-n', 'compute2', ...creds()]));
    expect(r.result).toBe(2);
    expect(r.stdout).toBe('Status: OFF\n');
  });
});
