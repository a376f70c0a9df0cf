import { randomBytes, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  computeSshValidity,
  decodeSshCertificate,
  encodeSshPublicKey,
  generateSshCaKey,
  issueSshCertificate,
  parseSshPublicKey,
  SSH_CERTIFICATE_PROFILES,
  verifySshCertificateSignature,
  type IssueSshCertificateOptions,
  type SshCaKeySpec,
  type SshCertType,
  type SshPublicKey,
} from '../../../src/core/ssh/index.js';
import { makeTempDir, parseSshKeygenListing, runSshKeygen, sshKeygen, sshKeygenFingerprint } from './ssh-keygen.js';

const CA_KINDS: { name: string; spec: SshCaKeySpec; listingType: string; algorithm: string }[] = [
  { name: 'Ed25519', spec: { kty: 'OKP' }, listingType: 'ED25519', algorithm: 'ssh-ed25519' },
  { name: 'ECDSA P-256', spec: { kty: 'EC', crv: 'P-256' }, listingType: 'ECDSA', algorithm: 'ecdsa-sha2-nistp256' },
  { name: 'ECDSA P-384', spec: { kty: 'EC', crv: 'P-384' }, listingType: 'ECDSA', algorithm: 'ecdsa-sha2-nistp384' },
  { name: 'RSA 3072', spec: { kty: 'RSA', size: 3072 }, listingType: 'RSA', algorithm: 'rsa-sha2-512' },
];

// Subject keys made by ssh-keygen itself, so the certified key is a real OpenSSH key.
const SUBJECT_KINDS = [
  { name: 'ed25519', args: ['-t', 'ed25519'] },
  { name: 'ecdsa521', args: ['-t', 'ecdsa', '-b', '521'] },
  { name: 'rsa2048', args: ['-t', 'rsa', '-b', '2048'] },
];

const NOW = new Date('2030-06-01T12:00:00Z');
const temp = makeTempDir();
const caKeys = new Map<string, { publicKey: KeyObject; privateKey: KeyObject }>();
const subjects = new Map<string, { key: SshPublicKey; file: string }>();

beforeAll(async () => {
  await Promise.all(CA_KINDS.map(async (kind) => caKeys.set(kind.name, await generateSshCaKey(kind.spec))));
  for (const kind of SUBJECT_KINDS) {
    const file = join(temp.dir, `subject_${kind.name}`);
    sshKeygen(['-q', ...kind.args, '-N', '', '-C', `${kind.name}@test`, '-f', file]);
    subjects.set(kind.name, { key: parseSshPublicKey(readFileSync(`${file}.pub`, 'utf8')), file: `${file}.pub` });
  }
});
afterAll(() => temp.cleanup());

function caFor(name: string): { publicKey: KeyObject; privateKey: KeyObject } {
  const ca = caKeys.get(name);
  if (!ca) throw new Error(`no CA ${name}`);
  return ca;
}

function baseOptions(certType: SshCertType, subject: SshPublicKey, caPrivateKey: KeyObject): IssueSshCertificateOptions {
  const profile = SSH_CERTIFICATE_PROFILES[certType];
  return {
    publicKey: subject,
    caPrivateKey,
    certType,
    serial: randomBytes(8).readBigUInt64BE() | 1n,
    keyId: certType === 'user' ? 'alice@laptop' : 'web01.example.com',
    principals: certType === 'user' ? ['alice', 'deploy'] : ['web01.example.com', '192.0.2.10'],
    ...computeSshValidity(profile, NOW),
    criticalOptions:
      certType === 'user' ? { forceCommand: '/usr/bin/uptime', sourceAddress: ['192.0.2.0/24', '2001:db8::/48'] } : {},
    extensions: [...profile.extensions],
    nonce: randomBytes(32),
  };
}

/** `YYYY-MM-DDTHH:MM:SS` as ssh-keygen -L prints it under TZ=UTC. */
const sshTime = (d: Date) => d.toISOString().slice(0, 19);

