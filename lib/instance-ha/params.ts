/**
 * What the instance-HA agents share: their OpenStack connection parameters (declared once for OCF and once for
 * the fence-agent option style, with the reference agents' names), the mapping to the client library, and the
 * mapping between cluster node names and Nova's host names.
 */
import type { OcfParam, OcfContext } from '../runtime/ocf/index';
import { OcfError, OCF } from '../runtime/ocf/index';
import type { FenceOpt, FenceContext } from '../runtime/fence/index';
import type { Cloud, CloudParams, NovaService } from '../openstack/types';
import { OpenStackError } from '../openstack/types';
import type { Logger } from '../core/log';
import { Attrd, EVACUATE_ATTR, parseEvacState } from '../pacemaker/index';
import * as path from 'node:path';
import { defaultStateDir } from '../openstack/token-cache';
import { ConfigError, resolveCloudConfig } from '../openstack/config';
import { DEFAULT_POLICY, type EvacuationPolicy } from './evacuate';

export const ENDPOINT_TYPES = ['publicURL', 'internalURL', 'adminURL', 'public', 'internal', 'admin'] as const;

const AUTH_NOTE = 'Either cloud, or auth_url with username, password and tenant_name (project_name), must be set.';

/** OCF parameters for reaching OpenStack (NovaEvacuate, nova-compute-wait), reference names first. */
export const OCF_CLOUD_PARAMS: readonly OcfParam[] = [
  { name: 'auth_url', type: 'string', shortdesc: 'Authorization URL', longdesc: `Keystone URL used to authenticate in admin context, e.g. http://keystone.example.com:5000/v3. ${AUTH_NOTE}` },
  { name: 'username', type: 'string', shortdesc: 'Username', longdesc: 'Username for connecting to keystone in admin context.' },
  { name: 'password', type: 'string', secret: true, shortdesc: 'Password', longdesc: 'Password for connecting to keystone in admin context. Prefer cloud with a clouds.yaml readable by root only, so that no password is kept in the CIB.' },
  { name: 'tenant_name', type: 'string', shortdesc: 'Tenant name', longdesc: 'Tenant (project) name for connecting to keystone in admin context. Note that with Keystone V3 tenant names are only unique within a domain.' },
  { name: 'project_name', type: 'string', aliasOf: 'tenant_name', shortdesc: 'Project name', longdesc: 'Keystone v3 name for tenant_name; either may be used.' },
  { name: 'user_domain', type: 'string', default: 'Default', shortdesc: 'Keystone v3 user domain', longdesc: 'Keystone v3 user domain name.' },
  { name: 'project_domain', type: 'string', default: 'Default', shortdesc: 'Keystone v3 project domain', longdesc: 'Keystone v3 project domain name.' },
  { name: 'cloud', type: 'string', shortdesc: 'Cloud name in clouds.yaml', longdesc: 'Name of an entry in clouds.yaml (/etc/openstack/clouds.yaml, ~/.config/openstack/clouds.yaml), used for whatever auth_url, username, password and the other connection parameters leave unset. Application credentials are configured this way.' },
  { name: 'domain', type: 'string', shortdesc: 'DNS domain', longdesc: 'DNS domain in which hosts live, useful when the cluster uses short names and nova uses FQDN.' },
  { name: 'endpoint_type', type: 'string', default: 'internalURL', values: ENDPOINT_TYPES, shortdesc: 'Nova API location (internal, public or admin URL)', longdesc: 'Which endpoint of the service catalog to use.' },
  { name: 'region_name', type: 'string', shortdesc: 'Region name', longdesc: 'Region name for connecting to nova.' },
  { name: 'insecure', type: 'boolean', default: 'false', shortdesc: 'Allow insecure TLS requests', longdesc: 'Explicitly allow the agent to perform "insecure" TLS (https) requests. The server\'s certificate will not be verified against any certificate authorities. This option should be used with caution.' },
];

