/**
 * nova-compute-wait (OCF, provider openstack): runs on compute nodes, ordered before nova-compute. Its start holds
 * nova-compute back on a recovered host while that host's evacuation is pending (evacuate attribute "yes" or a
 * claim "node@epoch"), waits evacuation_delay more when the host had been fenced, then unfences it in Nova
 * (enables the service, clears forced_down) and returns. Nova refuses to clear forced_down until nova-compute has
 * started again on a host it evacuated; the monitor then finishes the unfencing once nova-compute runs.
 */
import type { AgentEntry } from '../lib/runtime/agent';
import { runOcf, OCF, OcfError, stateFile, removeStateFile, type OcfAgent, type OcfContext } from '../lib/runtime/ocf/index';
import { localNodeName } from '../lib/pacemaker/index';
import {
  OCF_CLOUD_PARAMS, HOLD_PARAMS, cloudParamsFromOcf, validateOcfCloud, validateHold, resolveNovaHost, holdUntil,
  waitForEvacuation, settleAndUnfence, renewLostRequest, markUnfence, finishPendingUnfence,
} from '../lib/instance-ha/index';
import { openCloud } from '../lib/openstack/index';
import { VERSION } from '../lib/core/version';
import * as fs from 'node:fs';

/** stop waiting this long before Pacemaker's start timeout, to fail with a reason instead of being killed */
const MARGIN_MS = 5000;

async function start(ctx: OcfContext): Promise<number> {
  const node = ctx.env.OCF_RESKEY_CRM_meta_on_node || await localNodeName();
  const until = holdUntil(ctx, MARGIN_MS);
  const waited = await waitForEvacuation(ctx, node, until);
  const cloud = openCloud(cloudParamsFromOcf(ctx), ctx.log);
  const services = await cloud.nova().listServices({ binary: 'nova-compute' });
  const host = resolveNovaHost(services, node, ctx.str('domain') || undefined);
  if (!host) throw new OcfError(OCF.ERR_GENERIC, `Nova has no nova-compute service for ${node}`);
  const svc = services.find((s) => s.host === host);
  const renewed = await renewLostRequest(ctx, node, host, svc, until);
  const r = await settleAndUnfence(ctx, cloud, host, svc, { waited: waited || renewed, until, node });
  // when Nova keeps the host forced down, or unschedulable, until nova-compute has restarted, the monitor finishes
  markUnfence(stateFile(ctx), host, r);
  return OCF.SUCCESS;
}

async function monitor(ctx: OcfContext): Promise<number> {
  const file = stateFile(ctx);
  if (!fs.existsSync(file)) return OCF.NOT_RUNNING;
  await finishPendingUnfence(ctx, file);
  return OCF.SUCCESS;
}

export const definition: OcfAgent = {
  name: 'nova-compute-wait',
  version: VERSION,
  shortdesc: 'OpenStack Nova Compute Server',
  longdesc: 'Holds nova-compute back on a recovered compute node until NovaEvacuate has evacuated the instances it ' +
    'had when it was fenced, then unfences the node in Nova (forced_down cleared, service enabled). Run it as a clone on ' +
    'the compute nodes, ordered before nova-compute.',
  params: [
    ...OCF_CLOUD_PARAMS,
    ...HOLD_PARAMS,
    { name: 'verbose', type: 'boolean', default: 'false', shortdesc: 'Verbose logging', longdesc: 'Log debug messages.' },
  ],
  actions: [
    { name: 'start', timeout: 600 },
    { name: 'stop', timeout: 300 },
    { name: 'monitor', timeout: 20, interval: 10, depth: 0 },
    { name: 'validate-all', timeout: 20 },
    { name: 'meta-data', timeout: 5 },
  ],
  handlers: {
    validate(ctx) {
      validateOcfCloud(ctx);
      validateHold(ctx);
    },
    isRunning: (ctx) => fs.existsSync(stateFile(ctx)),
    start,
    async stop(ctx) { removeStateFile(stateFile(ctx)); return OCF.SUCCESS; },
    monitor,
  },
};

export const novaComputeWait: AgentEntry = {
  kind: 'ocf',
  provider: 'openstack',
  summary: 'Holds nova-compute back until its host\'s evacuation is done, then unfences it',
  run: (args) => runOcf(definition, args),
};
