/**
 * The Block Storage API (Cinder v3) as the service agents need it: volume types (the cinder-api health check) and
 * os-services (cinder-scheduler, cinder-volume, cinder-backup health); and one volume with its attachments
 * (openstack-cinder-volume). Base microversion (3.0): no header needed,
 * extra fields of later microversions (cluster, backend_state) are read when present.
 *
 * The endpoint is the catalog's volumev3 (then block-storage, then volumev2) URL, normally
 * http://HOST:8776/v3/PROJECT_ID; or a given URL (a local daemon: http://127.0.0.1:8776/ or .../v3/), where the
 * project-less routes of Yoga and later are used (/v3/types).
 */
import type { Logger } from '../core/log';
import { ConfigError } from './config';
import type { Session } from './session';
import type { CinderClient, CinderService, CinderVolume, VolumeType } from './types';

export const VOLUME_SERVICE_TYPES = ['volumev3', 'block-storage', 'volumev2'] as const;

interface RawService {
  binary: string; host: string; zone?: string; status: 'enabled' | 'disabled'; state: 'up' | 'down';
  disabled_reason?: string | null; updated_at?: string | null; cluster?: string | null; backend_state?: string;
}
interface RawAttachment {
  server_id: string; attachment_id: string; host_name?: string | null; device?: string | null; attached_at?: string | null;
}
interface RawVolume {
  id: string; name?: string | null; status: string; multiattach?: boolean; volume_type?: string | null; attachments?: RawAttachment[];
}
interface RawType { id: string; name: string; description?: string | null; is_public?: boolean; 'os-volume-type-access:is_public'?: boolean }

/**
 * The v3 API base for a URL given by the operator: a versioned URL (…/v3, …/v3/PROJECT) is kept, an unversioned
 * or older one (…/, …/v1/, …/v2/) becomes ROOT/v3.
 */
export function volumeBaseFromUrl(url: string): string {
  const u = new URL(url);
  const segs = u.pathname.replace(/\/+$/, '').split('/');
  const i = segs.findIndex((s) => /^v[123](\.\d+)?$/.test(s));
  u.search = '';
  u.hash = '';
  if (i >= 0 && /^v3/.test(segs[i])) {
    u.pathname = segs.join('/');
  } else {
    u.pathname = (i >= 0 ? segs.slice(0, i) : segs).join('/') + '/v3';
  }
  return u.href.replace(/\/+$/, '');
}

export class Cinder implements CinderClient {
  private base?: Promise<string>;

  constructor(private readonly session: Session, private readonly log: Logger, private readonly endpoint?: string) {}

  private api(): Promise<string> {
    if (!this.base) {
      this.base = this.findBase();
      this.base.catch(() => { this.base = undefined; });
    }
    return this.base;
  }

  private async findBase(): Promise<string> {
    if (this.endpoint) return volumeBaseFromUrl(this.endpoint);
    let lastError: unknown;
    for (const type of VOLUME_SERVICE_TYPES) {
      try {
        const url = await this.session.endpoint(type);
        this.log.debug(`block storage API: catalog type ${type}: ${url}`);
        return url.replace(/\/+$/, '');
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        lastError = e;
      }
    }
    throw new ConfigError(`no block storage endpoint in the catalog (looked for ${VOLUME_SERVICE_TYPES.join(', ')})` +
      (lastError ? `: ${(lastError as Error).message}` : ''));
  }

  private async get(path: string): Promise<any> {
    const res = await this.session.request({ method: 'GET', url: (await this.api()) + path });
    return res.body;
  }

  async listVolumeTypes(): Promise<VolumeType[]> {
    const body = await this.get('/types');
    return ((body?.volume_types ?? []) as RawType[]).map((t) => ({
      id: t.id,
      name: t.name,
      description: t.description ?? null,
      isPublic: t.is_public ?? t['os-volume-type-access:is_public'] ?? true,
    }));
  }

  async listServices(filter?: { host?: string; binary?: string }): Promise<CinderService[]> {
    const q = new URLSearchParams();
    if (filter?.host) q.set('host', filter.host);
    if (filter?.binary) q.set('binary', filter.binary);
    const qs = q.toString();
    const body = await this.get(`/os-services${qs ? `?${qs}` : ''}`);
    return ((body?.services ?? []) as RawService[]).map((s) => {
      const out: CinderService = {
        binary: s.binary,
        host: s.host,
        zone: s.zone,
        status: s.status,
        state: s.state,
        disabledReason: s.disabled_reason ?? null,
        updatedAt: s.updated_at ?? null,
      };
      if (s.cluster !== undefined) out.cluster = s.cluster;
      if (s.backend_state !== undefined) out.backendState = s.backend_state;
      return out;
    });
  }

  async getVolume(id: string): Promise<CinderVolume> {
    const v = (await this.get(`/volumes/${encodeURIComponent(id)}`))?.volume as RawVolume;
    return {
      id: v.id,
      name: v.name ?? null,
      status: v.status,
      multiattach: v.multiattach === true,
      volumeType: v.volume_type ?? null,
      attachments: (v.attachments ?? []).map((a) => ({
        serverId: a.server_id,
        attachmentId: a.attachment_id,
        hostName: a.host_name ?? null,
        device: a.device ?? null,
        attachedAt: a.attached_at ?? null,
      })),
    };
  }
}