/** Fence-agent options for reaching OpenStack, exactly as fence-agents' fence_compute declares them. */
export const FENCE_CLOUD_OPTS: readonly FenceOpt[] = [
  { name: 'auth_url', short: 'k', long: 'auth-url', arg: '[url]', type: 'string', default: '', shortdesc: 'Keystone Admin Auth URL' },
  { name: 'endpoint_type', short: 'e', long: 'endpoint-type', arg: '[endpoint]', type: 'string', default: 'internalURL', shortdesc: 'Nova Endpoint type' },
];
export const FENCE_CLOUD_OPTS_2: readonly FenceOpt[] = [
  { name: 'region_name', long: 'region-name', arg: '[region]', type: 'string', default: '', shortdesc: 'Region Name' },
  { name: 'tenant_name', short: 't', long: 'tenant-name', arg: '[name]', type: 'string', default: '', shortdesc: 'Keystone Admin Tenant or v3 Project' },
];
export const FENCE_CLOUD_OPTS_3: readonly FenceOpt[] = [
  { name: 'insecure', long: 'insecure', type: 'boolean', shortdesc: 'Allow Insecure TLS Requests' },
  { name: 'project-domain', key: 'project_domain', short: 'P', long: 'project-domain', arg: '[name]', type: 'string', default: 'Default', shortdesc: 'Keystone v3 Project Domain', deprecated: true },
  { name: 'project_domain', short: 'P', long: 'project-domain', arg: '[name]', type: 'string', default: 'Default', shortdesc: 'Keystone v3 Project Domain', obsoletes: 'project-domain' },
  { name: 'user-domain', key: 'user_domain', short: 'u', long: 'user-domain', arg: '[name]', type: 'string', default: 'Default', shortdesc: 'Keystone v3 User Domain', deprecated: true },
  { name: 'user_domain', short: 'u', long: 'user-domain', arg: '[name]', type: 'string', default: 'Default', shortdesc: 'Keystone v3 User Domain', obsoletes: 'user-domain' },
  { name: 'domain', short: 'd', long: 'domain', arg: '[string]', type: 'string', shortdesc: 'DNS domain in which hosts live' },
  { name: 'cloud', long: 'cloud', arg: '[name]', type: 'string', shortdesc: 'Cloud name in clouds.yaml, used for the connection parameters left unset' },
];
export const FENCE_EVAC_OPTS: readonly FenceOpt[] = [
  { name: 'instance_filtering', long: 'instance-filtering', type: 'boolean', default: 'True', shortdesc: 'Allow instances to be evacuated' },
  { name: 'no_shared_storage', long: 'no-shared-storage', type: 'boolean', default: 'False', shortdesc: 'Disable functionality for dealing with shared storage' },
];

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

function endpointTypeOk(v: string): boolean {
  return v === '' || (ENDPOINT_TYPES as readonly string[]).includes(v);
}

/**
 * Which of the password-auth settings are missing: none when a clouds.yaml entry is named (parameter or OS_CLOUD),
 * else those of auth_url, username, password, tenant_name that neither the agent nor an OS_* variable gives.
 */
export function missingCredentials(v: Record<string, string | undefined>, env: NodeJS.ProcessEnv): string[] {
  if (v.cloud || env.OS_CLOUD) return [];
  const fromEnv: Record<string, string | undefined> = {
    auth_url: env.OS_AUTH_URL, username: env.OS_USERNAME, password: env.OS_PASSWORD, tenant_name: env.OS_PROJECT_NAME ?? env.OS_TENANT_NAME,
  };
  return ['auth_url', 'username', 'password', 'tenant_name'].filter((n) => !v[n] && !fromEnv[n]);
}

/** Connection settings from the agent parameters both kinds of agent share (same names in OCF and fence agents). */
function cloudParams(v: Record<string, string | undefined>, insecure: boolean, timeoutMs?: number): CloudParams {
  return {
    cloud: v.cloud || undefined,
    authUrl: v.auth_url || undefined,
    username: v.username || undefined,
    password: v.password || undefined,
    projectName: v.tenant_name || undefined,
    userDomain: v.user_domain || undefined,
    projectDomain: v.project_domain || undefined,
    regionName: v.region_name || undefined,
    endpointType: v.endpoint_type || undefined,
    insecure: insecure || undefined, // false is the default: leave clouds.yaml's verify setting in force
    timeoutMs,
    tokenCacheDir: path.join(defaultStateDir(), 'tokens'),
  };
}

