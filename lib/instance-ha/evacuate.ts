/**
 * The evacuation engine shared by NovaEvacuate (in-process, no fork per host) and fence_evacuate.
 *
 * evacuateHost(), for one failed compute host H:
 *  1. guards (when configured): no evacuation while more than `thresholdPercent` of the nova-compute services are
 *     down at once (a mass failure is more likely a network or control-plane fault than dead hosts), nor while no
 *     nova-scheduler or nova-conductor is up (the evacuations would all fail);
 *  2. tagged aggregates (when configured): a host in no aggregate with metadata evacuable=true is left alone;
 *  3. H's nova-compute is forced down and disabled; its disabled_reason carries a marker
 *     ("openstack-ha-agents: evacuating since EPOCH by NODE", later "evacuated 10/10 ...") that operators see in
 *     `openstack compute service list` and that a restarted evacuator reads back;
 *  4. reserved hosts (when configured): one of them, still disabled as a reserve, is enabled so the scheduler has
 *     room for H's instances (one sharing an aggregate with H first);
 *  5. every instance on H (all projects) is classified from Nova's own state: already rebuilding (task_state), or
 *     with an evacuation in flight (os-migrations), is left alone; failed attempts since the marker's epoch are
 *     counted; the evacuable tag on flavors and images selects the rest;
 *  6. evacuations are requested `workers` at a time, each with its own retries: 409 = Nova is already on it (never
 *     retried), 400 "still in use" = force the service down again and retry, 5xx or timeout = look at the instance
 *     before retrying (Nova may have taken the request);
 *  7. with `verify` (smart evacuation), each instance is followed (os-migrations, then the server's status, host
 *     and task_state) until it is ACTIVE/SHUTOFF on another host or failed; failed ones still on H are requested
 *     again up to `retries` times; a deadline bounds the whole;
 *  8. the report: the outcome in H's disabled_reason, the log and the report file (lib/instance-ha/report.ts).
 * Each step is one function below; the decisions that change nothing (guards, tags, aggregates, reserved host,
 * Nova's states) are in lib/instance-ha/evacuable.ts.
 *
 * Crash safety: everything that says "this instance is done or being done" lives in Nova (the instance's host and
 * task_state, the evacuation migration records), so an evacuator killed mid-host and restarted anywhere resumes
 * from Nova's state and never asks twice for an instance Nova is already moving or has moved. Nova itself refuses
 * a second evacuation of an instance in progress (409) or already running elsewhere (400 "still in use").
 *
 * The result is a per-host report (one record per instance), logged as one JSON line plus one human line per
 * instance, and written to REPORT_DIR/<host>.json for `openstack-ha-agents status`.
 */
import type { Logger } from '../core/log';
import { backoffMs, forEachLimited, poll, sleep } from '../core/poll';
import { errText } from '../core/text';
import { nowSec } from '../core/time';
import { OpenStackError, type Cloud, type NovaAggregate, type NovaClient, type NovaMigration, type NovaServer, type NovaService } from '../openstack/index';
import { DEFAULT_POLICY, type EvacuationPolicy } from './policy';
import { MARKER, markerSince, markerText } from './marker';
import {
  BUSY_TASK_STATES, MIGRATION_FAILED, NOT_EVACUABLE_STATUS, aggregateVerdict, checkGuards, latestPerInstance,
  migrationRunning, novaTime, pickReservedHost, prefetchTags, selectEvacuable, type EvacuableTags,
} from './evacuable';
import { finish, writeReport, type EvacuationReport, type InstanceOutcome, type InstanceRecord } from './report';

export { MARKER, markerSince, markerText };
export { forceHostDown } from './hosts';
export { DEFAULT_POLICY, type EvacuationPolicy };
export * from './evacuable';
export * from './report';

export interface EvacuateHostOptions {
  /** Nova's name for the host (os-services host) */
  host: string;
  /** no shared storage: instances are rebuilt from their image (only matters below microversion 2.14) */
  noSharedStorage: boolean;
  /** honour the evacuable tag on flavors and images; false evacuates every instance */
  instanceFiltering: boolean;
  policy?: Partial<EvacuationPolicy>;
  /** who evacuates (cluster node name), for the marker and the report */
  by?: string;
  /** leave the nova-compute service as it is (the caller forced it down already) */
  skipForceDown?: boolean;
  /** where to write <host>.json; undefined writes no file */
  reportDir?: string;
  /** called with each server as its evacuation is accepted (timelines, tests) */
  onAccepted?: (server: NovaServer) => void;
  /** delays between retries of one request (tests shorten them) */
  retryDelayMs?: number;
}

