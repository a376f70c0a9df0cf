/**
 * What pki will sign from an external certification request: a pure decision, made before anything is
 * written. The requester proves key possession (the self-signature) and proposes names; the issuer
 * decides every extension. A request is refused, with its reason, when it asks for more than the profile
 * grants: CA powers, key usages outside the profile, extensions pki does not understand marked critical,
 * weak keys or SHA-1, or no name at all.
 */
import type { KeyObject } from 'node:crypto';
import type { CsrFields } from './csr.js';
import { verifyCsrSignature } from './csr.js';
import { isPkiError, PkiError, type PkiErrorCode } from '../errors.js';
import { ExtensionOid } from './extensions.js';
import { decodeBasicConstraints, decodeExtKeyUsage, decodeKeyUsage, decodeSubjectAltName } from './extension-decoders.js';
import { decodeName } from './name-decoder.js';
import { assertAcceptablePublicKey, assertNamedCurve, formatKeySpec, importSpki, type KeyDescription } from '../keys/keys.js';
import { checkSanCount, DEFAULT_MAX_SANS, parseSan, parseSans, validateCommonName, type San, type SubjectName } from './names.js';
import { acceptableAlgorithm, signatureAlgorithmFitsKey, signatureAlgorithmName } from '../keys/signature.js';
import type { Profile } from './profiles.js';
import type { KeyUsage } from './usages.js';

export interface CsrApproval {
  readonly accepted: true;
  readonly subject: SubjectName;
  /** The request's SANs, then the extra ones, validated and de-duplicated. */
  readonly sans: readonly San[];
  readonly publicKey: KeyObject;
  /** `publicKey` as the certificate's SubjectPublicKeyInfo (core/keys/keys.ts importSpki): no export needed to issue. */
  readonly spkiDer: Uint8Array;
  readonly key: KeyDescription;
  /** What the request asked for that the certificate will not carry (subject attributes, extensions). */
  readonly ignored: readonly string[];
}

export interface CsrRefusal {
  readonly accepted: false;
  readonly code: PkiErrorCode;
  readonly reason: string;
  readonly hint?: string;
}

export type CsrDecision = CsrApproval | CsrRefusal;

/** Extensions pki reads from a request; anything else is ignored, or refused when marked critical. */
const UNDERSTOOD_EXTENSIONS: ReadonlySet<string> = new Set([
  ExtensionOid.subjectAltName,
  ExtensionOid.keyUsage,
  ExtensionOid.extKeyUsage,
  ExtensionOid.basicConstraints,
  ExtensionOid.subjectKeyIdentifier,
]);

/** Usages that make a certificate a CA: never granted to a leaf, whatever the profile. */
const CA_USAGES: ReadonlySet<KeyUsage> = new Set(['keyCertSign', 'cRLSign']);

const ORGANIZATION_MAX = 64; // RFC 5280 ub-organization-name

function refuse(code: PkiErrorCode, reason: string, hint?: string): CsrRefusal {
  return hint === undefined ? { accepted: false, code, reason } : { accepted: false, code, reason, hint };
}

type RequestKey = { readonly publicKey: KeyObject; readonly spkiDer: Uint8Array; readonly key: KeyDescription };

/**
 * The request's public key, if pki would certify it. The key is judged before its signature: a key pki
 * would never certify (e = 65538 has no private key at all) is refused as what it is, not as a signature
 * that happens not to verify.
 */
function readRequestKey(csr: CsrFields): RequestKey | CsrRefusal {
  let publicKey: KeyObject;
  let spkiDer: Uint8Array;
  try {
    ({ key: publicKey, spkiDer } = importSpki(csr.spkiDer));
  } catch {
    return refuse('ERR_UNSUPPORTED_KEY', 'the request holds a public key pki cannot read', 'use an EC P-256/P-384, RSA (2048 bits or more) or Ed25519 key');
  }
  try {
    assertNamedCurve(csr.spkiDer);
    return { publicKey, spkiDer, key: assertAcceptablePublicKey(publicKey) };
  } catch (e) {
    if (isPkiError(e)) return refuse(e.code, `the request's key is not acceptable: ${e.message}`, e.hint);
    throw e;
  }
}

