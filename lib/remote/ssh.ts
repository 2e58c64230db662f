/**
 * One SSH connection (npm package ssh2, loaded on first use: agent start-up does not pay for it) on which commands
 * are run with exec, each in its own channel. The host key is checked against known_hosts files unless told not to;
 * password, keyboard-interactive (answered with the password) and public key authentication.
 *
 * ssh2's optional native parts (cpu-features, the sshcrypto.node binding) are replaced by the build with modules
 * that fail to load (build/build.mjs): ssh2 then uses its pure JavaScript code and Node's crypto.
 */
import * as fs from 'node:fs';
import type { Client, ClientChannel, ConnectConfig } from 'ssh2';
import { checkHostKey, fingerprint, hostField, keyLabel, keyType, knownTypes } from './known-hosts';

/**
 * login: connection refused, handshake not completed, host key refused, authentication denied (all before a command
 * ran); timeout: a command did not finish in time; lost: the connection closed while a command ran.
 */
export type SshErrorKind = 'login' | 'timeout' | 'lost';
export class SshError extends Error {
  constructor(message: string, readonly kind: SshErrorKind) { super(message); }
}

export type HostKeyPolicy = 'strict' | 'accept-new' | 'no';

export interface SshOptions {
  host: string;
  port: number;
  username: string;
  password?: string;
  /** private key file; the password is its passphrase */
  identityFile?: string;
  /** connection, handshake and authentication */
  loginTimeoutMs: number;
  knownHostsFiles: readonly string[];
  hostKeyPolicy: HostKeyPolicy;
  family?: 4 | 6;
  debug?: (msg: string) => void;
}

export interface ExecResult { code: number | null; signal?: string; stdout: string; stderr: string }

const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa',
];
/** algorithms for the key types known_hosts has for the host first (a host with only its RSA key recorded is asked for RSA) */
function hostKeyAlgorithms(types: string[]): string[] {
  const keyTypeOf = (alg: string) => (alg.startsWith('rsa-sha2-') ? 'ssh-rsa' : alg);
  return [...HOST_KEY_ALGORITHMS.filter((a) => types.includes(keyTypeOf(a))), ...HOST_KEY_ALGORITHMS.filter((a) => !types.includes(keyTypeOf(a)))];
}

