/**
 * nova-compute-wait (OCF, provider openstack): runs on compute nodes, ordered before nova-compute. Its start holds
 * nova-compute back on a recovered host while that host's evacuation is pending (evacuate attribute "yes" or a
 * claim "node@epoch"), waits evacuation_delay more when the host had been fenced, then unfences it in Nova
 * (enables the service, clears forced_down) and returns. Nova refuses to clear forced_down until nova-compute has
 * started again on a host it evacuated; the monitor then finishes the unfencing once nova-compute runs.
 */
import type { AgentEntry } from '../lib/runtime/agent';
import { runOcf, OCF, OcfError, stateFile, touchStateFile, removeStateFile, type OcfAgent, type OcfContext } from '../lib/runtime/ocf/index';
import { Attrd, EVACUATE_ATTR, parseEvacState, localNodeName } from '../lib/pacemaker/index';
import { OCF_CLOUD_PARAMS, cloudParamsFromOcf, validateOcfCloud, resolveNovaHost, unfenceHost, unfenceDone } from '../lib/instance-ha/index';
import { openCloud } from '../lib/openstack/index';
import { VERSION } from '../lib/core/version';
import { poll, sleep } from '../lib/core/poll';
import * as fs from 'node:fs';

const POLL_MS = 2000;
/** stop waiting this long before Pacemaker's start timeout, to fail with a reason instead of being killed */
const MARGIN_MS = 5000;

async function start(ctx: OcfContext): Promise<number> {
  const node = ctx.env.OCF_RESKEY_CRM_meta_on_node || await localNodeName();
  const attrd = new Attrd();
  const until = ctx.deadlineAt !== undefined ? ctx.deadlineAt - MARGIN_MS : undefined;
  let value = '';
  let looks = 0;
  let lastLog = 0;
  const settled = await poll(async (n) => {
    looks = n;
    value = await attrd.query(EVACUATE_ATTR, node);
    const kind = parseEvacState(value).kind;
    if (kind !== 'requested' && kind !== 'claimed') return true;
    if (Date.now() - lastLog > 30000) { ctx.log.info(`Waiting for pending evacuations from ${node} (evacuate=${value})`); lastLog = Date.now(); }
    return undefined;
  }, { intervalMs: POLL_MS, until });
  if (!settled) throw new OcfError(OCF.ERR_GENERIC, `evacuation of ${node} is still pending (evacuate=${value}); nova-compute stays held back`);
  const waited = looks > 1;

  const cloud = openCloud(cloudParamsFromOcf(ctx), ctx.log);
  const services = await cloud.nova().listServices({ binary: 'nova-compute' });
  const host = resolveNovaHost(services, node, ctx.str('domain') || undefined);
  if (!host) throw new OcfError(OCF.ERR_GENERIC, `Nova has no nova-compute service for ${node}`);
  const svc = services.find((s) => s.host === host);
  // Fenced and evacuated (forced down still set): give the accepted evacuations time to settle elsewhere before
  // nova-compute starts here. A host that was never fenced starts at once.
  const delay = ctx.int('evacuation_delay');
  if ((waited || svc?.forcedDown) && delay > 0) {
    ctx.log.info(`Pausing ${delay} s to give evacuations from ${node} time to complete`);
    if (until !== undefined && Date.now() + delay * 1000 >= until) {
      throw new OcfError(OCF.ERR_CONFIGURED, `evacuation_delay (${delay} s) does not fit in the start timeout`);
    }
    await sleep(delay * 1000);
  }
  const r = await unfenceHost(cloud, host, ctx.log);
  // when Nova keeps the host forced down, or unschedulable, until nova-compute has restarted, the monitor finishes
  touchStateFile(stateFile(ctx), unfenceDone(r) ? '' : `${PENDING}${host}\n`);
  return OCF.SUCCESS;
}

const PENDING = 'unfence-pending ';

async function monitor(ctx: OcfContext): Promise<number> {
  const file = stateFile(ctx);
  let content: string;
  try { content = fs.readFileSync(file, 'utf8'); } catch { return OCF.NOT_RUNNING; }
  if (!content.startsWith(PENDING)) return OCF.SUCCESS;
  const host = content.slice(PENDING.length).trim();
  try {
    const r = await unfenceHost(openCloud(cloudParamsFromOcf(ctx), ctx.log), host, ctx.log);
    if (unfenceDone(r)) touchStateFile(file, '');
  } catch (e) {
    // nova-compute runs; only Nova's view lags: keep the resource up and retry at the next monitor
    ctx.log.warn(`could not finish unfencing ${host} in Nova yet: ${(e as Error).message}`);
  }
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
    { name: 'no_shared_storage', type: 'boolean', default: 'false', shortdesc: 'Disable shared storage recovery for instances', longdesc: 'Accepted for compatibility with the reference agent; not used by this agent.' },
    { name: 'evacuation_delay', type: 'integer', default: '120', shortdesc: 'Delay to allow evacuations time to complete', longdesc: 'Seconds to wait, after a fenced node\'s evacuation is marked done, before letting nova-compute start on it.' },
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
      if (ctx.int('evacuation_delay') < 0) throw new OcfError(OCF.ERR_CONFIGURED, 'evacuation_delay must not be negative');
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
