/**
 * The OpenStack client the agents use. openCloud() is cheap: nothing is read from the network until a method is
 * called; the process authenticates once (or reuses the node's cached token) and looks each endpoint up once.
 */
import type { Logger } from '../core/log';
import { resolveCloudConfig } from './config';
import { Cinder } from './cinder';
import { Glance } from './glance';
import { Neutron } from './neutron';
import { Nova } from './nova';
import { Placement } from './placement';
import { Session } from './session';
import type { CinderClient, Cloud, CloudConfig, CloudParams, ImageClient, NovaClient, PlacementClient } from './types';

export * from './types';
export type * from './neutron-types';
export { ConfigError, ENDPOINT_TYPES, parseInterface, resolveCloudConfig } from './config';
export { REFERENCE_SETTING_NAMES, cloudParamsFromSettings, type SettingNames, type SettingsOptions } from './params';
export { defaultStateDir } from './token-cache';
export { MAX_MICROVERSION, MIN_MICROVERSION, compareMicroversions } from './nova';

class OpenStackCloud implements Cloud {
  private readonly session: Session;
  private novaClient?: Nova;
  private imageClient?: Glance;
  private cinderClient?: Cinder;
  private placementClient?: Placement;
  private neutronClient?: Neutron;

  constructor(readonly config: CloudConfig, readonly log: Logger) {
    this.session = new Session(config, log);
  }

  endpoint(serviceType: string): Promise<string> { return this.session.endpoint(serviceType); }

  nova(): NovaClient { return (this.novaClient ??= new Nova(this.session, this.log)); }

  images(): ImageClient { return (this.imageClient ??= new Glance(this.session, this.log)); }

  placement(): PlacementClient { return (this.placementClient ??= new Placement(this.session, this.log)); }

  cinder(opts?: { endpoint?: string }): CinderClient {
    if (opts?.endpoint) return new Cinder(this.session, this.log, opts.endpoint);
    return (this.cinderClient ??= new Cinder(this.session, this.log));
  }

  neutron(): Neutron { return (this.neutronClient ??= new Neutron(this.session, this.log)); }

  async get(url: string): Promise<{ status: number; body: unknown }> {
    const res = await this.session.request({ method: 'GET', url });
    return { status: res.status, body: res.body };
  }

  close(): void { this.session.close(); }
}

/** A Cloud from agent parameters, clouds.yaml and OS_* (throws ConfigError on bad or missing settings). */
export function openCloud(params: CloudParams, log: Logger, env: NodeJS.ProcessEnv = process.env): Cloud {
  return new OpenStackCloud(resolveCloudConfig(params, env, log), log);
}

/** A Cloud from an already resolved configuration. */
export function openCloudWithConfig(config: CloudConfig, log: Logger): Cloud {
  log.addSecret(config.password);
  log.addSecret(config.applicationCredentialSecret);
  return new OpenStackCloud(config, log);
}
