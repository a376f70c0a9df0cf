/**
 * CertificateSpec → signed X.509 v3 certificate. The to-be-signed structure is written with the lean DER
 * writer and signed by Node's native crypto: every field comes from the spec (no library defaults such as
 * a one-year notAfter), and issuance costs one signature, not an object graph per extension.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { bitString, explicit, sequence, time, unsignedInteger, integer } from '../der/writer.js';
import { childrenOf, DerTag, expectTag, readBitString, readRootTlv } from '../der/reader.js';
import { PkiError } from '../errors.js';
import {
  authorityInfoAccessExtension,
  authorityKeyIdentifierExtension,
  basicConstraintsExtension,
  crlDistributionPointsExtension,
  extKeyUsageExtension,
  keyUsageExtension,
  ocspNoCheckExtension,
  subjectAltNameExtension,
  subjectKeyIdentifierExtension,
} from './extensions.js';
import { assertAcceptablePublicKey, assertNamedCurve, spkiDer } from '../keys/keys.js';
import { encodeSignatureAlgorithm, signatureAlgorithmFor, signWith, type SignatureAlgorithm } from '../keys/signature.js';
import type { SigningKey } from '../keys/signing-key.js';
import { encodeSubjectName, type San, type SubjectName } from './names.js';
import { hasNameConstraints, nameConstraintsExtension, type NameConstraints } from './name-constraints.js';
import { keyUsagesFor, type Profile } from './profiles.js';

/** The CA that signs: its subject (copied byte for byte into the issuer field), key id and key. */
export interface Issuer {
  readonly subjectDer: Uint8Array;
  /**
   * The issuer certificate's own subjectKeyIdentifier, copied into every AuthorityKeyIdentifier (never
   * recomputed: a CA made by another tool or an older pki keeps chaining); null when the issuer
   * certificate has none, and then the certificates it signs carry no AKI (docs/decisions.md).
   */
  readonly keyIdentifier: Uint8Array | null;
  /** A private key file's KeyObject, or a key on a token (keys/signing-key.ts). */
  readonly privateKey: SigningKey;
  /** When set, a certificate may not outlive its issuer. */
  readonly notAfter?: Date;
}

/** Everything a certificate says, decided before signing. */
export interface CertificateSpec {
  readonly serial: string;
  readonly subject: SubjectName;
  readonly sans: readonly San[];
  readonly profile: Profile;
  readonly publicKey: KeyObject;
  /**
   * The SubjectPublicKeyInfo DER that `publicKey` was imported from, when the caller holds it (a request's
   * own bytes): written as-is instead of re-exporting the key. It must encode `publicKey`, which is still
   * what the key policy judges.
   */
  readonly spkiDer?: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The signing CA, or 'self' for a self-signed root (signed by `selfSigningKey`). */
  readonly issuer: Issuer | 'self';
  readonly selfSigningKey?: SigningKey;
  readonly crlDistributionPoints?: readonly string[];
  readonly ocspUrls?: readonly string[];
  /** Authority Information Access caIssuers URLs (where the issuer's certificate can be fetched). */
  readonly caIssuersUrls?: readonly string[];
  /** CA certificates only: the names the CA may certify (an intermediate made by `pki init --permit-dns …`). */
  readonly nameConstraints?: NameConstraints;
  /** A delegated OCSP responder's certificate (profile OCSP_SIGNING_PROFILE): id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1). */
  readonly ocspNoCheck?: boolean;
}

/**
 * Subject key identifier, RFC 7093 §2 method 1: the leftmost 160 bits of the SHA-256 hash of the value of
 * the subjectPublicKey BIT STRING (no tag, length or unused-bits octet). No SHA-1, and the customary
 * 20-octet length. Used for new certificates' SKI only; an AKI is copied from the issuer's SKI.
 */
export function computeKeyIdentifier(publicKey: KeyObject): Buffer {
  return keyIdentifierOf(spkiDer(publicKey));
}

/** computeKeyIdentifier over a SubjectPublicKeyInfo DER. */
export function keyIdentifierOf(spki: Uint8Array): Buffer {
  const parts = childrenOf(spki, expectTag(readRootTlv(spki), DerTag.sequence, 'SubjectPublicKeyInfo'));
  if (parts.length !== 2) throw new PkiError('ERR_MALFORMED_DER', 'SubjectPublicKeyInfo must hold an algorithm and a key');
  return createHash('sha256').update(readBitString(spki, parts[1]!).bytes).digest().subarray(0, 20);
}

