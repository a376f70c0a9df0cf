/**
 * Revocation by CRL (RFC 5280 §6.3, §5). pki's policy, in the order the checks run:
 *   - Every CRL given is judged, whatever the mode (an operator who passed it meant it to count): one that
 *     cannot be read is ERR_CRL_MALFORMED; one whose issuer (by name) is no CA of the path is an ok `crl`
 *     check with the detail "not for this path" (a bundle of CRLs for several CAs is normal).
 *   - A CRL of a CA of the path must be signed by that CA's key (its AKI, when it carries one and the CA has
 *     an SKI, picks among same-named CAs; a key that does not verify is ERR_CRL_BAD_SIGNATURE, as is a CA
 *     whose keyUsage lacks cRLSign), carry no critical CRL or entry extension pki does not process — a delta
 *     CRL, an indirect CRL, a CRL partitioned by reason included (ERR_CRL_UNKNOWN_CRITICAL_EXTENSION) — and be
 *     current: thisUpdate ≤ time (ERR_CRL_NOT_YET_VALID) and time < nextUpdate (ERR_CRL_STALE; a CRL
 *     without nextUpdate is stale too: nothing says how long it may be relied on).
 *   - The certificates checked (mode 'leaf': the leaf; 'all': every certificate below the anchor) need a
 *     usable CRL of their issuer covering them (issuingDistributionPoint onlyContainsUserCerts /
 *     onlyContainsCACerts and its distribution point URIs), else ERR_CRL_MISSING; listed → ERR_REVOKED
 *     whatever the revocation date (as openssl does), except removeFromCRL.
 */
import { formatDistinguishedName } from '../x509/name-decoder.js';
import { certificatePublicKey, subjectKeyIdentifierOf, type CertificateFields } from '../x509/certificate-fields.js';
import { decodeBasicConstraints, decodeKeyUsage, decodeUriList } from '../x509/extension-decoders.js';
import { ExtensionOid } from '../x509/extensions.js';
import { signatureAlgorithmName, verifySignature } from '../keys/signature.js';
import { crlEntryStatus, readVerifiableCrl, type CrlEntryStatus, type VerifiableCrl } from './crl-fields.js';
import type { CheckOutcome, CrlCheckMode, VerifyErrorCode } from './types.js';

/** RFC 3339 in whole seconds, as verdicts print times. */
const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase().replace(/(..)(?=.)/g, '$1:');

interface UsableCrl {
  readonly crl: VerifiableCrl;
  /** Index in the path of the CA that signed it. */
  readonly issuerIndex: number;
}

function crlFailure(code: VerifyErrorCode, message: string, certificate: string, hint: string): CheckOutcome {
  return { ok: false, name: 'crl', failure: { code, message, certificate, hint } };
}

/** RFC 5280 §7.1 name matching, as far as pki goes: the same encoding, or the same RFC 4514 text ignoring case. */
function sameName(a: Uint8Array, b: Uint8Array): boolean {
  if (Buffer.from(a).equals(b)) return true;
  try {
    return formatDistinguishedName(a).toLowerCase() === formatDistinguishedName(b).toLowerCase();
  } catch {
    return false;
  }
}

/** True when the CA's key verifies the CRL; a signature algorithm pki refuses (SHA-1…) is returned as its name. */
function signedBy(crl: VerifiableCrl, ca: CertificateFields): boolean | string {
  if (crl.signature === null) return false;
  try {
    return verifySignature(crl.signatureAlgorithmOid, crl.tbsDer, crl.signature, certificatePublicKey(ca), crl.signatureAlgorithmParameters);
  } catch {
    return signatureAlgorithmName(crl.signatureAlgorithmOid);
  }
}

