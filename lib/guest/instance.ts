/**
 * Which Nova server this node is, and which of its ports is on a subnet.
 *
 * The server: the node attribute openstack_id (published by openstack-info), else a mounted config drive's
 * openstack/latest/meta_data.json, else the metadata service (http://169.254.169.254/openstack/latest/meta_data.json,
 * as the reference openstack-info asks it), else cloud-init's record of the instance id. Overridable for tests and
 * unusual set-ups: OPENSTACK_HA_AGENTS_METADATA_URL, OPENSTACK_HA_AGENTS_CONFIG_DRIVE (colon-separated mount points),
 * OPENSTACK_HA_AGENTS_CLOUD_INIT_ID (the instance-id file).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { OcfContext } from '../runtime/ocf/index';
import { Attrd, localNodeName } from '../pacemaker/index';

export const METADATA_URL = 'http://169.254.169.254/openstack/latest/meta_data.json';
const CONFIG_DRIVES = '/mnt/config:/media/config-2:/run/config-2:/config-2';
const CLOUD_INIT_ID = '/var/lib/cloud/data/instance-id';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const ID_ATTR = 'openstack_id';
export const PORTS_ATTR = 'openstack_ports';

/** This node's name in the cluster. */
export async function nodeName(ctx: OcfContext): Promise<string> {
  return ctx.env.OCF_RESKEY_CRM_meta_on_node || await localNodeName();
}

/** A node attribute of this node ('' when unset or attrd cannot be asked: this is a hint, never required). */
export async function ownAttribute(ctx: OcfContext, name: string): Promise<string> {
  try {
    return await new Attrd({ timeoutMs: 5000 }).query(name, await nodeName(ctx), false);
  } catch (e) {
    ctx.log.debug(`cannot read the node attribute ${name}: ${(e as Error).message}`);
    return '';
  }
}

function uuidOf(doc: unknown): string | undefined {
  const id = doc && typeof doc === 'object' ? (doc as { uuid?: unknown }).uuid : undefined;
  return typeof id === 'string' && UUID_RE.test(id) ? id.toLowerCase() : undefined;
}

/** GET the metadata document (plain HTTP, link-local: no proxy, a few seconds at most). */
export function fetchMetadata(url: string, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs, headers: { Accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) { reject(new Error(`${url} answered HTTP ${res.statusCode}`)); return; }
        try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))); } catch { reject(new Error(`${url}: not JSON`)); }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

function fromConfigDrive(env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.OPENSTACK_HA_AGENTS_CONFIG_DRIVE ?? CONFIG_DRIVES).split(':').filter(Boolean)) {
    try {
      const id = uuidOf(JSON.parse(fs.readFileSync(path.join(dir, 'openstack/latest/meta_data.json'), 'utf8')));
      if (id) return id;
    } catch { /* not mounted there */ }
  }
  return undefined;
}

function fromCloudInit(env: NodeJS.ProcessEnv): string | undefined {
  try {
    const id = fs.readFileSync(env.OPENSTACK_HA_AGENTS_CLOUD_INIT_ID ?? CLOUD_INIT_ID, 'utf8').trim();
    return UUID_RE.test(id) ? id.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

/** This node's server from the instance itself (config drive, metadata service, cloud-init), never the attribute. */
export async function discoverServerId(ctx: OcfContext): Promise<string | undefined> {
  const drive = fromConfigDrive(ctx.env);
  if (drive) return drive;
  const url = ctx.env.OPENSTACK_HA_AGENTS_METADATA_URL || METADATA_URL;
  try {
    const id = uuidOf(await fetchMetadata(url, 5000));
    if (id) return id;
    ctx.log.warn(`${url} has no uuid`);
  } catch (e) {
    ctx.log.warn(`cannot read the metadata service: ${(e as Error).message}`);
  }
  return fromCloudInit(ctx.env);
}

/** This node's server: the openstack_id attribute, else discoverServerId. */
export async function thisServerId(ctx: OcfContext): Promise<string | undefined> {
  const attr = (await ownAttribute(ctx, ID_ATTR)).trim();
  if (UUID_RE.test(attr)) return attr.toLowerCase();
  return discoverServerId(ctx);
}
