/**
 * The SSH operations called as plain functions (no child process, no argv, no TTY): ssh init, sign, revoke
 * and krl, each checked with the real ssh-keygen — -L for what a certificate says, -Q for what the KRL
 * revokes — as test/cli/ssh.test.ts checks the CLI.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PkiError } from '../../src/core/errors.js';
import { inspectSshText, type SshCertificateReport } from '../../src/core/inspect/ssh.js';
import { parseSshPublicKey } from '../../src/core/ssh/index.js';
import { CaHome, type PassphraseSource } from '../../src/store/ca-home.js';
import { initSshCas, type SshInitResult } from '../../src/operations/ssh-init.js';
import type { NewKeyProtection } from '../../src/operations/key-protection.js';
import { publishSshKrl } from '../../src/operations/ssh-krl.js';
import { revokeSshCertificates } from '../../src/operations/ssh-revoke.js';
import { signSshCertificate, type SshSignRequest } from '../../src/operations/ssh-sign.js';
import { tempDir } from '../helpers/cli.js';
import { requirePeer, runPeer } from '../helpers/peers.js';
import { parseSshKeygenListing } from '../core/ssh/ssh-keygen.js';

const NOW = new Date('2030-01-01T00:00:00Z');
const PASSPHRASE = 'ssh operations passphrase';

/** ssh-keygen with UTC times; throws with its stderr on a non-zero exit. */
function sshKeygen(args: readonly string[]): string {
  const r = runPeer('ssh-keygen', args, { env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' } });
  if (r.status !== 0) throw new Error(`ssh-keygen ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** `ssh-keygen -Q -f krl cert`'s verdict: it prints "<file> (<comment>): REVOKED" or ": ok". */
function krlVerdict(krl: string, certificate: string): 'REVOKED' | 'ok' {
  const line = runPeer('ssh-keygen', ['-Q', '-f', krl, certificate]).stdout.trim();
  if (line.endsWith(': REVOKED')) return 'REVOKED';
  if (line.endsWith(': ok')) return 'ok';
  throw new Error(`unexpected ssh-keygen -Q output: ${line}`);
}

/** A source that gives the passphrase through the store's check, as cli/passphrase.ts does; counts its calls. */
function passphraseSource(secret: string): PassphraseSource & { calls: number } {
  const source = Object.assign(
    async (check?: (s: Uint8Array) => boolean) => {
      source.calls++;
      const bytes = new TextEncoder().encode(secret);
      if (check && !check(bytes)) throw new PkiError('ERR_BAD_PASSWORD', 'wrong passphrase (test source)');
      return bytes;
    },
    { calls: 0 },
  );
  return source;
}

/** A user key made by ssh-keygen; returns the .pub path. */
function userKey(dir: string, name: string): string {
  sshKeygen(['-q', '-N', '', '-C', name, '-t', 'ed25519', '-f', join(dir, name)]);
  return join(dir, `${name}.pub`);
}

function signRequest(publicKeyPath: string, overrides: Partial<SshSignRequest> = {}): SshSignRequest {
  return {
    publicKey: parseSshPublicKey(readFileSync(publicKeyPath, 'utf8')),
    certType: 'user',
    principals: ['alice'],
    criticalOptions: {},
    omitExtensions: [],
    certificatePath: publicKeyPath.replace(/\.pub$/, '-cert.pub'),
    overwrite: false,
    ...overrides,
  };
}

describe('ssh operations, checked with ssh-keygen', () => {
  let home: CaHome;
  let keys: string;
  let given: NewKeyProtection & { encrypt: true };
  let created: SshInitResult;

  beforeAll(async () => {
    requirePeer('ssh-keygen');
    home = new CaHome(join(tempDir('pki-ops-ssh-'), 'ca'));
    keys = tempDir('pki-ops-ssh-keys-');
    given = { encrypt: true, passphrase: new TextEncoder().encode(PASSPHRASE) };
    created = await initSshCas(home, { kty: 'EC', crv: 'P-384' }, { now: NOW, newKeyProtection: async () => given });
    expect(created).toMatchObject({ dir: home.sshDir, keyType: 'ecdsa-sha2-nistp384', keysEncrypted: true, krl: { version: '1', serialsRevoked: 0 } });
  });

  it('initSshCas: encrypted CA keys whose .pub ssh-keygen fingerprints as reported, an empty KRL version 1, the passphrase wiped', async () => {
    expect(given.passphrase.every((b) => b === 0)).toBe(true);
    for (const t of ['user', 'host'] as const) {
      expect(readFileSync(join(home.sshDir, `ssh_${t}_ca_key`), 'utf8')).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
      expect(readFileSync(created[t].publicKey, 'utf8')).toBe(`${created[t].publicKeyLine}\n`);
      expect(sshKeygen(['-l', '-E', 'sha256', '-f', created[t].publicKey]).split(' ')[1]).toBe(created[t].fingerprint);
    }
    // A second init is refused before the passphrase is asked for.
    let asked = 0;
    const again = initSshCas(home, {}, { now: NOW, newKeyProtection: async () => (asked++, { encrypt: false }) });
    await expect(again).rejects.toMatchObject({ code: 'ERR_CA_EXISTS' });
    expect(asked).toBe(0);
    expect(sshKeygen(['-Q', '-l', '-f', join(home.sshDir, 'revoked_keys')])).toMatch(/# KRL version 1\b/);
  });

  it('signSshCertificate: ssh-keygen -L shows the principals, validity, serial and key id of the result, which inspect reports alike', async () => {
    const pub = userKey(keys, 'id_alice');
    const passphrase = passphraseSource(PASSPHRASE);
    const result = await signSshCertificate(home, signRequest(pub, { principals: ['alice', 'deploy'], omitExtensions: ['permit-pty'] }), { now: NOW, passphrase });
    expect(passphrase.calls).toBe(1);
    expect(result.warnings).toEqual([]);
    expect(result.signed.certificate).toBe(join(keys, 'id_alice-cert.pub'));
    expect(readFileSync(result.signed.certificate, 'utf8')).toBe(`${result.line}\n`);

    const listing = parseSshKeygenListing(sshKeygen(['-L', '-f', result.signed.certificate]));
    expect(listing.type).toMatch(/user certificate$/);
    expect(listing.principals).toEqual(['alice', 'deploy']);
    // The user profile: five minutes back for clock skew, sixteen hours ahead.
    expect(listing.valid).toBe('from 2029-12-31T23:55:00 to 2030-01-01T16:00:00');
    expect(listing.serial).toBe(result.signed.serial);
    expect(listing.keyId).toBe('"alice@20300101T000000Z"');
    expect(listing.extensions).toEqual(['permit-X11-forwarding', 'permit-agent-forwarding', 'permit-port-forwarding', 'permit-user-rc']);
    expect(listing.signingCa).toContain(result.signed.signingCaFingerprint);

    // One shape for both: what sign returns is what inspect reports for the same file.
    const report = inspectSshText(readFileSync(result.signed.certificate, 'utf8'))[0] as SshCertificateReport;
    const { certificate, publicKeyFingerprint, signingCaFingerprint, ...fields } = result.signed;
    expect(fields).toEqual({
      certType: report.certType,
      keyId: report.keyId,
      serial: report.serial,
      principals: report.principals,
      validAfter: report.validAfter,
      validBefore: report.validBefore,
      criticalOptions: report.criticalOptions,
      extensions: report.extensions,
    });
    expect({ certificate, publicKeyFingerprint, signingCaFingerprint }).toEqual({
      certificate: result.signed.certificate,
      publicKeyFingerprint: report.publicKey.fingerprint,
      signingCaFingerprint: report.signingCa.fingerprint,
    });
  });

  it('signSshCertificate refuses before writing: a wrong passphrase, an existing certificate file', async () => {
    const pub = userKey(keys, 'id_refused');
    const request = signRequest(pub);
    await expect(signSshCertificate(home, request, { now: NOW, passphrase: passphraseSource('not the passphrase') })).rejects.toMatchObject({ code: 'ERR_BAD_PASSWORD' });
    expect(existsSync(request.certificatePath)).toBe(false);
    await signSshCertificate(home, request, { now: NOW, passphrase: passphraseSource(PASSPHRASE) });
    await expect(signSshCertificate(home, request, { now: NOW, passphrase: passphraseSource(PASSPHRASE) })).rejects.toMatchObject({ code: 'ERR_FILE_EXISTS' });
  });

  it('revokeSshCertificates: ssh-keygen -Q reports the revoked certificate REVOKED and the other ok; publishSshKrl keeps it so', async () => {
    const passphrase = passphraseSource(PASSPHRASE);
    const revoked = await signSshCertificate(home, signRequest(userKey(keys, 'id_bob'), { principals: ['bob'], keyId: 'bob-key' }), { now: NOW, passphrase });
    const kept = await signSshCertificate(home, signRequest(userKey(keys, 'id_carol'), { principals: ['carol'] }), { now: NOW, passphrase });
    const krl = join(home.sshDir, 'revoked_keys');
    expect([krlVerdict(krl, revoked.signed.certificate), krlVerdict(krl, kept.signed.certificate)]).toEqual(['ok', 'ok']);

    const result = await revokeSshCertificates(home, { target: revoked.signed.serial, reason: 'keyCompromise' }, { now: NOW });
    expect(result.revoked).toEqual([{ serial: revoked.signed.serial, keyId: 'bob-key', principals: 'bob', certificate: revoked.signed.certificate, reason: 'keyCompromise' }]);
    expect(result.krl).toMatchObject({ path: krl, serialsRevoked: 1, keyIdsRevoked: 1 });
    expect([krlVerdict(krl, revoked.signed.certificate), krlVerdict(krl, kept.signed.certificate)]).toEqual(['REVOKED', 'ok']);
    expect(sshKeygen(['-Q', '-l', '-f', krl])).toContain(`serial: ${revoked.signed.serial}`);

    await expect(revokeSshCertificates(home, { target: revoked.signed.certificate, reason: 'unspecified' }, { now: NOW })).rejects.toMatchObject({ code: 'ERR_ALREADY_REVOKED' });
    await expect(revokeSshCertificates(home, { target: '0123', reason: 'unspecified' }, { now: NOW })).rejects.toMatchObject({ code: 'ERR_INVALID_SERIAL' });

    const republished = await publishSshKrl(home, { now: NOW });
    expect(republished).toEqual({ path: krl, version: String(Number(result.krl.version) + 1), serialsRevoked: 1, keyIdsRevoked: 1 });
    expect([krlVerdict(krl, revoked.signed.certificate), krlVerdict(krl, kept.signed.certificate)]).toEqual(['REVOKED', 'ok']);
  });

  it('publishSshKrl and revokeSshCertificates refuse a home without SSH CAs, creating nothing', async () => {
    const empty = new CaHome(join(tempDir('pki-ops-ssh-'), 'ca'));
    await expect(publishSshKrl(empty, { now: NOW })).rejects.toMatchObject({ code: 'ERR_SSH_CA_MISSING' });
    await expect(revokeSshCertificates(empty, { target: '1', reason: 'unspecified' }, { now: NOW })).rejects.toMatchObject({ code: 'ERR_SSH_CA_MISSING' });
    expect(existsSync(empty.dir)).toBe(false);
  });
});
