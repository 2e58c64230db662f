/**
 * What the evacuation engine decides from Nova's state, without changing anything: the guards (mass failure,
 * critical services), which instances are evacuable (the evacuable tag on flavors and images, tagged aggregates),
 * which reserved host to enable, and how to read Nova's task states and migration records.
 */
import type { Logger } from '../core/log';
import { errText, isTrueTag } from '../core/text';
import { openstackTimeMs } from '../core/time';
import { compareMicroversions, type Cloud, type NovaAggregate, type NovaMigration, type NovaServer, type NovaService } from '../openstack/index';
import type { EvacuationPolicy } from './policy';

export const EVACUABLE_TAG = 'evacuable';

/** Task states meaning Nova is already moving or rebuilding the instance. */
export const BUSY_TASK_STATES = new Set(['rebuilding', 'rebuild_block_device_mapping', 'rebuild_spawning', 'migrating', 'resize_migrating', 'resize_prep', 'deleting']);
/** Instances in these states cannot be evacuated; they are reported, not failed. */
export const NOT_EVACUABLE_STATUS = new Set(['DELETED', 'SOFT_DELETED', 'BUILD', 'SHELVED_OFFLOADED']);
export const MIGRATION_DONE = new Set(['done', 'completed', 'finished', 'confirmed']);
export const MIGRATION_FAILED = new Set(['failed', 'error']);

/** Nova's timestamps have no zone and are UTC; epoch seconds. */
export function novaTime(t: string | null | undefined): number {
  return openstackTimeMs(t) / 1000;
}

/** A migration Nova is still working on. */
export function migrationRunning(m: NovaMigration | undefined): boolean {
  return !!m && !MIGRATION_DONE.has(m.status) && !MIGRATION_FAILED.has(m.status);
}

/** The newest migration record of each instance. */
export function latestPerInstance(migrations: NovaMigration[]): Map<string, NovaMigration> {
  const out = new Map<string, NovaMigration>();
  for (const m of migrations) {
    const cur = out.get(m.instanceUuid);
    if (!cur || m.id > cur.id) out.set(m.instanceUuid, m);
  }
  return out;
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
