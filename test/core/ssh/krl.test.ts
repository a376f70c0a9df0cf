import { randomBytes, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildKrl,
  decodeKrl,
  encodeSshPublicKeyBlob,
  generateSshCaKey,
  issueSshCertificate,
  looksLikeKrl,
  parseSshPublicKey,
  type SshPublicKey,
} from '../../../src/core/ssh/index.js';
import { makeTempDir, runSshKeygen, sshKeygen } from './ssh-keygen.js';
import { errorCode } from '../../helpers/errors.js';

const temp = makeTempDir();
let ca: { publicKey: KeyObject; privateKey: KeyObject };
let otherCa: { publicKey: KeyObject; privateKey: KeyObject };
let subject: SshPublicKey;
afterAll(() => temp.cleanup());

beforeAll(async () => {
  ca = await generateSshCaKey({ kty: 'EC', crv: 'P-256' });
  otherCa = await generateSshCaKey({ kty: 'OKP' });
  sshKeygen(['-q', '-t', 'ed25519', '-N', '', '-f', join(temp.dir, 'user')]);
  subject = parseSshPublicKey(readFileSync(join(temp.dir, 'user.pub'), 'utf8'));
});

function writeCert(name: string, serial: bigint, keyId: string, signer = ca): string {
  const { line } = issueSshCertificate({
    publicKey: subject,
    caPrivateKey: signer.privateKey,
    certType: 'user',
    serial,
    keyId,
    principals: ['alice'],
    validAfter: new Date('2030-01-01T00:00:00Z'),
    validBefore: new Date('2030-01-02T00:00:00Z'),
    extensions: ['permit-pty'],
    nonce: randomBytes(32),
  });
  const file = join(temp.dir, `${name}-cert.pub`);
  writeFileSync(file, `${line}\n`);
  return file;
}

/** `ssh-keygen -Q` prints "FILE (comment): REVOKED" and exits 1, or "...: ok" and exits 0. */
function queryKrl(krlFile: string, certFile: string): 'REVOKED' | 'ok' {
  const result = runSshKeygen(['-Q', '-f', krlFile, certFile]);
  if (/: REVOKED$/m.test(result.stdout) && result.status !== 0) return 'REVOKED';
  if (/: ok$/m.test(result.stdout) && result.status === 0) return 'ok';
  throw new Error(`unexpected ssh-keygen -Q result ${result.status}: ${result.stdout}${result.stderr}`);
}

