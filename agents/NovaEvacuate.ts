/**
 * NovaEvacuate (OCF, provider openstack): watches the "evacuate" node attribute that fence_compute sets, and
 * evacuates every instance of each fenced compute host through the Nova API, in this process.
 *
 * Protocol (compatible with the reference agent): "yes" = needs evacuating; "node@epoch" = node claimed it at epoch;
 * "no" = done. A claim older than 60 s is taken over (its owner died or lost the resource), and so, at once, is a
 * claim whose node has left the cluster or was fenced since (crm_mon); this node's own claim is taken over at once, since Pacemaker never runs two monitors of one resource at a time. Instances Nova is
 * already rebuilding are skipped, so a takeover never evacuates an instance twice. On failure the host is set back
 * to "yes" and the next monitor retries.
 */
import type { AgentEntry } from '../lib/runtime/agent';
import { runOcf, OCF, OcfError, stateFile, touchStateFile, removeStateFile, type OcfAgent, type OcfContext } from '../lib/runtime/ocf/index';
import { Attrd, DEFAULT_TIMEOUT_MS, EVACUATE_ATTR, CLAIM_STALE_SECONDS, parseEvacState, localNodeName, type AttrValue } from '../lib/pacemaker/index';
import { OCF_CLOUD_PARAMS, OCF_EVACUATION_PARAMS, cloudParamsFromOcf, validateOcfCloud, resolveNovaHost, evacuationPolicy, evacuationPolicyProblem, reportDir } from '../lib/instance-ha/index';
import { openCloud } from '../lib/openstack/index';
import { VERSION } from '../lib/core/version';
import { sleep } from '../lib/core/poll';
import * as fs from 'node:fs';

/** A claim by another node younger than CLAIM_STALE_SECONDS: deferred unless that node has left the cluster. */
export function freshForeignClaims(attrs: AttrValue[], me: string, now: number): boolean {
  return attrs.some((a) => {
    const st = parseEvacState(a.value);
    return st.kind === 'claimed' && st.by !== me && now - st.since <= CLAIM_STALE_SECONDS;
  });
}

/**
 * Which hosts this monitor has to evacuate now. A claim of another node is taken over once it is stale, or at once
 * when `gone` says its claimer's evacuation has surely ended (it left the cluster or was fenced after claiming):
 * Pacemaker starts nova-evacuate elsewhere only after that, so the claimer sends nothing more.
 */
export function hostsToEvacuate(attrs: AttrValue[], me: string, now: number, log?: { info(m: string): void; debug(m: string): void },
  gone?: (node: string, sinceSec: number) => boolean): string[] {
  const out: string[] = [];
  for (const a of attrs) {
    const st = parseEvacState(a.value);
    if (st.kind === 'requested') out.push(a.host);
    else if (st.kind === 'claimed') {
      const age = now - st.since;
      if (st.by === me) { log?.info(`Resuming this node's evacuation of ${a.host} claimed ${age} s ago`); out.push(a.host); }
      else if (age > CLAIM_STALE_SECONDS) { log?.info(`Processing partial evacuation of ${a.host} by ${st.by} at ${st.since}`); out.push(a.host); }
      else if (gone?.(st.by, st.since)) {
        log?.info(`Taking over the evacuation of ${a.host} claimed by ${st.by} ${age} s ago: ${st.by} left the cluster or was fenced since`);
        out.push(a.host);
      } else log?.info(`Deferring processing partial evacuation of ${a.host} by ${st.by} at ${st.since}`);
    } else if (st.kind === 'unknown') log?.info(`Ignoring unexpected ${EVACUATE_ATTR}=${st.raw} for ${a.host}`);
  }
  return out;
}

/**
 * When another node's claim is fresh: whether its claimer's evacuation has ended, from one crm_mon (membership and
 * fencing history). Asked only then, so idle monitors stay a single attrd read; crm_mon failing defers as before.
 */
async function claimersGone(attrs: AttrValue[], me: string, now: number, ctx: OcfContext) {
  if (!freshForeignClaims(attrs, me, now)) return undefined;
  try {
    const { crmMon, endedSince } = await import('../lib/pacemaker/crm-mon.js');
    const st = await crmMon();
    return (node: string, sinceSec: number) => endedSince(st, node, sinceSec);
  } catch (e) {
    ctx.log.warn(`cannot tell whether another node's evacuation claim is alive: ${(e as Error).message}`);
    return undefined;
  }
}

/**
 * Stop: hand this node's claims back ("node@epoch" → "yes"), so that the node nova-evacuate moves to takes them at
 * its first monitor instead of deferring to a live claim for CLAIM_STALE_SECONDS. Pacemaker moves the resource
 * whenever placement changes (a fenced compute node's connection resource moving is enough) and kills an evacuation
 * in progress with the monitor; what was already accepted there is found in progress and not asked again. Best
 * effort: attrd not answering must not fail the stop.
 */
