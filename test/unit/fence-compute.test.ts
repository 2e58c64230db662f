/** fence_compute run in-process against the OpenStack fake. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { runFence, parseStdin, parseArgv } from '../../lib/runtime/fence/index';
import { definition } from '../../agents/fence_compute';
import { definition as evacuate } from '../../agents/fence_evacuate';
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

describe('the OpenStack HA guide\'s dashed parameter names (pcs stonith create fence-nova fence_compute auth-url=... record-only=1)', () => {
  const DASHED = ['auth-url', 'endpoint-type', 'region-name', 'tenant-name', 'instance-filtering', 'no-shared-storage', 'record-only'];

  it('are declared in the metadata, deprecated, each obsoleted by its underscore name; the metadata still validates', async () => {
    const { stdout } = await capture(() => runFence(definition, ['-o', 'metadata']));
    for (const d of DASHED) {
      expect(stdout).toContain(`<parameter name="${d}" unique="0" required="0" deprecated="1">`);
      expect(stdout).toContain(`<parameter name="${d.replace(/-/g, '_')}" unique="0" required="0" obsoletes="${d}">`);
    }
    const rng = '/usr/share/cluster/relaxng/metadata.rng';
    if (fs.existsSync(rng)) execFileSync('xmllint', ['--noout', '--relaxng', rng, '-'], { input: stdout, stdio: ['pipe', 'ignore', 'pipe'] });
    const { stdout: evac } = await capture(() => runFence(evacuate, ['-o', 'metadata']));
    expect(evac).toContain('<parameter name="auth-url" unique="0" required="0" deprecated="1">');
    expect(evac).not.toContain('record');
  });

  it('feed the same settings as the underscore names, on stdin as the fencer passes them', () => {
    const { opts } = parseStdin(definition, 'action=off\nauth-url=http://k:5000/v3\nlogin=admin\npasswd=pw\ntenant-name=admin\n' +
      'record-only=1\nregion-name=R2\nendpoint-type=publicURL\nno-shared-storage=1\ninstance-filtering=0\nplug=compute2\n');
    expect(opts).toMatchObject({
      auth_url: 'http://k:5000/v3', username: 'admin', password: 'pw', tenant_name: 'admin', record_only: '1', region_name: 'R2',
      endpoint_type: 'publicURL', no_shared_storage: '1', instance_filtering: '0', plug: 'compute2',
    });
    const { opts: argv } = parseArgv(definition, ['--auth-url=http://k:5000/v3', '--tenant-name', 'admin', '--record-only', '-n', 'compute2']);
    expect(argv).toMatchObject({ auth_url: 'http://k:5000/v3', tenant_name: 'admin', record_only: '1', plug: 'compute2' });
  });
});