describe('buildKrl produces KRLs that ssh-keygen -Q honours', () => {
  it('revokes by serial and by key id, leaves others alone', () => {
    const krl = buildKrl({
      version: 7n,
      generatedAt: new Date('2030-01-01T00:00:00Z'),
      comment: 'pki test KRL',
      certificates: [
        { caPublicKey: encodeSshPublicKeyBlob(ca.publicKey), serialsRevoked: [1000n, 5n, 0xffff_ffff_ffff_ffffn, 5n], keyIdsRevoked: ['mallory'] },
      ],
    });
    expect(looksLikeKrl(krl)).toBe(true);
    const krlFile = join(temp.dir, 'revoked.krl');
    writeFileSync(krlFile, krl);

    expect(queryKrl(krlFile, writeCert('by-serial', 1000n, 'bob'))).toBe('REVOKED');
    expect(queryKrl(krlFile, writeCert('max-serial', 0xffff_ffff_ffff_ffffn, 'carol'))).toBe('REVOKED');
    expect(queryKrl(krlFile, writeCert('by-key-id', 999n, 'mallory'))).toBe('REVOKED');
    expect(queryKrl(krlFile, writeCert('good', 1001n, 'alice'))).toBe('ok');
    // Same serial and key id, but another CA: the KRL section is scoped to our CA key.
    expect(queryKrl(krlFile, writeCert('other-ca', 1000n, 'mallory', otherCa))).toBe('ok');

    // ssh-keygen's own dump of the KRL shows exactly what we put in.
    const dump = sshKeygen(['-Q', '-l', '-f', krlFile]);
    expect(dump).toContain('# KRL version 7');
    expect(dump).toContain('# Comment: pki test KRL');
    expect(dump).toMatch(/serial: 5\n/);
    expect(dump).toContain('serial: 1000');
    expect(dump).toContain('id: mallory');
  });

  it('merges sections for the same CA and handles several CAs', () => {
    const krl = buildKrl({
      version: 1n,
      generatedAt: new Date(),
      certificates: [
        { caPublicKey: encodeSshPublicKeyBlob(ca.publicKey), serialsRevoked: [1n] },
        { caPublicKey: encodeSshPublicKeyBlob(otherCa.publicKey), keyIdsRevoked: ['eve'] },
        { caPublicKey: encodeSshPublicKeyBlob(ca.publicKey), serialsRevoked: [2n] },
      ],
    });
    const krlFile = join(temp.dir, 'multi.krl');
    writeFileSync(krlFile, krl);
    expect(queryKrl(krlFile, writeCert('m1', 1n, 'x'))).toBe('REVOKED');
    expect(queryKrl(krlFile, writeCert('m2', 2n, 'x'))).toBe('REVOKED');
    expect(queryKrl(krlFile, writeCert('m3', 3n, 'x'))).toBe('ok');
    expect(queryKrl(krlFile, writeCert('m4', 3n, 'eve', otherCa))).toBe('REVOKED');
    expect(sshKeygen(['-Q', '-l', '-f', krlFile]).match(/# CA key/g)).toHaveLength(2);
  });

  it('an empty KRL is valid and revokes nothing', () => {
    const krlFile = join(temp.dir, 'empty.krl');
    writeFileSync(krlFile, buildKrl({ version: 0n, generatedAt: new Date(), certificates: [] }));
    expect(queryKrl(krlFile, writeCert('e1', 1n, 'x'))).toBe('ok');
  });

  it('is deterministic for the same input', () => {
    const opts = {
      version: 3n,
      generatedAt: new Date('2030-01-01T00:00:00Z'),
      certificates: [{ caPublicKey: encodeSshPublicKeyBlob(ca.publicKey), serialsRevoked: [3n, 1n, 2n], keyIdsRevoked: ['b', 'a'] }],
    };
    const reordered = { ...opts, certificates: [{ ...opts.certificates[0]!, serialsRevoked: [2n, 3n, 1n], keyIdsRevoked: ['a', 'b'] }] };
    expect(buildKrl(opts).equals(buildKrl(reordered))).toBe(true);
  });
});

describe('buildKrl refusals', () => {
  const base = () => ({ version: 1n, generatedAt: new Date(), certificates: [{ caPublicKey: encodeSshPublicKeyBlob(ca.publicKey) }] });
  it.each([
    { name: 'serial 0', patch: { serialsRevoked: [0n] }, code: 'ERR_INVALID_SERIAL' },
    { name: 'serial over 64 bits', patch: { serialsRevoked: [1n << 64n] }, code: 'ERR_INVALID_SERIAL' },
    { name: 'empty key id', patch: { keyIdsRevoked: [''] }, code: 'ERR_INVALID_OPTION' },
    { name: 'CA blob that is not a key', patch: { caPublicKey: Buffer.from('nonsense') }, code: 'ERR_MALFORMED_SSH' },
  ])('$name → $code', ({ patch, code }) => {
    const opts = base();
    expect(() => buildKrl({ ...opts, certificates: [{ ...opts.certificates[0]!, ...patch }] })).toThrow(expect.objectContaining({ code }));
  });

  it.each([
    { name: 'negative version', patch: { version: -1n }, code: 'ERR_INVALID_OPTION' },
    { name: 'invalid date', patch: { generatedAt: new Date(Number.NaN) }, code: 'ERR_INVALID_TIME' },
  ])('$name → $code', ({ patch, code }) => {
    expect(() => buildKrl({ ...base(), ...patch })).toThrow(expect.objectContaining({ code }));
  });
});

describe('decodeKrl (pki inspect of a KRL)', () => {
  it('reads back what buildKrl wrote: version, date, comment, per-CA serials and key ids', () => {
    const caBlob = encodeSshPublicKeyBlob(ca.publicKey);
    const krl = buildKrl({ version: 42n, generatedAt: new Date('2030-05-06T07:08:09Z'), comment: 'pki', certificates: [{ caPublicKey: caBlob, serialsRevoked: [9n, 2n ** 64n - 1n], keyIdsRevoked: ['bob'] }] });
    const d = decodeKrl(krl);
    expect(d).toMatchObject({ formatVersion: 1, version: 42n, generatedAt: new Date('2030-05-06T07:08:09Z'), comment: 'pki', signatureCount: 0, explicitKeys: [] });
    expect(d.certificates).toHaveLength(1);
    expect(Buffer.from(d.certificates[0]!.caPublicKey!).equals(caBlob)).toBe(true);
    expect(d.certificates[0]).toMatchObject({ serials: [9n, 2n ** 64n - 1n], keyIds: ['bob'], serialRanges: [] });
  });

  it('refuses every truncation and an unknown section with ERR_MALFORMED_SSH, never a RangeError', () => {
    const krl = buildKrl({ version: 1n, generatedAt: new Date(0), certificates: [{ caPublicKey: encodeSshPublicKeyBlob(ca.publicKey), serialsRevoked: [5n], keyIdsRevoked: ['x'] }] });
    const codes = new Set<string>();
    let valid = 0;
    for (let cut = 8; cut < krl.length; cut++) {
      const code = errorCode(() => decodeKrl(krl.subarray(0, cut)));
      if (code === 'no error') valid++;
      else codes.add(code);
    }
    expect([...codes]).toEqual(['ERR_MALFORMED_SSH']);
    expect(valid).toBe(1); // only the cut right after the header (one section) is itself a valid, empty KRL
    expect(errorCode(() => decodeKrl(Buffer.concat([krl, Buffer.from([0x7f, 0, 0, 0, 0])])))).toBe('ERR_MALFORMED_SSH');
    expect(errorCode(() => decodeKrl(Buffer.from('not a krl')))).toBe('ERR_MALFORMED_SSH');
  });
});
