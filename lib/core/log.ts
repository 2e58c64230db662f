/**
 * The one logging path every agent uses (modelled on ocf_log in resource-agents' ocf-shellfuncs).
 *
 * Destinations, decided once per process from the environment Pacemaker gives agents:
 *  - HA_LOGFILE: every message at info and above is appended there;
 *  - HA_DEBUGLOG: debug messages (and all others) are appended there;
 *  - HA_LOGFACILITY (or PCMK_logfacility; "none" disables): messages go to syslog through logger(1);
 *  - stderr: when nothing else is configured (an operator running the agent by hand), or always for
 *    errors, like ocf_log does when it cannot reach a log.
 * Debug messages are only emitted when HA_debug=1 (OCF) or verbose/debug was asked for (fence agents).
 * Each line is tagged with the program and, for OCF agents, the resource instance ("NovaEvacuate(nova-evacuate)").
 *
 * Secrets: callers register values with {@link Logger.addSecret}; every message is scrubbed of them before it is
 * written anywhere.
 */
import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { isTrue } from './text';

export type Level = 'debug' | 'info' | 'notice' | 'warn' | 'error' | 'crit';

const SYSLOG_SEVERITY: Record<Level, number> = { crit: 2, error: 3, warn: 4, notice: 5, info: 6, debug: 7 };
const FACILITIES: Record<string, number> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10,
  ftp: 11, local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
};
const LABEL: Record<Level, string> = { debug: 'DEBUG', info: 'INFO', notice: 'INFO', warn: 'WARNING', error: 'ERROR', crit: 'CRIT' };

export interface LoggerOptions {
  /** program tag, e.g. "NovaEvacuate(nova-evacuate)" or "fence_compute" */
  tag: string;
  env?: NodeJS.ProcessEnv;
  /** emit debug messages */
  debug?: boolean;
  /** extra file receiving everything (fence agents' debug_file) */
  debugFile?: string;
  /** also write to stderr (fence agents always do, unless quiet) */
  stderr?: boolean;
  /** how stderr lines look: fence agents print "LEVEL: msg" like fencing.py */
  stderrFormat?: 'fence' | 'ocf';
}

export class Logger {
  readonly tag: string;
  debugEnabled: boolean;
  private secrets: string[] = [];
  private readonly logFile?: string;
  private readonly debugLog?: string;
  private debugFile?: string;
  private readonly facility?: number;
  toStderr: boolean;
  /** no stderr at all, not even errors (fence agents' quiet option) */
  quiet = false;
  private readonly stderrFormat: 'fence' | 'ocf';
  private syslogBuffer: string[] = [];
  private exitHooked = false;

  constructor(opts: LoggerOptions) {
    const env = opts.env ?? process.env;
    this.tag = opts.tag;
    this.debugEnabled = opts.debug ?? isTrue(env.HA_debug);
    this.logFile = env.HA_LOGFILE || undefined;
    this.debugLog = env.HA_DEBUGLOG || undefined;
    this.debugFile = opts.debugFile;
    const fac = (env.HA_LOGFACILITY ?? env.PCMK_logfacility ?? '').toLowerCase();
    this.facility = fac && fac !== 'none' && fac in FACILITIES ? FACILITIES[fac] : undefined;
    this.stderrFormat = opts.stderrFormat ?? 'ocf';
    // Like ocf_log: with no log destination configured, messages go to stderr.
    this.toStderr = opts.stderr ?? (!this.logFile && !this.debugLog && this.facility === undefined);
  }

  /** Never write this value: replace it by "****" in every message. Empty strings are ignored. */
  addSecret(value: string | undefined): void {
    if (value && value.length >= 1 && !this.secrets.includes(value)) this.secrets.push(value);
  }

  setDebugFile(path: string | undefined): void { this.debugFile = path; }

  scrub(msg: string): string {
    let out = msg;
    for (const s of this.secrets) out = out.split(s).join('****');
    return out;
  }

  debug(msg: string): void { this.log('debug', msg); }
  info(msg: string): void { this.log('info', msg); }
  notice(msg: string): void { this.log('notice', msg); }
  warn(msg: string): void { this.log('warn', msg); }
  error(msg: string): void { this.log('error', msg); }

  log(level: Level, raw: string): void {
    if (level === 'debug' && !this.debugEnabled) return;
    const msg = this.scrub(raw);
    const stamp = timestamp();
    const line = `${this.tag}[${process.pid}]:\t${stamp} ${LABEL[level]}: ${msg}\n`;
    if (level === 'debug') {
      if (this.debugLog) appendQuiet(this.debugLog, line);
      else if (this.logFile) appendQuiet(this.logFile, line);
    } else {
      if (this.logFile) appendQuiet(this.logFile, line);
      if (this.debugLog && this.debugLog !== this.logFile) appendQuiet(this.debugLog, line);
    }
    if (this.debugFile) appendQuiet(this.debugFile, `${stamp} ${LABEL[level]}: ${msg}\n`);
    if (this.facility !== undefined) this.syslog(level, msg);
    if (!this.quiet && (this.toStderr || level === 'error' || level === 'crit')) {
      if (this.stderrFormat === 'fence') process.stderr.write(`${stamp} ${LABEL[level]}: ${msg}\n`);
      else process.stderr.write(`${this.tag}: ${LABEL[level]}: ${msg}\n`);
    }
  }

  private syslog(level: Level, msg: string): void {
    const pri = (this.facility as number) * 8 + SYSLOG_SEVERITY[level];
    this.syslogBuffer.push(`<${pri}>${LABEL[level]}: ${msg.replace(/\n/g, ' ')}`);
    if (!this.exitHooked) {
      this.exitHooked = true;
      process.once('exit', () => this.flush());
    }
  }

  /**
   * Hand buffered syslog lines to logger(1) in one call (node has no unix datagram sockets). Runtimes call this
   * before exiting; it is also hooked on process exit. A missing syslog never breaks an agent.
   */
  flush(): void {
    if (this.syslogBuffer.length === 0) return;
    const input = this.syslogBuffer.join('\n') + '\n';
    this.syslogBuffer = [];
    if (!fs.existsSync('/dev/log')) return;
    try {
      execFileSync('logger', ['--socket', '/dev/log', '--prio-prefix', '-t', `${this.tag}[${process.pid}]`],
        { input, stdio: ['pipe', 'ignore', 'ignore'], timeout: 2000 });
    } catch { /* no logger or no syslog daemon */ }
  }
}

function appendQuiet(file: string, line: string): void {
  try { fs.appendFileSync(file, line); } catch { /* unwritable log: keep going, like ocf_log */ }
}

function timestamp(): string {
  const d = new Date();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())}_${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A logger that records lines in memory, for unit tests and for library code used outside an agent. */
export class MemoryLogger extends Logger {
  lines: { level: Level; msg: string }[] = [];
  constructor(tag = 'test') { super({ tag, env: {}, debug: true, stderr: false }); }
  override log(level: Level, raw: string): void { this.lines.push({ level, msg: this.scrub(raw) }); }
}
