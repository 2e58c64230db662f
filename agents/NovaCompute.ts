/**
 * NovaCompute (OCF, provider openstack): runs nova-compute on a compute node of an instance-HA cluster, compatible
 * with openstack-resource-agents' ocf:openstack:NovaCompute. Its start holds nova-compute back while the node's
 * evacuation is pending, waits evacuation_delay more when the host had been fenced and unfences it in Nova (the hold
 * nova-compute-wait does, lib/instance-ha/hold.ts), then runs nova-compute as user nova over the daemon engine
 * (lib/daemon/engine.ts) and waits until Nova reports it up. Nova clears forced_down only once nova-compute runs
 * again: the start finishes that unfencing, or leaves it to the monitor. Stop: SIGTERM, then SIGKILL before the
 * deadline. Monitor: the process is alive and still ours; OpenStack is only contacted to finish a pending unfencing.
 * The Nova host name is [DEFAULT] host of nova.conf and nova.conf.d/*.conf (lib/instance-ha/nova-host.ts); a
 * configured one must be the cluster node's name.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { AgentEntry } from '../lib/runtime/agent';
import { runOcf, OCF, OcfError, stateFile, removeStateFile, type OcfAgent, type OcfContext } from '../lib/runtime/ocf/index';
import { serviceAgent, type ServiceDef, type Health } from '../lib/daemon/engine';
import { localNodeName } from '../lib/pacemaker/index';
import {
  OCF_CLOUD_PARAMS, HOLD_PARAMS, fencedByUs, cloudParamsFromOcf, validateOcfCloud, validateHold, holdUntil, waitForEvacuation,
  settleAndUnfence, renewLostRequest, markUnfence, pendingUnfence, finishPendingUnfence, novaHostName, novaHostProblem, novaConfDir,
} from '../lib/instance-ha/index';
import { openCloud, type NovaService } from '../lib/openstack/index';
import { VERSION } from '../lib/core/version';

const unfenceFile = (ctx: OcfContext) => stateFile(ctx, 'unfence');
const domainOf = (ctx: OcfContext) => ctx.str('domain') || undefined;
const novaHost = (ctx: OcfContext) => novaHostName(ctx.str('config'), domainOf(ctx));

/** The Pacemaker node name: OCF_RESKEY_CRM_meta_on_node, else crm_node -n, else (no cluster here) the host name. */
async function nodeName(ctx: OcfContext): Promise<string> {
  if (ctx.env.OCF_RESKEY_CRM_meta_on_node) return ctx.env.OCF_RESKEY_CRM_meta_on_node;
  try {
    return await localNodeName();
  } catch (e) {
    ctx.log.debug(`cluster node name unknown (${(e as Error).message}): using the host name`);
    return os.hostname();
  }
}

async function validate(ctx: OcfContext): Promise<void> {
  validateOcfCloud(ctx);
  validateHold(ctx);
  const problem = novaHostProblem(novaHost(ctx), await nodeName(ctx), domainOf(ctx));
  if (problem) throw new OcfError(OCF.ERR_CONFIGURED, problem);
}

/** What the start keeps for nova-compute itself after the hold: 20 % of the start timeout, between 5 and 60 s. */
function startReserveMs(ctx: OcfContext): number {
  const left = ctx.deadlineAt !== undefined ? ctx.deadlineAt - Date.now() : 0;
  return Math.min(60000, Math.max(5000, left * 0.2));
}

/** Fenced in Nova: forced down, or disabled by our fencing (marker in disabled_reason). */
function fenced(svc: NovaService): boolean {
  return svc.forcedDown || fencedByUs(svc);
}

/** Before nova-compute starts: wait for the node's evacuation, then settle and unfence the host if it was fenced. */
async function hold(ctx: OcfContext): Promise<void> {
  const { host } = novaHost(ctx);
  const node = await nodeName(ctx);
  const until = holdUntil(ctx, startReserveMs(ctx));
  const waited = await waitForEvacuation(ctx, node, until);
  const cloud = openCloud(cloudParamsFromOcf(ctx), ctx.log);
  try {
    const [svc] = await cloud.nova().listServices({ host, binary: 'nova-compute' });
    if (!svc) {
      ctx.log.info(`Nova has no nova-compute service on ${host} yet: nothing to unfence`);
      return;
    }
    const renewed = await renewLostRequest(ctx, node, host, svc, until);
    if (!waited && !renewed && !fenced(svc)) return;
    // Nova keeps forced_down until nova-compute has run again: the start's readiness check, or the monitor, finishes
    markUnfence(unfenceFile(ctx), host, await settleAndUnfence(ctx, cloud, host, svc, { waited: waited || renewed, until, node }));
  } finally {
    cloud.close();
  }
}

