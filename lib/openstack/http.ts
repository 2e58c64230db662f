/**
 * The one HTTP path to OpenStack: node-fetch over keep-alive agents, a timeout per attempt, bounded retries with
 * exponential backoff, and errors that say what failed (method, URL, status, the service's message, request id)
 * without ever carrying a token or a password.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { Response } from 'node-fetch';
import type { Logger } from '../core/log';
import { backoffMs, sleep } from '../core/poll';
import { ConfigError } from './config';
import { OpenStackError, type CloudConfig } from './types';

/** node-fetch is loaded with the first request: agent start-up (meta-data, a quiet monitor) never needs it. */
let nodeFetch: Promise<typeof import('node-fetch').default> | undefined;
function loadFetch(): Promise<typeof import('node-fetch').default> {
  return (nodeFetch ??= import('node-fetch').then((m) => m.default));
}

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  method: Method;
  url: string;
  headers?: Record<string, string>;
  /** serialized as JSON */
  body?: unknown;
  /**
   * Safe to repeat: retried on every connection error and every 5xx. Defaults to true for GET/HEAD/PUT/DELETE.
   * Other requests are only retried when the connection was refused (nothing was sent) or on 503.
   */
  idempotent?: boolean;
  /** send "Connection: close" (Keystone behind uwsgi mishandles keep-alive clients) */
  closeConnection?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: Map<string, string>;
  /** parsed JSON, or the raw text when the body is not JSON, or null when empty */
  body: any;
  requestId?: string;
}

const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|TLS|SSL|ERR_OSSL/;

/** A connection-level failure: no HTTP response. */
class ConnectionFailure extends Error {
  constructor(message: string, readonly code: string, readonly notSent: boolean, readonly retryable: boolean) { super(message); }
}

export class HttpClient {
  private readonly agents = new Map<string, http.Agent>();
  private ca?: Buffer;
  private readonly retryDelayMs: number;

  constructor(readonly config: CloudConfig, private readonly log: Logger) {
    this.retryDelayMs = config.retryDelayMs ?? 500;
  }

  /**
   * Keep-alive agents for ordinary requests. A request that must not be repeated gets a connection of its own: on a
   * reused idle connection the server may have closed, a reset would leave us unable to tell whether it was received.
   */
  private agentFor(url: URL, fresh: boolean): http.Agent {
    const key = `${url.protocol}${fresh ? 'fresh' : 'keepalive'}`;
    let agent = this.agents.get(key);
    if (agent) return agent;
    if (url.protocol === 'https:') {
      if (this.config.cacert && !this.ca) {
        try {
          this.ca = fs.readFileSync(this.config.cacert);
        } catch (e) {
          throw new ConfigError(`cannot read cacert ${this.config.cacert}: ${(e as Error).message}`);
        }
      }
      agent = new https.Agent({ keepAlive: !fresh, rejectUnauthorized: !this.config.insecure, ca: this.ca });
    } else {
      agent = new http.Agent({ keepAlive: !fresh });
    }
    this.agents.set(key, agent);
    return agent;
  }

  /** Close idle keep-alive sockets. */
  close(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }

  /** Perform a request; resolves for 2xx/3xx, throws OpenStackError otherwise (after the allowed retries). */
  async request(req: HttpRequest): Promise<HttpResponse> {
    const idempotent = req.idempotent ?? ['GET', 'HEAD', 'PUT', 'DELETE'].includes(req.method);
    const shown = displayUrl(req.url);
    const attempts = Math.max(1, this.config.attempts);
    for (let attempt = 1; ; attempt++) {
      let retryable: boolean;
      let failure: OpenStackError;
      try {
        const res = await this.once(req, shown, !idempotent);
        if (res.status < 400) return res;
        failure = this.errorFor(req.method, shown, res);
        retryable = res.status >= 500 && (idempotent || res.status === 503);
      } catch (e) {
        if (!(e instanceof ConnectionFailure)) throw e;
        failure = new OpenStackError(this.log.scrub(`${req.method} ${shown}: ${e.message}`), 0);
        retryable = e.retryable && (idempotent || e.notSent);
      }
      if (!retryable || attempt >= attempts) {
        if (attempt > 1 && retryable) failure.message += ` (gave up after ${attempt} attempts)`;
        throw failure;
      }
      const delay = backoffMs(attempt, this.retryDelayMs);
      this.log.debug(`${failure.message}; retrying in ${delay} ms (attempt ${attempt + 1} of ${attempts})`);
      await sleep(delay);
    }
  }

