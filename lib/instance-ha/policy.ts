/**
 * The evacuation engine's policy and its settings, declared once for NovaEvacuate (OCF parameters) and
 * fence_evacuate (fence options). Kept apart from the engine so that agents load the engine only when they evacuate.
 */
import * as path from 'node:path';
import type { OcfParam } from '../runtime/ocf/index';
import type { FenceOpt } from '../runtime/fence/index';
import { defaultStateDir } from '../openstack/index';

export interface EvacuationPolicy {
  /** evacuation requests in flight at once */
  workers: number;
  /** follow each instance until it runs elsewhere or failed (smart evacuation) */
  verify: boolean;
  /** deadline for the verification of one host, seconds */
  verifyTimeoutSec: number;
  /** the verification also ends by then (epoch ms), however long the requests before it took: the caller's timeout */
  verifyUntil?: number;
  /** pause between two looks at the instances being verified, milliseconds */
  verifyIntervalMs: number;
  /** failed evacuations of an instance still on the host are requested again up to this many times (verify) */
  retries: number;
  /** no evacuation while more than this percentage of nova-compute services is down; 100 = no guard */
  thresholdPercent: number;
  /** no evacuation while no nova-scheduler or no nova-conductor is up */
  checkCriticalServices: boolean;
  /** hosts kept disabled as spare capacity; one is enabled for each failed host */
  reservedHosts: string[];
  /** only evacuate hosts that belong to an aggregate with metadata evacuable=true (when any aggregate has it) */
  taggedAggregates: boolean;
}

/** Defaults keep the reference agents' behaviour, except `workers` (the reference evacuates one at a time). */
export const DEFAULT_POLICY: EvacuationPolicy = {
  workers: 8, verify: false, verifyTimeoutSec: 600, verifyIntervalMs: 2000, retries: 2,
  thresholdPercent: 100, checkCriticalServices: false, reservedHosts: [], taggedAggregates: false,
};

/**
 * The evacuation engine's settings, declared once for NovaEvacuate (OCF parameters) and fence_evacuate (fence
 * options, --dashed-names on the command line). Defaults keep the reference agents' behaviour, except `workers`.
 */
