/**
 * The per-host evacuation report: one record per instance, logged as one JSON line plus one human line per
 * instance, and written to REPORT_DIR/<host>.json for `openstack-ha-agents status`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../core/log';
import { errText } from '../core/text';
import { nowSec } from '../core/time';

export type InstanceOutcome =
  /** verified: running (or shut off) on another host */
  | 'evacuated'
  /** Nova accepted the evacuation (not verified) */
  | 'accepted'
  /** Nova was already moving it when we looked (not verified) */
  | 'in-progress'
  /** not tagged evacuable, or the host is not in an evacuable aggregate */
  | 'not-evacuable'
  /** in a state Nova cannot evacuate, or gone */
  | 'skipped'
  | 'failed';

export interface InstanceRecord {
  id: string;
  name: string;
  outcome: InstanceOutcome;
  from: string;
  to?: string | null;
  status?: string;
  /** evacuation requests made for it since the host failed (ours and earlier ones) */
  attempts: number;
  reason?: string;
}

export interface EvacuationReport {
  host: string;
  by?: string;
  /** epoch seconds: when the host's evacuation began (from the marker when resuming) */
  since: number;
  startedAt: number;
  finishedAt: number;
  verified: boolean;
  /** set when a guard stopped the evacuation */
  blocked?: string;
  /** the reserved host enabled for it */
  reservedHostEnabled?: string;
  total: number;
  instances: InstanceRecord[];
  /** ids of instances whose evacuation was accepted (or verified) */
  accepted: string[];
  /** not evacuable by the tag rules */
  filtered: string[];
  /** already in progress or in a state Nova cannot evacuate */
  skipped: { id: string; why: string }[];
  failed: { id: string; reason: string }[];
  /** failures that are final (retries exhausted, rebuild failed elsewhere): retrying the host will not help */
  givenUp: string[];
}

function humanLine(r: InstanceRecord): string {
  // the status is the one seen last: on the new host once verified, before the evacuation otherwise
  const where = r.to ? `${r.from} -> ${r.to}${r.status ? ` ${r.status}` : ''}` : `from ${r.from}${r.status ? ` (was ${r.status})` : ''}`;
  return `instance ${r.id} (${r.name}): ${r.outcome} ${where}` +
    `${r.attempts ? `, ${r.attempts} attempt${r.attempts > 1 ? 's' : ''}` : ''}${r.reason ? ` (${r.reason})` : ''}`;
}

export function writeReport(dir: string | undefined, report: EvacuationReport, log: Logger): void {
  if (!dir) return;
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, `${report.host.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(report, null, 1) + '\n', { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch (e) {
    log.warn(`could not write the evacuation report of ${report.host} to ${dir}: ${errText(e)}`);
  }
}

export function readReports(dir: string): EvacuationReport[] {
  let names: string[];
  try { names = fs.readdirSync(dir).filter((n) => n.endsWith('.json')); } catch { return []; }
  const out: EvacuationReport[] = [];
  for (const n of names) {
    try { out.push(JSON.parse(fs.readFileSync(path.join(dir, n), 'utf8')) as EvacuationReport); } catch { /* being written */ }
  }
  return out;
}

export function finish(report: EvacuationReport, records: Map<string, InstanceRecord>, log: Logger): EvacuationReport {
  report.instances = [...records.values()];
  report.finishedAt = nowSec();
  for (const r of report.instances) {
    if (r.outcome === 'evacuated' || r.outcome === 'accepted') report.accepted.push(r.id);
    else if (r.outcome === 'not-evacuable') report.filtered.push(r.id);
    else if (r.outcome === 'skipped' || r.outcome === 'in-progress') report.skipped.push({ id: r.id, why: r.reason ?? r.outcome });
    else if (r.outcome === 'failed') report.failed.push({ id: r.id, reason: r.reason ?? 'failed' });
  }
  for (const r of report.instances) {
    if (r.outcome === 'not-evacuable') log.debug(humanLine(r));
    else if (r.outcome === 'failed') log.error(humanLine(r));
    else log.info(humanLine(r));
  }
  const { instances: _omit, ...summary } = report;
  log.info(`evacuation report ${JSON.stringify({ ...summary, instances: report.instances.map((r) => ({ id: r.id, outcome: r.outcome, to: r.to, attempts: r.attempts })) })}`);
  return report;
}
