/**
 * The checks of one complete path (RFC 5280 §6.1.3 and §6.1.4), made from the trust anchor down to the
 * leaf — the order of RFC 5280 §6.1 and of openssl's internal_verify — and for each certificate in this
 * order: unknown critical extensions, its key (and, below the anchor, its signature algorithm), its
 * signature with the issuer's key, its validity at the validation time, then, when it issued the
 * certificate below it, basicConstraints cA, pathLenConstraint and keyUsage keyCertSign, and last its
 * extended key usage against the purpose. The caller stops at the first failure, which is the verdict.
 *
 * The anchor: its own self-signature is not checked (openssl and Go do not either: trust in it comes
 * from --roots, not from its signature), but its key, validity, critical extensions, CA flags and path
 * length constraint are, as openssl and Go do.
 *
 * Critical extensions pki understands: basicConstraints, keyUsage, extKeyUsage, subjectAltName,
 * nameConstraints, and certificatePolicies, which is tolerated unprocessed — with no initial policy set
 * and no explicit policy required (RFC 5280 §6.1.1 defaults, what openssl and Go use too) it cannot
 * change the verdict. policyConstraints, policyMappings and inhibitAnyPolicy can, and pki does not
 * process them, so as critical extensions they are refused like any unknown one.
 */
import { verificationScheme, verifyWithScheme } from '../keys/signature.js';
import { ExtensionOid } from '../x509/extensions.js';
import { rfc3339Seconds } from './chain-entry.js';
import type { PathCertificate } from './path-certificate.js';
import type { CheckOutcome, VerifyCheckName, VerifyErrorCode, VerifyPurpose } from './types.js';

export interface PathCheckContext {
  readonly purpose: VerifyPurpose;
  readonly time: Date;
}

const UNDERSTOOD_CRITICAL = new Set<string>([
  ExtensionOid.basicConstraints,
  ExtensionOid.keyUsage,
  ExtensionOid.extKeyUsage,
  ExtensionOid.subjectAltName,
  ExtensionOid.nameConstraints,
  ExtensionOid.certificatePolicies,
]);

const KNOWN_EXTENSION_NAMES: Readonly<Record<string, string>> = {
  '2.5.29.33': 'policyMappings',
  '2.5.29.36': 'policyConstraints',
  '2.5.29.54': 'inhibitAnyPolicy',
  '2.5.29.14': 'subjectKeyIdentifier',
  '2.5.29.35': 'authorityKeyIdentifier',
  '2.5.29.31': 'cRLDistributionPoints',
  '1.3.6.1.5.5.7.1.1': 'authorityInfoAccess',
};

const ANY_EKU = '2.5.29.37.0';
const PURPOSE_EKU: Readonly<Record<Exclude<VerifyPurpose, 'any'>, string>> = { server: 'serverAuth', client: 'clientAuth' };
const MIN_RSA_BITS = 2048;

const ok = (name: VerifyCheckName, detail: string): CheckOutcome => ({ ok: true, name, detail });

function fail(name: VerifyCheckName, code: VerifyErrorCode, c: PathCertificate, message: string, hint?: string): CheckOutcome {
  return { ok: false, name, failure: { code, message, certificate: c.subject(), ...(hint ? { hint } : {}) } };
}

/** Runs a check whose decoding may throw (a malformed extension): the throw becomes ERR_MALFORMED_CERTIFICATE. */
function guarded<T extends CheckOutcome | undefined>(name: VerifyCheckName, c: PathCertificate, check: () => T): T | CheckOutcome {
  try {
    return check();
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return fail(name, 'ERR_MALFORMED_CERTIFICATE', c, `cannot read the certificate's ${name}: ${why}`, 'the certificate is corrupt; re-issue it');
  }
}

function checkCriticalExtensions(c: PathCertificate): CheckOutcome {
  const unknown = c.fields.extensions.filter((e) => e.critical && !UNDERSTOOD_CRITICAL.has(e.oid));
  if (unknown.length === 0) return ok('criticalExtensions', `${c.subject()}: every critical extension understood`);
  const named = unknown.map((e) => (KNOWN_EXTENSION_NAMES[e.oid] ? `${e.oid} (${KNOWN_EXTENSION_NAMES[e.oid]})` : e.oid)).join(', ');
  return fail('criticalExtensions', 'ERR_UNKNOWN_CRITICAL_EXTENSION', c, `unknown critical extension ${named}`, 'pki must refuse a certificate with a critical extension it does not process (RFC 5280 §4.2); re-issue it without it, or with it non-critical');
}

