/**
 * `openstack-ha-agents status [--json] [--instances] [--cloud NAME] [--reports DIR]` (bin/cli.ts): what instance HA sees, per
 * compute host: Nova's state (up/down), enabled/disabled with the reason (our markers), forced_down, the cluster's
 * `evacuate` node attribute, the instances on the host, and the last evacuation report this node wrote for it.
 * Connection settings come from clouds.yaml (--cloud or OS_CLOUD) or the OS_* variables, as for the openstack CLI.
 * Read-only: it changes nothing in Nova or in the cluster.
 */
import { Logger } from '../core/log';
import { openCloud, type NovaServer, type NovaService } from '../openstack/index';

import { Attrd, EVACUATE_ATTR, type AttrValue } from '../pacemaker/index';
import { checkGuards } from './evacuable';
import { readReports, type EvacuationReport } from './report';
import { reportDir } from './policy';

export interface HostStatus {
  host: string;
  state: string;
  status: string;
  disabledReason: string | null;
  forcedDown: boolean;
  /** the evacuate node attribute, null when unset or the cluster cannot be asked */
  evacuate: string | null;
  instances: { id: string; name: string; status: string; taskState: string | null }[];
  report: EvacuationReport | null;
}

export interface StatusDoc {
  generatedAt: string;
  computeServicesDown: number;
  computeServices: number;
  downPercent: number;
  /** why the cluster's evacuate attributes are missing, if they are */
  attributesUnavailable?: string;
  hosts: HostStatus[];
}

/** The options of `openstack-ha-agents status` (parsed by bin/cli.ts, which also prints its --help). */
export interface StatusOptions {
  /** one JSON document (StatusDoc) instead of the table */
  json?: boolean;
  /** list each instance under its host (table), and each report's instances */
  instances?: boolean;
  /** clouds.yaml entry (default: OS_CLOUD, or the OS_* variables) */
  cloud?: string;
  /** where the agents write their reports (default: reportDir()) */
  reports?: string;
}

export function buildStatus(services: NovaService[], servers: NovaServer[], attrs: AttrValue[] | undefined, reports: EvacuationReport[], attrsProblem?: string): StatusDoc {
  const computes = services.filter((s) => s.binary === 'nova-compute').sort((a, b) => a.host.localeCompare(b.host));
  const guard = checkGuards(services, { thresholdPercent: 100, checkCriticalServices: false });
  const byHost = new Map<string, NovaServer[]>();
  for (const s of servers) if (s.host) byHost.set(s.host, [...(byHost.get(s.host) ?? []), s]);
  const attrOf = (host: string) => {
    const a = attrs?.find((x) => x.host === host || x.host.split('.')[0] === host.split('.')[0]);
    return a && a.value !== '' ? a.value : null;
  };
  return {
    generatedAt: new Date().toISOString(),
    computeServicesDown: guard.down, computeServices: guard.total, downPercent: guard.downPercent,
    ...(attrsProblem ? { attributesUnavailable: attrsProblem } : {}),
    hosts: computes.map((svc) => ({
      host: svc.host, state: svc.state, status: svc.status, disabledReason: svc.disabledReason, forcedDown: svc.forcedDown,
      evacuate: attrOf(svc.host),
      instances: (byHost.get(svc.host) ?? []).map((s) => ({ id: s.id, name: s.name, status: s.status, taskState: s.taskState })),
      report: reports.filter((r) => r.host === svc.host).sort((a, b) => b.finishedAt - a.finishedAt)[0] ?? null,
    })),
  };
}

function reportSummary(r: EvacuationReport | null): string {
  if (!r) return '-';
  const at = new Date(r.finishedAt * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  if (r.blocked) return `BLOCKED at ${at}: ${r.blocked}`;
  const n = (o: string) => r.instances.filter((i) => i.outcome === o).length;
  const parts = [`${n('evacuated')} evacuated`, `${n('accepted')} accepted`, `${n('in-progress')} in progress`, `${n('failed')} failed`, `${n('not-evacuable')} not evacuable`]
    .filter((p) => !p.startsWith('0 '));
  return `${at}: ${parts.join(', ') || 'nothing to evacuate'}${r.verified ? ' (verified)' : ''}`;
}

export function formatStatus(doc: StatusDoc, withInstances: boolean): string {
  const rows = [['HOST', 'NOVA', 'STATUS', 'FORCED_DOWN', 'EVACUATE', 'INSTANCES', 'LAST EVACUATION (this node)']];
  for (const h of doc.hosts) {
    rows.push([h.host, h.state, h.status, h.forcedDown ? 'yes' : 'no', h.evacuate ?? '-', String(h.instances.length), reportSummary(h.report)]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd());
  lines.push('', `${doc.computeServicesDown} of ${doc.computeServices} compute services down (${doc.downPercent}%)`);
  if (doc.attributesUnavailable) lines.push(`evacuate attributes unavailable: ${doc.attributesUnavailable}`);
  for (const h of doc.hosts) {
    if (h.status === 'disabled' && h.disabledReason) lines.push(`${h.host}: disabled: ${h.disabledReason}`);
  }
  if (withInstances) {
    for (const h of doc.hosts) {
      if (h.instances.length) {
        lines.push('', `${h.host}:`);
        for (const i of h.instances) lines.push(`  ${i.id} ${i.name} ${i.status}${i.taskState ? ` (${i.taskState})` : ''}`);
      }
      if (h.report && h.report.instances.length) {
        lines.push('', `last evacuation of ${h.host}:`);
        for (const i of h.report.instances) {
          lines.push(`  ${i.id} ${i.name}: ${i.outcome}${i.to ? ` -> ${i.to}` : ''}${i.status ? ` ${i.status}` : ''}${i.reason ? ` (${i.reason})` : ''}`);
        }
      }
    }
  }
  return lines.join('\n') + '\n';
}

export async function statusCommand(opts: StatusOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const json = !!opts.json; const withInstances = !!opts.instances; const cloudName = opts.cloud; const dir = opts.reports ?? reportDir();
  const log = new Logger({ tag: 'openstack-ha-agents status', env: {}, stderr: false, debug: false });
  let cloud;
  try {
    cloud = openCloud({ cloud: cloudName }, log, env);
  } catch (e) {
    process.stderr.write(`status: ${(e as Error).message}\n`);
    return 1;
  }
  try {
    const nova = cloud.nova();
    const [services, servers] = await Promise.all([nova.listServices(), nova.listAllServers()]);
    let attrs: AttrValue[] | undefined; let problem: string | undefined;
    try { attrs = await new Attrd({ timeoutMs: 5000 }).queryAll(EVACUATE_ATTR); } catch (e) { problem = (e as Error).message.split('\n')[0]; }
    const doc = buildStatus(services, servers, attrs, readReports(dir), problem);
    process.stdout.write(json ? JSON.stringify(doc, null, 1) + '\n' : formatStatus(doc, withInstances));
    return 0;
  } catch (e) {
    process.stderr.write(`status: ${(e as Error).message}\n`);
    return 1;
  } finally {
    cloud.close();
  }
}