describe('issueSshCertificate is accepted by ssh-keygen -L', () => {
  const cases = CA_KINDS.flatMap((ca, i) =>
    (['user', 'host'] as const).map((certType, j) => ({ ca, certType, subject: SUBJECT_KINDS[(i + j) % SUBJECT_KINDS.length]!.name })),
  );

  it.each(cases)('$ca.name CA, $certType certificate for an $subject key', ({ ca, certType, subject }) => {
    const { privateKey, publicKey } = caFor(ca.name);
    const { key, file: subjectFile } = subjects.get(subject)!;
    const options = baseOptions(certType, key, privateKey);
    const issued = issueSshCertificate(options);

    const certFile = join(temp.dir, `${ca.algorithm}-${certType}-${subject}-cert.pub`);
    writeFileSync(certFile, `${issued.line}\n`);
    const caFile = join(temp.dir, `${ca.algorithm}-ca.pub`);
    writeFileSync(caFile, `${encodeSshPublicKey(publicKey, 'test CA')}\n`);

    // ssh-keygen parses the certificate with sshkey_from_blob(), which also verifies the CA signature.
    const listing = parseSshKeygenListing(sshKeygen(['-L', '-f', certFile]));
    expect(listing.type).toBe(`${key.type}-cert-v01@openssh.com ${certType} certificate`);
    expect(listing.keyId).toBe(`"${options.keyId}"`);
    expect(listing.serial).toBe(options.serial.toString());
    expect(listing.valid).toBe(`from ${sshTime(options.validAfter)} to ${sshTime(options.validBefore)}`);
    expect(listing.principals).toEqual(options.principals);
    expect(listing.signingCa).toBe(`${ca.listingType} ${sshKeygenFingerprint(caFile)} (using ${ca.algorithm})`);
    expect(listing.publicKey.endsWith(sshKeygenFingerprint(subjectFile))).toBe(true);
    if (certType === 'user') {
      expect(listing.criticalOptions).toEqual(['force-command /usr/bin/uptime', 'source-address 192.0.2.0/24,2001:db8::/48']);
      expect(listing.extensions).toEqual([
        'permit-X11-forwarding',
        'permit-agent-forwarding',
        'permit-port-forwarding',
        'permit-pty',
        'permit-user-rc',
      ]);
    } else {
      expect(listing.criticalOptions).toEqual([]);
      expect(listing.extensions).toEqual([]);
    }

    // And our own decoder agrees with ssh-keygen on every field.
    const decoded = decodeSshCertificate(issued.line);
    expect(decoded).toMatchObject({
      type: `${key.type}-cert-v01@openssh.com`,
      keyType: key.type,
      keyId: options.keyId,
      serial: options.serial.toString(),
      certType,
      principals: options.principals,
      validAfter: options.validAfter,
      validBefore: options.validBefore,
      signatureAlgorithm: ca.algorithm,
      signatureKeyFingerprint: sshKeygenFingerprint(caFile),
      publicKeyFingerprint: sshKeygenFingerprint(subjectFile),
      comment: key.comment,
    });
    expect(verifySshCertificateSignature(decoded)).toBe(true);
  });

  it('accepts an explicit anyPrincipal certificate (ssh-keygen shows "(none)")', () => {
    const { privateKey } = caFor('Ed25519');
    const options = { ...baseOptions('user', subjects.get('ed25519')!.key, privateKey), principals: [], anyPrincipal: true };
    const certFile = join(temp.dir, 'any-cert.pub');
    writeFileSync(certFile, `${issueSshCertificate(options).line}\n`);
    const listing = parseSshKeygenListing(sshKeygen(['-L', '-f', certFile]));
    expect(listing.principals).toEqual([]);
  });

  it('encodes extensions and critical options sorted by name whatever order they are given in', () => {
    const { privateKey } = caFor('Ed25519');
    const options = {
      ...baseOptions('user', subjects.get('ed25519')!.key, privateKey),
      extensions: ['permit-pty', 'permit-X11-forwarding', 'login@example.com'],
      criticalOptions: { sourceAddress: ['10.1.0.0/16'], forceCommand: 'rsync --server' },
    };
    const certFile = join(temp.dir, 'sorted-cert.pub');
    writeFileSync(certFile, `${issueSshCertificate(options).line}\n`);
    const listing = parseSshKeygenListing(sshKeygen(['-L', '-f', certFile]));
    // "UNKNOWN FLAG OPTION": ssh-keygen saw empty data, i.e. a flag extension encoded as OpenSSH does.
    expect(listing.extensions).toEqual(['login@example.com UNKNOWN FLAG OPTION', 'permit-X11-forwarding', 'permit-pty']);
    expect(listing.criticalOptions).toEqual(['force-command rsync --server', 'source-address 10.1.0.0/16']);
  });
});