interface EvacuationSetting {
  name: string;
  type: 'integer' | 'boolean' | 'string';
  default: string;
  shortdesc: string;
  longdesc: string;
  apply(p: EvacuationPolicy, v: { str(n: string): string; bool(n: string): boolean; int(n: string): number }): void;
}
const EVACUATION_SETTINGS: readonly EvacuationSetting[] = [
  { name: 'workers', type: 'integer', default: String(DEFAULT_POLICY.workers), shortdesc: 'Evacuations in flight at once',
    longdesc: 'How many evacuation requests are sent to Nova at the same time (the reference agents send one at a time).',
    apply: (p, v) => { p.workers = v.int('workers'); } },
  { name: 'verify_evacuation', type: 'boolean', default: 'false', shortdesc: 'Follow each evacuation to its end (smart evacuation)',
    longdesc: 'Follow each instance (os-migrations, server status, host, task_state) until it runs (ACTIVE or SHUTOFF) on another host or failed; failed evacuations of instances still on the failed host are requested again up to evacuation_retries times. Off: an evacuation accepted by Nova counts as done, as in the reference agents.',
    apply: (p, v) => { p.verify = v.bool('verify_evacuation'); } },
  { name: 'verify_timeout', type: 'integer', default: String(DEFAULT_POLICY.verifyTimeoutSec), shortdesc: 'Deadline of the verification of one host (seconds)',
    longdesc: 'With verify_evacuation, instances not running elsewhere after this many seconds are reported failed and the host stays flagged, so the next attempt picks them up. Keep it below the monitor (NovaEvacuate) or off (fence_evacuate) timeout.',
    apply: (p, v) => { p.verifyTimeoutSec = v.int('verify_timeout'); } },
  { name: 'evacuation_retries', type: 'integer', default: String(DEFAULT_POLICY.retries), shortdesc: 'Retries of a failed evacuation',
    longdesc: 'With verify_evacuation, how many more times the evacuation of an instance is requested after it failed (counted across restarts from the os-migrations records since the host failed). After that the instance is reported and left alone.',
    apply: (p, v) => { p.retries = v.int('evacuation_retries'); } },
  { name: 'threshold', type: 'integer', default: String(DEFAULT_POLICY.thresholdPercent), shortdesc: 'Mass-failure guard (percent of compute services down)',
    longdesc: 'Evacuate nothing while more than this percentage of the nova-compute services is down at once: that many failures at once is more likely a network or control-plane fault. The host stays flagged and is tried again at each monitor; the refusal is logged as an error and shown by "openstack-ha-agents status". 100 disables the guard.',
    apply: (p, v) => { p.thresholdPercent = v.int('threshold'); } },
  { name: 'check_critical_services', type: 'boolean', default: 'false', shortdesc: 'Wait for nova-scheduler and nova-conductor',
    longdesc: 'Evacuate nothing while no nova-scheduler or no nova-conductor service is up (every evacuation would fail); the host stays flagged.',
    apply: (p, v) => { p.checkCriticalServices = v.bool('check_critical_services'); } },
  { name: 'reserved_hosts', type: 'string', default: '', shortdesc: 'Spare compute hosts (comma or space separated)',
    longdesc: 'Compute hosts (Nova names) kept disabled as spare capacity. Before evacuating a failed host, one of them that is up and still disabled is enabled (one sharing a host aggregate with the failed host first), so that the scheduler can place the instances on it.',
    apply: (p, v) => { p.reservedHosts = v.str('reserved_hosts').split(/[\s,]+/).filter(Boolean); } },
  { name: 'tagged_aggregates', type: 'boolean', default: 'false', shortdesc: 'Only evacuate hosts of aggregates tagged evacuable',
    longdesc: 'When some host aggregate has the metadata evacuable=true, only evacuate failed hosts that belong to such an aggregate (the others are fenced, not evacuated). When no aggregate is tagged, every host is evacuated.',
    apply: (p, v) => { p.taggedAggregates = v.bool('tagged_aggregates'); } },
];

export const OCF_EVACUATION_PARAMS: readonly OcfParam[] = EVACUATION_SETTINGS.map((s) => ({
  name: s.name, type: s.type, default: s.default, shortdesc: s.shortdesc, longdesc: s.longdesc,
}));

export const FENCE_EVACUATION_OPTS: readonly FenceOpt[] = EVACUATION_SETTINGS.map((s) => ({
  name: s.name, long: s.name.replace(/_/g, '-'), arg: s.type === 'boolean' ? undefined : s.type === 'integer' ? '[number]' : '[list]',
  type: s.type, default: s.type === 'boolean' ? (s.default === 'true' ? 'True' : 'False') : s.default, shortdesc: s.shortdesc,
}));

/** The policy from either agent's settings. */
export function evacuationPolicy(v: { str(n: string): string; bool(n: string): boolean; int(n: string): number }): EvacuationPolicy {
  const p: EvacuationPolicy = { ...DEFAULT_POLICY, reservedHosts: [] };
  for (const s of EVACUATION_SETTINGS) s.apply(p, v);
  return p;
}

/** Where the engine writes its per-host reports (read by `openstack-ha-agents status`). */
export function reportDir(): string {
  return path.join(defaultStateDir(), 'reports');
}

/** Range checks shared by both agents; returns the first problem. */
export function evacuationPolicyProblem(p: EvacuationPolicy): string | undefined {
  if (!(p.workers >= 1 && p.workers <= 256)) return 'workers must be between 1 and 256';
  if (!(p.verifyTimeoutSec >= 1)) return 'verify_timeout must be at least 1 second';
  if (!(p.retries >= 0 && p.retries <= 100)) return 'evacuation_retries must be between 0 and 100';
  if (!(p.thresholdPercent >= 0 && p.thresholdPercent <= 100)) return 'threshold must be a percentage between 0 and 100';
  return undefined;
}