/** A guard refused to evacuate; nothing was changed in Nova. */
export class EvacuationBlocked extends Error {
  constructor(message: string, readonly report: EvacuationReport) { super(message); }
}

async function setMarker(nova: NovaClient, host: string, text: string, log: Logger): Promise<void> {
  try {
    await nova.disableService(host, text);
  } catch (e) {
    log.warn(`could not record "${text}" on ${host}'s nova-compute: ${errText(e)}`);
  }
}

/** Why the instance is no longer ours to evacuate (moving, or on another host), or undefined. */
async function movedAway(nova: NovaClient, id: string, host: string): Promise<string | undefined> {
  try {
    const cur = await nova.getServer(id);
    if (cur.taskState && BUSY_TASK_STATES.has(cur.taskState)) return `already ${cur.taskState}`;
    if (cur.host !== null && cur.host !== host) return `already on ${cur.host}`;
  } catch (e) {
    if (e instanceof OpenStackError && e.status === 404) return 'instance deleted';
  }
  return undefined;
}

type RequestResult = { kind: 'accepted' } | { kind: 'conflict'; why: string } | { kind: 'failed'; reason: string };

/** Ask Nova to evacuate one instance, with retries that never ask twice for an instance Nova has taken. */
async function requestEvacuation(nova: NovaClient, s: NovaServer, host: string, noSharedStorage: boolean, log: Logger, delayMs: number, mayForceDown: boolean): Promise<RequestResult> {
  const tries = 4;
  let last = '';
  for (let attempt = 1; attempt <= tries; attempt++) {
    if (attempt > 1) await sleep(backoffMs(attempt - 1, delayMs));
    try {
      await nova.evacuate(s.id, { onSharedStorage: !noSharedStorage });
      return { kind: 'accepted' };
    } catch (e) {
      last = errText(e);
      if (!(e instanceof OpenStackError)) return { kind: 'failed', reason: last };
      // 409: an evacuation (ours from before a crash, or another evacuator's) is in progress: not ours to repeat
      if (e.status === 409) return { kind: 'conflict', why: last };
      // another evacuator may have moved it since we listed the host: then Nova answers about its new host
      const moved = await movedAway(nova, s.id, host);
      if (moved) return { kind: 'conflict', why: moved };
      if (e.status === 400 && /still in use/i.test(last) && mayForceDown) {
        // Nova sees the service up: forced_down was lost, or the host came back and was unfenced. Only the first
        // is ours to correct: a host no longer disabled by this evacuation is in service again
        const [svc] = await nova.listServices({ host, binary: 'nova-compute' }).catch(() => [] as NovaService[]);
        if (!svc || svc.status !== 'disabled' || !(svc.disabledReason ?? '').startsWith(MARKER)) {
          return { kind: 'failed', reason: `${host} is back in service (${svc ? `${svc.status}, ${svc.disabledReason ?? 'no reason'}` : 'unknown'}): not forcing it down` };
        }
        log.warn(`Nova says ${host}'s nova-compute is still in use; forcing it down again before retrying ${s.id}`);
        await nova.setForcedDown(host, true).catch((fe: unknown) => log.warn(`force down ${host}: ${errText(fe)}`));
        continue;
      }
      if (e.status >= 400 && e.status < 500) return { kind: 'failed', reason: last };
      // 5xx, timeout, connection reset: Nova may have taken the request (that look was made above)
      log.warn(`evacuation request for ${s.id} (${s.name}) failed (${last}); attempt ${attempt} of ${tries}`);
    }
  }
  return { kind: 'failed', reason: last };
}

// ---- one host's evacuation, phase by phase -----------------------------------------------------------------

/** The state of one host's evacuation, shared by its phases. */
interface Run {
  cloud: Cloud;
  nova: NovaClient;
  host: string;
  opts: EvacuateHostOptions;
  policy: EvacuationPolicy;
  log: Logger;
  report: EvacuationReport;
  /** what is known of each instance so far */
  records: Map<string, InstanceRecord>;
  /** instances Nova is moving for us (accepted or already in progress), followed by the verification */
  tracked: Map<string, NovaServer>;
}

function startRun(cloud: Cloud, opts: EvacuateHostOptions, log: Logger): Run {
  const policy: EvacuationPolicy = { ...DEFAULT_POLICY, ...Object.fromEntries(Object.entries(opts.policy ?? {}).filter(([, v]) => v !== undefined)) };
  const startedAt = nowSec();
  const report: EvacuationReport = {
    host: opts.host, by: opts.by, since: startedAt, startedAt, finishedAt: startedAt, verified: policy.verify, total: 0, instances: [],
    accepted: [], filtered: [], skipped: [], failed: [], givenUp: [],
  };
  return { cloud, nova: cloud.nova(), host: opts.host, opts, policy, log, report, records: new Map(), tracked: new Map() };
}

