/**
 * fence_evacuate: off/reboot forces the host's nova-compute down and evacuates every evacuable instance on it
 * (evacuable tag on the flavor's extra_specs or the image, or every instance when nothing is tagged, or when
 * instance_filtering is off). "on" is refused: un-evacuating makes no sense. Parameters as fence-agents'
 * fence_evacuate.
 */
import type { AgentEntry } from '../lib/runtime/agent';
import { runFence, FenceError, type FenceAgent, type FenceContext } from '../lib/runtime/fence/index';
import { hostNames, FENCE_EVACUATION_OPTS, evacuationPolicy, evacuationPolicyProblem, reportDir } from '../lib/instance-ha/index';
import { FENCE_COMPUTE_OPTS, FENCE_COMPUTE_SHORTDESC, validateFenceCloud, cloud, novaHost, services, status } from '../lib/instance-ha/fence-host';
import { VERSION } from '../lib/core/version';

function policy(ctx: FenceContext) {
  return evacuationPolicy({ str: (n) => ctx.str(n), bool: (n) => ctx.bool(n), int: (n) => ctx.num(n) });
}

async function off(ctx: FenceContext): Promise<void> {
  const host = await novaHost(ctx);
  const { evacuateHost } = await import('../lib/instance-ha/evacuate.js');
  const r = await evacuateHost(cloud(ctx), {
    host,
    noSharedStorage: ctx.bool('no_shared_storage'),
    instanceFiltering: ctx.bool('instance_filtering'),
    policy: policy(ctx),
    reportDir: reportDir(),
  }, ctx.log);
  if (r.failed.length) {
    throw new FenceError(`Failed: ${r.failed.length} of ${r.total} instance(s) could not be evacuated from ${host}`);
  }
  ctx.log.info(`Resurrection of instances from ${host} complete: ${r.accepted.length} evacuated, ${r.filtered.length} not evacuable, ${r.skipped.length} skipped`);
}

export const definition: FenceAgent = {
  name: 'fence_evacuate',
  version: VERSION,
  shortdesc: FENCE_COMPUTE_SHORTDESC,
  longdesc: 'Used to reschedule flagged instances',
  options: [...FENCE_COMPUTE_OPTS.filter((o) => (o.key ?? o.name) !== 'record_only'), ...FENCE_EVACUATION_OPTS],
  defaults: { action: 'reboot', shell_timeout: '180' },
  onAutomatic: false,
  actions: ['on', 'off', 'reboot', 'status', 'list', 'list-status', 'monitor', 'metadata', 'manpage', 'validate-all'],
  handlers: {
    validate: async (ctx) => {
      validateFenceCloud(ctx);
      const problem = evacuationPolicyProblem(policy(ctx));
      if (problem) throw new FenceError(`Failed: ${problem}`);
    },
    status,
    off,
    reboot: off,
    on: async () => { throw new FenceError('Failed: Action on is not supported by this agent'); },
    list: async (ctx) => hostNames(await services(ctx)).map((p) => ({ plug: p })),
    monitor: async (ctx) => { await services(ctx); },
  },
};

export const fenceEvacuate: AgentEntry = {
  kind: 'fence',
  summary: 'Fence agent evacuating the instances of a failed OpenStack compute host',
  run: (args) => runFence(definition, args),
};