/** single quotes for a POSIX shell (the remote user's shell runs exec'd commands) */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export class SshSession {
  private constructor(private readonly client: Client, private readonly opts: SshOptions) {}
  private closed = false;

  static async connect(opts: SshOptions): Promise<SshSession> {
    const { Client } = await import('ssh2');
    const client = new Client();
    const where = `${opts.host} port ${opts.port}`;
    let hostKeyProblem: string | undefined;
    const config: ConnectConfig = {
      host: opts.host,
      port: opts.port,
      username: opts.username,
      readyTimeout: opts.loginTimeoutMs,
      tryKeyboard: !opts.identityFile && opts.password !== undefined,
      algorithms: { serverHostKey: hostKeyAlgorithms(knownTypes(opts.knownHostsFiles, opts.host, opts.port)) as never },
      hostVerifier: (key: Buffer) => {
        const fp = `${keyLabel(keyType(key))} key ${fingerprint(key)}`;
        if (opts.hostKeyPolicy === 'no') { opts.debug?.(`host key of ${where} not checked (StrictHostKeyChecking=no): ${fp}`); return true; }
        const v = checkHostKey(opts.knownHostsFiles, opts.host, opts.port, key);
        if (v.ok) { opts.debug?.(`host key of ${where} matches ${v.entry.file}:${v.entry.line}: ${fp}`); return true; }
        if (v.reason === 'unknown' && opts.hostKeyPolicy === 'accept-new') { opts.debug?.(`new host key of ${where} accepted (StrictHostKeyChecking=accept-new): ${fp}`); return true; }
        const files = opts.knownHostsFiles.join(', ');
        if (v.reason === 'unknown') {
          hostKeyProblem = `host key of ${where} is not known: it offers ${fp}, which is in none of ${files}. Check it, then add it ` +
            `(ssh-keyscan -p ${opts.port} ${opts.host} >> ~/.ssh/known_hosts), or set ssh_options="-o StrictHostKeyChecking=no" to skip the check`;
        } else if (v.reason === 'revoked') {
          hostKeyProblem = `host key of ${where} (${fp}) is revoked in ${v.known[0].file}:${v.known[0].line}`;
        } else {
          const had = v.known.map((k) => `${k.file}:${k.line} (${keyLabel(k.type)} key ${fingerprint(Buffer.from(k.blob, 'base64'))})`).join(', ');
          hostKeyProblem = `HOST KEY OF ${where} HAS CHANGED (possible man-in-the-middle attack): it offers ${fp}, known as ${had}`;
        }
        return false;
      },
    };
    if (opts.family) (config as ConnectConfig & { forceIPv4?: boolean; forceIPv6?: boolean })[opts.family === 4 ? 'forceIPv4' : 'forceIPv6'] = true;
    if (opts.identityFile) {
      try { config.privateKey = fs.readFileSync(opts.identityFile); } catch (e) {
        throw new SshError(`cannot read identity file ${opts.identityFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'login');
      }
      if (opts.password !== undefined) config.passphrase = opts.password;
    } else if (opts.password !== undefined) {
      config.password = opts.password;
    }
    client.on('keyboard-interactive', (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => opts.password ?? '')));
    await new Promise<void>((resolve, reject) => {
      const fail = (msg: string) => { client.removeAllListeners('ready'); client.end(); reject(new SshError(msg, 'login')); };
      client.once('ready', () => { client.removeAllListeners('error'); client.on('error', () => { /* reported by the running command */ }); resolve(); });
      client.once('error', (e: Error & { level?: string; code?: string }) => {
        if (hostKeyProblem) return fail(hostKeyProblem);
        if (e.level === 'client-authentication') return fail(`authentication as ${opts.username} on ${where} failed (${opts.identityFile ? `key ${opts.identityFile}` : 'password'})`);
        if (e.level === 'client-timeout') return fail(`no SSH session with ${where} within login_timeout (${opts.loginTimeoutMs / 1000} s): ${e.message}`);
        if (/encrypted|passphrase|Cannot parse privateKey/i.test(e.message)) return fail(`cannot use identity file ${opts.identityFile}: ${e.message}`);
        fail(`cannot connect to ${where}: ${e.code ?? e.message}`);
      });
      try { client.connect(config); } catch (e) { fail(`cannot connect to ${where}: ${(e as Error).message}`); }
    });
    opts.debug?.(`SSH session with ${opts.username}@${hostField(opts.host, opts.port)} established`);
    return new SshSession(client, opts);
  }

  /** runs one command; its output and exit status. Rejects on timeout (channel closed) or a lost connection. */
  exec(command: string, timeoutMs: number): Promise<ExecResult> {
    this.opts.debug?.(`exec: ${command}`);
    return new Promise((resolve, reject) => {
      let stream: ClientChannel | undefined;
      let settled = false;
      const done = (f: () => void) => { if (settled) return; settled = true; clearTimeout(timer); this.client.removeListener('close', onClose); f(); };
      const onClose = () => done(() => reject(new SshError(`connection to ${this.opts.host} port ${this.opts.port} lost while running: ${command}`, 'lost')));
      const timer = setTimeout(() => done(() => {
        stream?.close();
        reject(new SshError(`no answer to "${command}" within ${timeoutMs / 1000} s`, 'timeout'));
      }), timeoutMs);
      this.client.once('close', onClose);
      const ok = this.client.exec(command, (err, s) => {
        if (err) { done(() => reject(new SshError(`cannot run "${command}": ${err.message}`, 'lost'))); return; }
        stream = s;
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        s.on('data', (d: Buffer) => out.push(d));
        s.stderr.on('data', (d: Buffer) => errOut.push(d));
        s.on('close', (code: number | null, signal?: string) => done(() => {
          const r: ExecResult = { code: code ?? null, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errOut).toString('utf8') };
          this.opts.debug?.(`exit ${r.code}${r.signal ? ` signal ${r.signal}` : ''}: ${(r.stdout + r.stderr).trim().replace(/\n/g, ' | ')}`);
          resolve(r);
        }));
      });
      void ok;
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.end();
  }
}
