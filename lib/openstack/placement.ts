/**
 * The Placement API: which compute node resource providers Nova's scheduler excludes. Nova marks the providers of a
 * disabled nova-compute with the COMPUTE_STATUS_DISABLED trait (Train and later); the scheduler asks Placement for
 * candidates without it, so a host that is enabled in os-services but still carries the trait takes no new instance.
 */
import type { Logger } from '../core/log';
import type { Session } from './session';
import type { PlacementClient } from './types';

/** traits arrived in Placement 1.6; every Placement since Queens speaks it */
const MICROVERSION = 'placement 1.6';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class Placement implements PlacementClient {
  constructor(private readonly session: Session, private readonly log: Logger) {}

  private async get(path: string): Promise<any> {
    const base = await this.session.endpoint('placement');
    const res = await this.session.request({ method: 'GET', url: `${base}${path}`, headers: { 'OpenStack-API-Version': MICROVERSION } });
    return res.body;
  }

  /** the UUID of the resource provider of a compute node: its hypervisor id from Nova 2.53, else looked up by name */
  async providerUuid(hypervisorId: string | number, hypervisorHostname: string): Promise<string | undefined> {
    if (typeof hypervisorId === 'string' && UUID.test(hypervisorId)) return hypervisorId;
    const body = await this.get(`/resource_providers?name=${encodeURIComponent(hypervisorHostname)}`);
    return (body?.resource_providers as { uuid: string }[] | undefined)?.[0]?.uuid;
  }

  async providerTraits(uuid: string): Promise<string[]> {
    const body = await this.get(`/resource_providers/${encodeURIComponent(uuid)}/traits`);
    const traits = (body?.traits as string[] | undefined) ?? [];
    this.log.debug(`placement: provider ${uuid} has ${traits.length} trait(s)`);
    return traits;
  }
}