/** The certificate's own key: readable, and RSA at least 2048 bits (the anchor's too). */
function checkKey(c: PathCertificate): CheckOutcome {
  let d: { text: string; rsaBits?: number };
  try {
    d = c.keyDescription();
  } catch (e) {
    return fail('algorithm', 'ERR_MALFORMED_CERTIFICATE', c, `the certificate's public key cannot be read (${e instanceof Error ? e.message : String(e)})`, 'the certificate is corrupt; re-issue it');
  }
  if (d.rsaBits !== undefined && d.rsaBits < MIN_RSA_BITS) {
    return fail('algorithm', 'ERR_WEAK_KEY', c, `the certificate's RSA key has ${d.rsaBits} bits, fewer than ${MIN_RSA_BITS}`, 're-issue it with an RSA key of 2048 bits or more, or an EC key');
  }
  return ok('algorithm', `${c.subject()}: ${d.text} key`);
}

/** Below the anchor: the signature algorithm is acceptable and the signature verifies with the issuer's key. */
function* checkSignature(c: PathCertificate, issuer: PathCertificate): Generator<CheckOutcome> {
  const { signatureAlgorithmDer: outer, tbsSignatureAlgorithmDer: inner } = c.fields;
  if (outer && inner && Buffer.compare(outer, inner) !== 0) {
    // RFC 5280 §4.1.1.2 (openssl -x509_strict and Go refuse it too): the signed copy must match the outer one.
    yield fail('algorithm', 'ERR_MALFORMED_CERTIFICATE', c, 'the signature algorithm outside the signed part differs from the one inside it (RFC 5280 §4.1.1.2)', 'the certificate is corrupt or forged; re-issue it');
    return;
  }
  const verdict = verificationScheme(c.fields.signatureAlgorithmOid, c.fields.signatureAlgorithmParameters);
  if (!verdict.ok) {
    const code = verdict.weak ? 'ERR_WEAK_ALGORITHM' : 'ERR_UNSUPPORTED_ALGORITHM';
    yield fail('algorithm', code, c, `signed with ${verdict.name}: ${verdict.reason}`, 're-issue it signed with SHA-256 or better');
    return;
  }
  yield ok('algorithm', `${c.subject()}: signed with ${verdict.scheme.name}`);
  const key = issuer.publicKey();
  if (key instanceof Error) {
    yield fail('signature', 'ERR_UNSUPPORTED_ALGORITHM', c, `the key of its issuer ${issuer.subject()} cannot be read (${key.message})`);
    return;
  }
  if (!verifyWithScheme(verdict.scheme, c.fields.tbsDer, c.fields.signature, key)) {
    yield fail('signature', 'ERR_BAD_SIGNATURE', c, `signature does not verify with the key of ${issuer.subject()}`, 'it was not issued by that CA certificate, or it was altered; give the CA that issued it');
    return;
  }
  yield ok('signature', `${c.subject()} ← ${issuer.subject()}`);
}

function checkValidity(c: PathCertificate, time: Date, isLeaf: boolean): CheckOutcome {
  const { notBefore, notAfter } = c.fields;
  // RFC 5280 §4.1.2.5: valid from notBefore to notAfter, both inclusive.
  if (time.getTime() > notAfter.getTime()) {
    const hint = isLeaf ? 'renew it: pki renew <file>' : 'renew this CA certificate, then re-issue the certificates below it';
    return fail('validity', 'ERR_CERT_EXPIRED', c, `certificate has expired on ${rfc3339Seconds(notAfter)}`, hint);
  }
  if (time.getTime() < notBefore.getTime()) {
    return fail('validity', 'ERR_CERT_NOT_YET_VALID', c, `certificate is not valid before ${rfc3339Seconds(notBefore)}`, "check this machine's clock (or --time)");
  }
  return ok('validity', `${c.subject()}: valid ${rfc3339Seconds(notBefore)} to ${rfc3339Seconds(notAfter)}`);
}

/**
 * `issuer` signed `below[0]`; `below` is the path under it, leaf last. pathLenConstraint counts the
 * intermediates under it that are not self-issued (RFC 5280 §6.1.4 (l)); the leaf never counts.
 */
