/**
 * The compute API as the agents need it, at a negotiated microversion between 2.11 and 2.94.
 *
 * 2.94 is a hard ceiling: from 2.95 Nova leaves an evacuated instance stopped on its new host, which defeats
 * instance HA. The forms used depend on the microversion:
 *  - services: by UUID (PUT /os-services/{id}) from 2.53, by host and binary (PUT /os-services/force-down, ...) before;
 *  - evacuate: {"evacuate": {}} from 2.14, {"evacuate": {"onSharedStorage": ...}} before;
 *  - servers: the embedded flavor has original_name and extra_specs from 2.47, an id before.
 */
import type { Logger } from '../core/log';
import { forEachLimited } from '../core/poll';
import { isTrueTag } from '../core/text';
import type { Session } from './session';
import {
  OpenStackError,
  type EvacuateOptions, type NovaClient, type NovaVolumeAttachment, type NovaHypervisor, type NovaServer, type NovaService, type NovaMigration, type NovaAggregate,
} from './types';

export const MAX_MICROVERSION = '2.94';
export const MIN_MICROVERSION = '2.11';
/**
 * What every Nova serves (its minimum since Liberty): the calls on one project's servers (fence_openstack) use it as is,
 * without fetching the version document first.
 */
export const BASE_MICROVERSION = '2.1';
const PAGE_LIMIT = 1000;
const MAX_PAGES = 10000;
const EXTRA_SPECS_CONCURRENCY = 8;
const COMPUTE = 'nova-compute';

export function parseMicroversion(v: string): [number, number] {
  const m = /^\s*(\d+)\.(\d+)\s*$/.exec(v);
  if (!m) throw new Error(`invalid microversion "${v}"`);
  return [Number(m[1]), Number(m[2])];
}

export function compareMicroversions(a: string, b: string): number {
  const [x, y] = [parseMicroversion(a), parseMicroversion(b)];
  return x[0] !== y[0] ? x[0] - y[0] : x[1] - y[1];
}

/** The microversion to use given what the server supports; throws when the server is too old or too new. */
export function chooseMicroversion(serverMin: string | undefined, serverMax: string | undefined, where: string): string {
  if (!serverMax) {
    throw new OpenStackError(`Nova too old: the compute API at ${where} has no microversions (${MIN_MICROVERSION} or later is needed)`, 0);
  }
  const chosen = compareMicroversions(serverMax, MAX_MICROVERSION) > 0 ? MAX_MICROVERSION : serverMax;
  if (compareMicroversions(chosen, MIN_MICROVERSION) < 0) {
    throw new OpenStackError(`Nova too old: the compute API at ${where} supports microversions up to ${serverMax}, ` +
      `${MIN_MICROVERSION} or later is needed`, 0);
  }
  if (serverMin && compareMicroversions(serverMin, chosen) > 0) {
    throw new OpenStackError(`the compute API at ${where} requires microversion ${serverMin} or later; ` +
      `these agents use at most ${MAX_MICROVERSION}`, 0);
  }
  return chosen;
}

interface Urls { base: string; root: string }

/** Where to send API calls (the catalog URL) and where the version document is (the catalog URL up to /v2.1). */
export function computeUrls(endpoint: string): Urls {
  const u = new URL(endpoint);
  const segs = u.pathname.replace(/\/+$/, '').split('/');
  let idx = -1;
  segs.forEach((s, i) => { if (/^v2(\.\d+)?$/.test(s)) idx = i; });
  if (idx < 0) {
    const base = endpoint.replace(/\/+$/, '') + '/v2.1';
    return { base, root: base };
  }
  u.pathname = segs.slice(0, idx + 1).join('/');
  u.search = '';
  return { base: endpoint.replace(/\/+$/, ''), root: u.href.replace(/\/+$/, '') };
}

export class Nova implements NovaClient {
  private negotiated?: Promise<{ mv: string; base: string }>;

  constructor(private readonly session: Session, private readonly log: Logger) {}

