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
import type { AgentEntry } from '../lib/runtime/agent';
import { runFence, FenceError, waitForStatus, type FenceAgent, type FenceContext } from '../lib/runtime/fence/index';
import { Attrd, EVACUATE_ATTR } from '../lib/pacemaker/index';
import { forceHostDown, hostNames, unfenceHost, waitEvacuationDone } from '../lib/instance-ha/index';
import { FENCE_COMPUTE_OPTS, FENCE_COMPUTE_SHORTDESC, validateFenceCloud, cloud, novaHost, services, status } from '../lib/instance-ha/fence-host';
import { VERSION } from '../lib/core/version';

type RecordMode = 'disabled' | 'record' | 'full';
function recordMode(ctx: FenceContext): RecordMode {
  const v = ctx.str('record_only').trim().toLowerCase();
  if (['2', 'disabled'].includes(v)) return 'disabled';
  if (['1', 'true', 'yes', 'on', 'y'].includes(v)) return 'record';
  return 'full';
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
  shortdesc: FENCE_COMPUTE_SHORTDESC,
  longdesc: 'Used to tell Nova that compute nodes are down and to reschedule flagged instances',
  options: FENCE_COMPUTE_OPTS,
  defaults: { action: 'off', shell_timeout: '180' },
  onAutomatic: true,
  actions: ['on', 'off', 'status', 'list', 'list-status', 'monitor', 'metadata', 'manpage', 'validate-all'],
  handlers: {
    validate: validateFenceCloud,
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
