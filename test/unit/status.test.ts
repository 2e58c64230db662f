/** `openstack-ha-agents status` against the simulator, after a real evacuation by the engine. */
import { describe, it, expect, afterEach } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { evacuateHost } from '../../lib/instance-ha/evacuate';
import { statusCommand, type StatusDoc } from '../../lib/instance-ha/status';
import { fakeCloud, tmpDir, rmDir, type FakeCloud } from '../fake/harness';
import { capture } from './capture';

let fc: FakeCloud | undefined;
const dirs: string[] = [];
afterEach(async () => { await fc?.close(); fc = undefined; for (const d of dirs.splice(0)) rmDir(d); });

/** A PATH whose attrd_updater prints what Pacemaker would for two nodes. */
function fakeAttrd(dir: string): string {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'attrd_updater'), '#!/bin/sh\nprintf \'name="evacuate" host="compute2" value="no"\\nname="evacuate" host="compute1" value=""\\n\'\n', { mode: 0o755 });
  return `${bin}:/usr/bin:/bin`;
}

describe('status command', () => {
  it('shows Nova state, markers, attributes, instances and the last report; --json has it all', async () => {
    fc = await fakeCloud({ hosts: 3, evacuateDelayMs: 20 });
    const st = fc.fake.state;
    const servers = st.addServers('compute2', 3, { flavor: 'm1.evacuable' });
    st.addServers('compute1', 2, { flavor: 'm1.tiny' });
    st.killService('compute2');
    const dir = tmpDir('oha-status-'); dirs.push(dir);
    const reports = path.join(dir, 'reports');
    await evacuateHost(fc.cloud, { host: 'compute2', noSharedStorage: false, instanceFiltering: true, reportDir: reports, by: 'node1',
      policy: { verify: true, verifyIntervalMs: 20 } }, fc.log);
    const env = {
      PATH: fakeAttrd(dir), OS_AUTH_URL: fc.fake.url, OS_USERNAME: 'admin', OS_PASSWORD: st.admin.password,
      OS_PROJECT_NAME: 'admin', OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default', OS_INTERFACE: 'public',
      OPENSTACK_HA_AGENTS_STATE_DIR: dir,
    };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const json = await capture(() => statusCommand({ json: true, reports }, process.env));
      expect(json.result).toBe(0);
      const doc = JSON.parse(json.stdout) as StatusDoc;
      const c2 = doc.hosts.find((h) => h.host === 'compute2')!;
      expect(c2.state).toBe('down');
      expect(c2.forcedDown).toBe(true);
      expect(c2.status).toBe('disabled');
      expect(c2.disabledReason).toMatch(/^openstack-ha-agents: evacuated 3\/3 verified since \d+$/);
      expect(c2.evacuate).toBe('no');
      expect(c2.instances).toEqual([]);
      expect(c2.report!.instances.map((i) => i.outcome)).toEqual(['evacuated', 'evacuated', 'evacuated']);
      expect(doc.hosts.find((h) => h.host === 'compute1')!.evacuate).toBeNull();
      const onOthers = doc.hosts.filter((h) => h.host !== 'compute2').flatMap((h) => h.instances.map((i) => i.id));
      for (const s of servers) expect(onOthers).toContain(s.id);
      expect(doc.computeServicesDown).toBe(1);
      expect(doc.computeServices).toBe(3);

      const table = await capture(() => statusCommand({ instances: true, reports }, process.env));
      expect(table.result).toBe(0);
      const lines = table.stdout.split('\n');
      expect(lines[0]).toMatch(/^HOST\s+NOVA\s+STATUS\s+FORCED_DOWN\s+EVACUATE\s+INSTANCES\s+LAST EVACUATION/);
      expect(lines.find((l) => l.startsWith('compute2'))).toMatch(/^compute2\s+down\s+disabled\s+yes\s+no\s+0\s+\S+ \S+: 3 evacuated \(verified\)$/);
      expect(table.stdout).toContain('1 of 3 compute services down (33.3%)');
      for (const s of servers) expect(table.stdout).toMatch(new RegExp(`  ${s.id} ${s.name}: evacuated -> compute\\d ACTIVE`));
      expect(table.stdout).not.toContain(st.admin.password);
    } finally {
      for (const k of Object.keys(env)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  it('without credentials it says what is missing and exits 1', async () => {
    const empty = await capture(() => statusCommand({}, { PATH: '/usr/bin:/bin' }));
    expect(empty.result).toBe(1);
    expect(empty.stderr).toMatch(/^status: .*auth/i);
  });
});
