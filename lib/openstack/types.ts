/**
 * The contract between the agents and the OpenStack client library. Agents only use what is declared here.
 */
import type { Logger } from '../core/log';
import type { NeutronClient } from './neutron-types';

export type Interface = 'public' | 'internal' | 'admin';

/** Everything needed to reach a cloud. Built by resolveCloudConfig() from agent parameters, clouds.yaml and OS_*. */
export interface CloudConfig {
  authUrl: string;
  /** password auth */
  username?: string;
  userId?: string;
  password?: string;
  userDomainName?: string;
  userDomainId?: string;
  /** project scope; tenant_name of the old agents maps to projectName */
  projectName?: string;
  projectId?: string;
  projectDomainName?: string;
  projectDomainId?: string;
  /** application credential auth (takes precedence when id/name + secret are set) */
  applicationCredentialId?: string;
  applicationCredentialName?: string;
  applicationCredentialSecret?: string;
  regionName?: string;
  interface: Interface;
  insecure: boolean;
  /** PEM bundle to trust (clouds.yaml cacert / OS_CACERT) */
  cacert?: string;
  /** per-request timeout, milliseconds (default 30000) */
  timeoutMs: number;
  /** attempts for connection errors and 5xx, including the first (default 3) */
  attempts: number;
  /** first delay between attempts, doubled each time and capped at 8x (default 500 ms) */
  retryDelayMs?: number;
  /** directory for the shared token cache; undefined disables the cache */
  tokenCacheDir?: string;
}

/** What the agents pass in: their parameters, untouched names mapped to these fields. */
export interface CloudParams {
  cloud?: string;
  authUrl?: string;
  username?: string;
  password?: string;
  projectName?: string;
  userDomain?: string;
  projectDomain?: string;
  applicationCredentialId?: string;
  applicationCredentialSecret?: string;
  regionName?: string;
  /** accepts public/internal/admin and the legacy publicURL/internalURL/adminURL */
  endpointType?: string;
  insecure?: boolean;
  cacert?: string;
  timeoutMs?: number;
  /** attempts for connection errors and 5xx, including the first (default 3) */
  attempts?: number;
  /** first retry delay in milliseconds (default 500) */
  retryDelayMs?: number;
  tokenCacheDir?: string;
}

export class OpenStackError extends Error {
  constructor(
    message: string,
    /** HTTP status, 0 for connection errors and timeouts */
    readonly status: number,
    readonly requestId?: string,
  ) { super(message); }
}

export interface NovaService {
  /** UUID from microversion 2.53, integer before */
  id: string | number;
  binary: string;
  host: string;
  zone?: string;
  status: 'enabled' | 'disabled';
  state: 'up' | 'down';
  forcedDown: boolean;
  disabledReason: string | null;
  updatedAt: string | null;
}

export interface NovaHypervisor {
  id: string | number;
  hypervisorHostname: string;
  state: 'up' | 'down';
  status: 'enabled' | 'disabled';
  /** service.host, the name Nova's scheduler and os-services use */
  serviceHost?: string;
}

export interface NovaServer {
  id: string;
  name: string;
  status: string;
  /** OS-EXT-SRV-ATTR:host */
  host: string | null;
  taskState: string | null;
  vmState: string | null;
  tenantId?: string;
  /** flavor id before 2.47; from 2.47 the embedded flavor has original_name and extra_specs instead */
  flavorId?: string;
  flavorName?: string;
  flavorExtraSpecs?: Record<string, string>;
  /** image id, undefined for volume-backed servers */
  imageId?: string;
}

/** os-migrations entry (evacuations: migration_type "evacuation", status accepted → pre-migrating → done, or failed/error) */
export interface NovaMigration {
  id: number;
  /** from microversion 2.59 */
  uuid?: string;
  instanceUuid: string;
  sourceCompute: string | null;
  destCompute: string | null;
  status: string;
  migrationType: string;
  createdAt: string;
  updatedAt: string | null;
}

export interface NovaAggregate {
  id: number;
  name: string;
  availabilityZone: string | null;
  hosts: string[];
  metadata: Record<string, string>;
}

/** A volume attachment as Nova lists it (GET/POST /servers/{id}/os-volume_attachments). */
export interface NovaVolumeAttachment {
  serverId: string;
  volumeId: string;
  /** the guest device Nova chose, e.g. /dev/vdb (may be absent or wrong: the guest names its disks itself) */
  device: string | null;
  /** Cinder's attachment id (microversion 2.89 and later) */
  attachmentId?: string;
}

export interface EvacuateOptions {
  /** only sent below microversion 2.14 */
  onSharedStorage?: boolean;
  targetHost?: string;
}

