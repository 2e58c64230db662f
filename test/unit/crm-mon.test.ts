/**
 * lib/pacemaker/crm-mon.ts: parsing `crm_mon -1 --output-as=xml --inactive --fence-history=2` (fixtures in
 * test/fixtures/crm_mon, written to Pacemaker 2.1.5's crm_mon-2.25 schema and cts/cli/regression.crm_mon.exp), and
 * running it (a stand-in crm_mon on PATH).
 */
import { describe, it, expect, afterEach } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseXml, parseCrmMon, completedIso, crmMon, CRM_MON_ARGS } from '../../lib/pacemaker/crm-mon';
import { PacemakerError } from '../../lib/pacemaker/index';
import { tmpDir, rmDir } from '../fake/harness';

const CRM_MON_FIXTURES = path.join(__dirname, '..', 'fixtures', 'crm_mon');
const fixture = (name: string) => fs.readFileSync(path.join(CRM_MON_FIXTURES, name), 'utf8');

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmDir(d); });

describe('parseXml', () => {
  it('reads elements, attributes (entities decoded), text; skips declarations and comments', () => {
    const doc = parseXml('<?xml version="1.0"?>\n<!-- c --><a x="1 &lt;2&gt; &amp;&quot;" y=\'q\'><b/><c>t&#65;&#x42;</c></a>');
    expect(doc.name).toBe('a');
    expect(doc.attrs).toEqual({ x: '1 <2> &"', y: 'q' });
    expect(doc.children.map((c) => c.name)).toEqual(['b', 'c']);
    expect(doc.children[1].text).toBe('tAB');
  });

  it('refuses a document that is not well nested', () => {
    expect(() => parseXml('<a><b></a>')).toThrow(/malformed/);
    expect(() => parseXml('<a>')).toThrow(/not closed/);
    expect(() => parseXml('no xml')).toThrow(/no element/);
  });
});

describe('parseCrmMon', () => {
  it('remote compute nodes: online, unclean, offline; NovaCompute clone instances; completed, failed and pending fencing', () => {
    const st = parseCrmMon(fixture('remote-computes.xml'));
    const node = (n: string) => st.nodes.find((x) => x.name === n)!;
    expect(st.nodes.map((n) => n.name)).toEqual(['ctl1', 'ctl2', 'ctl3', 'compute1', 'compute2', 'compute3', 'compute4']);
    expect(node('ctl1')).toMatchObject({ type: 'member', online: true, unclean: false });
    expect(node('compute1')).toMatchObject({ type: 'remote', online: true, unclean: false });
    expect(node('compute2')).toMatchObject({ type: 'remote', online: false, unclean: true });
    expect(node('compute4')).toMatchObject({ type: 'remote', online: false, unclean: false });

    const nc = st.resources.filter((r) => r.agent === 'ocf:openstack:NovaCompute');
    expect(nc).toHaveLength(4);
    expect(nc.every((r) => r.id === 'nova-compute' && r.clone === 'nova-compute-clone')).toBe(true);
    expect(nc.map((r) => [r.role, r.active, r.nodes])).toEqual([
      ['Started', true, ['compute1']], ['Starting', true, ['compute3']], ['Stopped', false, []], ['Stopped', false, []],
    ]);
    expect(st.resources.find((r) => r.id === 'nova-evacuate')).toMatchObject({ agent: 'ocf:openstack:NovaEvacuate', nodes: ['ctl3'] });
    expect(st.resources.find((r) => r.id === 'compute2')).toMatchObject({ agent: 'ocf:pacemaker:remote', failed: true });
    expect(st.resources.find((r) => r.id === 'nova-evacuate')!.clone).toBeUndefined();

    expect(st.fenceHistoryProblem).toBeUndefined();
    expect(st.fenceHistory).toEqual([
      { target: 'compute2', action: 'reboot', status: 'pending', delegate: 'ctl1', client: 'pacemaker-controld.1203', origin: 'ctl1' },
      { target: 'compute2', action: 'reboot', status: 'failed', delegate: 'ctl1', client: 'pacemaker-controld.1203', origin: 'ctl1',
        exitReason: 'No route to host', completed: '2024-05-02T10:21:02Z' },
      { target: 'compute3', action: 'off', status: 'success', delegate: 'ctl3', client: 'pacemaker-controld.1203', origin: 'ctl1',
        completed: '2024-05-02T10:05:40Z' },
      { target: 'compute2', action: 'reboot', status: 'success', delegate: 'ctl2', client: 'stonith_admin.5521', origin: 'ctl2',
        completed: '2024-05-01T16:44:09Z' },
    ]);
  });

  it('full members, nova-compute-wait clone, an empty exit-reason', () => {
    const st = parseCrmMon(fixture('member-computes.xml'));
    expect(st.nodes.map((n) => [n.name, n.type, n.online])).toEqual([
      ['node1', 'member', true], ['node2.example.com', 'member', true], ['node3.example.com', 'member', false],
    ]);
    expect(st.resources.filter((r) => r.clone === 'nova-compute-wait-clone').map((r) => r.role)).toEqual(['Started', 'Stopped', 'Stopped']);
    expect(st.fenceHistory!.map((e) => [e.status, e.exitReason])).toEqual([['success', undefined], ['failed', undefined]]);
  });

  it('no <fence_history> is an empty history; <fence_history status="N"/> is an unreadable one', () => {
    const noHistory = fixture('member-computes.xml').replace(/<fence_history>[\s\S]*<\/fence_history>\n/, '');
    expect(parseCrmMon(noHistory).fenceHistory).toEqual([]);
    const st = parseCrmMon(fixture('fencer-down.xml'));
    expect(st.fenceHistory).toBeUndefined();
    expect(st.fenceHistoryProblem).toMatch(/fencing history \(status 102\)/);
    expect(st.nodes).toHaveLength(1);
  });

  it('crm_mon\'s own error becomes a PacemakerError with its message', () => {
    expect(() => parseCrmMon(fixture('not-connected.xml'))).toThrow(PacemakerError);
    expect(() => parseCrmMon(fixture('not-connected.xml'))).toThrow(/cluster is not available on this node \(status 102\)/);
    expect(() => parseCrmMon('<cib/>')).toThrow(/unexpected XML <cib>/);
  });

  it('completion times: UTC and with an offset, as ISO 8601 UTC', () => {
    expect(completedIso('2024-05-02 10:15:42Z')).toBe('2024-05-02T10:15:42Z');
    expect(completedIso('2024-05-02 12:15:42 +02:00')).toBe('2024-05-02T10:15:42Z');
    expect(completedIso('2024-05-02 08:15:42 -02:00')).toBe('2024-05-02T10:15:42Z');
    expect(completedIso('yesterday')).toBe('yesterday');
  });
});