function record(run: Run, s: NovaServer, outcome: InstanceOutcome, extra: Partial<InstanceRecord> = {}): void {
  const prev = run.records.get(s.id);
  run.records.set(s.id, { id: s.id, name: s.name, from: run.host, attempts: prev?.attempts ?? 0, ...prev, outcome, ...extra });
}

/** 1. The guards, on one listing of every service (throws EvacuationBlocked); the host's own nova-compute. */
async function guards(run: Run): Promise<{ services: NovaService[]; own: NovaService }> {
  const { nova, host, policy, log, report } = run;
  const guarded = policy.thresholdPercent < 100 || policy.checkCriticalServices;
  const needAll = guarded || policy.reservedHosts.length > 0;
  const services = needAll ? await nova.listServices() : await nova.listServices({ host, binary: 'nova-compute' });
  if (guarded) {
    const v = checkGuards(services, policy);
    if (!v.ok) {
      report.blocked = v.reason;
      log.error(`EVACUATION OF ${host} BLOCKED: ${v.reason}. Nothing was evacuated; the host stays flagged and is tried again.`);
      writeReport(run.opts.reportDir, report, log);
      throw new EvacuationBlocked(`evacuation of ${host} blocked: ${v.reason}`, report);
    }
  }
  const own = services.find((s) => s.host === host && s.binary === 'nova-compute');
  if (!own) throw new OpenStackError(`no nova-compute service on host ${host}`, 404);
  return { services, own };
}

/** 2. Tagged aggregates: the report of a host left alone because it is in no evacuable aggregate, or undefined. */
async function outsideTaggedAggregates(run: Run, aggregates: NovaAggregate[]): Promise<EvacuationReport | undefined> {
  const why = run.policy.taggedAggregates ? aggregateVerdict(aggregates, run.host) : undefined;
  if (!why) return undefined;
  const servers = await run.nova.listServersOnHost(run.host);
  run.report.total = servers.length;
  for (const s of servers) record(run, s, 'not-evacuable', { reason: why });
  run.log.notice(`not evacuating ${run.host}: ${why}`);
  return done(run);
}

/**
 * 3. Claim and fence: force down, disable, marker (resuming keeps the epoch of the first attempt), in one request
 * from 2.53. Runs while the instances are listed: none of the listings depends on the service's state.
 */
async function claimAndFence(run: Run, own: NovaService): Promise<void> {
  if (run.opts.skipForceDown) return;
  const { nova, host, log } = run;
  const text = markerText('evacuating', run.report.since, run.opts.by ? `by ${run.opts.by}` : '');
  try {
    await nova.fenceService(own, text);
  } catch (e) {
    // the marker is a courtesy; forced down is not
    if (!own.forcedDown) await nova.setForcedDown(host, true);
    log.warn(`could not record "${text}" on ${host}'s nova-compute: ${errText(e)}`);
  }
  if (!own.forcedDown) log.info(`forced nova-compute on ${host} down`);
}

/**
 * 5. List and classify what Nova says about each instance: already moving (tracked), not evacuable by its state,
 * given up after too many failed attempts, or a candidate; returns the evacuable candidates.
 */
async function listInstances(run: Run, fencing: Promise<void>, tags: Promise<EvacuableTags> | undefined): Promise<NovaServer[]> {
  const { nova, host, policy, log, report } = run;
  const since = report.since;
  const [servers, migrations] = await Promise.all([
    nova.listServersOnHost(host),
    nova.listEvacuations(host, new Date((since - 60) * 1000).toISOString()).catch((e: unknown) => {
      log.warn(`could not list the evacuations from ${host}: ${errText(e)}`);
      return [] as NovaMigration[];
    }),
    fencing,
  ]);
  report.total = servers.length;
  const recent = migrations.filter((m) => !(novaTime(m.createdAt) < since - 60));
  const failedAttempts = new Map<string, number>();
  for (const m of recent) if (MIGRATION_FAILED.has(m.status)) failedAttempts.set(m.instanceUuid, (failedAttempts.get(m.instanceUuid) ?? 0) + 1);
  const latest = latestPerInstance(recent);
  const candidates: NovaServer[] = [];
  for (const s of servers) {
    const m = latest.get(s.id);
    const attempts = failedAttempts.get(s.id) ?? 0;
    record(run, s, 'skipped', { attempts, status: s.status });
    if (s.taskState && BUSY_TASK_STATES.has(s.taskState)) {
      record(run, s, 'in-progress', { reason: `task_state ${s.taskState}`, attempts: attempts + 1 });
      run.tracked.set(s.id, s);
    } else if (m && migrationRunning(m)) {
      record(run, s, 'in-progress', { reason: `evacuation ${m.status}`, attempts: attempts + 1 });
      run.tracked.set(s.id, s);
    } else if (NOT_EVACUABLE_STATUS.has(s.status)) {
      record(run, s, 'skipped', { reason: `status ${s.status}` });
    } else if (attempts > policy.retries && policy.verify) {
      record(run, s, 'failed', { reason: `${attempts} evacuation attempts failed; giving up` });
      report.givenUp.push(s.id);
    } else {
      candidates.push(s);
    }
  }
  const { keep, filtered } = await selectEvacuable(run.cloud, candidates, run.opts.instanceFiltering, log, tags);
  for (const s of filtered) record(run, s, 'not-evacuable', { reason: 'not tagged evacuable' });
  log.info(`evacuating ${keep.length} of ${servers.length} instance(s) from ${host} with ${policy.workers} worker(s)` +
    (run.tracked.size ? ` (${run.tracked.size} already in progress)` : ''));
  return keep;
}

