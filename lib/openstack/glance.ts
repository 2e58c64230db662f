/** The image API (Glance v2): which images are marked evacuable. */
import type { Logger } from '../core/log';
import { isTrueTag } from '../core/text';
import type { Session } from './session';
import { OpenStackError, type ImageClient } from './types';

const PAGE_LIMIT = 1000;
const MAX_PAGES = 10000;

interface RawImage { id: string; tags?: string[]; evacuable?: unknown; [k: string]: unknown }

/** Evacuable by the tag "evacuable" or the property evacuable=true (both trimmed, any case). */
export function isEvacuableImage(img: RawImage): boolean {
  if (Array.isArray(img.tags) && img.tags.some((t) => typeof t === 'string' && t.trim().toLowerCase() === 'evacuable')) return true;
  return isTrueTag(img.evacuable);
}

export class Glance implements ImageClient {
  constructor(private readonly session: Session, private readonly log: Logger) {}

  async evacuableImageIds(): Promise<Set<string>> {
    // The catalog URL is normally unversioned (http://host:9292 or http://host/image); tolerate a /v2 suffix.
    const base = (await this.session.endpoint('image')).replace(/\/v2(\.\d+)?$/, '');
    const ids = new Set<string>();
    const seen = new Set<string>();
    let marker: string | null = null;
    let total = 0;
    for (let page = 0; page < MAX_PAGES; page++) {
      const params = new URLSearchParams({ limit: String(PAGE_LIMIT) });
      if (marker) params.set('marker', marker);
      const res = await this.session.request({ method: 'GET', url: `${base}/v2/images?${params}` });
      const images = ((res.body as { images?: RawImage[] } | null)?.images ?? []);
      total += images.length;
      for (const img of images) if (isEvacuableImage(img)) ids.add(img.id);
      const next = (res.body as { next?: string } | null)?.next;
      // "next" is relative to Glance's root ("/v2/images?marker=..."): take the marker, keep our own URL
      marker = next && images.length ? new URL(next, 'http://x/').searchParams.get('marker') : null;
      if (!marker) {
        this.log.debug(`glance: ${ids.size} evacuable image(s) among ${total}`);
        return ids;
      }
      if (seen.has(marker)) throw new OpenStackError(`GET ${base}/v2/images: pagination loops (marker ${marker} seen twice)`, 0);
      seen.add(marker);
    }
    throw new OpenStackError(`GET ${base}/v2/images: more than ${MAX_PAGES} pages`, 0);
  }
}
