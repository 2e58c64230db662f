/**
 * What the two instance-HA fence agents (fence_compute, fence_evacuate) share: their options (fence-agents'
 * fence_compute names), the per-process connection, and the target host as Nova knows it.
 */
import { FenceError, COMMON_PLUG_OPTS, type FenceContext, type FenceOpt } from '../runtime/fence/index';
import { openCloud, type Cloud, type NovaService } from '../openstack/index';
import {
  FENCE_CLOUD_OPTS, FENCE_CLOUD_OPTS_2, FENCE_CLOUD_OPTS_3, FENCE_EVAC_OPTS, cloudParamsFromFence, checkEndpointType, missingCredentials,
  cloudConfigProblem, withDashedAlias,
} from './params';
import { computeState, resolveNovaHost } from './hosts';

const [login, passwd, passwdScript, password, passwordScript, plug, port, nodename] = COMMON_PLUG_OPTS;
const username: FenceOpt = { name: 'username', short: 'l', long: 'username', arg: '[name]', type: 'string', shortdesc: 'Login name', obsoletes: 'login' };

/** fence_compute's options, in its order (fence_evacuate takes them without record_only). */
export const FENCE_COMPUTE_OPTS: FenceOpt[] = [
  ...FENCE_CLOUD_OPTS, login, passwd, passwdScript, password, passwordScript, plug, port, nodename,
  ...FENCE_CLOUD_OPTS_2, username, ...FENCE_CLOUD_OPTS_3, ...FENCE_EVAC_OPTS,
  ...withDashedAlias({ name: 'record_only', long: 'record-only', type: 'string', default: 'False', shortdesc: 'Only record the target as needing evacuation' }),
  { name: 'compute-domain', key: 'compute_domain', long: 'compute-domain', arg: '[string]', type: 'string', shortdesc: 'Replaced by domain', deprecated: true },
  { name: 'compute_domain', long: 'compute-domain', arg: '[string]', type: 'string', shortdesc: 'Replaced by domain', obsoletes: 'compute-domain' },
];

export const FENCE_COMPUTE_SHORTDESC = 'Fence agent for the automatic resurrection of OpenStack compute instances';

/** validate-all of both fence agents: endpoint type, credentials present and resolvable. */
export function validateFenceCloud(ctx: FenceContext): void {
  const bad = checkEndpointType(ctx.str('endpoint_type'));
  if (bad) throw new FenceError(`Failed: ${bad}`);
  const missing = missingCredentials(ctx.opts, process.env);
  if (missing.length) throw new FenceError(`Failed: ${missing.join(', ')} not set (or use cloud=NAME from clouds.yaml)`);
  const problem = cloudConfigProblem(cloudParamsFromFence(ctx), process.env);
  if (problem) throw new FenceError(`Failed: ${problem}`);
}

/**
 * Per-call state: one cloud connection per run, Nova's host name per plug. Keyed by the call's options object, which
 * every per-plug context of one run shares (list-status asks for each plug's status).
 */
interface State { cloud?: Cloud; hosts: Map<string, string> }
const states = new WeakMap<Record<string, string>, State>();

function stateOf(ctx: FenceContext): State {
  let st = states.get(ctx.opts);
  if (!st) { st = { hosts: new Map() }; states.set(ctx.opts, st); }
  return st;
}

export function cloud(ctx: FenceContext): Cloud {
  const st = stateOf(ctx);
  if (!st.cloud) st.cloud = openCloud(cloudParamsFromFence(ctx), ctx.log);
  return st.cloud;
}

function domainOf(ctx: FenceContext): string | undefined {
  return ctx.str('compute_domain') || ctx.str('domain') || undefined;
}

export async function services(ctx: FenceContext): Promise<NovaService[]> {
  return cloud(ctx).nova().listServices({ binary: 'nova-compute' });
}

/** Nova's host name for the target (domain fixing as the reference does). */
export async function novaHost(ctx: FenceContext): Promise<string> {
  const hosts = stateOf(ctx).hosts;
  const known = hosts.get(ctx.plug);
  if (known) return known;
  const host = resolveNovaHost(await services(ctx), ctx.plug, domainOf(ctx));
  if (!host) throw new FenceError(`Failed: Nova has no nova-compute service for '${ctx.plug}'`);
  hosts.set(ctx.plug, host);
  return host;
}

export async function status(ctx: FenceContext): Promise<'on' | 'off'> {
  const host = await novaHost(ctx);
  const [svc] = await cloud(ctx).nova().listServices({ host, binary: 'nova-compute' });
  const st = computeState(svc);
  ctx.log.debug(`status of nova-compute on ${host}: ${st} (state ${svc?.state}, status ${svc?.status}, forced_down ${svc?.forcedDown})`);
  return st === 'off' ? 'off' : 'on';
}
