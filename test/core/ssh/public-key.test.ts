import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  classifySshText,
  decodeSshPublicKeyBlob,
  encodeSshPublicKey,
  fingerprintSshPublicKey,
  parseSshPublicKey,
} from '../../../src/core/ssh/index.js';
import { makeTempDir, sshKeygen, sshKeygenFingerprint } from './ssh-keygen.js';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/ssh/${name}`, import.meta.url), 'utf8');
const temp = makeTempDir();
afterAll(() => temp.cleanup());

describe('parseSshPublicKey reads keys ssh-keygen made, with ssh-keygen -l fingerprints', () => {
  it.each([
    { kind: 'ed25519', args: ['-t', 'ed25519'], type: 'ssh-ed25519', kty: 'ed25519' },
    { kind: 'ecdsa256', args: ['-t', 'ecdsa', '-b', '256'], type: 'ecdsa-sha2-nistp256', kty: 'ec' },
    { kind: 'ecdsa384', args: ['-t', 'ecdsa', '-b', '384'], type: 'ecdsa-sha2-nistp384', kty: 'ec' },
    { kind: 'ecdsa521', args: ['-t', 'ecdsa', '-b', '521'], type: 'ecdsa-sha2-nistp521', kty: 'ec' },
    { kind: 'rsa2048', args: ['-t', 'rsa', '-b', '2048'], type: 'ssh-rsa', kty: 'rsa' },
    { kind: 'rsa4096', args: ['-t', 'rsa', '-b', '4096'], type: 'ssh-rsa', kty: 'rsa' },
  ])('$kind', ({ kind, args, type, kty }) => {
    const file = join(temp.dir, kind);
    sshKeygen(['-q', ...args, '-N', '', '-C', `${kind} key with spaces`, '-f', file]);
    const text = readFileSync(`${file}.pub`, 'utf8');
    const key = parseSshPublicKey(text);
    expect(key.type).toBe(type);
    expect(key.comment).toBe(`${kind} key with spaces`);
    expect(key.keyObject.asymmetricKeyType).toBe(kty);
    expect(fingerprintSshPublicKey(key.blob)).toBe(sshKeygenFingerprint(`${file}.pub`));
    // Re-encoding the KeyObject gives back ssh-keygen's exact line.
    expect(encodeSshPublicKey(key.keyObject, key.comment)).toBe(text.trim());
    expect(classifySshText(text)).toBe('public-key');
  });

  it('reads a fixture and matches its recorded fingerprint', () => {
    const key = parseSshPublicKey(fixture('ca_ed25519.pub'));
    expect(fingerprintSshPublicKey(key.blob)).toBe('SHA256:Z79ohnPBUboS/SYh4nQR79t9JiRVjZmx7QnBFuMGlLg');
  });
});

describe('encodeSshPublicKey writes lines ssh-keygen reads', () => {
  it.each([
    { name: 'Ed25519', make: () => generateKeyPairSync('ed25519') },
    { name: 'P-256', make: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }) },
    { name: 'P-384', make: () => generateKeyPairSync('ec', { namedCurve: 'P-384' }) },
    { name: 'P-521', make: () => generateKeyPairSync('ec', { namedCurve: 'P-521' }) },
    { name: 'RSA 3072', make: () => generateKeyPairSync('rsa', { modulusLength: 3072 }) },
  ])('$name (from the private key too)', ({ name, make }) => {
    const { publicKey, privateKey } = make();
    const line = encodeSshPublicKey(publicKey, 'made by pki');
    expect(encodeSshPublicKey(privateKey, 'made by pki')).toBe(line);
    const file = join(temp.dir, `encoded-${name.replace(/\s/g, '')}.pub`);
    writeFileSync(file, `${line}\n`);
    const parsed = parseSshPublicKey(line);
    expect(sshKeygenFingerprint(file)).toBe(fingerprintSshPublicKey(parsed.blob));
    expect(parsed.keyObject.equals(publicKey)).toBe(true);
  });
});

describe('parseSshPublicKey refusals', () => {
  const pemPrivate = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  const rsaPemPrivate = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs1' }) as string;
  const ed = fixture('user_ed25519.pub').trim();
  const [edType, edB64] = ed.split(' ') as [string, string];
  const blob = Buffer.from(edB64, 'base64');

  it.each([
    { name: 'empty input', text: '', code: 'ERR_EMPTY_INPUT' },
    { name: 'garbage', text: 'not a key', code: 'ERR_MALFORMED_SSH' },
    { name: 'bad base64', text: `${edType} AAAA$$$$`, code: 'ERR_MALFORMED_SSH' },
    { name: 'truncated base64', text: `${edType} ${edB64.slice(0, -4)}`, code: 'ERR_MALFORMED_SSH' },
    { name: 'line type disagrees with blob', text: `ecdsa-sha2-nistp256 ${edB64}`, code: 'ERR_MALFORMED_SSH' },
    { name: 'trailing bytes in blob', text: `${edType} ${Buffer.concat([blob, Buffer.from([0])]).toString('base64')}`, code: 'ERR_MALFORMED_SSH' },
    { name: 'two keys', text: `${ed}\n${ed}\n`, code: 'ERR_MALFORMED_SSH' },
    { name: 'OpenSSH private key', text: fixture('user_ed25519'), code: 'ERR_UNKNOWN_OBJECT', hint: 'pass the .pub file' },
    { name: 'PKCS#8 PEM private key', text: pemPrivate, code: 'ERR_UNKNOWN_OBJECT', hint: 'pass the .pub file' },
    { name: 'PKCS#1 PEM private key', text: rsaPemPrivate, code: 'ERR_UNKNOWN_OBJECT', hint: 'pass the .pub file' },
    { name: 'a certificate', text: fixture('user_ed25519-cert.pub'), code: 'ERR_UNKNOWN_OBJECT' },
    { name: 'RFC 4716 key', text: '---- BEGIN SSH2 PUBLIC KEY ----\nAAAA\n---- END SSH2 PUBLIC KEY ----\n', code: 'ERR_UNKNOWN_OBJECT' },
    { name: 'DSA', text: fixture('dsa.pub'), code: 'ERR_UNSUPPORTED_KEY' },
    { name: 'RSA 1024', text: fixture('rsa1024.pub'), code: 'ERR_WEAK_KEY' },
    { name: 'FIDO key type', text: `sk-ssh-ed25519@openssh.com ${edB64}`, code: 'ERR_UNSUPPORTED_KEY' },
    { name: 'unknown key type', text: `ssh-foo ${edB64}`, code: 'ERR_UNSUPPORTED_KEY' },
  ])('$name → $code', ({ text, code, hint }) => {
    let caught: unknown;
    try {
      parseSshPublicKey(text);
    } catch (e) {
      caught = e;
    }
    expect(caught).toMatchObject({ name: 'PkiError', code });
    if (hint) expect(caught).toMatchObject({ hint });
  });

  it('refuses an RSA modulus over OpenSSH\'s 16384-bit limit (ERR_UNSUPPORTED_KEY)', () => {
    const mpint = (bytes: Buffer) => Buffer.concat([Buffer.from([0, 0, (bytes.length >> 8) & 0xff, bytes.length & 0xff]), bytes]);
    const huge = Buffer.concat([Buffer.from([0]), Buffer.alloc(16384 / 8 + 1, 0xff)]);
    const blob = Buffer.concat([mpint(Buffer.from('ssh-rsa')), mpint(Buffer.from([1, 0, 1])), mpint(huge)]);
    expect(() => decodeSshPublicKeyBlob(blob)).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_KEY' }));
  });

  it('refuses an ECDSA point that is not on the curve', () => {
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const good = parseSshPublicKey(encodeSshPublicKey(p256)).blob;
    const bad = Buffer.from(good);
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 0x01; // y+1: off the curve
    expect(() => decodeSshPublicKeyBlob(bad)).toThrow(expect.objectContaining({ code: 'ERR_MALFORMED_SSH' }));
  });
});

describe('classifySshText', () => {
  it.each([
    { name: 'public key', text: () => fixture('ca_rsa3072.pub'), kind: 'public-key' },
    { name: 'certificate', text: () => fixture('host_ecdsa256-cert.pub'), kind: 'certificate' },
    { name: 'OpenSSH private key', text: () => fixture('user_ed25519'), kind: 'private-key' },
    { name: 'X.509 PEM', text: () => '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', kind: undefined },
    { name: 'prose', text: () => 'hello there', kind: undefined },
  ])('$name → $kind', ({ text, kind }) => {
    expect(classifySshText(text())).toBe(kind);
  });
});
