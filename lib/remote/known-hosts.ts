/**
 * OpenSSH known_hosts checking (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): plain and hashed (|1|salt|hash) host
 * fields, comma-separated patterns with * and ? wildcards and ! negation, [host]:port for ports other than 22, the
 * @revoked marker (a revoked key is refused). @cert-authority lines are ignored (host certificates are not used).
 */
import * as fs from 'node:fs';
import { createHash, createHmac } from 'node:crypto';

export interface KnownKey { file: string; line: number; type: string; blob: string }
export type HostKeyVerdict =
  | { ok: true; entry: KnownKey }
  | { ok: false; reason: 'unknown' | 'changed' | 'revoked'; known: KnownKey[] };

/** the key type named inside an SSH public key blob (its first string) */
export function keyType(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const n = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + n).toString('latin1');
}

/** OpenSSH's SHA256 fingerprint: SHA256:base64 without padding */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** "ED25519", "RSA", "ECDSA" as ssh-keygen -l names them */
export function keyLabel(type: string): string {
  if (type === 'ssh-ed25519') return 'ED25519';
  if (type === 'ssh-rsa') return 'RSA';
  if (type.startsWith('ecdsa-')) return 'ECDSA';
  return type;
}

/** the host field OpenSSH looks up: host, or [host]:port when the port is not 22 */
export function hostField(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globMatch(pattern: string, s: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(s);
}

/** whether a known_hosts host field matches the looked-up name */
export function hostMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let matched = false;
  for (const raw of field.split(',')) {
    const neg = raw.startsWith('!');
    const p = neg ? raw.slice(1) : raw;
    if (globMatch(p, name)) {
      if (neg) return false;
      matched = true;
    }
  }
  return matched;
}

interface Entry extends KnownKey { marker: '' | 'revoked' }

/** the entries of the files that name this host (missing or unreadable files are skipped) */
export function knownKeys(files: readonly string[], host: string, port: number): Entry[] {
  const name = hostField(host, port);
  const out: Entry[] = [];
  for (const file of files) {
    let text: string;
    try { text = fs.readFileSync(file, 'utf8'); } catch { continue; }
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const words = lines[i].trim().split(/\s+/);
      if (!words[0] || words[0].startsWith('#')) continue;
      let marker: Entry['marker'] = '';
      if (words[0].startsWith('@')) {
        if (words[0] !== '@revoked') continue;
        marker = 'revoked';
        words.shift();
      }
      const [hosts, type, blob] = words;
      if (!hosts || !type || !blob) continue;
      if (!hostMatches(hosts, name)) continue;
      out.push({ file, line: i + 1, type, blob, marker });
    }
  }
  return out;
}

/** checks a server's host key (its blob) against known_hosts files */
export function checkHostKey(files: readonly string[], host: string, port: number, key: Buffer): HostKeyVerdict {
  const entries = knownKeys(files, host, port);
  const b64 = key.toString('base64');
  const revoked = entries.find((e) => e.marker === 'revoked' && e.blob === b64);
  if (revoked) return { ok: false, reason: 'revoked', known: [revoked] };
  const known = entries.filter((e) => e.marker === '');
  const match = known.find((e) => e.blob === b64);
  if (match) return { ok: true, entry: match };
  return { ok: false, reason: known.length ? 'changed' : 'unknown', known };
}

/** key types known for the host, to prefer the matching host key algorithms (as OpenSSH does) */
export function knownTypes(files: readonly string[], host: string, port: number): string[] {
  return [...new Set(knownKeys(files, host, port).filter((e) => e.marker === '').map((e) => e.type))];
}