describe('issueSshCertificate refuses bad requests before signing', () => {
  type Patch = (o: IssueSshCertificateOptions) => IssueSshCertificateOptions;
  const cases: { name: string; patch: Patch; code: string }[] = [
    { name: 'user cert with no principals', patch: (o) => ({ ...o, principals: [] }), code: 'ERR_SSH_POLICY' },
    { name: 'host cert with no principals', patch: (o) => ({ ...o, certType: 'host', principals: [], criticalOptions: {}, extensions: [] }), code: 'ERR_SSH_POLICY' },
    { name: 'anyPrincipal with principals', patch: (o) => ({ ...o, anyPrincipal: true }), code: 'ERR_INVALID_OPTION' },
    { name: 'principal with a comma', patch: (o) => ({ ...o, principals: ['a,b'] }), code: 'ERR_INVALID_OPTION' },
    { name: 'empty principal', patch: (o) => ({ ...o, principals: [''] }), code: 'ERR_INVALID_OPTION' },
    { name: 'duplicate principal', patch: (o) => ({ ...o, principals: ['a', 'a'] }), code: 'ERR_INVALID_OPTION' },
    { name: 'validBefore equal to validAfter', patch: (o) => ({ ...o, validBefore: o.validAfter }), code: 'ERR_VALIDITY' },
    { name: 'validBefore before validAfter', patch: (o) => ({ ...o, validBefore: new Date(o.validAfter.getTime() - 1000) }), code: 'ERR_VALIDITY' },
    { name: 'invalid date', patch: (o) => ({ ...o, validAfter: new Date(Number.NaN) }), code: 'ERR_INVALID_TIME' },
    { name: 'date before 1970', patch: (o) => ({ ...o, validAfter: new Date('1969-12-31T00:00:00Z') }), code: 'ERR_INVALID_TIME' },
    { name: 'serial 0', patch: (o) => ({ ...o, serial: 0n }), code: 'ERR_INVALID_SERIAL' },
    { name: 'serial over 64 bits', patch: (o) => ({ ...o, serial: 1n << 64n }), code: 'ERR_INVALID_SERIAL' },
    { name: 'empty key id', patch: (o) => ({ ...o, keyId: '' }), code: 'ERR_INVALID_OPTION' },
    { name: 'key id with a newline', patch: (o) => ({ ...o, keyId: 'a\nb' }), code: 'ERR_INVALID_OPTION' },
    { name: 'short nonce', patch: (o) => ({ ...o, nonce: new Uint8Array(8) }), code: 'ERR_INVALID_OPTION' },
    { name: 'duplicate extension', patch: (o) => ({ ...o, extensions: ['permit-pty', 'permit-pty'] }), code: 'ERR_INVALID_OPTION' },
    { name: 'extension name with a space', patch: (o) => ({ ...o, extensions: ['permit pty'] }), code: 'ERR_INVALID_OPTION' },
    { name: 'empty force-command', patch: (o) => ({ ...o, criticalOptions: { forceCommand: ' ' } }), code: 'ERR_INVALID_OPTION' },
    { name: 'force-command with a newline', patch: (o) => ({ ...o, criticalOptions: { forceCommand: 'ls\nrm' } }), code: 'ERR_INVALID_OPTION' },
    { name: 'source-address not an address', patch: (o) => ({ ...o, criticalOptions: { sourceAddress: ['example.com'] } }), code: 'ERR_INVALID_OPTION' },
    { name: 'source-address with host bits', patch: (o) => ({ ...o, criticalOptions: { sourceAddress: ['10.0.0.1/8'] } }), code: 'ERR_INVALID_OPTION' },
    { name: 'source-address empty list', patch: (o) => ({ ...o, criticalOptions: { sourceAddress: [] } }), code: 'ERR_INVALID_OPTION' },
    { name: 'host cert with force-command', patch: (o) => ({ ...o, certType: 'host', extensions: [], criticalOptions: { forceCommand: 'ls' } }), code: 'ERR_SSH_POLICY' },
    { name: 'host cert with permit-pty', patch: (o) => ({ ...o, certType: 'host', criticalOptions: {}, extensions: ['permit-pty'] }), code: 'ERR_SSH_POLICY' },
    { name: 'CA key that is public', patch: (o) => ({ ...o, caPrivateKey: caFor('Ed25519').publicKey }), code: 'ERR_UNSUPPORTED_KEY' },
  ];

  it.each(cases)('$name → $code', ({ patch, code }) => {
    const options = patch(baseOptions('user', subjects.get('ed25519')!.key, caFor('Ed25519').privateKey));
    expect(() => issueSshCertificate(options)).toThrow(expect.objectContaining({ code }));
  });

  it('refuses an RSA CA key under 3072 bits (ERR_WEAK_KEY)', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const options = baseOptions('user', subjects.get('ed25519')!.key, privateKey);
    expect(() => issueSshCertificate(options)).toThrow(expect.objectContaining({ code: 'ERR_WEAK_KEY' }));
  });

  it('refuses a CA key on a curve OpenSSH has no type for (ERR_UNSUPPORTED_KEY)', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    const options = baseOptions('user', subjects.get('ed25519')!.key, privateKey);
    expect(() => issueSshCertificate(options)).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_KEY' }));
  });
});

