/**
 * The Nova host name of the local nova-compute, as the reference NovaCompute agent finds it: [DEFAULT] host of
 * nova.conf, then of each nova.conf.d/*.conf in sorted order (the last one that sets it wins), else the machine's
 * name (uname -n), shortened to its first label when a DNS domain is configured. A configured name must be the
 * cluster node's name (short names compared when a domain is set), or fencing and evacuation would act on another
 * host than the one Pacemaker fenced.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { iniValue } from '../core/ini';

/** The configuration directory nova-compute reads next to its config file: /etc/nova/nova.conf → /etc/nova/nova.conf.d. */
export function novaConfDir(config: string): string {
  return path.join(path.dirname(config), 'nova.conf.d');
}

/** The config file and the *.conf files of its directory, in the order oslo.config reads them. */
export function novaConfFiles(config: string): string[] {
  const dir = novaConfDir(config);
  let extra: string[] = [];
  try {
    extra = fs.readdirSync(dir).filter((f) => f.endsWith('.conf')).sort().map((f) => path.join(dir, f));
  } catch { /* no directory */ }
  return [config, ...extra].filter((f) => { try { return fs.statSync(f).isFile(); } catch { return false; } });
}

export interface NovaHostName {
  /** the name nova-compute registers under */
  host: string;
  /** the file that set it; undefined when it is the machine's name */
  from?: string;
}

export function shortName(name: string): string {
  return name.split('.')[0];
}

/** Nova's name for this host: [DEFAULT] host of the config files (last wins), else the machine's (short with a domain). */
export function novaHostName(config: string, domain?: string, hostname: string = os.hostname()): NovaHostName {
  let found: NovaHostName | undefined;
  for (const file of novaConfFiles(config)) {
    const v = iniValue(file, 'DEFAULT', 'host');
    if (v) found = { host: v, from: file };
  }
  if (found) return found;
  return { host: domain ? shortName(hostname) : hostname };
}

/** Why a configured Nova host name cannot be used on this cluster node; undefined when it can. */
export function novaHostProblem(name: NovaHostName, node: string, domain?: string): string | undefined {
  if (!name.from) return undefined; // the machine's own name: nothing to check, as the reference does
  const [mine, want] = domain ? [shortName(name.host), shortName(node)] : [name.host, node];
  if (mine === want) return undefined;
  return `invalid Nova host name ${name.host} (host in ${name.from}): it must be ${want}, the cluster node's ` +
    `${domain ? 'short ' : ''}name, for instance recovery to work`;
}
