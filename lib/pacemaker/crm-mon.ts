/**
 * The cluster's state as `crm_mon -1 --output-as=xml --inactive --fence-history=2` prints it (Pacemaker 2.1's
 * crm_mon-2.x schema, /usr/share/pacemaker/api/crm_mon-*.rng): the nodes, the resources (clone instances flattened,
 * with the node each runs or is starting on) and the fencing history. Used by `openstack-ha-agents status` only,
 * which imports this module directly (lib/pacemaker/index.ts does not re-export it: agents never load it).
 *
 * The XML is parsed by the small reader below: crm_mon's output is trusted, written by libxml2, with no DTD, no
 * namespaces and no CDATA; only elements, attributes and the text of <error> elements are read.
 */
import { run, PacemakerError } from './index';

export interface XmlElement { name: string; attrs: Record<string, string>; children: XmlElement[]; text: string }

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (all, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return ENTITIES[e] ?? all;
  });
}

/** Parses a trusted, simple XML document into its root element; throws on a document that isn't well nested. */
export function parseXml(text: string): XmlElement {
  const root: XmlElement = { name: '', attrs: {}, children: [], text: '' };
  const stack = [root];
  const tag = /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!\[CDATA\[([\s\S]*?)\]\]>|<![^>]*>|<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/g;
  const attr = /([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
  let last = 0;
  for (let m = tag.exec(text); m; m = tag.exec(text)) {
    const top = stack[stack.length - 1];
    top.text += decode(text.slice(last, m.index));
    last = tag.lastIndex;
    if (m[1] !== undefined) { top.text += m[1]; continue; }
    if (!m[3]) continue; // comment, declaration, doctype
    if (m[2] === '/') {
      if (stack.length < 2 || top.name !== m[3]) throw new Error(`malformed XML: unexpected </${m[3]}>`);
      stack.pop();
      continue;
    }
    const el: XmlElement = { name: m[3], attrs: {}, children: [], text: '' };
    for (let a = attr.exec(m[4]); a; a = attr.exec(m[4])) el.attrs[a[1]] = decode(a[2] ?? a[3]);
    attr.lastIndex = 0;
    top.children.push(el);
    if (m[5] !== '/') stack.push(el);
  }
  if (stack.length !== 1) throw new Error(`malformed XML: <${stack[stack.length - 1].name}> is not closed`);
  const [doc] = root.children;
  if (!doc) throw new Error('malformed XML: no element');
  return doc;
}

const child = (el: XmlElement | undefined, name: string) => el?.children.find((c) => c.name === name);
const bool = (v: string | undefined) => v === 'true';

export interface CrmNode {
  name: string;
  id: string;
  /** member: a full cluster member; remote: a pacemaker_remote node (or a guest/bundle node) */
  type: string;
  online: boolean;
  /** unclean: the cluster must fence it (fencing pending or failing) */
  unclean: boolean;
  standby: boolean;
  maintenance: boolean;
}

/** One primitive, or one instance of a clone, as crm_mon lists it. */
export interface CrmResource {
  /** the primitive's id (a clone instance: the primitive's id, without ":N" for anonymous clones) */
  id: string;
  /** the clone it is an instance of */
  clone?: string;
  /** class:provider:type, e.g. ocf:openstack:NovaCompute */
  agent: string;
  /** Started, Stopped, Starting (start pending), Stopping, Promoted, Unpromoted, ... */
  role: string;
  active: boolean;
  failed: boolean;
  /** a pending recurring operation (crm_mon 2.1 shows only "Monitoring" here; a pending start is role="Starting") */
  pending?: string;
  /** the nodes it is active (or starting) on */
  nodes: string[];
}

export interface FenceEvent {
  target: string;
  /** off, reboot, on */
  action: string;
  status: 'success' | 'failed' | 'pending';
  /** the node that carried it out */
  delegate?: string;
  /** the client that asked for it (pacemaker-controld.PID, stonith_admin.PID, ...) and the node it asked from */
  client: string;
  origin: string;
  exitReason?: string;
  /** when it completed, ISO 8601 (crm_mon prints "YYYY-MM-DD HH:MM:SSZ" or "... +hh:mm"); undefined while pending */
  completed?: string;
}

export interface CrmMonStatus {
  nodes: CrmNode[];
  resources: CrmResource[];
  /** the fencing history (crm_mon prints no <fence_history> when it is empty); undefined when it could not be read */
  fenceHistory?: FenceEvent[];
  /** why the fencing history is missing, when crm_mon said (its <fence_history status="N"/>) */
  fenceHistoryProblem?: string;
}

/** crm_mon's "2024-05-02 10:15:42Z" or "2024-05-02 12:15:42 +02:00" as ISO 8601 UTC; the text itself if it is neither */
export function completedIso(s: string): string {
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:Z| ([+-]\d{2}:\d{2}))$/.exec(s.trim());
  if (!m) return s;
  const t = Date.parse(`${m[1]}T${m[2]}${m[3] ?? 'Z'}`);
  return Number.isNaN(t) ? s : new Date(t).toISOString().replace(/\.000Z$/, 'Z');
}

function resourcesOf(el: XmlElement, clone: string | undefined, out: CrmResource[]): void {
  for (const c of el.children) {
    if (c.name === 'resource') {
      out.push({
        id: c.attrs.id ?? '', ...(clone ? { clone } : {}), agent: c.attrs.resource_agent ?? '', role: c.attrs.role ?? '',
        active: bool(c.attrs.active), failed: bool(c.attrs.failed), ...(c.attrs.pending ? { pending: c.attrs.pending } : {}),
        nodes: c.children.filter((n) => n.name === 'node').map((n) => n.attrs.name ?? ''),
      });
    } else if (c.name === 'clone') {
      resourcesOf(c, c.attrs.id, out);
    } else if (c.name === 'group' || c.name === 'bundle' || c.name === 'replica') {
      resourcesOf(c, clone, out);
    }
  }
}

/** The error crm_mon reported in its XML (<status code="N" message="..."><errors><error>...), if any. */
function resultError(doc: XmlElement): string | undefined {
  const st = child(doc, 'status');
  if (!st || st.attrs.code === '0') return undefined;
  const errors = (child(st, 'errors')?.children ?? []).map((e) => e.text.trim()).filter(Boolean);
  return `${errors.length ? errors.join('; ') : st.attrs.message ?? 'error'} (status ${st.attrs.code})`;
}

/** Parses crm_mon's XML; throws a PacemakerError with crm_mon's own message when it reports an error. */
export function parseCrmMon(xml: string): CrmMonStatus {
  let doc: XmlElement;
  try { doc = parseXml(xml); } catch (e) { throw new PacemakerError(`crm_mon: ${(e as Error).message}`); }
  if (doc.name !== 'pacemaker-result' && doc.name !== 'crm_mon') throw new PacemakerError(`crm_mon: unexpected XML <${doc.name}>`);
  const err = resultError(doc);
  if (err && !child(doc, 'nodes')) throw new PacemakerError(err.startsWith('crm_mon') ? err : `crm_mon: ${err}`);
  const nodes = (child(doc, 'nodes')?.children ?? []).filter((n) => n.name === 'node').map((n) => ({
    name: n.attrs.name ?? '', id: n.attrs.id ?? '', type: n.attrs.type ?? 'unknown', online: bool(n.attrs.online),
    unclean: bool(n.attrs.unclean), standby: bool(n.attrs.standby), maintenance: bool(n.attrs.maintenance),
  }));
  const resources: CrmResource[] = [];
  const rscs = child(doc, 'resources');
  if (rscs) resourcesOf(rscs, undefined, resources);
  const out: CrmMonStatus = { nodes, resources };
  const fh = child(doc, 'fence_history');
  if (!fh) {
    out.fenceHistory = [];
  } else {
    if (fh.attrs.status !== undefined && fh.attrs.status !== '0') {
      out.fenceHistoryProblem = `crm_mon could not read the fencing history (status ${fh.attrs.status})`;
    } else {
      out.fenceHistory = fh.children.filter((e) => e.name === 'fence_event').map((e) => {
        const status = e.attrs.status === 'success' || e.attrs.status === 'failed' ? e.attrs.status : 'pending';
        return {
          target: e.attrs.target ?? '', action: e.attrs.action ?? '', status,
          ...(e.attrs.delegate ? { delegate: e.attrs.delegate } : {}),
          client: e.attrs.client ?? '', origin: e.attrs.origin ?? '',
          ...(e.attrs['exit-reason'] ? { exitReason: e.attrs['exit-reason'] } : {}),
          ...(e.attrs.completed ? { completed: completedIso(e.attrs.completed) } : {}),
        };
      });
    }
  }
  return out;
}

/** the command line run by crmMon() (XML output always includes inactive resources; --inactive says it anyway) */
export const CRM_MON_ARGS = ['-1', '--output-as=xml', '--inactive', '--fence-history=2'];

/** Runs crm_mon once (with a timeout) and parses its XML. Throws a PacemakerError saying why it could not. */
export async function crmMon(opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CrmMonStatus> {
  const r = await run('crm_mon', CRM_MON_ARGS, { timeoutMs: opts.timeoutMs ?? 10000, env: opts.env });
  if (r.stdout.trim().startsWith('<')) {
    const st = parseCrmMon(r.stdout); // throws with crm_mon's message when it reports an error
    if (r.code === 0 || st.nodes.length) return st;
  }
  throw new PacemakerError(`crm_mon ${CRM_MON_ARGS.join(' ')} failed (${r.code}): ${(r.stderr.trim() || r.stdout.trim()).split('\n')[0]}`, r);
}

/**
 * Whether what `node` did since `sinceSec` (epoch seconds) has surely ended: the node is not an online cluster member
 * now, or a fencing of it succeeded at or after that time (it was powered off or rebooted, and perhaps rejoined).
 */
export function endedSince(st: CrmMonStatus, node: string, sinceSec: number): boolean {
  const n = st.nodes.find((x) => x.name === node);
  if (!n || !n.online || n.unclean) return true;
  return (st.fenceHistory ?? []).some((e) => e.target === node && e.status === 'success' && e.completed !== undefined &&
    Date.parse(e.completed) >= sinceSec * 1000);
}
