/**
 * `openstack-ha-agents status [--json] [--instances] [--cloud NAME] [--reports DIR]` (bin/cli.ts): what instance HA sees, per
 * compute host: Nova's state (up/down), enabled/disabled with the reason (our markers), forced_down, the cluster's
 * `evacuate` node attribute, the instances on the host, and the last evacuation report this node wrote for it; and
 * Pacemaker's side, from one `crm_mon -1 --output-as=xml --inactive --fence-history=2`: the host's cluster node
 * (online, offline, unclean; remote or member), its last successful and last failed fencing, and the state of the
 * NovaCompute or nova-compute-wait instance on it (starting: holding nova-compute back; stopped on an online node: held).
 * Cluster node names are matched to Nova's hosts as the fence agents do (hosts.ts resolveNovaHost).
 * Connection settings come from clouds.yaml (--cloud or OS_CLOUD) or the OS_* variables, as for the openstack CLI.
 * Read-only: it changes nothing in Nova or in the cluster.
 */
import { Logger } from '../core/log';
import { openCloud, type NovaServer, type NovaService } from '../openstack/index';

import { Attrd, EVACUATE_ATTR, type AttrValue } from '../pacemaker/index';
import { crmMon, type CrmMonStatus, type CrmNode, type CrmResource, type FenceEvent } from '../pacemaker/crm-mon';
import { checkGuards } from './evacuable';
import { resolveNovaHost } from './hosts';
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
  /** Pacemaker's side; null when the cluster's status cannot be read (StatusDoc.clusterUnavailable says why) */
  cluster: ClusterHostStatus | null;
}

/** one fencing of the host, from Pacemaker's fencing history */
export interface Fencing {
  /** when it completed (ISO 8601); null while pending */
  at: string | null;
  /** off, reboot, on */
  action: string;
  /** the cluster node that carried it out (Pacemaker 2.1's history does not name the device) */
  delegate: string | null;
  /** who asked for it (pacemaker-controld.PID, stonith_admin.PID...) and on which node */
  client: string;
  origin: string;
  exitReason?: string;
}

/** the NovaCompute or nova-compute-wait instance on the host's node */
export interface HoldStatus {
  /** the clone's id, or the primitive's */
  resource: string;
  agent: string;
  /** starting (its start, the hold, is in progress), started, stopped (no instance on the node), stopping, failed... */
  state: string;
  /** holding nova-compute back: its start is in progress, or it is stopped while the node is online */
  holding: boolean;
}

export interface ClusterHostStatus {
  /** the host's cluster node, null when it is not one */
  node: string | null;
  /** remote (pacemaker_remote) or member; null when not a cluster node */
  type: string | null;
  /** unclean: the node must be fenced (fencing pending or failing) */
  state: 'online' | 'offline' | 'unclean' | 'not a node';
  /** the last successful fencing; null when none in the history (or the history is unavailable) */
  lastFenced: Fencing | null;
  /** the last failed fencing, and whether it is the last completed fencing of the host */
  lastFailure: Fencing | null;
  lastFencingFailed: boolean;
  /** a fencing of the host in progress */
  fencingPending: Fencing | null;
  novaCompute: HoldStatus[];
}

