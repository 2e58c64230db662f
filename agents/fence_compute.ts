/**
 * fence_compute: tells Nova that a compute host has been fenced, and records it for evacuation.
 *
 * off/reboot: force the host's nova-compute service down and disable it, wait until Nova reports it down, then set
 *   the node's private attribute evacuate=yes (attrd_updater -p -n evacuate -Q -N host -U yes) for NovaEvacuate.
 *   With record_only=1 the record comes first and the Nova part is best effort: the power device of the same
 *   fencing level already stopped the host, and NovaEvacuate forces the service down itself before evacuating.
 * on (unfencing, automatic): wait until the host's evacuation is over (evacuate is "no" or unset), then clear
 *   forced_down, enable the service, and set evacuate=no.
 * status/list/list-status/monitor: from Nova's os-services.
 * Parameters, defaults and behaviour follow fence-agents' fence_compute, so existing stonith resources keep working.
 */
import type { AgentEntry } from './index';
import { runFence, FenceError, waitForStatus, COMMON_PLUG_OPTS, type FenceAgent, type FenceContext, type FenceOpt } from '../lib/runtime/fence/index';
import { openCloud } from '../lib/openstack/index';
import type { Cloud, NovaService } from '../lib/openstack/types';
import { Attrd, EVACUATE_ATTR } from '../lib/pacemaker/index';
import { forceHostDown } from '../lib/instance-ha/evacuate';
import {
  FENCE_CLOUD_OPTS, FENCE_CLOUD_OPTS_2, FENCE_CLOUD_OPTS_3, FENCE_EVAC_OPTS, cloudParamsFromFence, checkEndpointType, missingCredentials, cloudConfigProblem,
  computeState, hostNames, resolveNovaHost, unfenceHost, waitEvacuationDone,
} from '../lib/instance-ha/params';
import { VERSION } from '../lib/core/version';

const [login, passwd, passwdScript, password, passwordScript, plug, port, nodename] = COMMON_PLUG_OPTS;
const username: FenceOpt = { name: 'username', short: 'l', long: 'username', arg: '[name]', type: 'string', shortdesc: 'Login name', obsoletes: 'login' };

export const OPTIONS: FenceOpt[] = [
  ...FENCE_CLOUD_OPTS, login, passwd, passwdScript, password, passwordScript, plug, port, nodename,
  ...FENCE_CLOUD_OPTS_2, username, ...FENCE_CLOUD_OPTS_3, ...FENCE_EVAC_OPTS,
  { name: 'record_only', long: 'record-only', type: 'string', default: 'False', shortdesc: 'Only record the target as needing evacuation' },
  { name: 'compute-domain', key: 'compute_domain', long: 'compute-domain', arg: '[string]', type: 'string', shortdesc: 'Replaced by domain', deprecated: true },
  { name: 'compute_domain', long: 'compute-domain', arg: '[string]', type: 'string', shortdesc: 'Replaced by domain', obsoletes: 'compute-domain' },
];

type RecordMode = 'disabled' | 'record' | 'full';
function recordMode(ctx: FenceContext): RecordMode {
  const v = ctx.str('record_only').trim().toLowerCase();
  if (['2', 'disabled'].includes(v)) return 'disabled';
  if (['1', 'true', 'yes', 'on', 'y'].includes(v)) return 'record';
  return 'full';
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

async function recordEvacuate(ctx: FenceContext, value: 'yes' | 'no'): Promise<void> {
  await new Attrd().update(EVACUATE_ATTR, ctx.plug, value);
  ctx.log.info(`recorded ${EVACUATE_ATTR}=${value} for ${ctx.plug}`);
}

async function off(ctx: FenceContext): Promise<void> {
  const mode = recordMode(ctx);
  if (mode === 'record') {
    // the record is what matters: the power device already stopped the host; Nova is told on a best-effort basis
    await recordEvacuate(ctx, 'yes');
    try {
      await forceHostDown(cloud(ctx), await novaHost(ctx), ctx.log);
    } catch (e) {
      ctx.log.warn(`could not force nova-compute on ${ctx.plug} down (NovaEvacuate will): ${(e as Error).message}`);
    }
    return;
  }
  const host = await novaHost(ctx);
  await forceHostDown(cloud(ctx), host, ctx.log);
  if (!(await waitForStatus(ctx, 'off', status))) {
    throw new FenceError(`Failed: Nova still reports nova-compute on ${host} up after ${ctx.num('power_timeout')} s`);
  }
  await recordEvacuate(ctx, 'yes');
}

async function on(ctx: FenceContext): Promise<void> {
  // never unfence a host whose instances are still being evacuated
  await waitEvacuationDone(new Attrd(), ctx.plug, ctx.log);
  try {
    const r = await unfenceHost(cloud(ctx), await novaHost(ctx), ctx.log);
    if (r.forcedDown) ctx.log.warn(`nova-compute on ${ctx.plug} is enabled but stays forced down until it restarts; nova-compute-wait's monitor clears it then`);
    else if (r.traitPending) ctx.log.warn(`nova-compute on ${ctx.plug} is enabled but not yet schedulable (COMPUTE_STATUS_DISABLED); Nova clears it once nova-compute reports up, nova-compute-wait's monitor checks it`);
  } catch (e) {
    if (recordMode(ctx) !== 'record') throw e;
    ctx.log.warn(`could not unfence nova-compute on ${ctx.plug} in Nova: ${(e as Error).message}`);
  }
  await recordEvacuate(ctx, 'no');
}

export const definition: FenceAgent = {
  name: 'fence_compute',
  version: VERSION,
  shortdesc: 'Fence agent for the automatic resurrection of OpenStack compute instances',
  longdesc: 'Used to tell Nova that compute nodes are down and to reschedule flagged instances',
  options: OPTIONS,
  defaults: { action: 'off', shell_timeout: '180' },
  onAutomatic: true,
  actions: ['on', 'off', 'status', 'list', 'list-status', 'monitor', 'metadata', 'manpage', 'validate-all'],
  handlers: {
    validate(ctx) {
      const bad = checkEndpointType(ctx.str('endpoint_type'));
      if (bad) throw new FenceError(`Failed: ${bad}`);
      const missing = missingCredentials(ctx.opts, process.env);
      if (missing.length) throw new FenceError(`Failed: ${missing.join(', ')} not set (or use cloud=NAME from clouds.yaml)`);
      const problem = cloudConfigProblem(cloudParamsFromFence(ctx), process.env);
      if (problem) throw new FenceError(`Failed: ${problem}`);
    },
    status: async (ctx) => {
      if (recordMode(ctx) === 'disabled') return 'on';
      return status(ctx);
    },
    off: async (ctx) => { if (recordMode(ctx) !== 'disabled') await off(ctx); },
    on: async (ctx) => { if (recordMode(ctx) !== 'disabled') await on(ctx); },
    // a compute host is not power-cycled by this agent: reboot fences it, unfencing happens when it rejoins
    reboot: async (ctx) => { if (recordMode(ctx) !== 'disabled') await off(ctx); },
    list: async (ctx) => hostNames(await services(ctx)).map((p) => ({ plug: p })),
    monitor: async (ctx) => {
      if (recordMode(ctx) === 'disabled') return;
      try {
        await services(ctx);
      } catch (e) {
        if (recordMode(ctx) === 'record') { ctx.log.warn(`Nova is not reachable (recording still works): ${(e as Error).message}`); return; }
        throw e;
      }
    },
  },
};

export const fenceCompute: AgentEntry = {
  kind: 'fence',
  summary: definition.shortdesc,
  run: (args) => runFence(definition, args),
};
