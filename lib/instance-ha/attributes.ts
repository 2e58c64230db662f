/**
 * The evacuate node attribute protocol, as the instance-HA agents wait on it ("yes" -> "node@epoch" -> "no").
 */
import type { Logger } from '../core/log';
import { poll } from '../core/poll';
import { Attrd, EVACUATE_ATTR, parseEvacState } from '../pacemaker/index';

/**
 * Wait until the node's evacuate attribute says its evacuation is over ("no" or unset). False when `until` came first.
 * Polls until `until` (epoch ms) if given, else until the caller's own timeout kills it, as the reference does.
 */
export async function waitEvacuationDone(attrd: Attrd, node: string, log: Logger, opts: { pollMs?: number; until?: number } = {}): Promise<boolean> {
  let lastLog = 0;
  const done = await poll(async () => {
    const v = await attrd.query(EVACUATE_ATTR, node);
    if (parseEvacState(v).kind === 'none') return true;
    if (Date.now() - lastLog > 30000) {
      log.info(`waiting for the evacuation of ${node} to complete (evacuate=${v})`);
      lastLog = Date.now();
    }
    return undefined;
  }, { intervalMs: opts.pollMs ?? 2000, until: opts.until });
  return done ?? false;
}
