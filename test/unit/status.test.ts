/** `openstack-ha-agents status` against the simulator, after a real evacuation by the engine. */
import { describe, it, expect, afterEach } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { evacuateHost } from '../../lib/instance-ha/evacuate';
import { statusCommand, buildStatus, formatStatus, type StatusDoc } from '../../lib/instance-ha/status';
import { parseCrmMon } from '../../lib/pacemaker/crm-mon';
import type { NovaService } from '../../lib/openstack/index';
import { fakeCloud, tmpDir, rmDir, type FakeCloud } from '../fake/harness';
import { capture } from './capture';

const CRM_MON_FIXTURES = path.join(__dirname, '..', 'fixtures', 'crm_mon');
const crmFixture = (name: string) => fs.readFileSync(path.join(CRM_MON_FIXTURES, name), 'utf8');

let fc: FakeCloud | undefined;
const dirs: string[] = [];
afterEach(async () => { await fc?.close(); fc = undefined; for (const d of dirs.splice(0)) rmDir(d); });

/** A PATH whose attrd_updater prints what Pacemaker would for two nodes. */
function fakeAttrd(dir: string): string {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'attrd_updater'), '#!/bin/sh\nprintf \'name="evacuate" host="compute2" value="no"\\nname="evacuate" host="compute1" value=""\\n\'\n', { mode: 0o755 });
  fakeCrmMon(dir, 'remote-computes.xml');
  return `${bin}:/usr/bin:/bin`;
}

/** (in the same PATH) a crm_mon that prints a fixture and exits with CODE */
function fakeCrmMon(dir: string, fixture: string, code = 0): void {
  fs.writeFileSync(path.join(dir, 'bin', 'crm_mon'), `#!/bin/sh\ncat '${path.join(CRM_MON_FIXTURES, fixture)}'\nexit ${code}\n`, { mode: 0o755 });
}

