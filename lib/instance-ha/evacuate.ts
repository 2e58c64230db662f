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
 *     again up to `retries` times; a deadline bounds the whole.
 *
 * Crash safety: everything that says "this instance is done or being done" lives in Nova (the instance's host and
 * task_state, the evacuation migration records), so an evacuator killed mid-host and restarted anywhere resumes
 * from Nova's state and never asks twice for an instance Nova is already moving or has moved. Nova itself refuses
 * a second evacuation of an instance in progress (409) or already running elsewhere (400 "still in use").
 *
 * The result is a per-host report (one record per instance), logged as one JSON line plus one human line per
 * instance, and written to REPORT_DIR/<host>.json for `openstack-ha-agents status`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../core/log';
import {
  OpenStackError, compareMicroversions, forEachLimited,
  type Cloud, type NovaAggregate, type NovaClient, type NovaMigration, type NovaServer, type NovaService,
} from '../openstack/index';
import { DEFAULT_POLICY, type EvacuationPolicy } from './policy';
import { MARKER, markerSince, markerText } from './marker';

export { MARKER, markerSince, markerText };
export { forceHostDown } from './hosts';

export { DEFAULT_POLICY, type EvacuationPolicy };

export const EVACUABLE_TAG = 'evacuable';

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

export type InstanceOutcome =
  /** verified: running (or shut off) on another host */
  | 'evacuated'
  /** Nova accepted the evacuation (not verified) */
  | 'accepted'
  /** Nova was already moving it when we looked (not verified) */
  | 'in-progress'
  /** not tagged evacuable, or the host is not in an evacuable aggregate */
  | 'not-evacuable'
  /** in a state Nova cannot evacuate, or gone */
  | 'skipped'
  | 'failed';

export interface InstanceRecord {
  id: string;
  name: string;
  outcome: InstanceOutcome;
  from: string;
  to?: string | null;
  status?: string;
  /** evacuation requests made for it since the host failed (ours and earlier ones) */
  attempts: number;
  reason?: string;
}

export interface EvacuationReport {
  host: string;
  by?: string;
  /** epoch seconds: when the host's evacuation began (from the marker when resuming) */
  since: number;
  startedAt: number;
  finishedAt: number;
  verified: boolean;
  /** set when a guard stopped the evacuation */
  blocked?: string;
  /** the reserved host enabled for it */
  reservedHostEnabled?: string;
  total: number;
  instances: InstanceRecord[];
  /** ids of instances whose evacuation was accepted (or verified) */
  accepted: string[];
  /** not evacuable by the tag rules */
  filtered: string[];
  /** already in progress or in a state Nova cannot evacuate */
  skipped: { id: string; why: string }[];
  failed: { id: string; reason: string }[];
  /** failures that are final (retries exhausted, rebuild failed elsewhere): retrying the host will not help */
  givenUp: string[];
}

/** A guard refused to evacuate; nothing was changed in Nova. */
export class EvacuationBlocked extends Error {
  constructor(message: string, readonly report: EvacuationReport) { super(message); }
}

/** Task states meaning Nova is already moving or rebuilding the instance. */
const BUSY_TASK_STATES = new Set(['rebuilding', 'rebuild_block_device_mapping', 'rebuild_spawning', 'migrating', 'resize_migrating', 'resize_prep', 'deleting']);
/** Instances in these states cannot be evacuated; they are reported, not failed. */
const NOT_EVACUABLE_STATUS = new Set(['DELETED', 'SOFT_DELETED', 'BUILD', 'SHELVED_OFFLOADED']);
const MIGRATION_DONE = new Set(['done', 'completed', 'finished', 'confirmed']);
const MIGRATION_FAILED = new Set(['failed', 'error']);

function isTrueTag(v: string | undefined): boolean {
  return v !== undefined && v.trim().toLowerCase() === 'true';
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowSec = () => Math.floor(Date.now() / 1000);
function errText(e: unknown): string { return e instanceof Error ? e.message : String(e); }

/** Nova's timestamps have no zone and are UTC. */
export function novaTime(t: string | null | undefined): number {
  if (!t) return NaN;
  return Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(t) ? t : `${t}Z`) / 1000;
}

