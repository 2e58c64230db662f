/**
 * Keystone tokens shared by every agent process on a node: one JSON file per identity, mode 0600, in a 0700
 * directory, replaced atomically. The cache is an optimisation only: any I/O problem is logged at debug level and
 * the caller authenticates as if there were no cache.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../core/log';
import { normalizeAuthUrl, type CatalogService, type TokenInfo } from './keystone';
import type { CloudConfig } from './types';

/** Where agents keep node-local state (the token cache lives below it). */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.OPENSTACK_HA_AGENTS_STATE_DIR || '/run/openstack-ha-agents';
}

/** A token is reused from the cache only while it stays valid this much longer. */
export const CACHE_MIN_VALIDITY_MS = 120_000;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * The file name key of an identity. The catalog does not depend on the region, so the region is not part of it;
 * a hash of the password/secret is, so that a changed password never reuses a token obtained with the old one.
 */
export function tokenCacheKey(c: CloudConfig): string {
  return sha256(JSON.stringify([
    normalizeAuthUrl(c.authUrl),
    c.username ?? null, c.userId ?? null, c.userDomainName ?? null, c.userDomainId ?? null,
    c.projectName ?? null, c.projectId ?? null, c.projectDomainName ?? null, c.projectDomainId ?? null,
    c.applicationCredentialId ?? null, c.applicationCredentialName ?? null,
    sha256(`${c.password ?? ''}\0${c.applicationCredentialSecret ?? ''}`),
  ]));
}

interface CacheFile { token: string; expires_at: string; catalog: CatalogService[] }

export class TokenCache {
  private readonly file: string;

  constructor(readonly dir: string, key: string, private readonly log: Logger) {
    this.file = path.join(dir, `token-${key}.json`);
  }

  get path(): string { return this.file; }

  /** The cached token when it is still valid for at least minValidityMs. */
  load(minValidityMs = CACHE_MIN_VALIDITY_MS): TokenInfo | undefined {
    let fd: number | undefined;
    try {
      fd = fs.openSync(this.file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      const st = fs.fstatSync(fd);
      // only trust a file this user wrote and nobody else could have changed
      if ((process.getuid && st.uid !== process.getuid()) || (st.mode & 0o022) !== 0 || !st.isFile()) {
        this.log.debug(`token cache ${this.file}: ignored (owner or mode not safe)`);
        return undefined;
      }
      const data = JSON.parse(fs.readFileSync(fd, 'utf8')) as Partial<CacheFile>;
      if (typeof data.token !== 'string' || typeof data.expires_at !== 'string' || !Array.isArray(data.catalog)) {
        this.log.debug(`token cache ${this.file}: ignored (unexpected content)`);
        return undefined;
      }
      const left = Date.parse(data.expires_at) - Date.now();
      if (!(left >= minValidityMs)) {
        this.log.debug(`token cache ${this.file}: token expires too soon (${Math.round(left / 1000)} s left)`);
        return undefined;
      }
      this.log.addSecret(data.token);
      return { token: data.token, expiresAt: data.expires_at, catalog: data.catalog };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') this.log.debug(`token cache ${this.file}: not usable: ${(e as Error).message}`);
      return undefined;
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }

  save(info: TokenInfo): void {
    const tmp = path.join(this.dir, `.token-${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
    try {
      fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const data: CacheFile = { token: info.token, expires_at: info.expiresAt, catalog: info.catalog };
      fs.writeFileSync(tmp, JSON.stringify(data), { mode: 0o600, flag: 'wx' });
      fs.renameSync(tmp, this.file);
      this.log.debug(`token cache ${this.file}: saved token valid until ${info.expiresAt}`);
    } catch (e) {
      this.log.debug(`token cache ${this.file}: cannot save: ${(e as Error).message}`);
      try { fs.unlinkSync(tmp); } catch { /* not created */ }
    }
  }

  /** Remove the cache file if it still holds this (rejected) token; a newer token written meanwhile is kept. */
  drop(token: string): void {
    try {
      const data = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Partial<CacheFile>;
      if (data.token !== undefined && data.token !== token) return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      // unreadable or corrupt: remove it anyway
    }
    try {
      fs.unlinkSync(this.file);
      this.log.debug(`token cache ${this.file}: removed rejected token`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.log.debug(`token cache ${this.file}: cannot remove: ${(e as Error).message}`);
    }
  }
}
