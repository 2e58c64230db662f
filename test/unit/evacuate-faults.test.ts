/**
 * The evacuation engine under faults, against the OpenStack simulator. Every scenario ends with the same two checks:
 * no instance lost (each one runs on another host, or is reported failed with where it is) and none evacuated twice
 * (at most one evacuation migration per instance that did not fail).
 */
import { describe, it, expect, afterEach } from 'vitest';
import { evacuateHost, EvacuationBlocked, markerSince, type EvacuateHostOptions, type EvacuationReport } from '../../lib/instance-ha/evacuate';
import { fakeCloud, tmpDir, rmDir, type FakeCloud } from '../fake/harness';
import type { FakeServer, FakeOptions } from '../fake/openstack-fake';
import type { CloudConfig } from '../../lib/openstack/index';
import * as fs from 'node:fs';
import * as path from 'node:path';

let fc: FakeCloud | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await fc?.close(); fc = undefined;
  for (const d of dirs.splice(0)) rmDir(d);
});

const FAILED = new Set(['failed', 'error']);
const HOST = 'compute2';

async function setup(n: number, opts: FakeOptions = {}, over: Partial<CloudConfig> = {}): Promise<{ st: FakeCloud['fake']['state']; servers: FakeServer[] }> {
  fc = await fakeCloud({ hosts: 4, evacuateDelayMs: 30, ...opts }, over);
  const st = fc.fake.state;
  const servers = st.addServers(HOST, n, { flavor: 'm1.evacuable' });
  st.killService(HOST);
  return { st, servers };
}

function options(extra: Partial<EvacuateHostOptions> = {}): EvacuateHostOptions {
  return {
    host: HOST, noSharedStorage: false, instanceFiltering: true, retryDelayMs: 5, by: 'node1',
    ...extra,
    policy: { verify: true, verifyIntervalMs: 30, verifyTimeoutSec: 20, retries: 2, workers: 4, ...extra.policy },
  };
}

/** Evacuation migrations per instance that did not fail. */
function liveEvacuations(id: string): number {
  return fc!.fake.state.migrations.filter((m) => m.instanceUuid === id && m.type === 'evacuation' && !FAILED.has(m.status)).length;
}

/** 0 lost: every instance runs elsewhere, except those the report lists as failed; 0 evacuated twice. */
function expectNoneLostNoneTwice(servers: FakeServer[], report: EvacuationReport, allowedFailures: string[] = []): void {
  const st = fc!.fake.state;
  // the engine asked the simulator only what it models (anything else is a 501, see test/fake)
  expect(st.notModelled).toEqual([]);
  const failed = new Set(report.failed.map((f) => f.id));
  expect([...failed].sort()).toEqual([...allowedFailures].sort());
  for (const s of servers) {
    const cur = st.server(s.id)!;
    expect(cur, `instance ${s.id} exists`).toBeDefined();
    expect(liveEvacuations(s.id), `instance ${s.id} evacuated at most once`).toBeLessThanOrEqual(1);
    if (failed.has(s.id)) continue;
    expect(cur.host, `instance ${s.id} left ${HOST}`).not.toBe(HOST);
    expect(cur.host).not.toBeNull();
    expect(cur.taskState).toBeNull();
    expect(st.serverStatus(cur)).toMatch(/^(ACTIVE|SHUTOFF)$/);
    expect(liveEvacuations(s.id)).toBe(1);
    // an instance a previous (crashed) run had moved already is no longer on the host, so not in this report
    const rec = report.instances.find((r) => r.id === s.id);
    if (rec) {
      expect(rec.outcome).toBe('evacuated');
      expect(rec.to).toBe(cur.host);
    }
  }
}