/** Start: finish a pending unfencing, then Nova must report nova-compute on this host up. Monitor: cheap. */
async function health(ctx: OcfContext, phase: 'start' | 'monitor'): Promise<Health> {
  if (phase === 'monitor') {
    await finishPendingUnfence(ctx, unfenceFile(ctx));
    return { ok: true };
  }
  await finishPendingUnfence(ctx, unfenceFile(ctx), { quiet: true });
  const { host } = novaHost(ctx);
  const cloud = openCloud(cloudParamsFromOcf(ctx), ctx.log);
  try {
    const [svc] = await cloud.nova().listServices({ host, binary: 'nova-compute' });
    if (!svc) return { ok: false, reason: `Nova has no nova-compute service on ${host} yet` };
    if (svc.state !== 'up') return { ok: false, reason: `nova-compute on ${host} is down in Nova${svc.forcedDown ? ' (forced down: unfencing pending)' : ''}` };
    return { ok: true };
  } finally {
    cloud.close();
  }
}

export const DEF: ServiceDef = {
  name: 'NovaCompute',
  title: 'OpenStack Nova Compute (nova-compute)',
  shortdesc: 'OpenStack Nova Compute Server',
  longdesc: 'Runs nova-compute on a compute node of an instance-HA cluster (clone it over the compute nodes). Its start ' +
    'holds nova-compute back while the node\'s evacuation is pending (evacuate attribute "yes" or a claim), waits ' +
    'evacuation_delay when the node had been fenced, unfences it in Nova (service enabled, forced_down cleared), then ' +
    'starts nova-compute and waits until Nova reports it up. The Nova host name is [DEFAULT] host of the config file ' +
    'and of nova.conf.d/*.conf next to it (the last one wins), else the node\'s host name (short when domain is set); a ' +
    'configured one must match the cluster node name. The monitor watches the process only (and finishes an unfencing ' +
    'Nova refused before nova-compute ran). No credential is passed to nova-compute or put on a command line.',
  binary: '/usr/bin/nova-compute', config: '/etc/nova/nova.conf', user: 'nova',
  params: [
    ...OCF_CLOUD_PARAMS,
    ...HOLD_PARAMS,
    { name: 'verbose', type: 'boolean', default: 'false', shortdesc: 'Verbose logging', longdesc: 'Log debug messages.' },
  ],
  // nova-compute reads nova.conf.d/*.conf when started without arguments; with --config-file it needs --config-dir
  argv: (ctx, config, extra) => {
    const dir = novaConfDir(config);
    return ['--config-file', config, ...(fs.existsSync(dir) ? ['--config-dir', dir] : []), ...extra];
  },
  env: { LIBGUESTFS_ATTACH_METHOD: 'appliance' },
  missingConfig: OCF.ERR_CONFIGURED,
  validate,
  health: (ctx, _rec, phase) => health(ctx, phase),
  timeouts: { start: 600, stop: 300, monitor: 20, interval: 10 },
};

const base = serviceAgent(DEF, VERSION);

async function start(ctx: OcfContext): Promise<number> {
  if (base.handlers.isRunning?.(ctx)) return base.handlers.start(ctx);
  removeStateFile(unfenceFile(ctx));
  await hold(ctx);
  const rc = await base.handlers.start(ctx);
  const pending = pendingUnfence(unfenceFile(ctx));
  if (rc === OCF.SUCCESS && pending) ctx.log.info(`unfencing of ${pending} in Nova is still pending: the monitor finishes it`);
  return rc;
}

export const definition: OcfAgent = {
  ...base,
  handlers: {
    ...base.handlers,
    start,
    async stop(ctx) {
      const rc = await base.handlers.stop(ctx);
      removeStateFile(unfenceFile(ctx));
      return rc;
    },
  },
};

export const novaCompute: AgentEntry = {
  kind: 'ocf',
  provider: 'openstack',
  summary: 'Runs nova-compute, held back until its host\'s evacuation is done and unfenced',
  run: (args) => runOcf(definition, args),
};