/** Finds which CA of the path signed the CRL; a failure outcome when one is named but none did. */
function crlIssuer(crl: VerifiableCrl, path: readonly CertificateFields[], issuerName: string): number | CheckOutcome | null {
  const named = path.map((_, i) => i).filter((i) => i >= 1 && sameName(path[i]!.subjectDer, crl.issuerDer));
  if (named.length === 0) return null;
  const aki = crl.authorityKeyIdentifier;
  const keyMatches = (i: number) => {
    const ski = subjectKeyIdentifierOf(path[i]!);
    return aki === null || ski === undefined || Buffer.from(ski).equals(aki);
  };
  const ordered = [...named.filter(keyMatches), ...named.filter((i) => !keyMatches(i))];
  const hint = 'give the CRL this CA published (pki crl writes crl/intermediate_ca.crl), not one made with another key';
  for (const i of ordered) {
    const verdict = signedBy(crl, path[i]!);
    if (typeof verdict === 'string') return crlFailure('ERR_CRL_BAD_SIGNATURE', `the CRL of ${issuerName} is signed with ${verdict}, which pki does not accept`, issuerName, 'the CA must re-publish its CRL with SHA-256 or better');
    if (!verdict) continue;
    if (decodeKeyUsage(path[i]!).length > 0 && !decodeKeyUsage(path[i]!).includes('cRLSign')) {
      return crlFailure('ERR_CRL_BAD_SIGNATURE', `${issuerName} may not sign CRLs: its keyUsage lacks cRLSign`, issuerName, 'the CA certificate must be re-issued with keyUsage cRLSign');
    }
    return i;
  }
  const ski = subjectKeyIdentifierOf(path[named[0]!]!);
  const why = aki !== null && ski !== undefined && !named.some(keyMatches)
    ? `its signature is by another key (authority key identifier ${hex(aki)}, while ${issuerName} in this path has ${hex(ski)})`
    : `its signature does not verify with the key of ${issuerName}`;
  return crlFailure('ERR_CRL_BAD_SIGNATURE', `the CRL naming ${issuerName} as its issuer cannot be trusted: ${why}`, issuerName, hint);
}

/** One CRL: its `crl` check, and the CRL itself when it may be used. */
function judgeCrl(der: Uint8Array, n: number, count: number, path: readonly CertificateFields[], time: Date): { outcome: CheckOutcome; usable?: UsableCrl } {
  let crl: VerifiableCrl;
  let issuerName: string;
  try {
    crl = readVerifiableCrl(der);
    issuerName = formatDistinguishedName(crl.issuerDer);
  } catch (e) {
    const label = count > 1 ? `CRL ${n + 1} of ${count}` : 'the CRL';
    return { outcome: crlFailure('ERR_CRL_MALFORMED', `${label} cannot be read: ${(e as Error).message}`, `(${label})`, 'give a PEM or DER X.509 CRL as its CA published it, e.g. crl/intermediate_ca.crl') };
  }
  const issuer = crlIssuer(crl, path, issuerName);
  if (issuer === null) return { outcome: { ok: true, name: 'crl', detail: `CRL of ${issuerName}: not for this path (its issuer is no CA of the path)` } };
  if (typeof issuer !== 'number') return { outcome: issuer };
  if (crl.refusal !== null) {
    return { outcome: crlFailure('ERR_CRL_UNKNOWN_CRITICAL_EXTENSION', `the CRL of ${issuerName} cannot be used: ${crl.refusal}`, issuerName, 'give a complete, direct CRL without critical extensions pki does not know (pki crl writes one)') };
  }
  if (crl.thisUpdate.getTime() > time.getTime()) {
    return { outcome: crlFailure('ERR_CRL_NOT_YET_VALID', `the CRL of ${issuerName} is not valid before ${rfc3339(crl.thisUpdate)} (its thisUpdate)`, issuerName, 'check --time, and the clock of the host that published the CRL') };
  }
  if (crl.nextUpdate === null) {
    return { outcome: crlFailure('ERR_CRL_STALE', `the CRL of ${issuerName} has no nextUpdate, so nothing says it is still current`, issuerName, 'publish a CRL with a nextUpdate (pki crl always writes one)') };
  }
  if (crl.nextUpdate.getTime() <= time.getTime()) {
    return { outcome: crlFailure('ERR_CRL_STALE', `the CRL of ${issuerName} is stale: its nextUpdate was ${rfc3339(crl.nextUpdate)}`, issuerName, 'publish a fresh CRL (pki crl) and give that one') };
  }
  const number = crl.crlNumber !== null ? ` number ${crl.crlNumber},` : '';
  const detail = `CRL of ${issuerName},${number} ${crl.entries.size} revoked, current until ${rfc3339(crl.nextUpdate)}`;
  return { outcome: { ok: true, name: 'crl', detail }, usable: { crl, issuerIndex: issuer } };
}