  async microversion(): Promise<string> { return (await this.api()).mv; }

  private api(): Promise<{ mv: string; base: string }> {
    if (!this.negotiated) {
      this.negotiated = this.negotiate();
      this.negotiated.catch(() => { this.negotiated = undefined; });
    }
    return this.negotiated;
  }

  private async negotiate(): Promise<{ mv: string; base: string }> {
    const { base, root } = computeUrls(await this.session.endpoint('compute'));
    const res = await this.session.request({ method: 'GET', url: root });
    const body = res.body as { version?: VersionDoc; versions?: VersionDoc[] } | null;
    const doc = body?.version ?? body?.versions?.find((v) => v.id === 'v2.1');
    const mv = chooseMicroversion(doc?.min_version || undefined, doc?.version || undefined, root);
    this.log.debug(`compute API at ${root}: microversions ${doc?.min_version} to ${doc?.version}, using ${mv}`);
    return { mv, base };
  }

  private async atLeast(v: string): Promise<boolean> {
    return compareMicroversions(await this.microversion(), v) >= 0;
  }

  /** at: 'negotiated' (default), or BASE_MICROVERSION without negotiating */
  private async call(method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown, at: 'negotiated' | 'base' = 'negotiated'): Promise<any> {
    const { mv, base } = at === 'base'
      ? { mv: BASE_MICROVERSION, base: computeUrls(await this.session.endpoint('compute')).base }
      : await this.api();
    const res = await this.session.request({
      method,
      url: base + path,
      body,
      headers: { 'OpenStack-API-Version': `compute ${mv}`, 'X-OpenStack-Nova-API-Version': mv },
    });
    return res.body;
  }

  /** Every item of a paginated list, re-requesting with our own URL and the marker of each "next" link. */
  private async list<T>(path: string, query: Record<string, string>, key: string, at: 'negotiated' | 'base' = 'negotiated'): Promise<T[]> {
    const out: T[] = [];
    const seen = new Set<string>();
    const params = new URLSearchParams(query);
    for (let page = 0; page < MAX_PAGES; page++) {
      const body = await this.call('GET', `${path}?${params}`, undefined, at);
      const items = (body?.[key] ?? []) as T[];
      out.push(...items);
      const links = (body?.[`${key}_links`] ?? []) as { rel?: string; href?: string }[];
      const next = links.find((l) => l.rel === 'next')?.href;
      if (!next || items.length === 0) return out;
      const marker = new URL(next, 'http://x/').searchParams.get('marker');
      if (!marker) return out;
      if (seen.has(marker)) throw new OpenStackError(`GET ${path}: pagination loops (marker ${marker} seen twice)`, 0);
      seen.add(marker);
      params.set('marker', marker);
    }
    throw new OpenStackError(`GET ${path}: more than ${MAX_PAGES} pages`, 0);
  }

  async listServices(filter?: { host?: string; binary?: string }): Promise<NovaService[]> {
    const q = new URLSearchParams();
    if (filter?.host) q.set('host', filter.host);
    if (filter?.binary) q.set('binary', filter.binary);
    const qs = q.toString();
    const body = await this.call('GET', `/os-services${qs ? `?${qs}` : ''}`);
    return ((body?.services ?? []) as RawService[]).map(mapService);
  }

  /** The ids (UUIDs at >= 2.53) of the services of that binary on that host. */
  private async serviceIds(host: string, binary: string): Promise<(string | number)[]> {
    const services = (await this.listServices({ host, binary })).filter((s) => s.host === host && s.binary === binary);
    if (services.length === 0) throw new OpenStackError(`no ${binary} service on host ${host}`, 404);
    return services.map((s) => s.id);
  }

