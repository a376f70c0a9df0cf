/**
 * Certificate download (RFC 8555 §7.4.2: application/pem-certificate-chain, leaf + the intermediate of the
 * CA that issued it, to the account that ordered it), revokeCert (§7.6: signed by that account or by the
 * certificate's own key; revoked through the same code as `pki revoke`, by the CA that issued it, whose CRL
 * is re-published in the same inventory transaction, OCSP told at once) and renewalInfo (ARI, RFC 9773:
 * renew from two thirds of the lifetime).
 */
import { createPublicKey } from 'node:crypto';
import { parseAriCertificateId, suggestedRenewalWindow } from '../../core/acme/ari.js';
import { isPkiError } from '../../core/errors.js';
import { certificatePublicKey, parseCertificate, type CertificateFields } from '../../core/x509/certificate-fields.js';
import { sha256Fingerprint } from '../../core/x509/fingerprint.js';
import { revocationReasonByCode, type RevocationReason } from '../../core/x509/revocation-reason.js';
import { normalizeSerial } from '../../core/x509/serial.js';
import { crlLifetimeMs } from '../../operations/publish-crl.js';
import { revokeLeafWithIssuer } from '../../operations/revoke.js';
import type { CertificateRecord } from '../../store/inventory/index.js';
import { describeIssuingCa, refOfRecord } from '../../store/issuing-ca.js';
import { caByKeyIdentifier, caOfRecord } from '../issuing-cas.js';
import { retiredIssuerOf, signingIssuerOf } from '../retired-cas.js';
import type { ServeIssuingCa } from '../types.js';
import { acmeJson, type AcmeContext, type AcmeHandler } from './context.js';
import { verifyAcmeRequest, type VerifiedAcmeRequest } from './jws.js';
import { AcmeProblemError } from './problem.js';

/** How long an ARI client waits before asking again (RFC 9773 §4.3): six hours. */
export const RENEWAL_INFO_RETRY_AFTER_SECONDS = 21_600;