/** Whether the CRL's issuingDistributionPoint scope covers the certificate (RFC 5280 §6.3.3 (b)). */
function covers(crl: VerifiableCrl, cert: CertificateFields): boolean {
  const isCa = decodeBasicConstraints(cert).isCA;
  if (isCa ? !crl.scope.authorities : !crl.scope.endEntities) return false;
  if (crl.scope.distributionPoints === null) return true;
  const points = decodeUriList(cert, ExtensionOid.crlDistributionPoints);
  return points.some((p) => crl.scope.distributionPoints!.includes(p));
}

function revocationOf(path: readonly CertificateFields[], i: number, usable: readonly UsableCrl[]): CheckOutcome {
  const cert = path[i]!;
  const subject = formatDistinguishedName(cert.subjectDer);
  const issuerName = formatDistinguishedName(path[i + 1]!.subjectDer);
  const fromIssuer = usable.filter((u) => u.issuerIndex === i + 1);
  const covering = fromIssuer.filter((u) => covers(u.crl, cert));
  if (covering.length === 0) {
    const why = fromIssuer.length > 0 ? ` (the CRL of ${issuerName} given does not cover this certificate: its issuingDistributionPoint limits it)` : '';
    const example = i + 1 === path.length - 1 ? 'crl/root_ca.crl' : 'crl/intermediate_ca.crl';
    const failure = { code: 'ERR_CRL_MISSING', message: `no CRL of ${issuerName} was given, so its revocation cannot be checked${why}`, certificate: subject, hint: `give its issuer's CRL with --crl, e.g. ${example}` } as const;
    return { ok: false, name: 'revocation', failure };
  }
  for (const { crl } of covering) {
    let status: CrlEntryStatus | undefined;
    try {
      status = crlEntryStatus(crl, cert.serial);
    } catch (e) {
      return { ok: false, name: 'revocation', failure: { code: 'ERR_CRL_MALFORMED', message: `the CRL of ${issuerName} cannot be read: ${(e as Error).message}`, certificate: issuerName } };
    }
    if (status === undefined || status.reason === 'removeFromCRL') continue;
    const hint = i === 0 ? 'issue a new certificate with a new key (pki generate --force, or pki sign) and deploy it' : 'a revoked CA certifies nothing: re-issue the certificates below it from a CA in good standing';
    const failure = { code: 'ERR_REVOKED', message: `revoked on ${rfc3339(status.revokedAt)}${status.reason ? ` (${status.reason})` : ''}`, certificate: subject, hint } as const;
    return { ok: false, name: 'revocation', failure };
  }
  return { ok: true, name: 'revocation', detail: `${subject} (serial ${cert.serial}) is not on the CRL of ${issuerName}` };
}

/**
 * `path`: leaf first, trust anchor last. Returns one outcome per CRL judged and per certificate checked
 * (`crl` and `revocation` checks), in that order; the first failed one is the verdict.
 */
export function checkRevocation(path: readonly CertificateFields[], crls: readonly Uint8Array[], mode: CrlCheckMode, time: Date): CheckOutcome[] {
  const judged = crls.map((der, n) => judgeCrl(der, n, crls.length, path, time));
  const usable = judged.flatMap((j) => (j.usable ? [j.usable] : []));
  const checked = mode === 'none' ? 0 : mode === 'leaf' ? Math.min(1, path.length - 1) : path.length - 1;
  const revocations = Array.from({ length: Math.max(0, checked) }, (_, i) => revocationOf(path, i, usable));
  return [...judged.map((j) => j.outcome), ...revocations];
}