export interface StatusDoc {
  generatedAt: string;
  computeServicesDown: number;
  computeServices: number;
  downPercent: number;
  /** why the cluster's evacuate attributes are missing, if they are */
  attributesUnavailable?: string;
  /** why Pacemaker's side (crm_mon) is missing, if it is */
  clusterUnavailable?: string;
  /** why the fencing history is missing while the rest of the cluster's status is there */
  fenceHistoryUnavailable?: string;
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

/** the agents that hold nova-compute back on a recovered host (any provider; ours is ocf:openstack) */
const HOLD_AGENT = /^ocf:[^:]+:(NovaCompute|nova-compute-wait)$/;

/**
 * The NovaCompute / nova-compute-wait resources as seen on one node: a clone's instance there (or the primitive
 * active there); a clone with no instance there is "stopped" on it. A stopped primitive belongs to no node: not shown.
 */
export function holdsOn(resources: CrmResource[], node: CrmNode): HoldStatus[] {
  const groups = new Map<string, CrmResource[]>();
  for (const r of resources) {
    if (!HOLD_AGENT.test(r.agent)) continue;
    const key = r.clone ?? r.id;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const out: HoldStatus[] = [];
  for (const [resource, rs] of groups) {
    const here = rs.find((r) => r.nodes.includes(node.name));
    if (here) {
      const state = here.failed ? 'failed' : here.role.toLowerCase();
      out.push({ resource, agent: here.agent, state, holding: state === 'starting' });
    } else if (rs[0].clone) {
      out.push({ resource, agent: rs[0].agent, state: 'stopped', holding: node.online && !node.unclean });
    }
  }
  return out;
}

const fencing = (e: FenceEvent): Fencing => ({
  at: e.completed ?? null, action: e.action, delegate: e.delegate ?? null, client: e.client, origin: e.origin,
  ...(e.exitReason ? { exitReason: e.exitReason } : {}),
});

/** the latest of the events (by completion time; crm_mon lists the newest first, which breaks ties) */
function latest(events: FenceEvent[]): FenceEvent | undefined {
  let best: FenceEvent | undefined; let bestT = -Infinity;
  for (const e of events) {
    const t = e.completed ? Date.parse(e.completed) : NaN;
    if (best === undefined || (!Number.isNaN(t) && t > bestT)) { best = e; bestT = Number.isNaN(t) ? bestT : t; }
  }
  return best;
}

/** Pacemaker's side of each Nova compute host; node names and fencing targets mapped to Nova's hosts with resolveNovaHost */
export function clusterSides(computes: NovaService[], crm: CrmMonStatus): Map<string, ClusterHostStatus> {
  const nodeOf = new Map<string, CrmNode>();
  for (const n of crm.nodes) {
    const host = resolveNovaHost(computes, n.name);
    if (host !== undefined && (!nodeOf.has(host) || nodeOf.get(host)!.name !== host)) nodeOf.set(host, n);
  }
  const eventsOf = new Map<string, FenceEvent[]>();
  for (const e of crm.fenceHistory ?? []) {
    const host = resolveNovaHost(computes, e.target);
    if (host !== undefined) eventsOf.set(host, [...(eventsOf.get(host) ?? []), e]);
  }
  const out = new Map<string, ClusterHostStatus>();
  for (const svc of computes) {
    const n = nodeOf.get(svc.host);
    const events = eventsOf.get(svc.host) ?? [];
    const done = latest(events.filter((e) => e.status !== 'pending'));
    const success = latest(events.filter((e) => e.status === 'success'));
    const failure = latest(events.filter((e) => e.status === 'failed'));
    const pending = events.find((e) => e.status === 'pending');
    out.set(svc.host, {
      node: n?.name ?? null, type: n?.type ?? null,
      state: !n ? 'not a node' : n.unclean ? 'unclean' : n.online ? 'online' : 'offline',
      lastFenced: success ? fencing(success) : null,
      lastFailure: failure ? fencing(failure) : null,
      lastFencingFailed: done?.status === 'failed',
      fencingPending: pending ? fencing(pending) : null,
      novaCompute: n ? holdsOn(crm.resources, n) : [],
    });
  }
  return out;
}

/** Pacemaker's status (crm_mon), or why it is missing */
export interface ClusterInput { status?: CrmMonStatus; problem?: string }

export function buildStatus(services: NovaService[], servers: NovaServer[], attrs: AttrValue[] | undefined, reports: EvacuationReport[],
  attrsProblem?: string, cluster: ClusterInput = {}): StatusDoc {
  const computes = services.filter((s) => s.binary === 'nova-compute').sort((a, b) => a.host.localeCompare(b.host));
  const guard = checkGuards(services, { thresholdPercent: 100, checkCriticalServices: false });
  const byHost = new Map<string, NovaServer[]>();
  for (const s of servers) if (s.host) byHost.set(s.host, [...(byHost.get(s.host) ?? []), s]);
  const attrOf = (host: string) => {
    const a = attrs?.find((x) => x.host === host) ?? attrs?.find((x) => resolveNovaHost(computes, x.host) === host);
    return a && a.value !== '' ? a.value : null;
  };
  const sides = cluster.status ? clusterSides(computes, cluster.status) : undefined;
  const clusterProblem = cluster.status ? undefined : cluster.problem ?? 'not asked';
  return {
    generatedAt: new Date().toISOString(),
    computeServicesDown: guard.down, computeServices: guard.total, downPercent: guard.downPercent,
    ...(attrsProblem ? { attributesUnavailable: attrsProblem } : {}),
    ...(clusterProblem ? { clusterUnavailable: clusterProblem } : {}),
    ...(cluster.status?.fenceHistoryProblem ? { fenceHistoryUnavailable: cluster.status.fenceHistoryProblem } : {}),
    hosts: computes.map((svc) => ({
      host: svc.host, state: svc.state, status: svc.status, disabledReason: svc.disabledReason, forcedDown: svc.forcedDown,
      evacuate: attrOf(svc.host),
      instances: (byHost.get(svc.host) ?? []).map((s) => ({ id: s.id, name: s.name, status: s.status, taskState: s.taskState })),
      report: reports.filter((r) => r.host === svc.host).sort((a, b) => b.finishedAt - a.finishedAt)[0] ?? null,
      cluster: sides?.get(svc.host) ?? null,
    })),
  };
}

const shortTime = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

function reportSummary(r: EvacuationReport | null): string {
  if (!r) return '-';
  const at = shortTime(new Date(r.finishedAt * 1000).toISOString());
  if (r.blocked) return `BLOCKED at ${at}: ${r.blocked}`;
  const n = (o: string) => r.instances.filter((i) => i.outcome === o).length;
  const parts = [`${n('evacuated')} evacuated`, `${n('accepted')} accepted`, `${n('in-progress')} in progress`, `${n('failed')} failed`, `${n('not-evacuable')} not evacuable`]
    .filter((p) => !p.startsWith('0 '));
  return `${at}: ${parts.join(', ') || 'nothing to evacuate'}${r.verified ? ' (verified)' : ''}`;
}

function clusterCell(c: ClusterHostStatus | null): string {
  if (!c) return '?';
  return c.node ? `${c.state} (${c.type})` : c.state;
}

function holdCell(c: ClusterHostStatus | null): string {
  if (!c) return '?';
  if (!c.novaCompute.length) return '-';
  const one = (h: HoldStatus) => `${h.state}${h.holding ? (h.state === 'starting' ? ' (holding)' : ' (held)') : ''}`;
  return c.novaCompute.length === 1 ? one(c.novaCompute[0]) : c.novaCompute.map((h) => `${h.resource}: ${one(h)}`).join(', ');
}

function fencedCell(c: ClusterHostStatus | null, historyMissing: boolean): string {
  if (!c || historyMissing) return '?';
  return c.lastFenced ? `${c.lastFenced.at ? shortTime(c.lastFenced.at) : '?'} ${c.lastFenced.action}` : '-';
}

function fencingCell(c: ClusterHostStatus | null, historyMissing: boolean): string {
  if (!c || historyMissing) return '?';
  return c.fencingPending ? 'pending' : c.lastFencingFailed ? 'FAILED' : c.lastFenced ? 'ok' : '-';
}

const fencingDetail = (f: Fencing) =>
  `${f.action}${f.delegate ? ` by ${f.delegate}` : ''}, asked by ${f.client} on ${f.origin}${f.exitReason ? `: ${f.exitReason}` : ''}`;

export function formatStatus(doc: StatusDoc, withInstances: boolean): string {
  const rows = [['HOST', 'NOVA', 'STATUS', 'FORCED_DOWN', 'EVACUATE', 'CLUSTER NODE', 'NOVA-COMPUTE RSC', 'LAST FENCED', 'FENCING',
    'INSTANCES', 'LAST EVACUATION (this node)']];
  const noHistory = doc.fenceHistoryUnavailable !== undefined;
  for (const h of doc.hosts) {
    rows.push([h.host, h.state, h.status, h.forcedDown ? 'yes' : 'no', h.evacuate ?? '-', clusterCell(h.cluster), holdCell(h.cluster),
      fencedCell(h.cluster, noHistory), fencingCell(h.cluster, noHistory), String(h.instances.length), reportSummary(h.report)]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd());
  lines.push('', `${doc.computeServicesDown} of ${doc.computeServices} compute services down (${doc.downPercent}%)`);
  if (doc.attributesUnavailable) lines.push(`evacuate attributes unavailable: ${doc.attributesUnavailable}`);
  if (doc.clusterUnavailable) lines.push(`cluster status unavailable: ${doc.clusterUnavailable}`);
  if (doc.fenceHistoryUnavailable) lines.push(`fencing history unavailable: ${doc.fenceHistoryUnavailable}`);
  for (const h of doc.hosts) {
    if (h.status === 'disabled' && h.disabledReason) lines.push(`${h.host}: disabled: ${h.disabledReason}`);
    const c = h.cluster;
    if (c?.lastFenced) lines.push(`${h.host}: last fenced${c.lastFenced.at ? ` at ${shortTime(c.lastFenced.at)}` : ''}: ${fencingDetail(c.lastFenced)}`);
    if (c?.lastFencingFailed && c.lastFailure) {
      lines.push(`${h.host}: last fencing FAILED${c.lastFailure.at ? ` at ${shortTime(c.lastFailure.at)}` : ''}: ${fencingDetail(c.lastFailure)}`);
    }
    if (c?.fencingPending) lines.push(`${h.host}: fencing in progress: ${fencingDetail(c.fencingPending)}`);
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
    // (crm_mon runs while Nova answers; it never rejects)
    const crm: Promise<ClusterInput> = crmMon({ timeoutMs: 10000, env })
      .then((status) => ({ status }), (e: unknown) => ({ problem: (e as Error).message.split('\n')[0] }));
    const [services, servers] = await Promise.all([nova.listServices(), nova.listAllServers()]);
    let attrs: AttrValue[] | undefined; let problem: string | undefined;
    try { attrs = await new Attrd({ timeoutMs: 5000 }).queryAll(EVACUATE_ATTR); } catch (e) { problem = (e as Error).message.split('\n')[0]; }
    const doc = buildStatus(services, servers, attrs, readReports(dir), problem, await crm);
    process.stdout.write(json ? JSON.stringify(doc, null, 1) + '\n' : formatStatus(doc, withInstances));
    return 0;
  } catch (e) {
    process.stderr.write(`status: ${(e as Error).message}\n`);
    return 1;
  } finally {
    cloud.close();
  }
}
