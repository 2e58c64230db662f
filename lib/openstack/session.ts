/**
 * An authenticated session: one token per process (taken from the node's token cache when possible), endpoint
 * lookups from its catalog, and authenticated requests that survive one token rejection (401: the token is dropped
 * from the cache, a new one is obtained and the request is sent once more).
 */
import type { Logger } from '../core/log';
import { ConfigError } from './config';
import { HttpClient, type HttpRequest, type HttpResponse } from './http';
import { authenticate, findEndpoint, type TokenInfo } from './keystone';
import { TokenCache, tokenCacheKey } from './token-cache';
import { OpenStackError, type CloudConfig } from './types';

/** A token obtained in this process is renewed when it has less than this left. */
const RENEW_BEFORE_MS = 30_000;

export class Session {
  readonly http: HttpClient;
  private current?: TokenInfo;
  private pending?: Promise<TokenInfo>;
  private readonly rejected = new Set<string>();
  private readonly endpoints = new Map<string, string>();
  private readonly cache?: TokenCache;
  /** the token in hand came from the cache (its catalog may predate endpoints registered since) */
  private cachedToken?: string;

  constructor(readonly config: CloudConfig, readonly log: Logger) {
    this.http = new HttpClient(config, log);
    if (config.tokenCacheDir) this.cache = new TokenCache(config.tokenCacheDir, tokenCacheKey(config), log);
  }

  /** A valid token: the one in hand, the cached one, or a new one. Concurrent callers share one Keystone request. */
  async token(): Promise<TokenInfo> {
    if (this.current && Date.parse(this.current.expiresAt) - Date.now() > RENEW_BEFORE_MS) return this.current;
    if (!this.pending) {
      this.pending = this.obtain().finally(() => { this.pending = undefined; });
    }
    return this.pending;
  }

  private async obtain(): Promise<TokenInfo> {
    const cached = this.cache?.load();
    if (cached && !this.rejected.has(cached.token)) {
      this.log.debug(`using the cached Keystone token (valid until ${cached.expiresAt})`);
      this.current = cached;
      this.cachedToken = cached.token;
      return cached;
    }
    const fresh = await authenticate(this.http, this.config, this.log);
    this.current = fresh;
    this.cachedToken = undefined;
    this.cache?.save(fresh);
    return fresh;
  }

  /** Forget a token a service refused. */
  private invalidate(token: string): void {
    if (this.rejected.has(token)) return;
    this.rejected.add(token);
    this.log.info('the Keystone token was refused (HTTP 401): requesting a new one');
    if (this.current?.token === token) this.current = undefined;
    this.cache?.drop(token);
  }

  /** The catalog URL (no trailing slash) of a service type for the configured interface and region. */
  async endpoint(serviceType: string): Promise<string> {
    const known = this.endpoints.get(serviceType);
    if (known) return known;
    const tok = await this.token();
    let found: string;
    try {
      found = findEndpoint(tok.catalog, serviceType, this.config.interface, this.config.regionName);
    } catch (e) {
      // a token cached before this service's endpoints were registered carries an old catalog: get a fresh one
      if (!(e instanceof ConfigError) || this.cachedToken !== tok.token) throw e;
      this.log.info(`the cached Keystone token's catalog has no ${serviceType} endpoint: requesting a new token`);
      this.rejected.add(tok.token);
      if (this.current?.token === tok.token) this.current = undefined;
      this.cache?.drop(tok.token);
      found = findEndpoint((await this.token()).catalog, serviceType, this.config.interface, this.config.regionName);
    }
    const url = found.replace(/\/+$/, '');
    this.endpoints.set(serviceType, url);
    this.log.debug(`${serviceType} endpoint (${this.config.interface}${this.config.regionName ? `, ${this.config.regionName}` : ''}): ${url}`);
    return url;
  }

  /** A request with X-Auth-Token; one new token and one more try when the token is refused. */
  async request(req: HttpRequest): Promise<HttpResponse> {
    const first = await this.token();
    try {
      return await this.http.request(withToken(req, first.token));
    } catch (e) {
      if (!(e instanceof OpenStackError) || e.status !== 401) throw e;
      this.invalidate(first.token);
    }
    const second = await this.token();
    return this.http.request(withToken(req, second.token));
  }

  close(): void { this.http.close(); }
}

function withToken(req: HttpRequest, token: string): HttpRequest {
  return { ...req, headers: { ...req.headers, 'X-Auth-Token': token } };
}
