/**
 * OCF resource agent runtime. An agent is declared once ({@link OcfAgent}); metadata, OCF_RESKEY_* parsing with
 * defaults and type checks, validate-all, usage, dispatch, exit codes, ocf-exit-reason and logging derive from it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Logger } from '../../core/log';
import { isBooleanWord, isTrue } from '../../core/text';
import { writeStdout } from '../../core/stdout';

/** OCF exit codes (Resource Agent API 1.1, plus Pacemaker's degraded codes). */
export const OCF = {
  SUCCESS: 0,
  ERR_GENERIC: 1,
  ERR_ARGS: 2,
  ERR_UNIMPLEMENTED: 3,
  ERR_PERM: 4,
  ERR_INSTALLED: 5,
  ERR_CONFIGURED: 6,
  NOT_RUNNING: 7,
  RUNNING_PROMOTED: 8,
  FAILED_PROMOTED: 9,
  DEGRADED: 190,
  DEGRADED_PROMOTED: 191,
} as const;
export type OcfCode = (typeof OCF)[keyof typeof OCF];

/** Thrown by handlers (or validation) to end the action with an exit code and an operator-facing reason. */
export class OcfError extends Error {
  constructor(readonly code: OcfCode, readonly reason: string) { super(reason); }
}

export type ParamType = 'string' | 'integer' | 'boolean' | 'time';

export interface OcfParam {
  name: string;
  type: ParamType;
  shortdesc: string;
  longdesc?: string;
  default?: string;
  required?: boolean;
  unique?: boolean;
  /** accepted values (checked by validation and listed in the long description) */
  values?: readonly string[];
  /** never log or echo the value */
  secret?: boolean;
  /** another parameter this one is a deprecated alias of (value copied when the other is unset) */
  aliasOf?: string;
}

export interface OcfActionDef {
  name: 'start' | 'stop' | 'monitor' | 'validate-all' | 'meta-data' | 'reload' | 'notify' | 'promote' | 'demote' | 'migrate_to' | 'migrate_from';
  /** seconds */
  timeout: number;
  interval?: number;
  depth?: number;
}

export interface OcfContext {
  agent: OcfAgent;
  action: string;
  /** parameter values with defaults applied (aliases resolved) */
  params: Record<string, string>;
  /** which parameters were set explicitly */
  given: Set<string>;
  log: Logger;
  /** OCF_RESOURCE_INSTANCE, or the agent name when run by hand */
  instance: string;
  /** monitor with interval 0 */
  isProbe: boolean;
  checkLevel: number;
  /** HA_RSCTMP or the default state directory for resource state files */
  rscTmp: string;
  env: NodeJS.ProcessEnv;
  str(name: string): string;
  bool(name: string): boolean;
  int(name: string): number;
  /** when Pacemaker's action timeout (OCF_RESKEY_CRM_meta_timeout) expires, epoch milliseconds; undefined without one */
  deadlineAt?: number;
  /** seconds left until deadlineAt (may be negative once passed); undefined without a timeout */
  remaining(): number | undefined;
}

export interface OcfHandlers {
  start(ctx: OcfContext): Promise<number>;
  stop(ctx: OcfContext): Promise<number>;
  monitor(ctx: OcfContext): Promise<number>;
  /** agent-specific checks after the generic ones; throw OcfError to fail */
  validate?(ctx: OcfContext): Promise<void> | void;
  /** cheap local check used for probes of a resource whose configuration is invalid */
  isRunning?(ctx: OcfContext): boolean;
  reload?(ctx: OcfContext): Promise<number>;
}

export interface OcfAgent {
  name: string;
  /** agent version (metadata attribute) */
  version: string;
  shortdesc: string;
  longdesc: string;
  params: readonly OcfParam[];
  actions: readonly OcfActionDef[];
  handlers: OcfHandlers;
}

const OCF_API_VERSION = '1.1';

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function paramLongdesc(p: OcfParam): string {
  let d = p.longdesc ?? p.shortdesc;
  if (p.values) d += `\nAccepted values: ${p.values.join(', ')}.`;
  if (p.aliasOf) d += `\nDeprecated: use ${p.aliasOf}.`;
  return d;
}