/** The refusal when the request's self-signature is weak, does not fit its key, or does not verify. */
function checkSelfSignature(csr: CsrFields, { publicKey, key }: RequestKey): CsrRefusal | undefined {
  try {
    // Node's verify does not tie the algorithm to the key: an RSA signature would verify under an ECDSA OID.
    acceptableAlgorithm(csr.signatureAlgorithmOid); // SHA-1, MD5… are refused as such
    if (!signatureAlgorithmFitsKey(csr.signatureAlgorithmOid, publicKey)) {
      return refuse('ERR_CSR_SIGNATURE', `the request is signed with ${signatureAlgorithmName(csr.signatureAlgorithmOid)}, which a ${formatKeySpec(key)} key does not sign with`, 'create the request again with its own key (ECDSA for EC keys, RSA PKCS#1 v1.5 for RSA, Ed25519 for Ed25519)');
    }
    if (!verifyCsrSignature(csr, publicKey)) {
      return refuse('ERR_CSR_SIGNATURE', "the request's self-signature does not verify (tampered or corrupted request)", 'create the request again from its private key');
    }
    return undefined;
  } catch (e) {
    if (isPkiError(e)) return refuse(e.code, `the request's signature is not acceptable: ${e.message}`, e.hint);
    throw e;
  }
}

/**
 * The refusal when the request's extensions ask for more than `profile` grants, else the SANs it asks for
 * (as text). Extensions pki does not read are added to `ignored`.
 */
function readRequestedExtensions(csr: CsrFields, profile: Profile, ignored: string[]): string[] | CsrRefusal {
  try {
    for (const ext of csr.extensions) {
      if (!UNDERSTOOD_EXTENSIONS.has(ext.oid)) {
        if (ext.critical) return refuse('ERR_POLICY', `the request asks for extension ${ext.oid}, marked critical, which pki does not understand`, 'remove it from the request');
        ignored.push(`extension ${ext.oid}`);
      }
    }
    if (decodeBasicConstraints(csr).isCA) {
      return refuse('ERR_POLICY', 'the request asks for a CA certificate (basicConstraints CA:TRUE); pki signs requests as leaf certificates only', 'remove basicConstraints CA:TRUE from the request');
    }
    return checkRequestedUsages(csr, profile) ?? readRequestedSans(csr);
  } catch (e) {
    if (isPkiError(e)) return refuse('ERR_MALFORMED_CSR', `the request's extensions cannot be read: ${e.message}`);
    throw e;
  }
}

/** The refusal when the request's key usages or extended key usages go beyond `profile`. */
function checkRequestedUsages(csr: CsrFields, profile: Profile): CsrRefusal | undefined {
  const grantedUsages = new Set<KeyUsage>(profile.keyEnciphermentForRsa ? [...profile.keyUsage, 'keyEncipherment'] : profile.keyUsage);
  const usages = decodeKeyUsage(csr);
  const caUsages = usages.filter((u) => CA_USAGES.has(u));
  if (caUsages.length > 0) return refuse('ERR_POLICY', `the request asks for CA key usage ${caUsages.join(', ')}`, 'remove keyCertSign and cRLSign from the request');
  const extraUsages = usages.filter((u) => !grantedUsages.has(u));
  if (extraUsages.length > 0) {
    return refuse('ERR_POLICY', `the request asks for key usage ${extraUsages.join(', ')}, beyond the ${profile.name} profile (${[...grantedUsages].join(', ')})`, 'remove them from the request');
  }
  const extraEku = decodeExtKeyUsage(csr).filter((u) => !(profile.extKeyUsage as readonly string[]).includes(u));
  if (extraEku.length > 0) {
    return refuse('ERR_POLICY', `the request asks for extended key usage ${extraEku.join(', ')}, beyond the ${profile.name} profile (${profile.extKeyUsage.join(', ')})`, 'choose the matching --profile (server, client or peer) or remove them from the request');
  }
  return undefined;
}

/** The request's SANs as text, or the refusal when one is of a form pki does not issue or not the form it says. */
function readRequestedSans(csr: CsrFields): string[] | CsrRefusal {
  const san = decodeSubjectAltName(csr);
  if (san.other.length > 0) return refuse('ERR_INVALID_SAN', `the request asks for SAN name forms pki does not issue (${san.other.join(', ')})`, 'use DNS names, IP addresses, email addresses or URIs');
  // SANs are re-read from text later; a dNSName holding "10.0.0.1" or "a@b.example" must not change form.
  const declared = [...san.dns.map((v) => ['dns', v] as const), ...san.email.map((v) => ['email', v] as const), ...san.uri.map((v) => ['uri', v] as const)];
  for (const [type, value] of declared) {
    // IA5String is ASCII (RFC 5280 §4.2.1.6): an IDN is requested as its A-label (xn--…), never as raw UTF-8.
    if (/[^\x20-\x7e]/.test(value)) {
      return refuse('ERR_INVALID_SAN', `the request's ${type === 'dns' ? 'DNS' : type} SAN "${value}" holds bytes that are not printable ASCII`, 'request internationalised names as A-labels (xn--…), e.g. with pki sign --san <U-label>');
    }
    let actual: string;
    try {
      actual = parseSan(value).type;
    } catch (e) {
      if (isPkiError(e)) return refuse(e.code, `the request's names are not acceptable: ${e.message}`, e.hint);
      throw e;
    }
    if (actual !== type) return refuse('ERR_INVALID_SAN', `the request's ${type === 'dns' ? 'DNS' : type} SAN "${value}" is not a ${type === 'dns' ? 'DNS name' : type === 'email' ? 'email address' : 'URI'}`, 'put each name in the SAN form it is');
  }
  return [...san.dns, ...san.ip, ...san.email, ...san.uri];
}