describe('generateSshCaKey', () => {
  it.each([
    { spec: { kty: 'RSA', size: 2048 } as SshCaKeySpec, code: 'ERR_WEAK_KEY' },
    { spec: { kty: 'EC', crv: 'P-192' } as unknown as SshCaKeySpec, code: 'ERR_UNSUPPORTED_KEY' },
    { spec: { kty: 'oct' } as unknown as SshCaKeySpec, code: 'ERR_UNSUPPORTED_KEY' },
  ])('refuses $spec → $code', async ({ spec, code }) => {
    await expect(generateSshCaKey(spec)).rejects.toMatchObject({ code });
  });

  it('defaults to Ed25519', async () => {
    const { privateKey } = await generateSshCaKey();
    expect(privateKey.asymmetricKeyType).toBe('ed25519');
  });
});

describe('certificates made by real ssh-keygen -s', () => {
  const kinds = [
    { name: 'ed25519', args: ['-t', 'ed25519'], sign: [] as string[], algorithm: 'ssh-ed25519' },
    { name: 'ecdsa256', args: ['-t', 'ecdsa', '-b', '256'], sign: [], algorithm: 'ecdsa-sha2-nistp256' },
    { name: 'ecdsa384', args: ['-t', 'ecdsa', '-b', '384'], sign: [], algorithm: 'ecdsa-sha2-nistp384' },
    { name: 'ecdsa521', args: ['-t', 'ecdsa', '-b', '521'], sign: [], algorithm: 'ecdsa-sha2-nistp521' },
    { name: 'rsa3072-sha512', args: ['-t', 'rsa', '-b', '3072'], sign: ['-t', 'rsa-sha2-512'], algorithm: 'rsa-sha2-512' },
    { name: 'rsa3072-sha256', args: ['-t', 'rsa', '-b', '3072'], sign: ['-t', 'rsa-sha2-256'], algorithm: 'rsa-sha2-256' },
  ];
  const cases = kinds.flatMap((k) => (['user', 'host'] as const).map((certType) => ({ ...k, certType })));

  it.each(cases)('decodes and verifies a $certType certificate from a $name CA', ({ name, args, sign, algorithm, certType }) => {
    const dir = join(temp.dir, `keygen-${name}-${certType}`);
    sshKeygen(['-q', '-t', 'ed25519', '-N', '', '-f', `${dir}-subject`]);
    sshKeygen(['-q', ...args, '-N', '', '-f', `${dir}-ca`]);
    const principals = certType === 'user' ? ['bob', 'ops'] : ['db1.example.net'];
    const signArgs = ['-q', '-s', `${dir}-ca`, ...sign, '-I', `id-${name}`, '-n', principals.join(','), '-z', '123456789'];
    signArgs.push('-V', '20300101000000Z:20300102123456Z');
    if (certType === 'host') signArgs.push('-h');
    else signArgs.push('-O', 'clear', '-O', 'permit-agent-forwarding', '-O', 'source-address=198.51.100.0/24');
    sshKeygen([...signArgs, `${dir}-subject.pub`]);

    const cert = decodeSshCertificate(readFileSync(`${dir}-subject-cert.pub`, 'utf8'));
    expect(cert).toMatchObject({
      type: 'ssh-ed25519-cert-v01@openssh.com',
      keyType: 'ssh-ed25519',
      keyId: `id-${name}`,
      serial: '123456789',
      certType,
      principals,
      validAfter: new Date('2030-01-01T00:00:00Z'),
      validBefore: new Date('2030-01-02T12:34:56Z'),
      criticalOptions: certType === 'user' ? { 'source-address': '198.51.100.0/24' } : {},
      extensions: certType === 'user' ? ['permit-agent-forwarding'] : [],
      signatureAlgorithm: algorithm,
      signatureKeyFingerprint: sshKeygenFingerprint(`${dir}-ca.pub`),
      publicKeyFingerprint: sshKeygenFingerprint(`${dir}-subject.pub`),
    });
    expect(verifySshCertificateSignature(cert)).toBe(true);
  });

  it('refuses to verify an ssh-rsa (SHA-1) CA signature (ERR_UNSUPPORTED_KEY)', () => {
    const base = join(temp.dir, 'sha1');
    sshKeygen(['-q', '-t', 'ed25519', '-N', '', '-f', `${base}-subject`]);
    sshKeygen(['-q', '-t', 'rsa', '-b', '3072', '-N', '', '-f', `${base}-ca`]);
    sshKeygen(['-q', '-s', `${base}-ca`, '-t', 'ssh-rsa', '-I', 'old', '-n', 'x', `${base}-subject.pub`]);
    const cert = decodeSshCertificate(readFileSync(`${base}-subject-cert.pub`, 'utf8'));
    expect(cert.signatureAlgorithm).toBe('ssh-rsa');
    expect(() => verifySshCertificateSignature(cert)).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_KEY' }));
  });
});