/** meta-data XML, valid against resource-agents' ra-api-1.dtd. */
export function metadataXml(agent: OcfAgent): string {
  const out: string[] = [];
  out.push('<?xml version="1.0"?>');
  out.push('<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">');
  out.push(`<resource-agent name="${xmlEscape(agent.name)}" version="${xmlEscape(agent.version)}">`);
  out.push(`<version>${OCF_API_VERSION}</version>`);
  out.push(`<longdesc lang="en">\n${xmlEscape(agent.longdesc.trim())}\n</longdesc>`);
  out.push(`<shortdesc lang="en">${xmlEscape(agent.shortdesc)}</shortdesc>`);
  out.push('<parameters>');
  for (const p of agent.params) {
    out.push(`<parameter name="${p.name}" unique="${p.unique ? 1 : 0}" required="${p.required ? 1 : 0}">`);
    out.push(`<longdesc lang="en">\n${xmlEscape(paramLongdesc(p).trim())}\n</longdesc>`);
    out.push(`<shortdesc lang="en">${xmlEscape(p.shortdesc)}</shortdesc>`);
    const def = p.default !== undefined ? ` default="${xmlEscape(p.default)}"` : '';
    out.push(`<content type="${p.type}"${def} />`);
    out.push('</parameter>');
  }
  out.push('</parameters>');
  out.push('<actions>');
  for (const a of agent.actions) {
    const extra = (a.interval !== undefined ? ` interval="${a.interval}s"` : '') + (a.depth !== undefined ? ` depth="${a.depth}"` : '');
    out.push(`<action name="${a.name}" timeout="${a.timeout}s"${extra} />`);
  }
  out.push('</actions>');
  out.push('</resource-agent>');
  return out.join('\n') + '\n';
}

export function usageText(agent: OcfAgent): string {
  const names = agent.actions.map((a) => a.name).filter((n) => n !== 'meta-data');
  const lines = [
    `usage: ${agent.name} {${[...names, 'meta-data', 'usage'].filter((v, i, a) => a.indexOf(v) === i).join('|')}}`,
    '',
    `${agent.shortdesc}.`,
    'Expects a resource agent environment: parameters as OCF_RESKEY_<name> variables.',
    '',
    'Parameters:',
  ];
  for (const p of agent.params) {
    const flags = [p.type, p.required ? 'required' : undefined, p.default !== undefined && p.default !== '' ? `default "${p.default}"` : undefined]
      .filter(Boolean).join(', ');
    lines.push(`  ${p.name} (${flags})`);
    lines.push(`      ${p.shortdesc}${p.values ? ` [${p.values.join('|')}]` : ''}`);
  }
  return lines.join('\n') + '\n';
}

const INT_RE = /^[+-]?\d+$/;
const TIME_RE = /^\d+(ms|msec|s|sec|m|min|h|hr)?$/i;

/** Read OCF_RESKEY_* for the declared parameters, apply aliases and defaults. */
export function readParams(agent: OcfAgent, env: NodeJS.ProcessEnv): { params: Record<string, string>; given: Set<string> } {
  const params: Record<string, string> = {};
  const given = new Set<string>();
  for (const p of agent.params) {
    const v = env[`OCF_RESKEY_${p.name}`];
    if (v !== undefined && v !== '') { params[p.name] = v; given.add(p.name); }
  }
  for (const p of agent.params) {
    if (p.aliasOf && given.has(p.name) && !given.has(p.aliasOf)) { params[p.aliasOf] = params[p.name]; given.add(p.aliasOf); }
  }
  for (const p of agent.params) {
    if (params[p.name] === undefined) params[p.name] = p.default ?? '';
  }
  return { params, given };
}

/** Generic checks derived from the declaration: required parameters, types, accepted values. */
export function checkParams(agent: OcfAgent, params: Record<string, string>, given: Set<string>): void {
  for (const p of agent.params) {
    const v = params[p.name];
    if (p.required && !given.has(p.name) && !(p.default)) {
      const alias = agent.params.find((q) => q.aliasOf === p.name);
      throw new OcfError(OCF.ERR_CONFIGURED, `required parameter ${p.name}${alias ? ` (or ${alias.name})` : ''} is not set`);
    }
    if (v === '') continue;
    const shown = p.secret ? '' : ` '${v}'`;
    if (p.type === 'integer' && !INT_RE.test(v)) throw new OcfError(OCF.ERR_CONFIGURED, `parameter ${p.name}${shown} is not an integer`);
    if (p.type === 'time' && !TIME_RE.test(v)) throw new OcfError(OCF.ERR_CONFIGURED, `parameter ${p.name}${shown} is not a time (e.g. 30 or 30s)`);
    if (p.type === 'boolean' && !isBooleanWord(v)) throw new OcfError(OCF.ERR_CONFIGURED, `parameter ${p.name}${shown} is not a boolean (use true or false)`);
    if (p.values && !p.values.includes(v)) throw new OcfError(OCF.ERR_CONFIGURED, `parameter ${p.name}${shown} must be one of: ${p.values.join(', ')}`);
  }
}