// ---- guards -------------------------------------------------------------------------------------------------

export interface GuardVerdict { ok: boolean; reason?: string; downPercent: number; down: number; total: number }

/** The mass-failure and critical-services guards over one os-services listing. */
export function checkGuards(services: NovaService[], policy: Pick<EvacuationPolicy, 'thresholdPercent' | 'checkCriticalServices'>): GuardVerdict {
  const computes = services.filter((s) => s.binary === 'nova-compute');
  const down = computes.filter((s) => s.state === 'down' || s.forcedDown).length;
  const total = computes.length;
  const downPercent = total ? Math.round((down / total) * 1000) / 10 : 0;
  if (total > 0 && downPercent > policy.thresholdPercent) {
    return { ok: false, downPercent, down, total, reason: `mass failure: ${down} of ${total} compute services are down (${downPercent}%), above the threshold of ${policy.thresholdPercent}%` };
  }
  if (policy.checkCriticalServices) {
    for (const binary of ['nova-scheduler', 'nova-conductor']) {
      const up = services.some((s) => s.binary === binary && s.state === 'up' && s.status === 'enabled');
      if (!up) return { ok: false, downPercent, down, total, reason: `no ${binary} service is up: evacuations would fail` };
    }
  }
  return { ok: true, downPercent, down, total };
}

// ---- tags ----------------------------------------------------------------------------------------------------

export interface EvacuableTags { flavorIds?: Set<string>; flavorNames: Set<string>; imageIds: Set<string> }

/**
 * The flavors and images tagged evacuable. Flavor ids are only needed below microversion 2.47 (later servers embed
 * their flavor's extra_specs).
 */
export async function prefetchTags(cloud: Cloud, log: Logger): Promise<EvacuableTags> {
  const nova = cloud.nova();
  const embedded = compareMicroversions(await nova.microversion(), '2.47') >= 0;
  const [flavorIds, flavorNames, imageIds] = await Promise.all([
    embedded ? Promise.resolve(undefined) : nova.evacuableFlavorIds(),
    nova.evacuableFlavorNames(),
    cloud.images().evacuableImageIds().catch((e: unknown) => {
      // a cloud without Glance in the catalog (or an unreachable one) must not block the evacuation
      log.warn(`could not read image tags, treating no image as tagged: ${errText(e)}`);
      return new Set<string>();
    }),
  ]);
  return { flavorIds, flavorNames, imageIds };
}

/** Which of these servers are evacuable under the reference rules (flavor extra_specs or image tag). */
export async function selectEvacuable(cloud: Cloud, servers: NovaServer[], instanceFiltering: boolean, log: Logger,
  prefetched?: Promise<EvacuableTags>): Promise<{ keep: NovaServer[]; filtered: NovaServer[] }> {
  if (!instanceFiltering || servers.length === 0) return { keep: servers, filtered: [] };
  const tags = await (prefetched ?? prefetchTags(cloud, log));
  const embedded = servers.some((s) => s.flavorExtraSpecs !== undefined);
  const flavorIds = embedded ? new Set<string>() : (tags.flavorIds ?? await cloud.nova().evacuableFlavorIds());
  const { flavorNames, imageIds } = tags;
  if (flavorIds.size === 0 && flavorNames.size === 0 && imageIds.size === 0) {
    log.debug('no flavor or image is tagged evacuable: evacuating every instance');
    return { keep: servers, filtered: [] };
  }
  const keep: NovaServer[] = [];
  const filtered: NovaServer[] = [];
  for (const s of servers) {
    const byFlavor = s.flavorExtraSpecs !== undefined
      ? isTrueTag(s.flavorExtraSpecs[EVACUABLE_TAG])
      : (s.flavorId !== undefined && flavorIds.has(s.flavorId)) || (s.flavorName !== undefined && flavorNames.has(s.flavorName));
    const byImage = s.imageId !== undefined && imageIds.has(s.imageId);
    (byFlavor || byImage ? keep : filtered).push(s);
  }
  return { keep, filtered };
}