describe('fixtures made by ssh-keygen (fixtures/ssh/README.md)', () => {
  const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/ssh/${name}`, import.meta.url), 'utf8');

  it('user_ed25519-cert.pub: ed25519 CA, critical options, one extension', () => {
    const cert = decodeSshCertificate(fixture('user_ed25519-cert.pub'));
    expect(cert).toEqual(
      expect.objectContaining({
        type: 'ssh-ed25519-cert-v01@openssh.com',
        keyId: 'alice@example',
        serial: '42',
        certType: 'user',
        principals: ['alice', 'root'],
        validAfter: new Date('2024-01-01T00:00:00Z'),
        validBefore: new Date('2034-01-01T00:00:00Z'),
        criticalOptions: { 'force-command': '/usr/bin/true', 'source-address': '10.0.0.0/8,2001:db8::/32' },
        extensions: ['permit-pty'],
        publicKeyFingerprint: 'SHA256:JMsKnMFdDKl/fic+5dIfzDAnCTC0oqm3yCx940yIWkk',
        signatureKeyFingerprint: 'SHA256:Z79ohnPBUboS/SYh4nQR79t9JiRVjZmx7QnBFuMGlLg',
        signatureAlgorithm: 'ssh-ed25519',
        comment: 'alice@example',
      }),
    );
    expect(verifySshCertificateSignature(cert)).toBe(true);
  });

  it('host_ecdsa256-cert.pub: P-384 CA, host certificate', () => {
    const cert = decodeSshCertificate(fixture('host_ecdsa256-cert.pub'));
    expect(cert).toMatchObject({
      keyType: 'ecdsa-sha2-nistp256',
      certType: 'host',
      serial: '7',
      principals: ['host.example.com', '10.0.0.5'],
      criticalOptions: {},
      extensions: [],
      publicKeyFingerprint: 'SHA256:WkdJBoowhB/JTzAcrn2KdGsWy92pM5fwARm/RgQs8Zc',
      signatureKeyFingerprint: 'SHA256:hdH+YlEyPktmTYebj1H1PzOrmJp9F39UIjthf2doXHc',
      signatureAlgorithm: 'ecdsa-sha2-nistp384',
    });
    expect(verifySshCertificateSignature(cert)).toBe(true);
  });

  it('forever_ed25519-cert.pub: RSA CA, max serial, valid forever, default extensions', () => {
    const cert = decodeSshCertificate(fixture('forever_ed25519-cert.pub'));
    expect(cert).toMatchObject({
      serial: '18446744073709551615',
      validAfter: new Date(0),
      validBefore: 'forever',
      signatureKeyFingerprint: 'SHA256:TtWoOcXPzdb/qSNX2KMXmCt3tQSc4PJXnZ9AbiQk0bU',
      signatureAlgorithm: 'rsa-sha2-512',
      extensions: SSH_CERTIFICATE_PROFILES.user.extensions,
    });
    expect(verifySshCertificateSignature(cert)).toBe(true);
  });

  it('decodes the raw blob the same way as the line', () => {
    const line = fixture('user_ed25519-cert.pub');
    const fromLine = decodeSshCertificate(line);
    const fromBlob = decodeSshCertificate(fromLine.raw.blob);
    expect({ ...fromBlob, comment: 'x' }).toEqual({ ...fromLine, comment: 'x' });
  });

  it.each([
    { name: 'a plain public key', input: () => fixture('user_ed25519.pub'), code: 'ERR_UNKNOWN_OBJECT' },
    { name: 'a private key', input: () => fixture('user_ed25519'), code: 'ERR_UNKNOWN_OBJECT' },
    { name: 'empty input', input: () => '  \n', code: 'ERR_EMPTY_INPUT' },
    { name: 'garbage', input: () => 'hello world', code: 'ERR_MALFORMED_SSH' },
    { name: 'a DSA certificate type', input: () => `ssh-dss-cert-v01@openssh.com ${Buffer.concat([Buffer.from([0, 0, 0, 28]), Buffer.from('ssh-dss-cert-v01@openssh.com')]).toString('base64')}`, code: 'ERR_UNSUPPORTED_KEY' },
    { name: 'a line whose type disagrees with its blob', input: () => fixture('user_ed25519-cert.pub').replace(/^ssh-ed25519/, 'ecdsa-sha2-nistp256'), code: 'ERR_MALFORMED_SSH' },
  ])('decodeSshCertificate refuses $name → $code', ({ input, code }) => {
    expect(() => decodeSshCertificate(input())).toThrow(expect.objectContaining({ code }));
  });
});

describe('a tampered certificate fails verifySshCertificateSignature', () => {
  function issueEd25519(): Buffer {
    const { privateKey } = caFor('Ed25519');
    return issueSshCertificate(baseOptions('user', subjects.get('ed25519')!.key, privateKey)).blob;
  }

  it.each([
    { name: 'key id changed', tamper: (b: Buffer) => replaceAscii(b, 'alice@laptop', 'alice@lapTop') },
    { name: 'principal changed', tamper: (b: Buffer) => replaceAscii(b, 'deploy', 'root!!') },
    { name: 'force-command changed', tamper: (b: Buffer) => replaceAscii(b, '/usr/bin/uptime', '/usr/bin/bashxx') },
    { name: 'signature byte flipped', tamper: (b: Buffer) => flipByte(b, b.length - 1) },
  ])('$name', ({ tamper }) => {
    const blob = tamper(issueEd25519());
    expect(verifySshCertificateSignature(blob)).toBe(false);
    // OpenSSH agrees: it verifies the CA signature while parsing and refuses the file.
    const file = join(temp.dir, 'tampered-cert.pub');
    writeFileSync(file, `ssh-ed25519-cert-v01@openssh.com ${blob.toString('base64')}\n`);
    expect(runSshKeygen(['-L', '-f', file]).status).not.toBe(0);
  });

  it('signature key swapped for another CA of the same type', async () => {
    const other = await generateSshCaKey({ kty: 'OKP' });
    const blob = issueEd25519();
    const cert = decodeSshCertificate(blob);
    const otherKey = parseSshPublicKey(encodeSshPublicKey(other.publicKey)).blob;
    const swapped = Buffer.from(blob.toString('hex').replace(cert.raw.signatureKey.toString('hex'), otherKey.toString('hex')), 'hex');
    expect(verifySshCertificateSignature(swapped)).toBe(false);
  });

  it('a genuine one passes', () => {
    expect(verifySshCertificateSignature(issueEd25519())).toBe(true);
  });
});

function replaceAscii(blob: Buffer, from: string, to: string): Buffer {
  if (from.length !== to.length) throw new Error('same length only');
  const at = blob.indexOf(from, 0, 'latin1');
  if (at < 0) throw new Error(`${from} not in blob`);
  const copy = Buffer.from(blob);
  copy.write(to, at, 'latin1');
  return copy;
}

function flipByte(blob: Buffer, index: number): Buffer {
  const copy = Buffer.from(blob);
  copy[index] = copy[index]! ^ 0x01;
  return copy;
}