function timeToSeconds(v: string): number {
  const m = /^(\d+)(ms|msec|s|sec|m|min|h|hr)?$/i.exec(v.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  const u = (m[2] ?? 's').toLowerCase();
  return u.startsWith('ms') ? n / 1000 : u.startsWith('m') ? n * 60 : u.startsWith('h') ? n * 3600 : n;
}

export function makeContext(agent: OcfAgent, action: string, env: NodeJS.ProcessEnv): OcfContext {
  const { params, given } = readParams(agent, env);
  const instance = env.OCF_RESOURCE_INSTANCE || agent.name;
  const verbose = agent.params.some((p) => p.name === 'verbose') && isTrue(params.verbose);
  const log = new Logger({ tag: `${agent.name}(${instance})`, env, debug: isTrue(env.HA_debug) || verbose });
  for (const p of agent.params) if (p.secret) log.addSecret(params[p.name]);
  const interval = env.OCF_RESKEY_CRM_meta_interval;
  const timeoutMs = Number(env.OCF_RESKEY_CRM_meta_timeout);
  const deadlineAt = Number.isFinite(timeoutMs) && timeoutMs > 0 ? Date.now() + timeoutMs : undefined;
  const ctx: OcfContext = {
    agent, action, params, given, log, instance, env,
    isProbe: action === 'monitor' && (interval === undefined || interval === '' || Number(interval) === 0),
    checkLevel: Number(env.OCF_CHECK_LEVEL ?? 0) || 0,
    rscTmp: env.HA_RSCTMP || '/run/resource-agents',
    deadlineAt,
    remaining: () => (deadlineAt === undefined ? undefined : (deadlineAt - Date.now()) / 1000),
    str: (n) => params[n] ?? '',
    bool: (n) => isTrue(params[n]),
    int: (n) => {
      const p = agent.params.find((q) => q.name === n);
      return p?.type === 'time' ? timeToSeconds(params[n]) : parseInt(params[n], 10);
    },
  };
  return ctx;
}

/** Print the reason the way ocf_exit_reason does (stderr, "ocf-exit-reason:" prefix) and log it. */
export function exitReason(ctx: Pick<OcfContext, 'log'>, reason: string): void {
  const clean = ctx.log.scrub(reason).replace(/\r?\n|\r/g, ' ');
  process.stderr.write(`ocf-exit-reason:${clean}\n`);
  ctx.log.error(clean);
}

async function validate(ctx: OcfContext): Promise<void> {
  checkParams(ctx.agent, ctx.params, ctx.given);
  await ctx.agent.handlers.validate?.(ctx);
}

/** Run one OCF action; returns the exit code. */
export async function runOcf(agent: OcfAgent, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const action = args[0] ?? env.__OCF_ACTION ?? '';
  if (action === 'meta-data') { writeStdout(metadataXml(agent)); return OCF.SUCCESS; }
  if (action === 'usage' || action === 'help' || action === '--help' || action === '-h') { writeStdout(usageText(agent)); return OCF.SUCCESS; }
  if (action === '--version' || action === '-V') { writeStdout(`${agent.name} ${agent.version}\n`); return OCF.SUCCESS; }
  const declared = agent.actions.some((a) => a.name === action);
  if (!action || !declared) {
    process.stderr.write(usageText(agent));
    return action ? OCF.ERR_UNIMPLEMENTED : OCF.ERR_ARGS;
  }
  const ctx = makeContext(agent, action, env);
  const h = agent.handlers;
  try {
    let rc: number;
    switch (action) {
      case 'validate-all':
        await validate(ctx); rc = OCF.SUCCESS; break;
      case 'start':
        await validate(ctx); rc = await h.start(ctx); break;
      case 'stop':
        // stop never fails on configuration: a failed stop gets the node fenced
        rc = await h.stop(ctx); break;
      case 'monitor':
        try {
          await validate(ctx);
        } catch (e) {
          if (e instanceof OcfError && ctx.isProbe && !(h.isRunning?.(ctx) ?? false)) {
            ctx.log.debug(`probe with invalid configuration (${e.reason}): reporting not running`);
            rc = OCF.NOT_RUNNING; break;
          }
          throw e;
        }
        rc = await h.monitor(ctx); break;
      case 'reload':
        await validate(ctx); rc = h.reload ? await h.reload(ctx) : OCF.SUCCESS; break;
      default:
        rc = OCF.ERR_UNIMPLEMENTED;
    }
    ctx.log.debug(`${action}: rc=${rc}`);
    return rc;
  } catch (e) {
    if (e instanceof OcfError) { exitReason(ctx, e.reason); return e.code; }
    const msg = e instanceof Error ? e.message : String(e);
    exitReason(ctx, `${action} failed: ${msg}`);
    return OCF.ERR_GENERIC;
  } finally {
    ctx.log.flush();
  }
}

/** State files of OCF agents (start creates, stop removes, monitor checks), like the reference agents' statefile. */
export function stateFile(ctx: OcfContext, suffix = 'active'): string {
  return path.join(ctx.rscTmp, `${ctx.instance}.${suffix}`);
}

export function touchStateFile(file: string, content = ''): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

export function removeStateFile(file: string): void {
  fs.rmSync(file, { force: true });
}