/** undefined: evacuate; else why not (the host is in no evacuable aggregate while some aggregate is tagged). */
export function aggregateVerdict(aggregates: NovaAggregate[], host: string): string | undefined {
  const tagged = aggregates.filter((a) => isTrueTag(a.metadata[EVACUABLE_TAG]));
  if (tagged.length === 0) return undefined;
  if (tagged.some((a) => a.hosts.includes(host))) return undefined;
  return `${host} is in no aggregate tagged ${EVACUABLE_TAG}=true (${tagged.map((a) => a.name).join(', ')})`;
}

/** The reserved host to enable for a failed one: up, still disabled, sharing an aggregate with it first. */
export function pickReservedHost(services: NovaService[], aggregates: NovaAggregate[], reserved: string[], failed: string): NovaService | undefined {
  const spare = services.filter((s) => s.binary === 'nova-compute' && reserved.includes(s.host) && s.host !== failed &&
    s.state === 'up' && !s.forcedDown && s.status === 'disabled');
  const peers = new Set(aggregates.filter((a) => a.hosts.includes(failed)).flatMap((a) => a.hosts));
  return spare.find((s) => peers.has(s.host)) ?? spare[0];
}

// ---- the host ------------------------------------------------------------------------------------------------

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
    if (attempt > 1) await sleep(Math.min(delayMs * 2 ** (attempt - 2), delayMs * 8));
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

function latestPerInstance(migrations: NovaMigration[]): Map<string, NovaMigration> {
  const out = new Map<string, NovaMigration>();
  for (const m of migrations) {
    const cur = out.get(m.instanceUuid);
    if (!cur || m.id > cur.id) out.set(m.instanceUuid, m);
  }
  return out;
}

function humanLine(r: InstanceRecord): string {
  // the status is the one seen last: on the new host once verified, before the evacuation otherwise
  const where = r.to ? `${r.from} -> ${r.to}${r.status ? ` ${r.status}` : ''}` : `from ${r.from}${r.status ? ` (was ${r.status})` : ''}`;
  return `instance ${r.id} (${r.name}): ${r.outcome} ${where}` +
    `${r.attempts ? `, ${r.attempts} attempt${r.attempts > 1 ? 's' : ''}` : ''}${r.reason ? ` (${r.reason})` : ''}`;
}