/** Connection settings from an OCF agent's parameters; ERR_CONFIGURED when credentials are missing. */
export function cloudParamsFromOcf(ctx: OcfContext): CloudParams {
  const missing = missingCredentials(ctx.params, ctx.env);
  if (missing.length) throw new OcfError(OCF.ERR_CONFIGURED, `${missing.join(', ')} not configured (${AUTH_NOTE})`);
  return cloudParams(ctx.params, ctx.bool('insecure'));
}

/**
 * What is wrong with the connection settings once clouds.yaml and OS_* are merged in (a cloud name that no
 * clouds.yaml has, an unknown auth_type, ...), without contacting anything; undefined when they resolve.
 */
export function cloudConfigProblem(params: CloudParams, env: NodeJS.ProcessEnv): string | undefined {
  try {
    resolveCloudConfig(params, env);
    return undefined;
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
}

/** validate-all of the OCF agents: credentials present and resolvable (ERR_CONFIGURED otherwise). */
export function validateOcfCloud(ctx: OcfContext): void {
  const problem = cloudConfigProblem(cloudParamsFromOcf(ctx), ctx.env);
  if (problem) throw new OcfError(OCF.ERR_CONFIGURED, problem);
}

/** Connection settings from a fence agent's options. */
export function cloudParamsFromFence(ctx: FenceContext): CloudParams {
  return cloudParams(ctx.opts, ctx.bool('insecure'), Math.max(ctx.num('shell_timeout'), 1) * 1000);
}

export function checkEndpointType(v: string): string | undefined {
  return endpointTypeOk(v) ? undefined : `endpoint_type '${v}' is not valid: use one of ${ENDPOINT_TYPES.join(', ')}`;
}

/**
 * Nova's host name for a cluster node name, as the reference fence_compute's domain fixing does: an exact match,
 * else the short name with the configured DNS domain, else the only service whose short name matches.
 * Returns undefined when Nova knows no such host.
 */
export function resolveNovaHost(services: NovaService[], name: string, domain?: string): string | undefined {
  const hosts = services.map((s) => s.host);
  if (hosts.includes(name)) return name;
  const short = name.split('.')[0];
  if (domain !== undefined && domain !== '') {
    const fq = `${short}.${domain.replace(/^\./, '')}`;
    if (hosts.includes(fq)) return fq;
  }
  if (hosts.includes(short)) return short;
  const matches = hosts.filter((h) => h.split('.')[0] === short);
  return matches.length === 1 ? matches[0] : undefined;
}

/** Names a cluster may use for Nova's compute hosts (long and short), as fence_compute -o list prints them. */
export function hostNames(services: NovaService[]): string[] {
  const names: string[] = [];
  for (const s of services) {
    if (!names.includes(s.host)) names.push(s.host);
    const short = s.host.split('.')[0];
    if (!names.includes(short)) names.push(short);
  }
  return names;
}

/** Nova's view of a compute host, as the reference fence_compute reports it. */
export type ComputeState = 'on' | 'off' | 'failed' | 'running' | 'unknown';

export function computeState(svc: NovaService | undefined): ComputeState {
  if (!svc) return 'unknown';
  if (svc.state === 'up' && svc.status === 'enabled') return 'on'; // up and operational
  if (svc.state === 'down' && svc.status === 'disabled') return 'off'; // down and fenced
  if (svc.state === 'down') return 'failed'; // down, needs fencing
  return 'running'; // up but disabled: needs unfencing
}

export interface UnfenceResult {
  /** Nova still refuses to clear forced_down (its evacuation records of the host remain until nova-compute runs) */
  forcedDown: boolean;
  /** enabled, but Placement still marks the host COMPUTE_STATUS_DISABLED: the scheduler sends it nothing yet */
  traitPending: boolean;
}

/** Is the host unfenced all the way: enabled, not forced down and schedulable? */
export function unfenceDone(r: UnfenceResult): boolean { return !r.forcedDown && !r.traitPending; }

/**
 * Undo fencing in Nova: enable the service, clear forced_down, and see that the scheduler may use the host again.
 * Two steps may have to wait for nova-compute to run again, and the caller retries them later (the result says
 * which): Nova (Train and later) refuses to clear forced_down while "done" evacuation records of the host remain, and
 * Nova's API removes the COMPUTE_STATUS_DISABLED trait from the host's resource providers only while its service is
 * up (else the compute service does it when it starts, or at its next periodic update).
 */
export async function unfenceHost(cloud: Cloud, host: string, log: Logger): Promise<UnfenceResult> {
  const nova = cloud.nova();
  const svc = await computeService(cloud, host);
  if (svc.status !== 'enabled') {
    await nova.enableService(host);
    log.info(`enabled nova-compute on ${host}`);
  }
  if (svc.forcedDown && !(await clearForcedDown(cloud, host, log))) return { forcedDown: true, traitPending: false };
  return { forcedDown: false, traitPending: await disabledTraitPending(cloud, host, log) };
}

async function computeService(cloud: Cloud, host: string): Promise<NovaService> {
  const [svc] = await cloud.nova().listServices({ host, binary: 'nova-compute' });
  if (!svc) throw new OpenStackError(`no nova-compute service on host ${host}`, 404);
  return svc;
}

/** false when Nova refuses because the host's evacuation records remain */
async function clearForcedDown(cloud: Cloud, host: string, log: Logger): Promise<boolean> {
  try {
    await cloud.nova().setForcedDown(host, false);
  } catch (e) {
    if (e instanceof OpenStackError && e.status === 400 && /migration records remain/i.test(e.message)) {
      log.info(`nova-compute on ${host} stays forced down until it has started again (Nova still holds its evacuation records)`);
      return false;
    }
    throw e;
  }
  log.info(`cleared forced_down of nova-compute on ${host}`);
  return true;
}

const DISABLED_TRAIT = 'COMPUTE_STATUS_DISABLED';

/** the host's compute node providers that carry COMPUTE_STATUS_DISABLED; undefined when Placement can't be asked */
export async function disabledProviders(cloud: Cloud, host: string, log: Logger): Promise<string[] | undefined> {
  try {
    await cloud.endpoint('placement');
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    log.warn(`cannot check ${host}'s ${DISABLED_TRAIT} trait: ${e.message}`);
    return undefined;
  }
  const nodes = (await cloud.nova().listHypervisors()).filter((h) => (h.serviceHost ?? h.hypervisorHostname) === host);
  const placement = cloud.placement();
  const found: string[] = [];
  for (const node of nodes) {
    const uuid = await placement.providerUuid(node.id, node.hypervisorHostname);
    if (uuid && (await placement.providerTraits(uuid)).includes(DISABLED_TRAIT)) found.push(node.hypervisorHostname);
  }
  return found;
}

/**
 * Is the host still excluded by Placement? When it is and its service is up, enabling it again has Nova's API tell
 * the compute service to drop the trait (a synchronous RPC call), and it is checked once more.
 */
async function disabledTraitPending(cloud: Cloud, host: string, log: Logger): Promise<boolean> {
  const marked = await disabledProviders(cloud, host, log);
  if (!marked?.length) return false;
  if ((await computeService(cloud, host)).state === 'up') {
    await cloud.nova().enableService(host);
    if (!(await disabledProviders(cloud, host, log))?.length) {
      log.info(`${host} is schedulable again (Nova removed ${DISABLED_TRAIT} from ${marked.join(', ')})`);
      return false;
    }
  }
  log.info(`${host} is enabled, but Placement still marks ${marked.join(', ')} ${DISABLED_TRAIT}: pending until Nova `
    + 'hears from its nova-compute');
  return true;
}

/**
 * Wait until the node's evacuate attribute says its evacuation is over ("no" or unset). Returns the last value.
 * Polls until `until` (epoch ms) if given, else until the caller's own timeout kills it, as the reference does.
 */
export async function waitEvacuationDone(attrd: Attrd, node: string, log: Logger, opts: { pollMs?: number; until?: number } = {}): Promise<boolean> {
  let lastLog = 0;
  for (;;) {
    const v = await attrd.query(EVACUATE_ATTR, node);
    const st = parseEvacState(v);
    if (st.kind === 'none') return true;
    if (Date.now() - lastLog > 30000) {
      log.info(`waiting for the evacuation of ${node} to complete (evacuate=${v})`);
      lastLog = Date.now();
    }
    if (opts.until !== undefined && Date.now() >= opts.until) return false;
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 2000));
  }
}