/**
 * The certificate's names: `requestSans` then `extraSans`, validated, and the subject's CN and O. Other
 * subject attributes are added to `ignored`; throws PkiError for a name pki will not certify.
 */
function readNames(csr: CsrFields, requestSans: readonly string[], options: { extraSans?: readonly string[]; maxSans?: number }, ignored: string[]): { sans: San[]; subject: SubjectName } {
  const sans = parseSans([...requestSans, ...(options.extraSans ?? [])]);
  checkSanCount(sans, options.maxSans ?? DEFAULT_MAX_SANS);
  let commonName: string | undefined;
  let organization: string | undefined;
  for (const attribute of decodeName(csr.subjectDer).flat()) {
    if (attribute.type === 'CN') commonName = attribute.value; // the last CN, as RFC 6125 §2.3.1 reads it
    else if (attribute.type === 'O' && organization === undefined) organization = attribute.value;
    else ignored.push(`subject ${attribute.type}=${attribute.value}`);
  }
  if (commonName !== undefined) validateCommonName(commonName);
  if (organization !== undefined && (organization.length === 0 || organization.length > ORGANIZATION_MAX || /[\x00-\x1f\x7f]/.test(organization))) {
    throw new PkiError('ERR_INVALID_NAME', `organization "${organization}" must be 1 to ${ORGANIZATION_MAX} printable characters`);
  }
  return { sans, subject: { ...(organization !== undefined ? { organization } : {}), ...(commonName !== undefined ? { commonName } : {}) } };
}

function isRefusal(value: unknown): value is CsrRefusal {
  return typeof value === 'object' && value !== null && 'accepted' in value && (value as CsrRefusal).accepted === false;
}

/**
 * Decides whether `csr` may be signed with `profile`, adding `extraSans` (`--san` strings, validated
 * here with the request's own) and allowing at most `maxSans` names (default DEFAULT_MAX_SANS). Never
 * throws for a bad request: refusals are values. `keyCertified`: the key is already certified by this CA
 * (renewal of a certificate whose signature was verified), so there is no self-signature to check (the
 * signature algorithm is then the issuer's, not the key's); everything else is decided as for a request.
 */
export function evaluateCsr(csr: CsrFields, options: { profile: Profile; extraSans?: readonly string[]; maxSans?: number; keyCertified?: boolean }): CsrDecision {
  const { profile } = options;
  if (profile.isCA) return refuse('ERR_POLICY', `profile ${profile.name} is a CA profile; requests are signed as leaves only`);

  const requestKey = readRequestKey(csr);
  if (isRefusal(requestKey)) return requestKey;
  if (options.keyCertified !== true) {
    const badSignature = checkSelfSignature(csr, requestKey);
    if (badSignature !== undefined) return badSignature;
  }

  const ignored: string[] = [];
  const requestSans = readRequestedExtensions(csr, profile, ignored);
  if (isRefusal(requestSans)) return requestSans;

  let names: { sans: San[]; subject: SubjectName };
  try {
    names = readNames(csr, requestSans, options, ignored);
  } catch (e) {
    if (isPkiError(e)) return refuse(e.code, `the request's names are not acceptable: ${e.message}`, e.hint);
    throw e;
  }
  const { sans, subject } = names;
  if (subject.commonName === undefined && sans.length === 0) {
    return refuse('ERR_POLICY', 'the request has no subject common name and no subject alternative name', 'add a CN or a SAN to the request, or pass --san');
  }
  const { publicKey, spkiDer, key } = requestKey;
  return { accepted: true, subject, sans, publicKey, spkiDer, key, ignored };
}

/** The refusal as the error the CLI reports, naming the request it came from. */
export function csrRefusalError(refusal: CsrRefusal, source: string): PkiError {
  return new PkiError(refusal.code, `${source}: ${refusal.reason}`, refusal.hint === undefined ? {} : { hint: refusal.hint });
}
