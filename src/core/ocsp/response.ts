/**
 * OCSPResponse building (RFC 6960 §4.2.1): the unsigned error responses (malformedRequest, internalError,
 * tryLater, unauthorized) and a signed BasicOCSPResponse with one SingleResponse per CertID asked about.
 * Written with the lean DER writer and signed with the table of keys/signature.ts; the responder is named
 * byName (the signer's subject), so no SHA-1 key hash is needed.
 */
import { explicit, octetString, oid, sequence, tlv } from '../der/writer.js';
import { DerTag } from '../der/reader.js';
import { signStructure } from '../x509/certificate.js';
import { revocationReasonCodes, type RevocationReason } from '../x509/revocation-reason.js';
import { signatureAlgorithmFor } from '../keys/signature.js';
import type { SigningKey } from '../keys/signing-key.js';
import { OID_OCSP_NONCE } from './request.js';

const OID_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';

/** OCSPResponseStatus values (RFC 6960 §4.2.1); 4 is unused. */
export const OcspResponseStatus = { successful: 0, malformedRequest: 1, internalError: 2, tryLater: 3, sigRequired: 5, unauthorized: 6 } as const;
export type OcspErrorStatus = Exclude<keyof typeof OcspResponseStatus, 'successful'>;

/** An OCSPResponse without responseBytes: `30 03 0a 01 <status>`. */
export function ocspErrorResponse(status: OcspErrorStatus): Buffer {
  return Buffer.from([0x30, 0x03, 0x0a, 0x01, OcspResponseStatus[status]]);
}

export type CertStatus =
  | { readonly kind: 'good' }
  | { readonly kind: 'revoked'; readonly at: Date; readonly reason: RevocationReason | null }
  | { readonly kind: 'unknown' };

export interface SingleResponse {
  /** The CertID exactly as the request carried it. */
  readonly certIdDer: Uint8Array;
  readonly status: CertStatus;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
}

/** Who signs: the issuing CA itself, or a delegated responder it certified (id-kp-OCSPSigning). */
export interface OcspSigner {
  /** The signer certificate's subject Name DER (the ResponderID byName). */
  readonly subjectDer: Uint8Array;
  readonly privateKey: SigningKey;
  /** Certificates sent in the response (the delegated signer's, and the CA's so clients can chain it), DER. */
  readonly certificates: readonly Uint8Array[];
}

/** GeneralizedTime, whole seconds, UTC (RFC 6960 §4.2.2.1 uses GeneralizedTime throughout). */
export function generalizedTime(date: Date): Buffer {
  const iso = new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString();
  return tlv(DerTag.generalizedTime, Buffer.from(`${iso.slice(0, 19).replace(/[-T:]/g, '')}Z`, 'latin1'));
}

function certStatus(status: CertStatus): Buffer {
  if (status.kind === 'good') return Buffer.from([0x80, 0x00]); // [0] IMPLICIT NULL
  if (status.kind === 'unknown') return Buffer.from([0x82, 0x00]); // [2] IMPLICIT UnknownInfo (NULL)
  // Like the CRL, a reason of `unspecified` is left out (RFC 5280 §5.3.1).
  const reason = status.reason && status.reason !== 'unspecified' ? [explicit(0, tlv(DerTag.enumerated, Buffer.from([revocationReasonCodes[status.reason]])))] : [];
  return tlv(0xa1, Buffer.concat([generalizedTime(status.at), ...reason])); // [1] IMPLICIT RevokedInfo
}

function singleResponse(r: SingleResponse): Buffer {
  return sequence(r.certIdDer, certStatus(r.status), generalizedTime(r.thisUpdate), explicit(0, generalizedTime(r.nextUpdate)));
}

export interface BasicResponseInput {
  readonly signer: OcspSigner;
  readonly producedAt: Date;
  readonly responses: readonly SingleResponse[];
  /** The request's nonce extnValue content, echoed as is (RFC 8954); null: no responseExtensions. */
  readonly nonce: Uint8Array | null;
}

/** A signed `successful` OCSPResponse carrying a BasicOCSPResponse. */
export function buildOcspResponse(input: BasicResponseInput): Buffer {
  const { signer } = input;
  const extensions = input.nonce ? [explicit(1, sequence(sequence(oid(OID_OCSP_NONCE), octetString(input.nonce))))] : [];
  const tbs = sequence(
    // version v1 is the DEFAULT and so absent
    explicit(1, Buffer.from(signer.subjectDer)), // ResponderID byName [1] EXPLICIT Name
    generalizedTime(input.producedAt),
    sequence(...input.responses.map(singleResponse)),
    ...extensions,
  );
  const signed = signStructure(tbs, signatureAlgorithmFor(signer.privateKey), signer.privateKey);
  // signStructure gives SEQUENCE { tbs, alg, sig }; the certs [0] go inside that SEQUENCE.
  const basic = signer.certificates.length ? appendToSequence(signed, explicit(0, sequence(...signer.certificates))) : signed;
  return sequence(tlv(DerTag.enumerated, Buffer.from([OcspResponseStatus.successful])), explicit(0, sequence(oid(OID_OCSP_BASIC), octetString(basic))));
}

/** SEQUENCE { a, b, c } + d → SEQUENCE { a, b, c, d } (re-encodes the length). */
function appendToSequence(seq: Buffer, item: Buffer): Buffer {
  const lengthOctets = seq[1]! < 0x80 ? 1 : 1 + (seq[1]! & 0x7f);
  return sequence(seq.subarray(1 + lengthOctets), item);
}
