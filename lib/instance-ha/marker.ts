/**
 * The marker the evacuation writes into the failed host's disabled_reason ("openstack-ha-agents: evacuating since
 * EPOCH by NODE", later "evacuated 10/10 ..."): operators see it in `openstack compute service list`, and a restarted
 * evacuator reads the epoch back.
 */
export const MARKER = 'openstack-ha-agents:';

export function markerText(state: string, since: number, detail = ''): string {
  // Nova keeps 255 characters
  return `${MARKER} ${state} since ${since}${detail ? ` ${detail}` : ''}`.slice(0, 255);
}

/** The epoch of our marker in a disabled_reason ("... since 1763750000 ..." or "fenced at 1763750000"). */
export function markerSince(reason: string | null | undefined): number | undefined {
  if (!reason || !reason.startsWith(MARKER)) return undefined;
  const m = /\b(?:since|at) (\d{9,})\b/.exec(reason);
  return m ? Number(m[1]) : undefined;
}