/** Signs `tbs` and wraps it as SEQUENCE { tbs, algorithm, BIT STRING signature } (certificates, CSRs, CRLs). */
export function signStructure(tbs: Uint8Array, algorithm: SignatureAlgorithm, key: SigningKey): Buffer {
  return sequence(tbs, encodeSignatureAlgorithm(algorithm), bitString(signWith(algorithm, tbs, key)));
}

/** Builds and signs a certificate. Refuses specs that would be invalid or unsafe. */
export function issueCertificate(spec: CertificateSpec): Buffer {
  const keyDescription = assertAcceptablePublicKey(spec.publicKey);
  if (spec.notAfter.getTime() <= spec.notBefore.getTime()) {
    throw new PkiError('ERR_VALIDITY', 'notAfter must be after notBefore');
  }
  const selfSigned = spec.issuer === 'self';
  const signingKey = selfSigned ? spec.selfSigningKey : (spec.issuer as Issuer).privateKey;
  if (!signingKey) throw new PkiError('ERR_USAGE', 'a self-signed certificate needs selfSigningKey');
  if (!selfSigned) {
    const issuer = spec.issuer as Issuer;
    if (issuer.notAfter && spec.notAfter.getTime() > issuer.notAfter.getTime()) {
      throw new PkiError(
        'ERR_VALIDITY',
        `the certificate would expire ${spec.notAfter.toISOString()}, after its issuing CA (${issuer.notAfter.toISOString()})`,
        { hint: 'choose an earlier --not-after, or renew the CA first' },
      );
    }
  }
  if (!spec.profile.isCA && !spec.subject.commonName && spec.sans.length === 0) {
    throw new PkiError('ERR_POLICY', 'a certificate needs a subject or at least one SAN');
  }
  const subjectDer = encodeSubjectName(spec.subject);
  // Exported at most once: KeyObject#export is the costliest step of issuing a leaf after the signature.
  const subjectPublicKeyInfo = spec.spkiDer ?? spkiDer(spec.publicKey);
  assertNamedCurve(subjectPublicKeyInfo); // the encoding a certificate would carry, whatever path the key came by
  const subjectKeyId = keyIdentifierOf(subjectPublicKeyInfo);
  const issuerDer = selfSigned ? subjectDer : (spec.issuer as Issuer).subjectDer;
  // Copied from the issuer certificate's SKI (Issuer.keyIdentifier), never recomputed from its key.
  const authorityKeyId = selfSigned ? subjectKeyId : (spec.issuer as Issuer).keyIdentifier;
  const algorithm = signatureAlgorithmFor(signingKey);

  const extensions: Buffer[] = [
    basicConstraintsExtension(spec.profile.isCA, spec.profile.pathLen),
    keyUsageExtension(keyUsagesFor(spec.profile, keyDescription.type)),
  ];
  if (spec.profile.extKeyUsage.length > 0) extensions.push(extKeyUsageExtension(spec.profile.extKeyUsage));
  extensions.push(subjectKeyIdentifierExtension(subjectKeyId));
  // RFC 5280 §4.2.1.1: AKI may be omitted in a self-signed root; OpenSSL and step include it, so do we.
  // An issuer without an SKI gets no AKI (as Go's x509 and OpenSSL's `keyid` do): a value it cannot
  // match would only mislead path building.
  if (authorityKeyId !== null) extensions.push(authorityKeyIdentifierExtension(authorityKeyId));
  if (spec.sans.length > 0) extensions.push(subjectAltNameExtension(spec.sans, !spec.subject.commonName && !spec.subject.organization));
  if (!selfSigned && spec.crlDistributionPoints?.length) extensions.push(crlDistributionPointsExtension(spec.crlDistributionPoints));
  if (spec.nameConstraints && hasNameConstraints(spec.nameConstraints)) {
    if (!spec.profile.isCA) throw new PkiError('ERR_USAGE', 'name constraints belong in CA certificates only');
    extensions.push(nameConstraintsExtension(spec.nameConstraints));
  }
  if (spec.ocspNoCheck) extensions.push(ocspNoCheckExtension());
  if (!selfSigned && (spec.ocspUrls?.length || spec.caIssuersUrls?.length)) {
    extensions.push(authorityInfoAccessExtension({ ocsp: spec.ocspUrls ?? [], caIssuers: spec.caIssuersUrls ?? [] }));
  }

  const tbs = sequence(
    explicit(0, integer(2)), // v3
    unsignedInteger(Buffer.from(spec.serial.length % 2 ? '0' + spec.serial : spec.serial, 'hex')),
    encodeSignatureAlgorithm(algorithm),
    issuerDer,
    sequence(time(spec.notBefore), time(spec.notAfter)),
    subjectDer,
    subjectPublicKeyInfo,
    explicit(3, sequence(...extensions)),
  );
  return signStructure(tbs, algorithm, signingKey);
}
