/**
 * The one mapping from an agent's settings (OCF parameters, fence options) to the client's CloudParams. Every agent
 * reads the same settings; only some names differ (the control-plane agents say os_username, os_password,
 * project_name where the instance-HA agents say username, password, tenant_name).
 */
import * as path from 'node:path';
import { defaultStateDir } from './token-cache';
import type { CloudParams } from './types';

/** The setting names of the instance-HA reference agents, per CloudParams field. */
export const REFERENCE_SETTING_NAMES = {
  cloud: 'cloud', authUrl: 'auth_url', username: 'username', password: 'password', projectName: 'tenant_name',
  userDomain: 'user_domain', projectDomain: 'project_domain', regionName: 'region_name', endpointType: 'endpoint_type',
} as const;

export type SettingNames = { -readonly [K in keyof typeof REFERENCE_SETTING_NAMES]: string };

export interface SettingsOptions {
  /** names that differ from REFERENCE_SETTING_NAMES */
  names?: Partial<SettingNames>;
  /** the insecure setting, already parsed; false leaves clouds.yaml's verify setting in force */
  insecure?: boolean;
  /** replaces the auth_url setting (e.g. a v2.0 URL already mapped to v3) */
  authUrl?: string;
  timeoutMs?: number;
  attempts?: number;
}

/** CloudParams from an agent's settings: empty settings are unset; tokens are cached in the node's state dir. */
export function cloudParamsFromSettings(get: (name: string) => string | undefined, opts: SettingsOptions = {}): CloudParams {
  const names: SettingNames = { ...REFERENCE_SETTING_NAMES, ...opts.names };
  const v = (k: keyof SettingNames) => get(names[k]) || undefined;
  return {
    cloud: v('cloud'),
    authUrl: opts.authUrl || v('authUrl'),
    username: v('username'),
    password: v('password'),
    projectName: v('projectName'),
    userDomain: v('userDomain'),
    projectDomain: v('projectDomain'),
    regionName: v('regionName'),
    endpointType: v('endpointType'),
    insecure: opts.insecure || undefined,
    timeoutMs: opts.timeoutMs,
    attempts: opts.attempts,
    tokenCacheDir: path.join(defaultStateDir(), 'tokens'),
  };
}
