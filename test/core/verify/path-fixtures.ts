/**
 * Chains for the path validation unit tests, made in process with the core API (issueCertificate with a
 * hand-made Issuer, so any name/key/profile combination can sign any other), and with openssl for what
 * the core API refuses to make (SHA-1, RSA-1024, RSASSA-PSS, an unknown critical extension).
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { computeKeyIdentifier, issueCertificate } from '../../../src/core/x509/certificate.js';
import { certificatesInFile } from '../../../src/core/x509/certificate-file.js';
import { encodeSubjectName, parseSans } from '../../../src/core/x509/names.js';
import { PROFILES, type Profile } from '../../../src/core/x509/profiles.js';
import { validateCertificatePath } from '../../../src/core/verify/path-validation.js';
import type { PathValidationInput, PathValidationResult } from '../../../src/core/verify/types.js';
import { tempDir } from '../../helpers/cli.js';
import { peer } from '../../helpers/peers.js';

export type KeyKind = 'P-256' | 'P-384' | 'P-521' | 'RSA' | 'Ed25519';

/** The validation time of the in-process chains, inside every default validity window. */
export const AT = new Date('2030-01-01T00:00:00Z');

export interface Entity {
  readonly name: string;
  readonly subjectDer: Buffer;
  readonly keyId: Buffer;
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
}

export function keysOf(kind: KeyKind): { publicKey: KeyObject; privateKey: KeyObject } {
  if (kind === 'RSA') return generateKeyPairSync('rsa', { modulusLength: 2048 });
  if (kind === 'Ed25519') return generateKeyPairSync('ed25519');
  return generateKeyPairSync('ec', { namedCurve: kind });
}

/** A name with a key: what signs (as issuer) and what is certified (as subject). */
export function entity(name: string, kind: KeyKind = 'P-256', keys = keysOf(kind)): Entity {
  return { name, subjectDer: encodeSubjectName({ commonName: name }), keyId: computeKeyIdentifier(keys.publicKey), ...keys };
}

export interface IssueOptions {
  readonly profile?: Profile;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly serial?: string;
}

let serial = 0x1000;

/** `subject` certified by `issuer` (or self-signed); CA profiles default for 'self', server for others. */
export function issue(subject: Entity, issuer: Entity | 'self', options: IssueOptions = {}): Buffer {
  const profile = options.profile ?? (issuer === 'self' ? PROFILES.root : PROFILES.server);
  return issueCertificate({
    serial: options.serial ?? (serial++).toString(16).toUpperCase(),
    subject: { commonName: subject.name },
    sans: profile.isCA ? [] : parseSans([subject.name]),
    profile,
    publicKey: subject.publicKey,
    notBefore: options.notBefore ?? new Date('2029-01-01T00:00:00Z'),
    notAfter: options.notAfter ?? new Date('2039-01-01T00:00:00Z'),
    issuer: issuer === 'self' ? 'self' : { subjectDer: issuer.subjectDer, keyIdentifier: issuer.keyId, privateKey: issuer.privateKey },
    selfSigningKey: subject.privateKey,
  });
}

/** Root → intermediate → leaf of one key type, and the certificates of each. */
export function threeTier(kind: KeyKind, tag = kind) {
  const root = entity(`${tag} Root`, kind);
  const intermediate = entity(`${tag} Intermediate`, kind);
  const leaf = entity(`${tag.toLowerCase()}.leaf.test`, kind);
  return {
    root,
    intermediate,
    leaf,
    rootDer: issue(root, 'self'),
    intermediateDer: issue(intermediate, root, { profile: PROFILES.intermediate }),
    leafDer: issue(leaf, intermediate),
  };
}

export function validate(input: Partial<PathValidationInput> & Pick<PathValidationInput, 'leaf'>): PathValidationResult {
  return validateCertificatePath({ untrusted: [], roots: [], purpose: 'any', time: AT, crls: [], crlCheck: 'none', ...input });
}

/** The verdict's code, or 'valid'. */
export const verdict = (r: PathValidationResult): string => r.error?.code ?? 'valid';

// ---- openssl-made chains ------------------------------------------------------------------------------

const EXTENSIONS = `
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:leaf.test
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf_unknown_critical]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
subjectAltName = DNS:leaf.test
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
1.3.6.1.4.1.55555.1 = critical, DER:05:00
[leaf_policy_constraints]
basicConstraints = critical, CA:FALSE
subjectAltName = DNS:leaf.test
certificatePolicies = critical, 1.3.6.1.4.1.55555.2
`;

/** An openssl working folder: keys and certificates by name. */
export class OpensslFolder {
  readonly dir = tempDir('pki-path-openssl-');

  constructor() {
    writeFileSync(join(this.dir, 'ext.cnf'), EXTENSIONS);
  }

  /** `algorithm`: genpkey arguments, e.g. ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']. */
  key(name: string, algorithm: readonly string[]): string {
    const file = join(this.dir, `${name}.key`);
    peer('openssl', ['genpkey', ...algorithm, '-out', file]);
    return file;
  }

  /**
   * A certificate for `key` named CN=`name`, self-signed or signed by `issuer`, with the `section` of
   * ext.cnf; `signing`: extra x509 arguments (`-sha1`, `-sigopt rsa_padding_mode:pss`). Returns the DER.
   */
  certificate(name: string, key: string, section: string, issuer: { name: string; key: string } | 'self', signing: readonly string[] = ['-sha256']): Buffer {
    const csr = join(this.dir, `${name}.csr`);
    const out = join(this.dir, `${name}.crt`);
    peer('openssl', ['req', '-new', '-key', key, '-subj', `/CN=${name}`, '-out', csr]);
    const signer = issuer === 'self' ? ['-signkey', key] : ['-CA', join(this.dir, `${issuer.name}.crt`), '-CAkey', issuer.key, '-CAcreateserial'];
    peer('openssl', ['x509', '-req', '-in', csr, ...signer, '-days', '30', ...signing, '-extfile', join(this.dir, 'ext.cnf'), '-extensions', section, '-out', out]);
    return Buffer.from(certificatesInFile(readFileSync(out), name)[0]!);
  }
}

export const RSA_2048 = ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'] as const;
export const PSS_SIGNING = ['-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32'] as const;
