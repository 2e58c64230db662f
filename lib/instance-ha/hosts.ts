/**
 * Cluster node names and Nova host names, Nova's view of a compute host, and fencing and unfencing it in Nova.
 */
import type { Logger } from '../core/log';
import { ConfigError, OpenStackError, type Cloud, type NovaService } from '../openstack/index';
import { MARKER } from './marker';

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

/** Force the host's nova-compute down (if it isn't) and disable it with our marker, so Nova accepts evacuations. */
export async function forceHostDown(cloud: Cloud, host: string, log: Logger, reason?: string): Promise<NovaService> {
  const nova = cloud.nova();
  const [svc] = await nova.listServices({ host, binary: 'nova-compute' });
  if (!svc) throw new OpenStackError(`no nova-compute service on host ${host}`, 404);
  if (!svc.forcedDown) {
    await nova.setForcedDown(host, true);
    log.info(`forced nova-compute on ${host} down`);
  }
  if (svc.status !== 'disabled') {
    await nova.disableService(host, reason ?? `${MARKER} fenced at ${Math.floor(Date.now() / 1000)}`);
    log.info(`disabled nova-compute on ${host}`);
  }
  return svc;
}