  /** PUT os-services/{id} at >= 2.53, or the 2.11 host/binary form. */
  private async updateService(host: string, binary: string, byId: Record<string, unknown>, legacyAction: string,
    legacyBody: Record<string, unknown>): Promise<void> {
    if (await this.atLeast('2.53')) {
      for (const id of await this.serviceIds(host, binary)) {
        await this.call('PUT', `/os-services/${encodeURIComponent(String(id))}`, byId);
      }
      return;
    }
    try {
      await this.call('PUT', `/os-services/${legacyAction}`, { host, binary, ...legacyBody });
    } catch (e) {
      if (e instanceof OpenStackError && e.status === 404) {
        throw new OpenStackError(`no ${binary} service on host ${host} (${e.message})`, 404, e.requestId);
      }
      throw e;
    }
  }

  async setForcedDown(host: string, forcedDown: boolean, binary = COMPUTE): Promise<void> {
    await this.updateService(host, binary, { forced_down: forcedDown }, 'force-down', { forced_down: forcedDown });
  }

  async fenceService(service: NovaService, reason: string): Promise<void> {
    if (typeof service.id === 'string' && await this.atLeast('2.53')) {
      await this.call('PUT', `/os-services/${encodeURIComponent(service.id)}`, { forced_down: true, status: 'disabled', disabled_reason: reason });
      return;
    }
    await this.setForcedDown(service.host, true, service.binary);
    await this.disableService(service.host, reason, service.binary);
  }

  async enableService(host: string, binary = COMPUTE): Promise<void> {
    await this.updateService(host, binary, { status: 'enabled' }, 'enable', {});
  }

  async disableService(host: string, reason?: string, binary = COMPUTE): Promise<void> {
    if (reason) {
      await this.updateService(host, binary, { status: 'disabled', disabled_reason: reason }, 'disable-log-reason',
        { disabled_reason: reason });
    } else {
      await this.updateService(host, binary, { status: 'disabled' }, 'disable', {});
    }
  }

  async listHypervisors(): Promise<NovaHypervisor[]> {
    let raw: RawHypervisor[];
    if (await this.atLeast('2.33')) {
      raw = await this.list<RawHypervisor>('/os-hypervisors/detail', { limit: String(PAGE_LIMIT) }, 'hypervisors');
    } else {
      raw = (await this.call('GET', '/os-hypervisors/detail'))?.hypervisors ?? [];
    }
    return raw.map((h) => ({
      id: h.id,
      hypervisorHostname: h.hypervisor_hostname,
      state: h.state,
      status: h.status,
      serviceHost: h.service?.host,
    }));
  }

  async listServersOnHost(host: string): Promise<NovaServer[]> {
    const raw = await this.list<RawServer>('/servers/detail', { host, all_tenants: '1', limit: String(PAGE_LIMIT) }, 'servers');
    const servers = raw.map(mapServer);
    // Never act on servers of another host, should the filter ever be ignored (it is for non-admin users).
    const elsewhere = servers.filter((s) => s.host !== null && s.host !== host);
    if (elsewhere.length) {
      this.log.warn(`servers/detail?host=${host} returned ${elsewhere.length} server(s) of other hosts; ignoring them`);
      return servers.filter((s) => !elsewhere.includes(s));
    }
    return servers;
  }

  async listAllServers(): Promise<NovaServer[]> {
    return (await this.list<RawServer>('/servers/detail', { all_tenants: '1', limit: String(PAGE_LIMIT) }, 'servers')).map(mapServer);
  }

  async getServer(id: string): Promise<NovaServer> {
    return mapServer((await this.call('GET', `/servers/${encodeURIComponent(id)}`)).server);
  }

  async showServer(id: string): Promise<NovaServer> {
    return mapServer((await this.call('GET', `/servers/${encodeURIComponent(id)}`, undefined, 'base')).server);
  }

