/**
 * The evacuation engine shared by NovaEvacuate (in-process, no fork per host) and fence_evacuate.
 *
 * evacuateHost(): make sure Nova sees the host's nova-compute service as down (force it down), list every instance
 * on the host across all projects, keep the evacuable ones, and ask Nova to evacuate each, a few at a time.
 * Instances Nova is already working on (a task_state such as "rebuilding") are left alone, so a retry after a
 * partial evacuation, or a takeover of another node's claim, never evacuates an instance twice.
 */
import type { Logger } from './log';
import type { Cloud, NovaServer } from './openstack/types';
import { OpenStackError } from './openstack/types';

export const EVACUABLE_TAG = 'evacuable';

export interface EvacuateHostOptions {
  /** Nova's name for the host (os-services host) */
  host: string;
  /** no shared storage: instances are rebuilt from their image (only matters below microversion 2.14) */
  noSharedStorage: boolean;
  /** honour the evacuable tag on flavors and images; false evacuates every instance */
  instanceFiltering: boolean;
  /** evacuate calls in flight at once */
  concurrency?: number;
  /** leave the nova-compute service as it is (the caller forced it down already) */
  skipForceDown?: boolean;
  /** called with each server as its evacuation is accepted (timelines, tests) */
  onAccepted?: (server: NovaServer) => void;
}

export interface EvacuateHostResult {
  host: string;
  total: number;
  accepted: string[];
  /** not evacuable by the tag rules */
  filtered: string[];
  /** already in progress (task_state set) or in a state Nova cannot evacuate */
  skipped: { id: string; why: string }[];
  failed: { id: string; reason: string }[];
}

/** Task states meaning Nova is already moving or rebuilding the instance. */
const BUSY_TASK_STATES = new Set(['rebuilding', 'rebuild_block_device_mapping', 'rebuild_spawning', 'migrating', 'resize_migrating', 'resize_prep', 'deleting']);
/** Instances in these states cannot be evacuated; they are reported, not failed. */
const NOT_EVACUABLE_STATUS = new Set(['DELETED', 'SOFT_DELETED', 'BUILD', 'SHELVED_OFFLOADED']);

function isTrueTag(v: string | undefined): boolean {
  return v !== undefined && v.trim().toLowerCase() === 'true';
}

/** Which of these servers are evacuable under the reference rules (flavor extra_specs or image tag). */
export async function selectEvacuable(cloud: Cloud, servers: NovaServer[], instanceFiltering: boolean, log: Logger): Promise<{ keep: NovaServer[]; filtered: NovaServer[] }> {
  if (!instanceFiltering || servers.length === 0) return { keep: servers, filtered: [] };
  const nova = cloud.nova();
  const embedded = servers.some((s) => s.flavorExtraSpecs !== undefined);
  const [flavorIds, flavorNames, imageIds] = await Promise.all([
    embedded ? Promise.resolve(new Set<string>()) : nova.evacuableFlavorIds(),
    nova.evacuableFlavorNames(),
    cloud.images().evacuableImageIds().catch((e: unknown) => {
      // a cloud without Glance in the catalog (or an unreachable one) must not block the evacuation
      log.warn(`could not read image tags, treating no image as tagged: ${(e as Error).message}`);
      return new Set<string>();
    }),
  ]);
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

/** Force the host's nova-compute down (if it isn't) so Nova accepts evacuations. */
export async function forceHostDown(cloud: Cloud, host: string, log: Logger, reason = 'fenced by openstack-ha-agents'): Promise<void> {
  const nova = cloud.nova();
  const [svc] = await nova.listServices({ host, binary: 'nova-compute' });
  if (!svc) throw new OpenStackError(`no nova-compute service on host ${host}`, 404);
  if (!svc.forcedDown) {
    await nova.setForcedDown(host, true);
    log.info(`forced nova-compute on ${host} down`);
  }
  if (svc.status !== 'disabled') {
    await nova.disableService(host, reason);
    log.info(`disabled nova-compute on ${host}`);
  }
}

async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      await fn(item);
    }
  });
  await Promise.all(workers);
}

export async function evacuateHost(cloud: Cloud, opts: EvacuateHostOptions, log: Logger): Promise<EvacuateHostResult> {
  const nova = cloud.nova();
  if (!opts.skipForceDown) await forceHostDown(cloud, opts.host, log);
  const servers = await nova.listServersOnHost(opts.host);
  const result: EvacuateHostResult = { host: opts.host, total: servers.length, accepted: [], filtered: [], skipped: [], failed: [] };
  const candidates: NovaServer[] = [];
  for (const s of servers) {
    if (s.taskState && BUSY_TASK_STATES.has(s.taskState)) result.skipped.push({ id: s.id, why: `task_state ${s.taskState}` });
    else if (NOT_EVACUABLE_STATUS.has(s.status)) result.skipped.push({ id: s.id, why: `status ${s.status}` });
    else candidates.push(s);
  }
  const { keep, filtered } = await selectEvacuable(cloud, candidates, opts.instanceFiltering, log);
  result.filtered = filtered.map((s) => s.id);
  for (const s of filtered) log.debug(`instance ${s.id} (${s.name}) is not tagged evacuable: left on ${opts.host}`);
  log.info(`evacuating ${keep.length} of ${servers.length} instance(s) from ${opts.host}` +
    (result.skipped.length ? ` (${result.skipped.length} already in progress or not evacuable)` : ''));
  await pool(keep, opts.concurrency ?? 8, async (s) => {
    try {
      await nova.evacuate(s.id, { onSharedStorage: !opts.noSharedStorage });
      result.accepted.push(s.id);
      opts.onAccepted?.(s);
      log.debug(`evacuation of ${s.id} (${s.name}) accepted`);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      // 409: Nova started working on it meanwhile (another evacuator's request): not a failure, not ours
      if (e instanceof OpenStackError && e.status === 409) { result.skipped.push({ id: s.id, why: reason }); return; }
      result.failed.push({ id: s.id, reason });
      log.error(`evacuation of ${s.id} (${s.name}) from ${opts.host} failed: ${reason}`);
    }
  });
  return result;
}