/** 4. A reserved host for the capacity, when configured and there is something to evacuate. */
async function enableReservedHost(run: Run, services: NovaService[], aggregates: NovaAggregate[]): Promise<void> {
  const { policy, log } = run;
  const spare = pickReservedHost(services, aggregates, policy.reservedHosts, run.host);
  if (!spare) {
    log.warn(`no reserved host is up and still disabled (${policy.reservedHosts.join(', ')}): evacuating onto the enabled hosts`);
    return;
  }
  try {
    await run.nova.enableService(spare.host);
    run.report.reservedHostEnabled = spare.host;
    log.notice(`enabled reserved host ${spare.host} for the instances of ${run.host}`);
  } catch (e) {
    log.warn(`could not enable reserved host ${spare.host}: ${errText(e)}`);
  }
}

/** 6. Evacuate one instance (with its own retries) and record the outcome. */
async function evacuateOne(run: Run, s: NovaServer): Promise<void> {
  const { host, log, opts } = run;
  const prev = run.records.get(s.id);
  const r = await requestEvacuation(run.nova, s, host, opts.noSharedStorage, log, opts.retryDelayMs ?? 1000, !opts.skipForceDown);
  const attempts = (prev?.attempts ?? 0) + 1;
  if (r.kind === 'accepted') {
    record(run, s, 'accepted', { attempts, reason: undefined });
    run.tracked.set(s.id, s);
    opts.onAccepted?.(s);
    log.debug(`evacuation of ${s.id} (${s.name}) accepted`);
  } else if (r.kind === 'conflict') {
    record(run, s, 'in-progress', { attempts, reason: r.why });
    run.tracked.set(s.id, s);
  } else {
    record(run, s, 'failed', { attempts, reason: r.reason });
    log.error(`evacuation of ${s.id} (${s.name}) from ${host} failed: ${r.reason}`);
  }
}

/**
 * 7. Verification (smart evacuation): follow every tracked instance until it runs elsewhere or failed; failed ones
 * still on the host are requested again up to policy.retries times; the deadline bounds the whole.
 */
async function verify(run: Run): Promise<void> {
  const { policy, tracked } = run;
  const sinceIso = new Date((run.report.since - 60) * 1000).toISOString();
  await poll(async () => {
    const retry = await verifyRound(run, sinceIso);
    if (retry === undefined) return undefined;
    if (retry.length) await forEachLimited(retry, policy.workers, (s) => evacuateOne(run, s));
    return tracked.size === 0 ? true : undefined;
  }, { intervalMs: policy.verifyIntervalMs, until: Math.min(Date.now() + policy.verifyTimeoutSec * 1000, policy.verifyUntil ?? Infinity), pauseFirst: true });
  for (const s of tracked.values()) {
    record(run, s, 'failed', { reason: `not running elsewhere within ${policy.verifyTimeoutSec} s` });
  }
}