/** a PATH with a crm_mon stand-in that records its arguments and prints FIXTURE (exit CODE) */
function fakeCrmMon(script: string): { env: NodeJS.ProcessEnv; argsFile: string } {
  const dir = tmpDir('oha-crmmon-'); dirs.push(dir);
  fs.mkdirSync(path.join(dir, 'bin'));
  const argsFile = path.join(dir, 'args');
  fs.writeFileSync(path.join(dir, 'bin', 'crm_mon'), `#!/bin/sh\necho "$@" >'${argsFile}'\n${script}\n`, { mode: 0o755 });
  return { env: { PATH: `${dir}/bin:/usr/bin:/bin` }, argsFile };
}

describe('crmMon (runs crm_mon)', () => {
  it('runs crm_mon -1 --output-as=xml --inactive --fence-history=2 and parses it', async () => {
    const { env, argsFile } = fakeCrmMon(`cat '${path.join(CRM_MON_FIXTURES, 'remote-computes.xml')}'`);
    const st = await crmMon({ env });
    expect(fs.readFileSync(argsFile, 'utf8').trim()).toBe('-1 --output-as=xml --inactive --fence-history=2');
    expect(CRM_MON_ARGS.join(' ')).toBe('-1 --output-as=xml --inactive --fence-history=2');
    expect(st.nodes).toHaveLength(7);
  });

  it('fails with crm_mon\'s message: cluster down (exit 102), not installed, hanging (timeout)', async () => {
    const down = fakeCrmMon(`cat '${path.join(CRM_MON_FIXTURES, 'not-connected.xml')}'; exit 102`);
    await expect(crmMon({ env: down.env })).rejects.toThrow(/^crm_mon: Error: cluster is not available on this node \(status 102\)$/);
    const text = fakeCrmMon('echo "crm_mon: Error: permission denied" >&2; exit 1');
    await expect(crmMon({ env: text.env })).rejects.toThrow(/failed \(1\): crm_mon: Error: permission denied/);
    await expect(crmMon({ env: { PATH: '/nonexistent' } })).rejects.toThrow(/crm_mon not found/);
    const hang = fakeCrmMon('sleep 5');
    await expect(crmMon({ env: hang.env, timeoutMs: 200 })).rejects.toThrow(/timed out after 200 ms/);
  });
});
