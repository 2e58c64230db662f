/** Clock helpers. */

/** Now, in epoch seconds. */
export function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

/** An OpenStack timestamp in epoch ms: Nova's and Cinder's have no zone and are UTC. NaN when absent. */
export function openstackTimeMs(t: string | null | undefined): number {
  if (!t) return NaN;
  return Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(t) ? t : `${t}Z`);
}