export interface NovaClient {
  /** negotiated microversion, e.g. "2.53" (negotiates on first call) */
  microversion(): Promise<string>;
  listServices(filter?: { host?: string; binary?: string }): Promise<NovaService[]>;
  /** PUT os-services/{id} {forced_down} (>= 2.53) or PUT os-services/force-down {host, binary, forced_down} (2.11) */
  setForcedDown(host: string, forcedDown: boolean, binary?: string): Promise<void>;
  enableService(host: string, binary?: string): Promise<void>;
  /** force this service down and disable it with a reason: one PUT from 2.53 (the service as listed), two before */
  fenceService(service: NovaService, reason: string): Promise<void>;
  disableService(host: string, reason?: string, binary?: string): Promise<void>;
  listHypervisors(): Promise<NovaHypervisor[]>;
  /** every server on that compute host, across all projects, following pagination */
  listServersOnHost(host: string): Promise<NovaServer[]>;
  /** every server of the cloud, across all projects, following pagination */
  listAllServers(): Promise<NovaServer[]>;
  getServer(id: string): Promise<NovaServer>;
  /**
   * The calls on the servers of the token's project (fence_openstack), at microversion 2.1 without negotiating:
   * GET /servers/{id} (OpenStackError 404 when unknown); the servers whose name is exactly `name` (one filtered
   * request); every server of the project (paged), or with onePage only the first onePage of them (one request);
   * POST os-stop / os-start (202; 409 when the server is not in a state that allows it).
   */
  showServer(id: string): Promise<NovaServer>;
  serversNamed(name: string): Promise<NovaServer[]>;
  listProjectServers(opts?: { onePage?: number }): Promise<NovaServer[]>;
  stopServer(id: string): Promise<void>;
  startServer(id: string): Promise<void>;
  evacuate(serverId: string, opts?: EvacuateOptions): Promise<void>;
  /** evacuations (migration_type evacuation) from that host, optionally only those changed since an ISO time */
  listEvacuations(sourceHost: string, changesSince?: string): Promise<NovaMigration[]>;
  listAggregates(): Promise<NovaAggregate[]>;
  /**
   * The volume attachments of a server (guest clusters: openstack-cinder-volume). attachVolume: POST
   * os-volume_attachments {volumeAttachment: {volumeId}} at the negotiated microversion (Nova attaches a multiattach
   * volume only from 2.60: check microversion() first); Nova answers at once, Cinder shows the volume in-use when the
   * attachment is done. detachVolume: DELETE, 202, Cinder shows it detaching, then gone. 404 when the server (or the
   * attachment) is unknown.
   */
  listVolumeAttachments(serverId: string): Promise<NovaVolumeAttachment[]>;
  attachVolume(serverId: string, volumeId: string): Promise<NovaVolumeAttachment>;
  detachVolume(serverId: string, volumeId: string): Promise<void>;
  /** ids of flavors whose extra_specs carry evacuable=true (case-insensitive value) */
  evacuableFlavorIds(): Promise<Set<string>>;
  /** flavor names (original_name) carrying evacuable=true, for servers listed at >= 2.47 */
  evacuableFlavorNames(): Promise<Set<string>>;
}

export interface ImageClient {
  /** ids of images whose properties or tags carry evacuable (property value "true", or the tag "evacuable") */
  evacuableImageIds(): Promise<Set<string>>;
}

/** Cinder's os-services entry (Block Storage API v3). */
export interface CinderService {
  binary: string;
  /** HOST, or HOST@BACKEND for cinder-volume */
  host: string;
  zone?: string;
  status: 'enabled' | 'disabled';
  state: 'up' | 'down';
  disabledReason: string | null;
  updatedAt: string | null;
  /** microversion 3.7 and later */
  cluster?: string | null;
  /** cinder-volume, microversion 3.49 and later */
  backendState?: string;
}

export interface VolumeType { id: string; name: string; description: string | null; isPublic: boolean }

/** One attachment of a volume, as Cinder shows it (only attachments that are attached: none while attaching). */
export interface CinderVolumeAttachment {
  serverId: string;
  attachmentId: string;
  hostName: string | null;
  device: string | null;
  attachedAt: string | null;
}

/** A volume (GET /volumes/{id}, base microversion). */
export interface CinderVolume {
  id: string;
  name: string | null;
  /** available, reserved, attaching, in-use, detaching, error, ... */
  status: string;
  multiattach: boolean;
  /** the volume type's name */
  volumeType: string | null;
  attachments: CinderVolumeAttachment[];
}

export interface CinderClient {
  /** GET /types: any HTTP error or connection failure throws OpenStackError (status 0 for connection errors) */
  listVolumeTypes(): Promise<VolumeType[]>;
  listServices(filter?: { host?: string; binary?: string }): Promise<CinderService[]>;
  /** GET /volumes/{id} (OpenStackError 404 when Cinder does not know it) */
  getVolume(id: string): Promise<CinderVolume>;
}

export interface PlacementClient {
  /** the resource provider of a compute node (Nova's hypervisor id and hypervisor_hostname) */
  providerUuid(hypervisorId: string | number, hypervisorHostname: string): Promise<string | undefined>;
  providerTraits(uuid: string): Promise<string[]>;
}

export interface Cloud {
  readonly config: CloudConfig;
  readonly log: Logger;
  /** authenticate (or reuse the cached token) and return the service catalog endpoint for a type */
  endpoint(serviceType: string): Promise<string>;
  nova(): NovaClient;
  images(): ImageClient;
  /** the Placement API from the catalog */
  placement(): PlacementClient;
  /** the Block Storage API from the catalog (volumev3, block-storage, volumev2), or at the given URL */
  cinder(opts?: { endpoint?: string }): CinderClient;
  /** the Networking API (catalog type "network") */
  neutron(): NeutronClient;
  /** authenticated GET of an absolute URL (health checks); resolves for any status below 400, throws OpenStackError otherwise */
  get(url: string): Promise<{ status: number; body: unknown }>;
  /** drop idle keep-alive connections (a process exits without it; long-lived callers and tests use it) */
  close(): void;
}