/** One look at the tracked instances; returns those to request again (undefined: the migrations could not be listed). */
async function verifyRound(run: Run, sinceIso: string): Promise<NovaServer[] | undefined> {
  const { nova, host, log, policy, tracked } = run;
  let migs: Map<string, NovaMigration>;
  try {
    migs = latestPerInstance(await nova.listEvacuations(host, sinceIso));
  } catch (e) {
    log.warn(`verification of ${host}: could not list evacuations: ${errText(e)}`);
    return undefined;
  }
  const retry: NovaServer[] = [];
  await forEachLimited([...tracked.values()], policy.workers, async (s) => {
    const m = migs.get(s.id);
    if (migrationRunning(m)) return; // a migration still running needs no server lookup
    let cur: NovaServer;
    try {
      cur = await nova.getServer(s.id);
    } catch (e) {
      if (e instanceof OpenStackError && e.status === 404) { record(run, s, 'skipped', { reason: 'instance deleted' }); tracked.delete(s.id); }
      return;
    }
    if (cur.taskState && BUSY_TASK_STATES.has(cur.taskState)) return;
    if (cur.host !== null && cur.host !== host) {
      tracked.delete(s.id);
      if (cur.status === 'ERROR' || (m && MIGRATION_FAILED.has(m.status))) {
        record(run, s, 'failed', { to: cur.host, status: cur.status, reason: `rebuild failed on ${cur.host}` });
        run.report.givenUp.push(s.id);
      } else {
        record(run, s, 'evacuated', { to: cur.host, status: cur.status, reason: undefined });
      }
      return;
    }
    // still on the failed host, Nova no longer working on it: that attempt failed
    if (!m || MIGRATION_FAILED.has(m.status) || cur.status === 'ERROR') {
      tracked.delete(s.id);
      const attempts = run.records.get(s.id)?.attempts ?? 1;
      const why = m ? `evacuation ${m.status}` : `instance ${cur.status} on ${host}`;
      if (attempts <= policy.retries) {
        log.warn(`evacuation of ${s.id} (${s.name}) failed (${why}); requesting it again (attempt ${attempts + 1})`);
        retry.push(cur);
      } else {
        record(run, s, 'failed', { status: cur.status, reason: `${why} after ${attempts} attempts` });
        run.report.givenUp.push(s.id);
      }
    }
  });
  return retry;
}

/** 8. Report: the summary in the host's disabled_reason (over our own marker only), the log and the report file. */
async function reportOutcome(run: Run): Promise<EvacuationReport> {
  const { nova, host, log, policy } = run;
  const r = finish(run.report, run.records, log);
  if (!run.opts.skipForceDown) {
    const moved = r.instances.filter((i) => i.outcome === 'evacuated' || i.outcome === 'accepted' || i.outcome === 'in-progress').length;
    const wanted = r.instances.filter((i) => i.outcome !== 'not-evacuable' && i.outcome !== 'skipped').length;
    const state = r.failed.length ? `evacuation incomplete, ${r.failed.length} of ${wanted} failed,` : `evacuated ${moved}/${wanted}${policy.verify ? ' verified' : ''}`;
    // only over our own marker: the host may have been unfenced (enabled) meanwhile, which must stand
    const [now] = await nova.listServices({ host, binary: 'nova-compute' }).catch(() => [] as NovaService[]);
    if (now && now.status === 'disabled' && (now.disabledReason ?? '').startsWith(MARKER)) {
      await setMarker(nova, host, markerText(state, r.since), log);
    } else {
      log.info(`${host}'s nova-compute is no longer disabled by this evacuation (${now ? now.status : 'unknown'}): its state is left alone`);
    }
  }
  writeReport(run.opts.reportDir, r, log);
  return r;
}

/** The report of a run that ends early (nothing requested), written like any other. */
function done(run: Run): EvacuationReport {
  const r = finish(run.report, run.records, run.log);
  writeReport(run.opts.reportDir, r, run.log);
  return r;
}

/** Evacuate one failed compute host (see the top of this file for the phases). */
export async function evacuateHost(cloud: Cloud, opts: EvacuateHostOptions, log: Logger): Promise<EvacuationReport> {
  const run = startRun(cloud, opts, log);
  const { policy } = run;
  const { services, own } = await guards(run);
  const aggregates = policy.taggedAggregates || policy.reservedHosts.length > 0 ? await run.nova.listAggregates() : [];
  const skipped = await outsideTaggedAggregates(run, aggregates);
  if (skipped) return skipped;
  run.report.since = markerSince(own.disabledReason) ?? run.report.startedAt;
  const fencing = claimAndFence(run, own);
  const tags = opts.instanceFiltering ? prefetchTags(cloud, log) : undefined;
  tags?.catch(() => undefined);
  const keep = await listInstances(run, fencing, tags);
  if (policy.reservedHosts.length > 0 && keep.length > 0) await enableReservedHost(run, services, aggregates);
  await forEachLimited(keep, policy.workers, (s) => evacuateOne(run, s));
  if (policy.verify && run.tracked.size > 0) await verify(run);
  return reportOutcome(run);
}