function* checkIssuer(issuer: PathCertificate, below: readonly PathCertificate[]): Generator<CheckOutcome> {
  const child = below[0]!;
  yield guarded('basicConstraints', issuer, () => {
    const bc = issuer.basicConstraints();
    if (bc.isCA) return ok('basicConstraints', `${issuer.subject()}: CA`);
    const why = bc.present ? 'basicConstraints cA is false' : 'it has no basicConstraints extension';
    return fail('basicConstraints', 'ERR_NOT_CA', issuer, `not a CA certificate (${why}), yet it issued ${child.subject()}`, 'issue the certificate from a CA certificate (basicConstraints CA:TRUE)');
  });
  yield guarded('pathLength', issuer, () => {
    const limit = issuer.basicConstraints().pathLen;
    const intermediates = below.slice(0, -1).filter((c) => !c.selfIssued).length;
    if (limit === null) return ok('pathLength', `${issuer.subject()}: no pathLenConstraint`);
    if (intermediates <= limit) return ok('pathLength', `${issuer.subject()}: ${intermediates} CA certificate(s) below it, pathLenConstraint ${limit}`);
    return fail('pathLength', 'ERR_PATH_LENGTH', issuer, `pathLenConstraint ${limit} allows ${limit} CA certificate(s) below it, the path has ${intermediates}`, 'issue the intermediate from a CA whose pathLenConstraint allows it, or shorten the chain');
  });
  yield guarded('keyUsage', issuer, () => {
    const usages = issuer.keyUsage();
    if (usages === null) return ok('keyUsage', `${issuer.subject()}: no keyUsage extension (every usage allowed)`);
    if (usages.includes('keyCertSign')) return ok('keyUsage', `${issuer.subject()}: keyCertSign`);
    return fail('keyUsage', 'ERR_KEY_USAGE', issuer, `key usage lacks keyCertSign (its key usage: ${usages.join(', ') || 'none'}), yet it issued ${child.subject()}`, 'issue the certificate from a CA certificate whose keyUsage includes keyCertSign');
  });
}

const ekuText = (ekus: readonly string[]) => ekus.map((e) => (e === ANY_EKU ? 'anyExtendedKeyUsage' : e)).join(', ') || 'none';

/**
 * The leaf must carry the purpose (or anyExtendedKeyUsage); a leaf without the extension allows every
 * purpose (RFC 5280 §4.2.1.12). A CA certificate with the extension constrains the leaves below it, as
 * Go and browsers do (RFC 5280 itself leaves EKU in CA certificates undefined).
 */
function checkPurpose(c: PathCertificate, purpose: Exclude<VerifyPurpose, 'any'>, isLeaf: boolean): CheckOutcome | undefined {
  const wanted = PURPOSE_EKU[purpose];
  const ekus = c.extKeyUsage();
  if (ekus === null) return isLeaf ? ok('extendedKeyUsage', `${c.subject()}: no extended key usage (every purpose allowed)`) : undefined;
  if (ekus.includes(wanted) || ekus.includes(ANY_EKU)) return ok('extendedKeyUsage', `${c.subject()}: ${wanted} (its extended key usage: ${ekuText(ekus)})`);
  if (isLeaf) return fail('extendedKeyUsage', 'ERR_PURPOSE', c, `certificate lacks ${wanted} (its extended key usage: ${ekuText(ekus)})`, `re-issue it with ${wanted} (pki profile ${purpose} or peer), or check the --purpose`);
  return fail('extendedKeyUsage', 'ERR_PURPOSE', c, `CA certificate lacks ${wanted} (its extended key usage: ${ekuText(ekus)}), so the certificates it issues cannot be used for it`, `use a CA whose extended key usage includes ${wanted}, or none`);
}

/** Every per-certificate check of `path` (leaf first, anchor last), anchor first, lazily. */
export function* certificateChecks(path: readonly PathCertificate[], context: PathCheckContext): Generator<CheckOutcome> {
  for (let i = path.length - 1; i >= 0; i--) {
    const c = path[i]!;
    const isAnchor = i === path.length - 1;
    yield checkCriticalExtensions(c);
    yield checkKey(c);
    if (!isAnchor) yield* checkSignature(c, path[i + 1]!);
    yield checkValidity(c, context.time, i === 0);
    if (i > 0) yield* checkIssuer(c, path.slice(0, i).reverse());
    const purpose = context.purpose;
    if (purpose !== 'any') {
      const outcome = guarded('extendedKeyUsage', c, () => checkPurpose(c, purpose, i === 0));
      if (outcome) yield outcome;
    }
  }
}