const svc = (host: string, over: Partial<NovaService> = {}): NovaService => ({
  id: host, binary: 'nova-compute', host, status: 'enabled', state: 'up', forcedDown: false, disabledReason: null, updatedAt: null, ...over,
});

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
      // Pacemaker's side, from crm_mon (remote-computes.xml: compute1..4 are pacemaker_remote nodes)
      expect(doc.clusterUnavailable).toBeUndefined();
      expect(c2.cluster).toEqual({
        node: 'compute2', type: 'remote', state: 'unclean',
        lastFenced: { at: '2024-05-01T16:44:09Z', action: 'reboot', delegate: 'ctl2', client: 'stonith_admin.5521', origin: 'ctl2' },
        lastFailure: { at: '2024-05-02T10:21:02Z', action: 'reboot', delegate: 'ctl1', client: 'pacemaker-controld.1203', origin: 'ctl1',
          exitReason: 'No route to host' },
        lastFencingFailed: true,
        fencingPending: { at: null, action: 'reboot', delegate: 'ctl1', client: 'pacemaker-controld.1203', origin: 'ctl1' },
        novaCompute: [{ resource: 'nova-compute-clone', agent: 'ocf:openstack:NovaCompute', state: 'stopped', holding: false }],
      });
      const c1 = doc.hosts.find((h) => h.host === 'compute1')!.cluster!;
      expect(c1).toMatchObject({ node: 'compute1', type: 'remote', state: 'online', lastFenced: null, lastFencingFailed: false, fencingPending: null });
      expect(c1.novaCompute).toEqual([{ resource: 'nova-compute-clone', agent: 'ocf:openstack:NovaCompute', state: 'started', holding: false }]);
      const c3 = doc.hosts.find((h) => h.host === 'compute3')!.cluster!;
      expect(c3).toMatchObject({ state: 'online', lastFencingFailed: false, lastFenced: { at: '2024-05-02T10:05:40Z', action: 'off', delegate: 'ctl3' } });
      expect(c3.novaCompute).toEqual([{ resource: 'nova-compute-clone', agent: 'ocf:openstack:NovaCompute', state: 'starting', holding: true }]);

      const table = await capture(() => statusCommand({ instances: true, reports }, process.env));
      expect(table.result).toBe(0);
      const lines = table.stdout.split('\n');
      expect(lines[0]).toMatch(/^HOST\s+NOVA\s+STATUS\s+FORCED_DOWN\s+EVACUATE\s+CLUSTER NODE\s+NOVA-COMPUTE RSC\s+LAST FENCED\s+FENCING\s+INSTANCES\s+LAST EVACUATION/);
      expect(lines.find((l) => l.startsWith('compute2'))).toMatch(
        /^compute2\s+down\s+disabled\s+yes\s+no\s+unclean \(remote\)\s+stopped\s+2024-05-01 16:44:09Z reboot\s+pending\s+0\s+\S+ \S+: 3 evacuated \(verified\)$/);
      expect(lines.find((l) => l.startsWith('compute3'))).toMatch(/^compute3\s+up\s+enabled\s+no\s+-\s+online \(remote\)\s+starting \(holding\)\s+2024-05-02 10:05:40Z off\s+ok\s+\d+\s+-$/);
      expect(lines.find((l) => l.startsWith('compute1'))).toMatch(/^compute1\s+up\s+enabled\s+no\s+-\s+online \(remote\)\s+started\s+-\s+-\s+\d+\s+-$/);
      expect(table.stdout).toContain('1 of 3 compute services down (33.3%)');
      expect(table.stdout).toContain('compute2: last fenced at 2024-05-01 16:44:09Z: reboot by ctl2, asked by stonith_admin.5521 on ctl2\n');
      expect(table.stdout).toContain('compute2: last fencing FAILED at 2024-05-02 10:21:02Z: reboot by ctl1, asked by pacemaker-controld.1203 on ctl1: No route to host\n');
      expect(table.stdout).toContain('compute2: fencing in progress: reboot by ctl1, asked by pacemaker-controld.1203 on ctl1\n');
      expect(table.stdout).not.toContain('unavailable');
      for (const s of servers) expect(table.stdout).toMatch(new RegExp(`  ${s.id} ${s.name}: evacuated -> compute\\d ACTIVE`));
      // (the fencing history's client stonith_admin.PID contains the simulator's password, "admin")
      expect(table.stdout.replace(/stonith_admin\.\d+/g, '')).not.toContain(st.admin.password);

      // the cluster down: Nova's side still, Pacemaker's with crm_mon's reason
      fakeCrmMon(dir, 'not-connected.xml', 102);
      const down = await capture(() => statusCommand({ json: true, reports }, process.env));
      expect(down.result).toBe(0);
      const downDoc = JSON.parse(down.stdout) as StatusDoc;
      expect(downDoc.clusterUnavailable).toBe('crm_mon: Error: cluster is not available on this node (status 102)');
      expect(downDoc.hosts.map((h) => h.cluster)).toEqual([null, null, null]);
      expect(downDoc.hosts.find((h) => h.host === 'compute2')!.forcedDown).toBe(true);
      const downTable = await capture(() => statusCommand({ reports }, process.env));
      expect(downTable.stdout).toMatch(/^compute2\s+down\s+disabled\s+yes\s+no\s+\?\s+\?\s+\?\s+\?\s+0\s/m);
      expect(downTable.stdout).toContain('cluster status unavailable: crm_mon: Error: cluster is not available on this node (status 102)\n');
    } finally {
      for (const k of Object.keys(env)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  it('full members, short cluster names for FQDN Nova hosts, nova-compute-wait held on an online node, an earlier failed fencing', () => {
    const services = [svc('node1.example.com'), svc('node2.example.com', { status: 'disabled' }),
      svc('node3.example.com', { state: 'down', forcedDown: true, status: 'disabled' }), svc('compute9.example.com'),
      svc('node1.example.com', { binary: 'nova-conductor' })];
    const doc = buildStatus(services, [], [{ name: 'evacuate', host: 'node3', value: 'yes' }], [], undefined,
      { status: parseCrmMon(crmFixture('member-computes.xml')) });
    const c = (h: string) => doc.hosts.find((x) => x.host === h)!;
    expect(doc.hosts.map((h) => h.host)).toEqual(['compute9.example.com', 'node1.example.com', 'node2.example.com', 'node3.example.com']);
    expect(c('node3.example.com').evacuate).toBe('yes');
    expect(c('node1.example.com').cluster).toMatchObject({ node: 'node1', type: 'member', state: 'online',
      novaCompute: [{ resource: 'nova-compute-wait-clone', agent: 'ocf:openstack:nova-compute-wait', state: 'started', holding: false }] });
    expect(c('node2.example.com').cluster).toMatchObject({ node: 'node2.example.com', state: 'online',
      novaCompute: [{ resource: 'nova-compute-wait-clone', state: 'stopped', holding: true }] });
    expect(c('node3.example.com').cluster).toMatchObject({ node: 'node3.example.com', state: 'offline',
      lastFenced: { at: '2024-05-02T10:57:31Z', action: 'off', delegate: 'node1' }, lastFencingFailed: false, fencingPending: null,
      lastFailure: { at: '2024-05-02T10:55:02Z' }, novaCompute: [{ state: 'stopped', holding: false }] });
    expect(c('compute9.example.com').cluster).toEqual({ node: null, type: null, state: 'not a node', lastFenced: null, lastFailure: null,
      lastFencingFailed: false, fencingPending: null, novaCompute: [] });
    const table = formatStatus(doc, false);
    expect(table).toMatch(/^compute9\.example\.com\s+up\s+enabled\s+no\s+-\s+not a node\s+-\s+-\s+-\s+0\s+-$/m);
    expect(table).toMatch(/^node2\.example\.com\s+up\s+disabled\s+no\s+-\s+online \(member\)\s+stopped \(held\)\s+-\s+-\s+0\s+-$/m);
    expect(table).toMatch(/^node3\.example\.com\s+down\s+disabled\s+yes\s+yes\s+offline \(member\)\s+stopped\s+2024-05-02 10:57:31Z off\s+ok\s+0\s+-$/m);
    expect(table).not.toContain('FAILED');
  });

  it('an unreadable fencing history: the rest of the cluster\'s side, and why', () => {
    const doc = buildStatus([svc('node1')], [], [], [], undefined, { status: parseCrmMon(crmFixture('fencer-down.xml')) });
    expect(doc.fenceHistoryUnavailable).toMatch(/status 102/);
    expect(doc.hosts[0].cluster).toMatchObject({ node: 'node1', state: 'online', lastFenced: null });
    const table = formatStatus(doc, false);
    expect(table).toMatch(/^node1\s+up\s+enabled\s+no\s+-\s+online \(member\)\s+-\s+\?\s+\?\s+0\s+-$/m);
    expect(table).toContain('fencing history unavailable: crm_mon could not read the fencing history (status 102)\n');
  });

  it('without credentials it says what is missing and exits 1', async () => {
    const empty = await capture(() => statusCommand({}, { PATH: '/usr/bin:/bin' }));
    expect(empty.result).toBe(1);
    expect(empty.stderr).toMatch(/^status: .*auth/i);
  });
});
