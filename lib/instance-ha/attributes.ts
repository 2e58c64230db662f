/**
 * The evacuate node attribute protocol, as the instance-HA agents wait on it ("yes" -> "node@epoch" -> "no").
 */
import type { Logger } from '../core/log';
import { Attrd, EVACUATE_ATTR, parseEvacState } from '../pacemaker/index';

/**
 * Wait until the node's evacuate attribute says its evacuation is over ("no" or unset). Returns the last value.
 * Polls until `until` (epoch ms) if given, else until the caller's own timeout kills it, as the reference does.
 */
export async function waitEvacuationDone(attrd: Attrd, node: string, log: Logger, opts: { pollMs?: number; until?: number } = {}): Promise<boolean> {
  let lastLog = 0;
  for (;;) {
    const v = await attrd.query(EVACUATE_ATTR, node);
    const st = parseEvacState(v);
    if (st.kind === 'none') return true;
    if (Date.now() - lastLog > 30000) {
      log.info(`waiting for the evacuation of ${node} to complete (evacuate=${v})`);
      lastLog = Date.now();
    }
    if (opts.until !== undefined && Date.now() >= opts.until) return false;
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 2000));
  }
}