async function releaseClaims(ctx: OcfContext): Promise<void> {
  try {
    const me = ctx.env.OCF_RESKEY_CRM_meta_on_node || await localNodeName();
    const attrd = new Attrd();
    for (const a of await attrd.queryAll(EVACUATE_ATTR)) {
      const st = parseEvacState(a.value);
      if (st.kind !== 'claimed' || st.by !== me) continue;
      await attrd.update(EVACUATE_ATTR, a.host, 'yes');
      ctx.log.info(`Released this node's claim on the evacuation of ${a.host} (evacuate=yes again) for the next node`);
    }
  } catch (e) {
    ctx.log.warn(`could not release this node's evacuation claims: ${(e as Error).message}`);
  }
}

/**
 * The policy, with the verification deadline kept inside what is left of Pacemaker's monitor timeout: a quarter of
 * it (at most 30 s) is kept for the attribute update after the verification, which ends by then however long the
 * evacuation requests before it took.
 * (A monitor with Pacemaker's default 20 s timeout verifies for 15 s; unverified instances are followed again by
 * the next monitor, which never asks twice for one.)
 */
export function boundedPolicy(ctx: OcfContext) {
  const p = evacuationPolicy(ctx);
  const left = ctx.remaining();
  if (left !== undefined && ctx.deadlineAt !== undefined) {
    const spare = Math.min(30, left / 4);
    p.verifyTimeoutSec = Math.max(5, Math.min(p.verifyTimeoutSec, Math.floor(left - spare)));
    p.verifyUntil = ctx.deadlineAt - spare * 1000;
  }
  return p;
}

/**
 * The evacuate attributes, or undefined when attrd cannot be reached (outside a running cluster, attrd restarting):
 * like an unreachable Keystone, that is no reason to stop the resource; the next monitor reads them again.
 * Read synchronously (the monitor has nothing else to do meanwhile, and an idle monitor is only this read: no child
 * process streams to set up), with attrd_updater's usual timeout kept 2 s inside the monitor's own: a hanging
 * attrd_updater is killed and reported as attrd not answering before Pacemaker would time the monitor out.
 */
function readEvacuateAttrs(ctx: OcfContext): AttrValue[] | undefined {
  const left = ctx.remaining();
  const timeoutMs = left === undefined ? DEFAULT_TIMEOUT_MS : Math.max(500, Math.min(DEFAULT_TIMEOUT_MS, Math.floor(left * 1000) - 2000));
  try {
    return new Attrd({ timeoutMs }).queryAllSync(EVACUATE_ATTR);
  } catch (e) {
    ctx.log.warn(`cannot read the ${EVACUATE_ATTR} attributes (is attrd running?): ${(e as Error).message}; will retry at the next monitor`);
    return undefined;
  }
}