  async serversNamed(name: string): Promise<NovaServer[]> {
    // Nova's name filter is a regular expression (the database's REGEXP): anchored and escaped, then checked here too
    const re = `^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
    const body = await this.call('GET', `/servers/detail?${new URLSearchParams({ name: re })}`, undefined, 'base');
    return ((body?.servers ?? []) as RawServer[]).filter((s) => s.name === name).map(mapServer);
  }

  async listProjectServers(opts: { onePage?: number } = {}): Promise<NovaServer[]> {
    if (opts.onePage !== undefined) {
      const body = await this.call('GET', `/servers/detail?limit=${opts.onePage}`, undefined, 'base');
      return ((body?.servers ?? []) as RawServer[]).map(mapServer);
    }
    return (await this.list<RawServer>('/servers/detail', { limit: String(PAGE_LIMIT) }, 'servers', 'base')).map(mapServer);
  }

  async stopServer(id: string): Promise<void> {
    await this.call('POST', `/servers/${encodeURIComponent(id)}/action`, { 'os-stop': null }, 'base');
  }

  async startServer(id: string): Promise<void> {
    await this.call('POST', `/servers/${encodeURIComponent(id)}/action`, { 'os-start': null }, 'base');
  }

  async evacuate(serverId: string, opts: EvacuateOptions = {}): Promise<void> {
    const args: Record<string, unknown> = {};
    if (!(await this.atLeast('2.14'))) args.onSharedStorage = opts.onSharedStorage ?? false;
    if (opts.targetHost) args.host = opts.targetHost;
    // a POST action: http.ts retries it only when nothing reached Nova (connection refused) or on 503
    await this.call('POST', `/servers/${encodeURIComponent(serverId)}/action`, { evacuate: args });
  }

  async listEvacuations(sourceHost: string, changesSince?: string): Promise<NovaMigration[]> {
    const q: Record<string, string> = { source_compute: sourceHost, migration_type: 'evacuation' };
    if (changesSince) q['changes-since'] = changesSince;
    // paginated from 2.59 (limit/marker); a single page before
    const paged = await this.atLeast('2.59');
    if (paged) q.limit = String(PAGE_LIMIT);
    const raw = paged
      ? await this.list<RawMigration>('/os-migrations', q, 'migrations')
      : ((await this.call('GET', `/os-migrations?${new URLSearchParams(q)}`))?.migrations ?? []) as RawMigration[];
    // never trust the filters blindly (older Novas ignore migration_type)
    return raw.filter((m) => m.source_compute === sourceHost && (m.migration_type ?? 'evacuation') === 'evacuation').map((m) => ({
      id: m.id, uuid: m.uuid, instanceUuid: m.instance_uuid, sourceCompute: m.source_compute ?? null, destCompute: m.dest_compute ?? null,
      status: m.status, migrationType: m.migration_type ?? 'evacuation', createdAt: m.created_at, updatedAt: m.updated_at ?? null,
    }));
  }

  async listVolumeAttachments(serverId: string): Promise<NovaVolumeAttachment[]> {
    const body = await this.call('GET', `/servers/${encodeURIComponent(serverId)}/os-volume_attachments`);
    return ((body?.volumeAttachments ?? []) as RawVolumeAttachment[]).map(mapVolumeAttachment);
  }

  async attachVolume(serverId: string, volumeId: string): Promise<NovaVolumeAttachment> {
    // a POST: http.ts repeats it only when nothing reached Nova (connection refused) or on 503
    const body = await this.call('POST', `/servers/${encodeURIComponent(serverId)}/os-volume_attachments`, { volumeAttachment: { volumeId } });
    return mapVolumeAttachment(body?.volumeAttachment ?? { serverId, volumeId });
  }

  async detachVolume(serverId: string, volumeId: string): Promise<void> {
    await this.call('DELETE', `/servers/${encodeURIComponent(serverId)}/os-volume_attachments/${encodeURIComponent(volumeId)}`);
  }

  async listAggregates(): Promise<NovaAggregate[]> {
    const body = await this.call('GET', '/os-aggregates');
    return ((body?.aggregates ?? []) as RawAggregate[]).map((a) => ({
      id: a.id, name: a.name, availabilityZone: a.availability_zone ?? null, hosts: a.hosts ?? [], metadata: a.metadata ?? {},
    }));
  }

  private async evacuableFlavors(): Promise<RawFlavor[]> {
    const flavors = await this.list<RawFlavor>('/flavors/detail', { is_public: 'None', limit: String(PAGE_LIMIT) }, 'flavors');
    // from 2.61 the listing carries extra_specs (when policy allows); otherwise ask per flavor
    const missing = flavors.filter((f) => !f.extra_specs || typeof f.extra_specs !== 'object');
    await forEachLimited(missing, EXTRA_SPECS_CONCURRENCY, async (f) => {
      try {
        f.extra_specs = (await this.call('GET', `/flavors/${encodeURIComponent(f.id)}/os-extra_specs`))?.extra_specs ?? {};
      } catch (e) {
        if (!(e instanceof OpenStackError && e.status === 404)) throw e;
        f.extra_specs = {}; // deleted meanwhile
      }
    });
    return flavors.filter((f) => isTrueTag(f.extra_specs?.evacuable));
  }

  async evacuableFlavorIds(): Promise<Set<string>> {
    return new Set((await this.evacuableFlavors()).map((f) => String(f.id)));
  }

  async evacuableFlavorNames(): Promise<Set<string>> {
    return new Set((await this.evacuableFlavors()).map((f) => f.name));
  }
}

interface VersionDoc { id?: string; version?: string; min_version?: string }
interface RawService {
  id: string | number; binary: string; host: string; zone?: string; status: 'enabled' | 'disabled'; state: 'up' | 'down';
  forced_down?: boolean; disabled_reason?: string | null; updated_at?: string | null;
}
interface RawHypervisor {
  id: string | number; hypervisor_hostname: string; state: 'up' | 'down'; status: 'enabled' | 'disabled';
  service?: { host?: string };
}
interface RawMigration {
  id: number; uuid?: string; instance_uuid: string; source_compute?: string | null; dest_compute?: string | null;
  status: string; migration_type?: string; created_at: string; updated_at?: string | null;
}
interface RawVolumeAttachment { serverId: string; volumeId: string; device?: string | null; attachment_id?: string }
interface RawAggregate { id: number; name: string; availability_zone?: string | null; hosts?: string[]; metadata?: Record<string, string> }
interface RawFlavor { id: string; name: string; extra_specs?: Record<string, string> }
interface RawServer {
  id: string; name: string; status: string; tenant_id?: string;
  flavor?: { id?: string; original_name?: string; extra_specs?: Record<string, string> };
  image?: { id?: string } | string | null;
  [k: string]: unknown;
}

function mapService(s: RawService): NovaService {
  return {
    id: s.id,
    binary: s.binary,
    host: s.host,
    zone: s.zone,
    status: s.status,
    state: s.state,
    forcedDown: s.forced_down === true,
    disabledReason: s.disabled_reason ?? null,
    updatedAt: s.updated_at ?? null,
  };
}

function mapVolumeAttachment(a: RawVolumeAttachment): NovaVolumeAttachment {
  const out: NovaVolumeAttachment = { serverId: a.serverId, volumeId: a.volumeId, device: a.device ?? null };
  if (a.attachment_id) out.attachmentId = a.attachment_id;
  return out;
}

function mapServer(s: RawServer): NovaServer {
  const out: NovaServer = {
    id: s.id,
    name: s.name,
    status: s.status,
    host: (s['OS-EXT-SRV-ATTR:host'] as string | null | undefined) ?? null,
    taskState: (s['OS-EXT-STS:task_state'] as string | null | undefined) ?? null,
    vmState: (s['OS-EXT-STS:vm_state'] as string | null | undefined) ?? null,
  };
  if (s.tenant_id) out.tenantId = s.tenant_id;
  if (s.flavor?.id !== undefined) out.flavorId = String(s.flavor.id);
  if (s.flavor?.original_name !== undefined) out.flavorName = s.flavor.original_name;
  if (s.flavor?.extra_specs) out.flavorExtraSpecs = s.flavor.extra_specs;
  if (s.image && typeof s.image === 'object' && s.image.id) out.imageId = s.image.id;
  return out;
}