  private async once(req: HttpRequest, shown: string, freshConnection: boolean): Promise<HttpResponse> {
    const url = new URL(req.url);
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'openstack-ha-agents', ...req.headers };
    if (req.body !== undefined) headers['Content-Type'] = 'application/json';
    if (req.closeConnection) headers.Connection = 'close';
    const agent = this.agentFor(url, freshConnection);
    const controller = new AbortController();
    const timeoutMs = this.config.timeoutMs;
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const started = Date.now();
    try {
      const fetch = await loadFetch();
      const res: Response = await fetch(url.href, {
        method: req.method,
        headers,
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
        agent,
        signal: controller.signal,
      });
      const text = await res.text();
      const out: HttpResponse = { status: res.status, headers: new Map(), body: parseBody(text) };
      res.headers.forEach((v, k) => out.headers.set(k.toLowerCase(), v));
      out.requestId = out.headers.get('x-openstack-request-id') ?? out.headers.get('x-compute-request-id') ?? undefined;
      this.log.debug(`${req.method} ${shown} -> ${res.status} in ${Date.now() - started} ms${out.requestId ? ` [${out.requestId}]` : ''}`);
      return out;
    } catch (e) {
      const err = e as Error & { code?: string };
      let failure: ConnectionFailure;
      if (err.name === 'AbortError' || controller.signal.aborted) {
        failure = new ConnectionFailure(`timed out after ${timeoutMs}ms`, 'ETIMEDOUT', false, true);
      } else if (err.code && TLS_CODES.test(err.code)) {
        failure = new ConnectionFailure(`TLS error (${err.code}): ${err.message}; set cacert to the CA bundle that signed the ` +
          'certificate, or insecure=true to skip verification', err.code, false, false);
      } else if (err.code) {
        failure = new ConnectionFailure(`connection failed (${err.code}): ${err.message}`, err.code, NOT_SENT.has(err.code), true);
      } else if (err.name === 'FetchError') {
        failure = new ConnectionFailure(`request failed: ${err.message}`, 'EFETCH', false, true);
      } else {
        throw e;
      }
      this.log.debug(`${req.method} ${shown} -> ${failure.message} after ${Date.now() - started} ms`);
      throw failure;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The OpenStackError for an HTTP error response. */
  private errorFor(method: string, shown: string, res: HttpResponse): OpenStackError {
    const detail = serviceMessage(res.body);
    const msg = `${method} ${shown} returned HTTP ${res.status}${detail ? `: ${detail}` : ''}` +
      `${res.requestId ? ` (request id ${res.requestId})` : ''}`;
    return new OpenStackError(this.log.scrub(msg), res.status, res.requestId);
  }
}

/** The URL as shown in logs and errors: no user-info, no fragment. */
export function displayUrl(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}${u.pathname}${u.search}`;
  } catch {
    return raw.replace(/\/\/[^/@]*@/, '//');
  }
}

function parseBody(text: string): any {
  if (text === '') return null;
  const t = text.trimStart();
  if (t.startsWith('{') || t.startsWith('[')) {
    try { return JSON.parse(text); } catch { /* not JSON after all */ }
  }
  return text;
}

/**
 * The human message in an OpenStack error body: Nova's {"badRequest": {"message": ...}} (any fault name),
 * Keystone's {"error": {"message": ...}}, Glance/webob plain text or HTML.
 */
export function serviceMessage(body: unknown): string | undefined {
  if (body === null || body === undefined) return undefined;
  if (typeof body === 'string') {
    const text = body.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
    return text ? text.slice(0, 300) : undefined;
  }
  if (typeof body !== 'object') return String(body);
  const b = body as Record<string, any>;
  if (typeof b.message === 'string') return b.message;
  for (const v of Object.values(b)) {
    if (v && typeof v === 'object' && typeof v.message === 'string') return v.message;
  }
  if (typeof b.title === 'string') return b.title;
  return undefined;
}
