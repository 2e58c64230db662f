/**
 * Holding nova-compute back on a recovered compute node, shared by nova-compute-wait and NovaCompute: wait while the
 * node's evacuation is pending (evacuate "yes" or a claim "node@epoch"), give the accepted evacuations
 * evacuation_delay seconds more when the host had been fenced, then unfence it in Nova. Nova refuses to clear
 * forced_down (and Placement keeps COMPUTE_STATUS_DISABLED) until nova-compute runs again: what is left is kept as an
 * "unfence-pending HOST" mark in a state file, which a later look (the monitor, or NovaCompute's start once
 * nova-compute runs) finishes.
 */
import * as fs from 'node:fs';
import { OCF, OcfError, touchStateFile, type OcfContext, type OcfParam } from '../runtime/ocf/index';
import { Attrd, EVACUATE_ATTR, parseEvacState } from '../pacemaker/index';
import { openCloud, type Cloud, type NovaService } from '../openstack/index';
import { poll, sleep } from '../core/poll';
import { cloudParamsFromOcf } from './params';
import { unfenceHost, unfenceDone, type UnfenceResult } from './hosts';
import { MARKER } from './marker';

/** The reference agents' parameters of the hold (nova-compute-wait, NovaCompute). */
export const HOLD_PARAMS: readonly OcfParam[] = [
  { name: 'no_shared_storage', type: 'boolean', default: 'false', shortdesc: 'Disable shared storage recovery for instances', longdesc: 'Accepted for compatibility with the reference agent; not used by this agent.' },
  { name: 'evacuation_delay', type: 'integer', default: '120', shortdesc: 'Delay to allow evacuations time to complete', longdesc: 'Seconds to wait, after a fenced node\'s evacuation is marked done, before letting nova-compute start on it.' },
];

const POLL_MS = 2000;
const PENDING = 'unfence-pending ';

/** validate-all of the hold's own settings. */
export function validateHold(ctx: OcfContext): void {
  if (ctx.int('evacuation_delay') < 0) throw new OcfError(OCF.ERR_CONFIGURED, 'evacuation_delay must not be negative');
}

/** When the hold must give up, epoch ms: `reserveMs` before the action's deadline (undefined without a timeout). */
export function holdUntil(ctx: OcfContext, reserveMs: number): number | undefined {
  return ctx.deadlineAt !== undefined ? ctx.deadlineAt - reserveMs : undefined;
}

/**
 * Wait until the node's evacuation is no longer pending. True when it was pending at the first look (the host had
 * been fenced); OCF_ERR_GENERIC with a reason when `until` comes first, rather than being killed by the timeout.
 */
export async function waitForEvacuation(ctx: OcfContext, node: string, until: number | undefined): Promise<boolean> {
  const attrd = new Attrd();
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
  return looks > 1;
}

/** Fenced by our fence agent and not unfenced since: disabled with our marker in disabled_reason. */
export function fencedByUs(svc: NovaService | undefined): boolean {
  return !!svc && svc.status === 'disabled' && !!svc.disabledReason?.startsWith(MARKER);
}

/**
 * The evacuate attribute is gone, but Nova still has the host fenced by us: ask for its evacuation again ("yes") and
 * wait for it. Pacemaker erases a pacemaker_remote node's transient attributes, private ones included, when its
 * connection comes back, so a compute node that returns before its evacuation is over loses its request (or the claim
 * of an evacuation in progress). Asking again is safe: NovaEvacuate skips instances already moved or in progress, and a
 * host with nothing left is marked done at once. True when it asked.
 */
export async function renewLostRequest(ctx: OcfContext, node: string, host: string, svc: NovaService | undefined,
  until: number | undefined): Promise<boolean> {
  if (!fencedByUs(svc)) return false;
  const attrd = new Attrd();
  if ((await attrd.query(EVACUATE_ATTR, node)) !== '') return false;
  ctx.log.warn(`${node}'s evacuate attribute is gone while Nova still has ${host} fenced (${svc?.disabledReason}): ` +
    'Pacemaker clears a remote node\'s attributes when it reconnects. Asking for its evacuation again');
  await attrd.update(EVACUATE_ATTR, node, 'yes');
  await waitForEvacuation(ctx, node, until);
  return true;
}

/**
 * A fenced host (its evacuation was pending, or Nova still has it forced down): give the accepted evacuations
 * evacuation_delay seconds to settle elsewhere before nova-compute starts here. Then unfence it in Nova.
 */
export async function settleAndUnfence(ctx: OcfContext, cloud: Cloud, host: string, svc: NovaService | undefined,
  opts: { waited: boolean; until?: number; node?: string }): Promise<UnfenceResult> {
  const delay = ctx.int('evacuation_delay');
  if ((opts.waited || svc?.forcedDown) && delay > 0) {
    ctx.log.info(`Pausing ${delay} s to give evacuations from ${opts.node ?? host} time to complete`);
    if (opts.until !== undefined && Date.now() + delay * 1000 >= opts.until) {
      throw new OcfError(OCF.ERR_CONFIGURED, `evacuation_delay (${delay} s) does not fit in the start timeout`);
    }
    await sleep(delay * 1000);
  }
  return unfenceHost(cloud, host, ctx.log);
}

/** Record what is left of the unfencing: nothing, or "unfence-pending HOST" for finishPendingUnfence. */
export function markUnfence(file: string, host: string, r: UnfenceResult): void {
  touchStateFile(file, unfenceDone(r) ? '' : `${PENDING}${host}\n`);
}

/** The host whose unfencing the state file says is pending; undefined when none (or no file). */
export function pendingUnfence(file: string): string | undefined {
  let content: string;
  try { content = fs.readFileSync(file, 'utf8'); } catch { return undefined; }
  return content.startsWith(PENDING) ? content.slice(PENDING.length).trim() : undefined;
}

/**
 * Finish a pending unfencing (nova-compute runs now); true when nothing is left. A failure is logged (a warning, or
 * with quiet a debug message) and left for the next look: nova-compute runs, only Nova's view lags.
 */
export async function finishPendingUnfence(ctx: OcfContext, file: string, opts: { quiet?: boolean } = {}): Promise<boolean> {
  const host = pendingUnfence(file);
  if (host === undefined) return true;
  try {
    const r = await unfenceHost(openCloud(cloudParamsFromOcf(ctx), ctx.log), host, ctx.log);
    if (unfenceDone(r)) touchStateFile(file, '');
    return unfenceDone(r);
  } catch (e) {
    const msg = `could not finish unfencing ${host} in Nova yet: ${(e as Error).message}`;
    if (opts.quiet) ctx.log.debug(msg); else ctx.log.warn(msg);
    return false;
  }
}