async function monitor(ctx: OcfContext): Promise<number> {
  if (!fs.existsSync(stateFile(ctx))) return OCF.NOT_RUNNING;
  const attrs = readEvacuateAttrs(ctx);
  if (!attrs) return OCF.SUCCESS;
  const me = ctx.env.OCF_RESKEY_CRM_meta_on_node || await localNodeName();
  const now = Math.floor(Date.now() / 1000);
  const todo = hostsToEvacuate(attrs, me, now, ctx.log, await claimersGone(attrs, me, now, ctx));
  if (todo.length === 0 && ctx.checkLevel < 10) return OCF.SUCCESS;

  const attrd = new Attrd();
  const cloud = openCloud(cloudParamsFromOcf(ctx), ctx.log);
  let services;
  try {
    services = await cloud.nova().listServices({ binary: 'nova-compute' });
  } catch (e) {
    const msg = `Nova is not reachable: ${(e as Error).message}`;
    if (todo.length === 0) throw new OcfError(OCF.ERR_GENERIC, msg); // deep check asked for it
    // keep running: the hosts stay flagged and the next monitor retries
    ctx.log.warn(`${msg}; ${todo.join(', ')} will be evacuated when it answers`);
    return OCF.SUCCESS;
  }
  await Promise.all(todo.map(async (node) => {
    const host = resolveNovaHost(services, node, ctx.str('domain') || undefined);
    if (!host) {
      // don't mark it "no": perhaps Nova is not fully up yet
      ctx.log.info(`Nova does not know about ${node}`);
      return;
    }
    try {
      await attrd.update(EVACUATE_ATTR, node, `${me}@${Math.floor(Date.now() / 1000)}`);
    } catch (e) {
      ctx.log.warn(`Can not set evacuation state of ${node}: ${(e as Error).message}`);
      return;
    }
    ctx.log.notice(`Initiating evacuation of ${node}${host !== node ? ` (Nova host ${host})` : ''}`);
    const delay = ctx.int('evacuate_delay');
    if (delay > 0) {
      ctx.log.info(`Delaying nova evacuate by ${delay} seconds`);
      await sleep(delay * 1000);
    }
    // the engine is loaded only when there is something to evacuate (start-up and quiet monitors stay light)
    const { evacuateHost, EvacuationBlocked } = await import('../lib/instance-ha/evacuate.js');
    let ok = false;
    try {
      const r = await evacuateHost(cloud, {
        host, noSharedStorage: ctx.bool('no_shared_storage'), instanceFiltering: ctx.bool('instance_filtering'),
        policy: boundedPolicy(ctx), by: me, reportDir: reportDir(),
      }, ctx.log);
      const transient = r.failed.filter((f) => !r.givenUp.includes(f.id));
      ok = transient.length === 0;
      const counts = `${r.accepted.length} evacuated, ${r.filtered.length} not evacuable, ${r.skipped.length} skipped or in progress`;
      if (r.failed.length === 0) ctx.log.notice(`Completed evacuation of ${node}: ${counts}`);
      else if (ok) ctx.log.error(`Evacuation of ${node} done with ${r.givenUp.length} instance(s) given up (see the report): ${counts}`);
      else ctx.log.warn(`Evacuation of ${node} failed for ${transient.length} of ${r.total} instance(s); will retry`);
    } catch (e) {
      if (e instanceof EvacuationBlocked) ctx.log.error(`${e.message}; will retry`);
      else ctx.log.warn(`Evacuation of ${node} failed: ${(e as Error).message}; will retry`);
    }
    try {
      await attrd.update(EVACUATE_ATTR, node, ok ? 'no' : 'yes');
    } catch (e) {
      ctx.log.warn(`Can not set evacuation state of ${node} to ${ok ? 'no' : 'yes'}: ${(e as Error).message}`);
    }
  }));
  return OCF.SUCCESS;
}

export const definition: OcfAgent = {
  name: 'NovaEvacuate',
  version: VERSION,
  shortdesc: 'Evacuator for OpenStack Nova Compute Server',
  longdesc: 'Facility for tracking a list of compute nodes and reliably evacuating the ones that fence_compute has flagged ' +
    '(node attribute evacuate=yes). Instances are evacuated through the Nova API by this agent itself.',
  params: [
    ...OCF_CLOUD_PARAMS,
    { name: 'no_shared_storage', type: 'boolean', default: 'false', shortdesc: 'Disable shared storage recovery for instances', longdesc: 'Disable shared storage recovery for instances. Use at your own risk! (Only sent to Nova below compute API microversion 2.14; later Nova detects shared storage itself.)' },
    { name: 'instance_filtering', type: 'boolean', default: 'true', shortdesc: 'Only evacuate instances tagged evacuable', longdesc: 'Only evacuate instances whose flavor (extra_specs evacuable=true) or image (property evacuable=true or tag evacuable) is tagged, or every instance when nothing is tagged. False evacuates every instance.' },
    { name: 'verbose', type: 'boolean', default: 'false', shortdesc: 'Verbose logging', longdesc: 'Log debug messages (each OpenStack request, each instance).' },
    { name: 'evacuate_delay', type: 'integer', default: '0', shortdesc: 'Delay before evacuating', longdesc: 'Seconds to wait after claiming a fenced host before evacuating its instances.' },
    ...OCF_EVACUATION_PARAMS,
  ],
  actions: [
    { name: 'start', timeout: 20 },
    { name: 'stop', timeout: 20 },
    { name: 'monitor', timeout: 600, interval: 10, depth: 0 },
    { name: 'validate-all', timeout: 20 },
    { name: 'meta-data', timeout: 5 },
  ],
  handlers: {
    validate(ctx) {
      validateOcfCloud(ctx);
      if (ctx.int('evacuate_delay') < 0) throw new OcfError(OCF.ERR_CONFIGURED, 'evacuate_delay must not be negative');
      const problem = evacuationPolicyProblem(evacuationPolicy(ctx));
      if (problem) throw new OcfError(OCF.ERR_CONFIGURED, problem);
    },
    isRunning: (ctx) => fs.existsSync(stateFile(ctx)),
    async start(ctx) {
      // monitor is not run here, so that the start timeout can stay low
      touchStateFile(stateFile(ctx));
      return OCF.SUCCESS;
    },
    async stop(ctx) {
      await releaseClaims(ctx);
      removeStateFile(stateFile(ctx));
      return OCF.SUCCESS;
    },
    monitor,
  },
};

export const novaEvacuate: AgentEntry = {
  kind: 'ocf',
  provider: 'openstack',
  summary: definition.shortdesc,
  run: (args) => runOcf(definition, args),
};