export function writeReport(dir: string | undefined, report: EvacuationReport, log: Logger): void {
  if (!dir) return;
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, `${report.host.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(report, null, 1) + '\n', { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch (e) {
    log.warn(`could not write the evacuation report of ${report.host} to ${dir}: ${errText(e)}`);
  }
}

export function readReports(dir: string): EvacuationReport[] {
  let names: string[];
  try { names = fs.readdirSync(dir).filter((n) => n.endsWith('.json')); } catch { return []; }
  const out: EvacuationReport[] = [];
  for (const n of names) {
    try { out.push(JSON.parse(fs.readFileSync(path.join(dir, n), 'utf8')) as EvacuationReport); } catch { /* being written */ }
  }
  return out;
}

function finish(report: EvacuationReport, records: Map<string, InstanceRecord>, log: Logger): EvacuationReport {
  report.instances = [...records.values()];
  report.finishedAt = nowSec();
  for (const r of report.instances) {
    if (r.outcome === 'evacuated' || r.outcome === 'accepted') report.accepted.push(r.id);
    else if (r.outcome === 'not-evacuable') report.filtered.push(r.id);
    else if (r.outcome === 'skipped' || r.outcome === 'in-progress') report.skipped.push({ id: r.id, why: r.reason ?? r.outcome });
    else if (r.outcome === 'failed') report.failed.push({ id: r.id, reason: r.reason ?? 'failed' });
  }
  for (const r of report.instances) {
    if (r.outcome === 'not-evacuable') log.debug(humanLine(r));
    else if (r.outcome === 'failed') log.error(humanLine(r));
    else log.info(humanLine(r));
  }
  const { instances: _omit, ...summary } = report;
  log.info(`evacuation report ${JSON.stringify({ ...summary, instances: report.instances.map((r) => ({ id: r.id, outcome: r.outcome, to: r.to, attempts: r.attempts })) })}`);
  return report;
}

export async function evacuateHost(cloud: Cloud, opts: EvacuateHostOptions, log: Logger): Promise<EvacuationReport> {
  const policy: EvacuationPolicy = { ...DEFAULT_POLICY, ...Object.fromEntries(Object.entries(opts.policy ?? {}).filter(([, v]) => v !== undefined)) };
  const nova = cloud.nova();
  const host = opts.host;
  const retryDelay = opts.retryDelayMs ?? 1000;
  const startedAt = nowSec();
  const report: EvacuationReport = {
    host, by: opts.by, since: startedAt, startedAt, finishedAt: startedAt, verified: policy.verify, total: 0, instances: [],
    accepted: [], filtered: [], skipped: [], failed: [], givenUp: [],
  };
  const records = new Map<string, InstanceRecord>();
  const record = (s: NovaServer, outcome: InstanceOutcome, extra: Partial<InstanceRecord> = {}) => {
    const prev = records.get(s.id);
    records.set(s.id, { id: s.id, name: s.name, from: host, attempts: prev?.attempts ?? 0, ...prev, outcome, ...extra });
  };

  // 1. guards, on one listing of every service
  const needAll = policy.thresholdPercent < 100 || policy.checkCriticalServices || policy.reservedHosts.length > 0;
  const services = needAll ? await nova.listServices() : await nova.listServices({ host, binary: 'nova-compute' });
  if (policy.thresholdPercent < 100 || policy.checkCriticalServices) {
    const v = checkGuards(services, policy);
    if (!v.ok) {
      report.blocked = v.reason;
      log.error(`EVACUATION OF ${host} BLOCKED: ${v.reason}. Nothing was evacuated; the host stays flagged and is tried again.`);
      writeReport(opts.reportDir, report, log);
      throw new EvacuationBlocked(`evacuation of ${host} blocked: ${v.reason}`, report);
    }
  }
  const own = services.find((s) => s.host === host && s.binary === 'nova-compute');
  if (!own) throw new OpenStackError(`no nova-compute service on host ${host}`, 404);

  // 2. tagged aggregates
  let aggregates: NovaAggregate[] = [];
  if (policy.taggedAggregates || policy.reservedHosts.length > 0) aggregates = await nova.listAggregates();
  if (policy.taggedAggregates) {
    const why = aggregateVerdict(aggregates, host);
    if (why) {
      const servers = await nova.listServersOnHost(host);
      report.total = servers.length;
      for (const s of servers) record(s, 'not-evacuable', { reason: why });
      log.notice(`not evacuating ${host}: ${why}`);
      const r = finish(report, records, log);
      writeReport(opts.reportDir, r, log);
      return r;
    }
  }

  // 3. force down, disable, marker (resuming keeps the epoch of the first attempt), in one request from 2.53; the
  //    listings (5.) and the tag lookups run meanwhile: none of them depends on the service's state
  const since = markerSince(own.disabledReason) ?? startedAt;
  report.since = since;
  const fence = opts.skipForceDown ? Promise.resolve() : (async () => {
    const text = markerText('evacuating', since, opts.by ? `by ${opts.by}` : '');
    try {
      await nova.fenceService(own, text);
    } catch (e) {
      // the marker is a courtesy; forced down is not
      if (!own.forcedDown) await nova.setForcedDown(host, true);
      log.warn(`could not record "${text}" on ${host}'s nova-compute: ${errText(e)}`);
    }
    if (!own.forcedDown) log.info(`forced nova-compute on ${host} down`);
  })();
  const tags = opts.instanceFiltering ? prefetchTags(cloud, log) : undefined;
  tags?.catch(() => undefined);

  // 5. what Nova says about each instance
  const [servers, migrations] = await Promise.all([
    nova.listServersOnHost(host),
    nova.listEvacuations(host, new Date((since - 60) * 1000).toISOString()).catch((e: unknown) => {
      log.warn(`could not list the evacuations from ${host}: ${errText(e)}`);
      return [] as NovaMigration[];
    }),
    fence,
  ]);
  report.total = servers.length;
  const recent = migrations.filter((m) => !(novaTime(m.createdAt) < since - 60));
  const failedAttempts = new Map<string, number>();
  for (const m of recent) if (MIGRATION_FAILED.has(m.status)) failedAttempts.set(m.instanceUuid, (failedAttempts.get(m.instanceUuid) ?? 0) + 1);
  const latest = latestPerInstance(recent);
  const tracked = new Map<string, NovaServer>();
  const candidates: NovaServer[] = [];
  for (const s of servers) {
    const m = latest.get(s.id);
    const attempts = failedAttempts.get(s.id) ?? 0;
    record(s, 'skipped', { attempts, status: s.status });
    if (s.taskState && BUSY_TASK_STATES.has(s.taskState)) {
      record(s, 'in-progress', { reason: `task_state ${s.taskState}`, attempts: attempts + 1 });
      tracked.set(s.id, s);
    } else if (m && !MIGRATION_DONE.has(m.status) && !MIGRATION_FAILED.has(m.status)) {
      record(s, 'in-progress', { reason: `evacuation ${m.status}`, attempts: attempts + 1 });
      tracked.set(s.id, s);
    } else if (NOT_EVACUABLE_STATUS.has(s.status)) {
      record(s, 'skipped', { reason: `status ${s.status}` });
    } else if (attempts > policy.retries && policy.verify) {
      record(s, 'failed', { reason: `${attempts} evacuation attempts failed; giving up` });
      report.givenUp.push(s.id);
    } else {
      candidates.push(s);
    }
  }
  const { keep, filtered } = await selectEvacuable(cloud, candidates, opts.instanceFiltering, log, tags);
  for (const s of filtered) record(s, 'not-evacuable', { reason: 'not tagged evacuable' });
  log.info(`evacuating ${keep.length} of ${servers.length} instance(s) from ${host} with ${policy.workers} worker(s)` +
    (tracked.size ? ` (${tracked.size} already in progress)` : ''));

  // 4. a reserved host for the capacity
  if (policy.reservedHosts.length > 0 && keep.length > 0) {
    const spare = pickReservedHost(services, aggregates, policy.reservedHosts, host);
    if (spare) {
      try {
        await nova.enableService(spare.host);
        report.reservedHostEnabled = spare.host;
        log.notice(`enabled reserved host ${spare.host} for the instances of ${host}`);
      } catch (e) {
        log.warn(`could not enable reserved host ${spare.host}: ${errText(e)}`);
      }
    } else {
      log.warn(`no reserved host is up and still disabled (${policy.reservedHosts.join(', ')}): evacuating onto the enabled hosts`);
    }
  }

  // 6. the requests
  const request = async (s: NovaServer) => {
    const prev = records.get(s.id);
    const r = await requestEvacuation(nova, s, host, opts.noSharedStorage, log, retryDelay, !opts.skipForceDown);
    const attempts = (prev?.attempts ?? 0) + 1;
    if (r.kind === 'accepted') {
      record(s, 'accepted', { attempts, reason: undefined });
      tracked.set(s.id, s);
      opts.onAccepted?.(s);
      log.debug(`evacuation of ${s.id} (${s.name}) accepted`);
    } else if (r.kind === 'conflict') {
      record(s, 'in-progress', { attempts, reason: r.why });
      tracked.set(s.id, s);
    } else {
      record(s, 'failed', { attempts, reason: r.reason });
      log.error(`evacuation of ${s.id} (${s.name}) from ${host} failed: ${r.reason}`);
    }
  };
  await forEachLimited(keep, policy.workers, request);

  // 7. verification
  if (policy.verify && tracked.size > 0) {
    const deadline = Math.min(Date.now() + policy.verifyTimeoutSec * 1000, policy.verifyUntil ?? Infinity);
    const sinceIso = new Date((since - 60) * 1000).toISOString();
    while (tracked.size > 0 && Date.now() < deadline) {
      await sleep(Math.min(policy.verifyIntervalMs, Math.max(0, deadline - Date.now())));
      let migs: Map<string, NovaMigration>;
      try {
        migs = latestPerInstance(await nova.listEvacuations(host, sinceIso));
      } catch (e) {
        log.warn(`verification of ${host}: could not list evacuations: ${errText(e)}`);
        continue;
      }
      const retry: NovaServer[] = [];
      await forEachLimited([...tracked.values()], policy.workers, async (s) => {
        const m = migs.get(s.id);
        // a migration still running needs no server lookup
        if (m && !MIGRATION_DONE.has(m.status) && !MIGRATION_FAILED.has(m.status)) return;
        let cur: NovaServer;
        try {
          cur = await nova.getServer(s.id);
        } catch (e) {
          if (e instanceof OpenStackError && e.status === 404) { record(s, 'skipped', { reason: 'instance deleted' }); tracked.delete(s.id); }
          return;
        }
        if (cur.taskState && BUSY_TASK_STATES.has(cur.taskState)) return;
        if (cur.host !== null && cur.host !== host) {
          tracked.delete(s.id);
          if (cur.status === 'ERROR' || (m && MIGRATION_FAILED.has(m.status))) {
            record(s, 'failed', { to: cur.host, status: cur.status, reason: `rebuild failed on ${cur.host}` });
            report.givenUp.push(s.id);
          } else {
            record(s, 'evacuated', { to: cur.host, status: cur.status, reason: undefined });
          }
          return;
        }
        // still on the failed host, Nova no longer working on it: that attempt failed
        if (!m || MIGRATION_FAILED.has(m.status) || cur.status === 'ERROR') {
          tracked.delete(s.id);
          const attempts = records.get(s.id)?.attempts ?? 1;
          const why = m ? `evacuation ${m.status}` : `instance ${cur.status} on ${host}`;
          if (attempts <= policy.retries) {
            log.warn(`evacuation of ${s.id} (${s.name}) failed (${why}); requesting it again (attempt ${attempts + 1})`);
            retry.push(cur);
          } else {
            record(s, 'failed', { status: cur.status, reason: `${why} after ${attempts} attempts` });
            report.givenUp.push(s.id);
          }
        }
      });
      if (retry.length) await forEachLimited(retry, policy.workers, request);
    }
    for (const s of tracked.values()) {
      record(s, 'failed', { reason: `not running elsewhere within ${policy.verifyTimeoutSec} s` });
    }
  }

  const r = finish(report, records, log);
  if (!opts.skipForceDown) {
    const moved = r.instances.filter((i) => i.outcome === 'evacuated' || i.outcome === 'accepted' || i.outcome === 'in-progress').length;
    const wanted = r.instances.filter((i) => i.outcome !== 'not-evacuable' && i.outcome !== 'skipped').length;
    const state = r.failed.length ? `evacuation incomplete, ${r.failed.length} of ${wanted} failed,` : `evacuated ${moved}/${wanted}${policy.verify ? ' verified' : ''}`;
    // only over our own marker: the host may have been unfenced (enabled) meanwhile, which must stand
    const [now] = await nova.listServices({ host, binary: 'nova-compute' }).catch(() => [] as NovaService[]);
    if (now && now.status === 'disabled' && (now.disabledReason ?? '').startsWith(MARKER)) {
      await setMarker(nova, host, markerText(state, since), log);
    } else {
      log.info(`${host}'s nova-compute is no longer disabled by this evacuation (${now ? now.status : 'unknown'}): its state is left alone`);
    }
  }
  writeReport(opts.reportDir, r, log);
  return r;
}
