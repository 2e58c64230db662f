/** fence_virsh's pieces without a server: known_hosts matching, ssh_options parsing, shell quoting. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { checkHostKey, fingerprint, hostField, hostMatches, keyType } from '../../lib/remote/known-hosts';
import { shellQuote } from '../../lib/remote/ssh';
import { shellWords, sshOptionSettings } from '../../agents/fence_virsh';
import { rmDir, tmpDir } from '../fake/harness';

/** an ssh-ed25519 public key blob */
function ed25519Blob(): Buffer {
  const der = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' });
  const raw = der.subarray(der.length - 32);
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]);
}

const dir = tmpDir('oha-virsh-unit-');
afterAll(() => rmDir(dir));

describe('known_hosts', () => {
  const key = ed25519Blob();
  const other = ed25519Blob();
  const write = (name: string, text: string) => { const f = path.join(dir, name); fs.writeFileSync(f, text); return f; };

  it('reads the key type and the OpenSSH fingerprint', () => {
    expect(keyType(key)).toBe('ssh-ed25519');
    expect(fingerprint(key)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('matches plain, bracketed-port, wildcard, negated and hashed host fields', () => {
    expect(hostField('h', 22)).toBe('h');
    expect(hostField('h', 2222)).toBe('[h]:2222');
    expect(hostMatches('a,h,b', 'h')).toBe(true);
    expect(hostMatches('[h]:2222', '[h]:2222')).toBe(true);
    expect(hostMatches('h', '[h]:2222')).toBe(false);
    expect(hostMatches('*.example.com', 'kvm1.example.com')).toBe(true);
    expect(hostMatches('*.example.com,!bad.example.com', 'bad.example.com')).toBe(false);
    const salt = Buffer.from('0123456789abcdef0123');
    const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('[h]:2222').digest('base64')}`;
    expect(hostMatches(hashed, '[h]:2222')).toBe(true);
    expect(hostMatches(hashed, 'h')).toBe(false);
  });

  it('known, unknown, changed and revoked keys', () => {
    const f = write('kh', `# comment\n[h]:2222 ssh-ed25519 ${key.toString('base64')} root@h\nother ssh-ed25519 ${other.toString('base64')}\n`);
    expect(checkHostKey([f], 'h', 2222, key)).toMatchObject({ ok: true, entry: { line: 2 } });
    expect(checkHostKey([f], 'nothere', 22, key)).toMatchObject({ ok: false, reason: 'unknown' });
    expect(checkHostKey([f], 'other', 22, key)).toMatchObject({ ok: false, reason: 'changed', known: [{ line: 3 }] });
    expect(checkHostKey(['/nonexistent', f], 'h', 2222, key).ok).toBe(true);
    const r = write('kh-revoked', `@revoked * ssh-ed25519 ${key.toString('base64')}\nh ssh-ed25519 ${key.toString('base64')}\n`);
    expect(checkHostKey([r], 'h', 22, key)).toMatchObject({ ok: false, reason: 'revoked' });
  });
});

describe('ssh_options and quoting', () => {
  it('reads StrictHostKeyChecking, the known_hosts files and -4/-6; ignores the rest (the reference default included)', () => {
    expect(sshOptionSettings(`-t '/bin/bash -c "PS1=\\\\[EXPECT\\\\]# /bin/bash --noprofile --norc"'`)).toEqual({});
    expect(sshOptionSettings('-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null')).toEqual({ policy: 'no', userKnownHosts: '/dev/null' });
    expect(sshOptionSettings('-oStrictHostKeyChecking=accept-new -6')).toEqual({ policy: 'accept-new', family: 6 });
    expect(sshOptionSettings('-o "StrictHostKeyChecking yes" -o GlobalKnownHostsFile=/etc/kh')).toEqual({ policy: 'strict', globalKnownHosts: '/etc/kh' });
  });

  it('splits like a shell and quotes for one', () => {
    expect(shellWords(`a 'b c' "d \\"e\\"" f\\ g`)).toEqual(['a', 'b c', 'd "e"', 'f g']);
    expect(shellQuote('vm-1')).toBe('vm-1');
    expect(shellQuote("it's; rm -rf /")).toBe(`'it'\\''s; rm -rf /'`);
  });
});