/** CRLReason codes a subscriber may give (RFC 8555 §7.6; not cACompromise, certificateHold, removeFromCRL, aACompromise). */
const SUBSCRIBER_REASONS: ReadonlySet<RevocationReason> = new Set(['unspecified', 'keyCompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'privilegeWithdrawn']);

/** The loaded CA that issued `record` (its `ca` and `trustDomain` columns); a CA that did not load is `serverInternal`. */
function issuingCaOf(context: AcmeContext, record: CertificateRecord): ServeIssuingCa {
  const ca = caOfRecord(context.serve, record);
  if (!ca) throw new AcmeProblemError('serverInternal', `certificate ${record.serial} was issued by ${describeIssuingCa(refOfRecord(record))}, which this server has not loaded`, { status: 503 });
  return ca;
}

/** A leaf record of the inventory, or undefined. */
function leafRecord(context: AcmeContext, serial: string): CertificateRecord | undefined {
  const record = context.serve.inventory.find('x509', serial);
  if (!record || record.profile === 'root' || record.profile === 'intermediate') return undefined;
  return record;
}

export const certificate: AcmeHandler = async (context, request, ids) => {
  const verified = await verifyAcmeRequest(context, request, 'kid');
  let serial: string;
  try {
    serial = normalizeSerial(ids[0]!);
  } catch {
    throw new AcmeProblemError('malformed', `no certificate ${ids[0]}`, { status: 404 });
  }
  const owner = context.store.findOrderByCertificate(serial);
  const record = owner ? leafRecord(context, serial) : undefined;
  if (!owner || !record || owner.provisioner !== context.provisioner.name) throw new AcmeProblemError('malformed', `no certificate ${ids[0]}`, { status: 404 });
  if (owner.accountId !== verified.account!.id) throw new AcmeProblemError('unauthorized', 'this certificate was ordered by another account');
  // Leaf + the intermediate that signed it: of the CA that issued it (record.ca / trustDomain, not
  // necessarily the provisioner's today), and the retired one when `pki ca rotate` has replaced that key since.
  const issuer = signingIssuerOf(issuingCaOf(context, record), record);
  return { status: 200, headers: { 'Content-Type': 'application/pem-certificate-chain' }, body: record.pem + issuer.certificatePem };
};

function revocationReason(raw: unknown): RevocationReason {
  if (raw === undefined) return 'unspecified';
  const reason = typeof raw === 'number' && Number.isInteger(raw) ? revocationReasonByCode(raw) : undefined;
  if (reason === undefined || !SUBSCRIBER_REASONS.has(reason)) {
    throw new AcmeProblemError('badRevocationReason', `reason ${JSON.stringify(raw)} is not one a subscriber may give (0, 1, 3, 4, 5, 9)`);
  }
  return reason;
}

function revokedCertificate(payload: unknown): CertificateFields {
  const text = (payload as { certificate?: unknown } | null)?.certificate;
  if (typeof text !== 'string' || !/^[A-Za-z0-9_-]+$/.test(text)) throw new AcmeProblemError('malformed', 'revokeCert needs "certificate": the certificate as base64url DER');
  try {
    return parseCertificate(Buffer.from(text, 'base64url'));
  } catch (e) {
    if (isPkiError(e)) throw new AcmeProblemError('malformed', `the certificate cannot be read: ${e.message}`);
    throw e;
  }
}

/** `unauthorized` unless the request is signed by the ordering account or by the certificate's own key. */
function checkRevoker(context: AcmeContext, verified: VerifiedAcmeRequest, fields: CertificateFields, serial: string): void {
  if (verified.account) {
    const owner = context.store.findOrderByCertificate(serial);
    if (owner && owner.accountId === verified.account.id) return;
    throw new AcmeProblemError('unauthorized', 'this account did not order this certificate');
  }
  let same = false;
  try {
    same = createPublicKey({ key: { ...verified.jwk }, format: 'jwk' }).equals(certificatePublicKey(fields));
  } catch {
    same = false;
  }
  if (!same) throw new AcmeProblemError('unauthorized', "the request is signed neither by the ordering account nor by the certificate's key");
}

export const revokeCert: AcmeHandler = async (context, request) => {
  const verified = await verifyAcmeRequest(context, request, 'either');
  const fields = revokedCertificate(verified.payload);
  const reason = revocationReason((verified.payload as { reason?: unknown }).reason);
  const serial = normalizeSerial(fields.serial);
  const record = leafRecord(context, serial);
  if (!record || record.fingerprintSha256 !== sha256Fingerprint(fields.der)) throw new AcmeProblemError('malformed', 'this certificate was not issued by this CA', { status: 404 });
  checkRevoker(context, verified, fields, serial);
  if (record.status === 'revoked') throw new AcmeProblemError('alreadyRevoked', `certificate ${serial} was already revoked on ${record.revokedAt}`);
  const serve = context.serve;
  // Revoked by the CA that issued it, whose CRL is published again (pki revoke does the same: home.homeOf(refOfRecord(record))).
  const ca = issuingCaOf(context, record);
  try {
    // A leaf of a retired key is also listed on that key's CRL (as pki revoke does).
    revokeLeafWithIssuer(ca.home, serve.inventory, ca.issuer, { serial, reason, now: serve.now(), nextUpdateMs: crlLifetimeMs(ca.config), retiredIssuer: retiredIssuerOf(ca, record) });
  } catch (e) {
    if (isPkiError(e) && e.code === 'ERR_ALREADY_REVOKED') throw new AcmeProblemError('alreadyRevoked', e.message);
    throw e;
  }
  serve.log.event('acme certificate revoked', { serial, reason, ca: ca.key, by: verified.account ? 'account' : 'certificate key' });
  serve.revocations.notify(serial);
  return { status: 200, headers: {} };
};

export const renewalInfo: AcmeHandler = async (context, _request, ids) => {
  const parsed = parseAriCertificateId(ids[0]!);
  if (!parsed) throw new AcmeProblemError('malformed', 'not an RFC 9773 certificate identifier (base64url(AKI).base64url(serial))');
  const ca = caByKeyIdentifier(context.serve, parsed.authorityKeyId);
  const found = ca ? leafRecord(context, parsed.serialHex) : undefined;
  const record = found && caOfRecord(context.serve, found) === ca ? found : undefined;
  if (!record) throw new AcmeProblemError('malformed', 'no certificate of this CA has this identifier', { status: 404 });
  const window = suggestedRenewalWindow(new Date(record.notBefore), new Date(record.notAfter), { revoked: record.status === 'revoked', now: context.serve.now() });
  return acmeJson(200, { suggestedWindow: { start: window.start.toISOString(), end: window.end.toISOString() } }, { 'Retry-After': String(RENEWAL_INFO_RETRY_AFTER_SECONDS) });
};
