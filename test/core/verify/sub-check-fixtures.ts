/**
 * Certificates and CRLs for the host, name-constraint and revocation sub-checks: made with the core API
 * (issueCertificate, buildCrl) at fixed times, and with openssl where pki refuses to write the object
 * (a `*.com` SAN, a CRL with an unknown critical extension).
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodePem, encodePem } from '../../../src/core/der/pem.js';
import { explicit, integer, octetString, oid, sequence, time, tlv, unsignedInteger } from '../../../src/core/der/writer.js';
import { encodeSignatureAlgorithm, signatureAlgorithmFor } from '../../../src/core/keys/signature.js';
import { issueCertificate, signStructure, type Issuer } from '../../../src/core/x509/certificate.js';
import { parseCertificate, subjectKeyIdentifierOf, type CertificateFields } from '../../../src/core/x509/certificate-fields.js';
import { buildCrl, type CrlEntry } from '../../../src/core/x509/crl.js';
import type { NameConstraints } from '../../../src/core/x509/name-constraints.js';
import { parseSans } from '../../../src/core/x509/names.js';
import { PROFILES, type Profile } from '../../../src/core/x509/profiles.js';
import { runPeer } from '../../helpers/peers.js';

export const T0 = new Date('2026-06-01T00:00:00Z');
export const DAY = 86_400_000;
export const NOT_BEFORE = new Date(T0.getTime() - 30 * DAY);
export const NOT_AFTER = new Date(T0.getTime() + 365 * DAY);

export interface TestCert {
  readonly der: Buffer;
  readonly fields: CertificateFields;
  readonly key: KeyObject;
}

let serialCounter = 0x1000;
const nextSerial = () => (serialCounter++).toString(16).toUpperCase();

export const ecKey = (): KeyObject => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

export function asIssuer(ca: TestCert): Issuer {
  return { subjectDer: ca.fields.subjectDer, keyIdentifier: subjectKeyIdentifierOf(ca.fields) ?? null, privateKey: ca.key };
}

function wrap(der: Buffer, key: KeyObject): TestCert {
  return { der, fields: parseCertificate(der), key };
}

export function makeRoot(cn: string, options: { key?: KeyObject; nameConstraints?: NameConstraints } = {}): TestCert {
  const key = options.key ?? ecKey();
  const der = issueCertificate({ serial: nextSerial(), subject: { commonName: cn }, sans: [], profile: PROFILES.root, publicKey: key, notBefore: NOT_BEFORE, notAfter: NOT_AFTER, issuer: 'self', selfSigningKey: key, ...(options.nameConstraints ? { nameConstraints: options.nameConstraints } : {}) });
  return wrap(der, key);
}

export function makeCa(parent: TestCert, cn: string, options: { key?: KeyObject; nameConstraints?: NameConstraints; profile?: Profile } = {}): TestCert {
  const key = options.key ?? ecKey();
  const der = issueCertificate({ serial: nextSerial(), subject: { commonName: cn }, sans: [], profile: options.profile ?? PROFILES.intermediate, publicKey: key, notBefore: NOT_BEFORE, notAfter: NOT_AFTER, issuer: asIssuer(parent), ...(options.nameConstraints ? { nameConstraints: options.nameConstraints } : {}) });
  return wrap(der, key);
}

export function makeLeaf(parent: TestCert, options: { cn?: string; sans?: readonly string[]; serial?: string; profile?: Profile; crlDistributionPoints?: readonly string[] } = {}): TestCert {
  const key = ecKey();
  const der = issueCertificate({ serial: options.serial ?? nextSerial(), subject: options.cn !== undefined ? { commonName: options.cn } : {}, sans: parseSans(options.sans ?? []), profile: options.profile ?? PROFILES.server, publicKey: key, notBefore: NOT_BEFORE, notAfter: NOT_AFTER, issuer: asIssuer(parent), ...(options.crlDistributionPoints ? { crlDistributionPoints: options.crlDistributionPoints } : {}) });
  return wrap(der, key);
}

export function makeCrl(issuer: TestCert, entries: readonly CrlEntry[] = [], options: { thisUpdate?: Date; nextUpdate?: Date; signingKey?: KeyObject; crlNumber?: bigint } = {}): Uint8Array {
  return buildCrl({
    issuerCertificateDer: issuer.der,
    issuerPrivateKey: options.signingKey ?? issuer.key,
    entries,
    crlNumber: options.crlNumber ?? 1n,
    thisUpdate: options.thisUpdate ?? new Date(T0.getTime() - DAY),
    nextUpdate: options.nextUpdate ?? new Date(T0.getTime() + 7 * DAY),
  });
}

export const workDir = (): string => mkdtempSync(join(tmpdir(), 'pki-verify-sub-'));

export function writePem(dir: string, name: string, label: 'CERTIFICATE' | 'X509 CRL' | 'PRIVATE KEY', der: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, encodePem(label, der));
  return path;
}

export function writeKey(dir: string, name: string, key: KeyObject): string {
  const path = join(dir, name);
  writeFileSync(path, key.export({ type: 'pkcs8', format: 'pem' }));
  return path;
}

/** Runs openssl and throws with its stderr when it fails (the test needs what it makes). */
export function openssl(args: readonly string[]): string {
  const r = runPeer('openssl', args);
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** The first PEM block of a file openssl wrote, as DER. */
export function readPemDer(path: string): Buffer {
  return decodePem(readFileSync(path, 'latin1'))[0]!.der;
}

/**
 * A certificate signed by `issuer` with openssl, carrying the extensions in `extensions` (openssl config
 * syntax, one per line, e.g. `subjectAltName = DNS:*.com`) — for what pki's issuer refuses to write.
 */
export function opensslCert(dir: string, issuer: TestCert, subject: string, extensions: readonly string[], options: { serial?: string; ca?: boolean } = {}): TestCert {
  const id = Math.random().toString(36).slice(2);
  const key = ecKey();
  const keyFile = writeKey(dir, `${id}.key`, key);
  const caFile = writePem(dir, `${id}-ca.crt`, 'CERTIFICATE', issuer.der);
  const caKey = writeKey(dir, `${id}-ca.key`, issuer.key);
  const csr = join(dir, `${id}.csr`);
  openssl(['req', '-new', '-key', keyFile, '-subj', subject, '-out', csr]);
  const ext = join(dir, `${id}.ext`);
  const base = options.ca ? ['basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign'] : ['basicConstraints = critical,CA:FALSE', 'keyUsage = critical,digitalSignature', 'extendedKeyUsage = serverAuth'];
  writeFileSync(ext, [...base, 'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid', ...extensions].join('\n') + '\n');
  const out = join(dir, `${id}.crt`);
  openssl(['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-set_serial', `0x${options.serial ?? nextSerial()}`, '-days', '3650', '-sha256', '-extfile', ext, '-out', out]);
  return wrap(readPemDer(out), key);
}

/** An extension as a CRL or CRL entry carries it (critical when asked). */
export function crlExtension(id: string, value: Uint8Array, critical = false): Buffer {
  return sequence(oid(id), ...(critical ? [Buffer.from([0x01, 0x01, 0xff])] : []), octetString(value));
}

export interface RawCrlSpec {
  readonly entries?: readonly { serialHex: string; revokedAt: Date; extensions?: readonly Buffer[] }[];
  readonly extensions?: readonly Buffer[];
  readonly thisUpdate?: Date;
  /** null: no nextUpdate field at all. */
  readonly nextUpdate?: Date | null;
}

/**
 * A CRL written field by field and signed by `issuer` — for what buildCrl never writes (no nextUpdate,
 * issuingDistributionPoint, delta/indirect markers, critical entry extensions). Carries the issuer's AKI.
 */
export function rawCrl(issuer: TestCert, spec: RawCrlSpec = {}): Buffer {
  const algorithm = signatureAlgorithmFor(issuer.key);
  const ski = subjectKeyIdentifierOf(issuer.fields);
  const entries = (spec.entries ?? []).map((e) => sequence(unsignedInteger(Buffer.from(e.serialHex, 'hex')), time(e.revokedAt), ...(e.extensions?.length ? [sequence(...e.extensions)] : [])));
  const extensions = [...(ski ? [crlExtension('2.5.29.35', sequence(tlv(0x80, ski)))] : []), crlExtension('2.5.29.20', integer(1)), ...(spec.extensions ?? [])];
  const nextUpdate = spec.nextUpdate === undefined ? new Date(T0.getTime() + 7 * DAY) : spec.nextUpdate;
  const tbs = sequence(
    integer(1),
    encodeSignatureAlgorithm(algorithm),
    Buffer.from(issuer.fields.subjectDer),
    time(spec.thisUpdate ?? new Date(T0.getTime() - DAY)),
    ...(nextUpdate ? [time(nextUpdate)] : []),
    ...(entries.length ? [sequence(...entries)] : []),
    explicit(0, sequence(...extensions)),
  );
  return signStructure(tbs, algorithm, issuer.key);
}

/**
 * A CRL made by `openssl ca -gencrl` for `issuer`, with `crlExtensions` (openssl config lines) and the
 * given revoked serials; thisUpdate is now (openssl has no option for it), nextUpdate a week later.
 */
export function opensslCrl(dir: string, issuer: TestCert, crlExtensions: readonly string[], revoked: readonly { serialHex: string; reason?: string }[] = [], md = 'sha256'): Buffer {
  const id = Math.random().toString(36).slice(2);
  const home = join(dir, `ca-${id}`);
  mkdirSync(home);
  const stamp = '260101000000Z';
  writeFileSync(join(home, 'index.txt'), revoked.map((r) => `R\t301231000000Z\t${stamp}${r.reason ? `,${r.reason}` : ''}\t${r.serialHex}\tunknown\t/CN=revoked\n`).join(''));
  writeFileSync(join(home, 'crlnumber'), '01\n');
  const config = join(home, 'ca.cnf');
  writeFileSync(config, ['[ca]', 'default_ca = d', '[d]', `database = ${home}/index.txt`, `crlnumber = ${home}/crlnumber`, `default_md = ${md}`, 'default_crl_days = 7', 'crl_extensions = crl_ext', '[crl_ext]', 'authorityKeyIdentifier = keyid', ...crlExtensions].join('\n') + '\n');
  const out = join(home, 'crl.pem');
  openssl(['ca', '-gencrl', '-batch', '-config', config, '-cert', writePem(home, 'ca.crt', 'CERTIFICATE', issuer.der), '-keyfile', writeKey(home, 'ca.key', issuer.key), '-out', out]);
  return readPemDer(out);
}