describe('evacuation engine under faults (simulator)', () => {
  it('Keystone down at start: nothing is done, then the host is evacuated once Keystone answers', async () => {
    const { st, servers } = await setup(10, {}, { attempts: 2, retryDelayMs: 5 });
    st.keystoneDown = true;
    await expect(evacuateHost(fc!.cloud, options(), fc!.log)).rejects.toThrow();
    // the fault happened: each authentication attempt had its connection dropped
    expect(st.faults.keystoneDrops).toBe(2);
    expect(st.migrations).toHaveLength(0);
    expect(st.service(HOST)!.forcedDown).toBe(false);
    st.keystoneDown = false;
    const r = await evacuateHost(fc!.cloud, options(), fc!.log);
    expectNoneLostNoneTwice(servers, r);
  });

  it('Nova 5xx bursts before and during the host', async () => {
    const { st, servers } = await setup(20, {}, { attempts: 3, retryDelayMs: 5 });
    st.failNext(2, 503, /compute/);
    let n = 0;
    const r = await evacuateHost(fc!.cloud, options({ onAccepted: () => { if (++n === 5) st.failNext(6, 500, /compute/); } }), fc!.log);
    expectNoneLostNoneTwice(servers, r);
    // both bursts were served in full (2 + 6 injected answers) and retried
    expect(st.faults.injectedFailures).toBe(8);
    expect(st.failRules).toEqual([]);
    expect(st.requests.filter((q) => q.status >= 500).length).toBe(8);
  });

  it('request timeouts on evacuate calls', async () => {
    const { st, servers } = await setup(12, {}, { timeoutMs: 300, attempts: 1 });
    st.hangNext(3, /\/action$/);
    const r = await evacuateHost(fc!.cloud, options(), fc!.log);
    expectNoneLostNoneTwice(servers, r);
    // the fault happened: three evacuate calls were left unanswered (recorded with status 0) and timed out
    expect(st.faults.hangs).toBe(3);
    expect(st.netRules).toEqual([]);
    expect(st.requests.filter((q) => q.status === 0 && q.path.endsWith('/action'))).toHaveLength(3);
  });

  it('connection resets on evacuate calls and listings', async () => {
    const { st, servers } = await setup(12, {}, { attempts: 3, retryDelayMs: 5 });
    st.resetNext(2, /\/action$/);
    st.resetNext(1, /os-migrations/);
    const r = await evacuateHost(fc!.cloud, options(), fc!.log);
    expectNoneLostNoneTwice(servers, r);
    // the fault happened: two evacuate calls and one os-migrations listing had their connection reset
    expect(st.faults.resets).toBe(3);
    expect(st.netRules).toEqual([]);
    expect(st.requests.filter((q) => q.status === 0 && q.path.endsWith('/action'))).toHaveLength(2);
    expect(st.requests.filter((q) => q.status === 0 && q.path.endsWith('/os-migrations'))).toHaveLength(1);
  });

  it('the token expires mid-host', async () => {
    const { st, servers } = await setup(20);
    let n = 0;
    const r = await evacuateHost(fc!.cloud, options({ onAccepted: () => { if (++n === 7) st.expireTokens(); } }), fc!.log);
    expectNoneLostNoneTwice(servers, r);
    expect(st.requests.filter((q) => q.status === 401).length).toBeGreaterThanOrEqual(1);
  });

  it('some evacuations fail: no valid host is retried, a rebuild failed elsewhere is reported', async () => {
    const { st, servers } = await setup(12);
    st.failEvacuations(3, { kind: 'novalidhost' });
    const r = await evacuateHost(fc!.cloud, options(), fc!.log);
    expectNoneLostNoneTwice(servers, r);
    expect(st.migrations.filter((m) => m.status === 'error')).toHaveLength(3);
    expect(st.faults.evacuationFailures).toBe(3);

    // a rebuild that fails on the destination leaves the instance in ERROR there: reported, not retried
    const more = st.addServers('compute3', 4, { flavor: 'm1.evacuable' });
    st.killService('compute3');
    st.failEvacuations(1, { kind: 'error', serverIds: [more[0].id] });
    const r2 = await evacuateHost(fc!.cloud, options({ host: 'compute3' }), fc!.log);
    expect(st.faults.evacuationFailures).toBe(4);
    expect(r2.failed.map((f) => f.id)).toEqual([more[0].id]);
    expect(r2.givenUp).toEqual([more[0].id]);
    const bad = st.server(more[0].id)!;
    expect(bad.host).not.toBe('compute3');
    expect(st.serverStatus(bad)).toBe('ERROR');
    for (const s of more) expect(liveEvacuations(s.id)).toBeLessThanOrEqual(1);
    expect(r2.instances.find((i) => i.id === more[0].id)!.reason).toMatch(/rebuild failed on/);
  });

  it('retries stop at evacuation_retries; a later pass does not ask again for the given-up instance', async () => {
    const { st, servers } = await setup(4);
    const victim = servers[0];
    st.failEvacuations(100, { kind: 'novalidhost', serverIds: [victim.id] });
    const r = await evacuateHost(fc!.cloud, options({ policy: { retries: 2 } }), fc!.log);
    expectNoneLostNoneTwice(servers, r, [victim.id]);
    const attempts = st.migrations.filter((m) => m.instanceUuid === victim.id);
    expect(attempts).toHaveLength(3);
    expect(r.instances.find((i) => i.id === victim.id)!.attempts).toBe(3);
    expect(st.server(victim.id)!.host).toBe(HOST);
    // a restarted evacuator counts the failed attempts from Nova's migration records and gives up at once
    const again = await evacuateHost(fc!.cloud, options({ policy: { retries: 2 } }), fc!.log);
    expect(again.givenUp).toEqual([victim.id]);
    expect(st.migrations.filter((m) => m.instanceUuid === victim.id)).toHaveLength(3);
  });

  it('two evacuators racing for the same host: each instance is evacuated once', async () => {
    const { servers } = await setup(24, { evacuateDelayMs: 200 });
    const [a, b] = await Promise.all([
      evacuateHost(fc!.cloud, options({ by: 'node1' }), fc!.log),
      evacuateHost(fc!.cloud, options({ by: 'node2' }), fc!.log),
    ]);
    expectNoneLostNoneTwice(servers, a);
    expectNoneLostNoneTwice(servers, b);
    const acceptedTwice = a.instances.filter((i) => i.attempts > 0 && b.instances.find((j) => j.id === i.id)!.outcome === 'evacuated');
    expect(acceptedTwice.length).toBe(24);
  });

  it('a restart mid-host resumes from Nova: instances moving or moved are not asked again', async () => {
    const { st, servers } = await setup(16, { evacuateDelayMs: 400 });
    // the first evacuator dies after 6 requests were accepted (its remaining requests never leave)
    const first = servers.slice(0, 6);
    // (Nova stops answering after the 6th accepted request: the remaining requests never reach it)
    let accepted = 0;
    await evacuateHost(fc!.cloud, options({
      policy: { workers: 1, verify: false },
      onAccepted: () => { if (++accepted === 6) st.failNext(1_000_000, 503, /compute/); },
    }), fc!.log).catch(() => undefined);
    expect(accepted).toBe(6);
    expect(st.migrations).toHaveLength(6);
    st.failRules.length = 0;
    expect(markerSince(st.service(HOST)!.disabledReason)).toBeGreaterThan(0);
    const r = await evacuateHost(fc!.cloud, options({ by: 'node2' }), fc!.log);
    expectNoneLostNoneTwice(servers, r);
    for (const s of first) expect(liveEvacuations(s.id)).toBe(1);
    // the restarted run asked only for the ten the first one never reached
    expect(st.migrations).toHaveLength(16);
    expect(r.instances.filter((i) => i.attempts === 1 && i.outcome === 'evacuated').length).toBeGreaterThanOrEqual(10);
  });

  it('more than threshold percent of compute hosts down: nothing is evacuated, loudly, until fewer are down', async () => {
    const { st, servers } = await setup(5);
    st.killService('compute1');
    const dir = tmpDir('oha-report-'); dirs.push(dir);
    const before = st.requests.length;
    const err = await evacuateHost(fc!.cloud, options({ policy: { thresholdPercent: 40 }, reportDir: dir }), fc!.log).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EvacuationBlocked);
    expect((err as Error).message).toMatch(/2 of 4 compute services are down \(50%\), above the threshold of 40%/);
    expect(st.requests.slice(before).every((q) => q.method === 'GET' || q.path.includes('auth'))).toBe(true);
    expect(st.migrations).toHaveLength(0);
    expect(fc!.log.lines.some((l) => l.level === 'error' && /BLOCKED/.test(l.msg))).toBe(true);
    const saved = JSON.parse(fs.readFileSync(path.join(dir, `${HOST}.json`), 'utf8')) as EvacuationReport;
    expect(saved.blocked).toMatch(/mass failure/);
    st.reviveService('compute1');
    const r = await evacuateHost(fc!.cloud, options({ policy: { thresholdPercent: 40 }, reportDir: dir }), fc!.log);
    expectNoneLostNoneTwice(servers, r);
  });

  it('critical services: nothing is evacuated while no nova-scheduler is up, then all once it is back', async () => {
    const { st, servers } = await setup(4, { controlServices: true });
    st.killService('controller', 'nova-scheduler');
    const err = await evacuateHost(fc!.cloud, options({ policy: { checkCriticalServices: true } }), fc!.log).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EvacuationBlocked);
    expect((err as Error).message).toMatch(/no nova-scheduler service is up/);
    expect(st.migrations).toHaveLength(0);
    st.reviveService('controller', 'nova-scheduler');
    const r = await evacuateHost(fc!.cloud, options({ policy: { checkCriticalServices: true } }), fc!.log);
    expectNoneLostNoneTwice(servers, r);
  });

  it('marks the host in disabled_reason and writes the report (JSON and one line per instance)', async () => {
    const { st, servers } = await setup(3);
    st.addServers(HOST, 1, { flavor: 'm1.tiny', name: 'untagged' });
    const dir = tmpDir('oha-report-'); dirs.push(dir);
    const r = await evacuateHost(fc!.cloud, options({ reportDir: dir }), fc!.log);
    expectNoneLostNoneTwice(servers, r);
    const svc = st.service(HOST)!;
    expect(svc.status).toBe('disabled');
    expect(svc.disabledReason).toMatch(/^openstack-ha-agents: evacuated 3\/3 verified since \d+$/);
    const saved = JSON.parse(fs.readFileSync(path.join(dir, `${HOST}.json`), 'utf8')) as EvacuationReport;
    expect(saved.instances).toHaveLength(4);
    expect(saved.instances.filter((i) => i.outcome === 'not-evacuable').map((i) => i.name)).toEqual(['untagged']);
    const lines = fc!.log.lines.map((l) => l.msg);
    for (const s of servers) expect(lines.some((m) => m.startsWith(`instance ${s.id} (${s.name}): evacuated ${HOST} -> `))).toBe(true);
    expect(lines.some((m) => m.startsWith('evacuation report {'))).toBe(true);
  });

  it('a host unfenced (enabled) before the evacuation finishes stays enabled: the final marker is not written over it', async () => {
    const { st, servers } = await setup(3, { evacuateDelayMs: 300 });
    let n = 0;
    const r = await evacuateHost(fc!.cloud, options({
      onAccepted: () => { if (++n === 3) { const s = st.service(HOST)!; s.status = 'enabled'; s.disabledReason = null; } },
    }), fc!.log);
    expectNoneLostNoneTwice(servers, r);
    expect(st.service(HOST)!.status).toBe('enabled');
    expect(st.service(HOST)!.disabledReason).toBeNull();
  });

  it('"still in use": forced_down lost on a host still fenced is forced down again; a host unfenced meanwhile is not', async () => {
    const { st, servers } = await setup(4);
    const looksUp = () => { const s = st.service(HOST)!; s.forcedDown = false; s.killedAt = undefined; };
    let n = 0;
    const r = await evacuateHost(fc!.cloud, options({ policy: { workers: 1 }, onAccepted: () => { if (++n === 1) looksUp(); } }), fc!.log);
    expectNoneLostNoneTwice(servers, r);
    expect(st.service(HOST)!.forcedDown).toBe(true);

    const more = st.addServers('compute3', 3, { flavor: 'm1.evacuable' });
    st.killService('compute3');
    let m = 0;
    const r3 = await evacuateHost(fc!.cloud, options({ host: 'compute3', policy: { workers: 1 }, onAccepted: () => {
      if (++m === 1) { const s = st.service('compute3')!; s.forcedDown = false; s.killedAt = undefined; s.status = 'enabled'; s.disabledReason = null; }
    } }), fc!.log);
    expect(st.service('compute3')!.forcedDown).toBe(false);
    expect(st.service('compute3')!.status).toBe('enabled');
    // (compute3 also holds instances the first evacuation placed there) all but the first request fail, unforced
    expect(r3.total).toBeGreaterThanOrEqual(3);
    expect(r3.failed.length).toBe(r3.total - 1);
    expect(r3.failed.every((f) => /compute3 is back in service/.test(f.reason))).toBe(true);
    for (const s of more) expect(liveEvacuations(s.id)).toBeLessThanOrEqual(1);
  });

  it('enables a reserved host (one sharing an aggregate first) before the first evacuation', async () => {
    const { st, servers } = await setup(4);
    st.addComputeHost('spare1'); st.addComputeHost('spare2');
    await fc!.cloud.nova().disableService('spare1', 'reserved');
    await fc!.cloud.nova().disableService('spare2', 'reserved');
    st.addAggregate('rack2', [HOST, 'spare2']);
    const r = await evacuateHost(fc!.cloud, options({ policy: { reservedHosts: ['spare1', 'spare2'] } }), fc!.log);
    expectNoneLostNoneTwice(servers, r);
    expect(r.reservedHostEnabled).toBe('spare2');
    expect(st.service('spare2')!.status).toBe('enabled');
    expect(st.service('spare1')!.status).toBe('disabled');
    const enableAt = st.requests.findIndex((q) => q.method === 'PUT' && JSON.stringify(q.body ?? '').includes('"enabled"'));
    const firstEvac = st.requests.findIndex((q) => q.method === 'POST' && q.path.endsWith('/action'));
    expect(enableAt).toBeGreaterThan(-1);
    expect(enableAt).toBeLessThan(firstEvac);
  });

  it('tagged aggregates: a host in no evacuable aggregate is left alone, one in it is evacuated', async () => {
    const { st, servers } = await setup(3);
    st.addAggregate('ha', ['compute1', 'compute3'], { evacuable: 'true' });
    const r = await evacuateHost(fc!.cloud, options({ policy: { taggedAggregates: true } }), fc!.log);
    expect(r.accepted).toEqual([]);
    expect(r.instances.every((i) => i.outcome === 'not-evacuable' && /no aggregate tagged evacuable/.test(i.reason!))).toBe(true);
    expect(st.migrations).toHaveLength(0);
    for (const s of servers) expect(st.server(s.id)!.host).toBe(HOST);
    const inHa = st.addServers('compute3', 2, { flavor: 'm1.evacuable' });
    st.killService('compute3');
    const r3 = await evacuateHost(fc!.cloud, options({ host: 'compute3', policy: { taggedAggregates: true } }), fc!.log);
    expect(r3.accepted.sort()).toEqual(inHa.map((s) => s.id).sort());
  });
});
