/**
 * A DER CRL read for revocation checking (RFC 5280 §5): what `inspect/crl.ts` reports, plus what a relying
 * party must refuse — unknown critical CRL and entry extensions, delta CRLs, indirect CRLs, CRLs
 * partitioned by reason — and the scope its issuingDistributionPoint gives it. Lean on purpose: a CRL may
 * hold 100,000 entries, so entries are walked once in place, only their serials kept (serial → offset),
 * and an entry's date and reason are decoded when a certificate of the path is found on it.
 */
import { DerTag, contentOf, contentStart, encodingOf, expectTag, readBitString, readBoolean, readEnumerated, readIntegerBigInt, readIntegerHex, readOctetString, readOid, readRootTlv, readTime, readTlv, childrenOf, type DerElement } from '../der/reader.js';
import { PkiError } from '../errors.js';
import { revocationReasonByCode, type RevocationReason } from '../x509/revocation-reason.js';

export interface CrlScope {
  /** False when the CRL covers only CA certificates (onlyContainsCACerts) or attribute certificates. */
  readonly endEntities: boolean;
  /** False when the CRL covers only end-entity certificates (onlyContainsUserCerts) or attribute certificates. */
  readonly authorities: boolean;
  /** The issuingDistributionPoint's fullName URIs; null when it names no distribution point. */
  readonly distributionPoints: readonly string[] | null;
}

export interface VerifiableCrl {
  readonly der: Uint8Array;
  readonly tbsDer: Uint8Array;
  readonly signatureAlgorithmOid: string;
  /** The AlgorithmIdentifier's parameters (RSASSA-PSS: hash, MGF1, salt), when present. */
  readonly signatureAlgorithmParameters?: Uint8Array;
  /** The signature bits; null when the BIT STRING has unused bits (then it cannot verify). */
  readonly signature: Uint8Array | null;
  readonly issuerDer: Uint8Array;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | null;
  readonly crlNumber: bigint | null;
  readonly authorityKeyIdentifier: Uint8Array | null;
  readonly scope: CrlScope;
  /** Why the CRL may not be used (RFC 5280 §5.2, §5.3: a critical extension pki cannot process), or null. */
  readonly refusal: string | null;
  /** Serial (upper-case hex, as CertificateFields.serial) → offset of its entry. */
  readonly entries: ReadonlyMap<string, number>;
}

export interface CrlEntryStatus {
  readonly revokedAt: Date;
  readonly reason?: RevocationReason;
}

const OID = {
  authorityKeyIdentifier: '2.5.29.35',
  crlNumber: '2.5.29.20',
  issuingDistributionPoint: '2.5.29.28',
  deltaCrlIndicator: '2.5.29.27',
  freshestCrl: '2.5.29.46',
  issuerAltName: '2.5.29.18',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  reasonCode: '2.5.29.21',
  holdInstructionCode: '2.5.29.23',
  invalidityDate: '2.5.29.24',
  certificateIssuer: '2.5.29.29',
} as const;

/** CRL extensions pki reads or may ignore; any other one marked critical refuses the CRL. */
const KNOWN_CRL_EXTENSIONS = new Set<string>([OID.authorityKeyIdentifier, OID.crlNumber, OID.issuingDistributionPoint, OID.freshestCrl, OID.issuerAltName, OID.authorityInfoAccess]);
const KNOWN_ENTRY_EXTENSIONS = new Set<string>([OID.reasonCode, OID.holdInstructionCode, OID.invalidityDate]);

const malformed = (message: string) => new PkiError('ERR_MALFORMED_CRL', message);

interface Extension {
  readonly oid: string;
  readonly critical: boolean;
  readonly value: Uint8Array;
}

function readExtensions(der: Uint8Array, list: DerElement): Extension[] {
  const seen = new Set<string>();
  return childrenOf(der, expectTag(list, DerTag.sequence, 'crlExtensions')).map((ext) => {
    const parts = childrenOf(der, expectTag(ext, DerTag.sequence, 'Extension'));
    if (parts.length < 2 || parts.length > 3) throw malformed(`a CRL extension has ${parts.length} fields`);
    const oid = readOid(der, expectTag(parts[0]!, DerTag.objectIdentifier, 'extnID'));
    if (seen.has(oid)) throw malformed(`CRL extension ${oid} appears twice`);
    seen.add(oid);
    const critical = parts.length === 3 ? readBoolean(der, expectTag(parts[1]!, DerTag.boolean, 'critical')) : false;
    return { oid, critical, value: readOctetString(der, expectTag(parts[parts.length - 1]!, DerTag.octetString, 'extnValue')) };
  });
}

/** IssuingDistributionPoint (RFC 5280 §5.2.5) → scope, or a refusal for what pki does not support. */
function readIssuingDistributionPoint(value: Uint8Array): { scope: CrlScope; refusal: string | null } {
  let endEntities = true;
  let authorities = true;
  let distributionPoints: string[] | null = null;
  let refusal: string | null = null;
  const flag = (el: DerElement) => readBoolean(value, { ...el, tag: DerTag.boolean });
  for (const el of childrenOf(value, expectTag(readRootTlv(value), DerTag.sequence, 'IssuingDistributionPoint'))) {
    if (el.tag === 0xa0) {
      const [name] = childrenOf(value, el);
      if (name?.tag !== 0xa0) refusal = 'it names its distribution point relative to the CRL issuer (nameRelativeToCRLIssuer), which pki does not support';
      else distributionPoints = childrenOf(value, name).filter((g) => g.tag === 0x86).map((g) => Buffer.from(contentOf(value, g)).toString('latin1'));
    } else if (el.tag === 0x81 && flag(el)) authorities = false;
    else if (el.tag === 0x82 && flag(el)) endEntities = false;
    else if (el.tag === 0x83) refusal = 'it covers only some revocation reasons (onlySomeReasons), which pki does not support: give the CRL covering all reasons';
    else if (el.tag === 0x84 && flag(el)) refusal = 'it is an indirect CRL (indirectCRL), and indirect CRLs are not supported: give the CRL signed by the certificate\'s issuer';
    else if (el.tag === 0x85 && flag(el)) endEntities = authorities = false; // attribute certificates only
  }
  return { scope: { endEntities, authorities, distributionPoints }, refusal };
}

/**
 * The revoked entries: serial → offset. Refuses (by returning a reason) a critical entry extension pki
 * does not process (RFC 5280 §5.3), certificateIssuer included (indirect CRLs are not supported).
 */
function readEntries(der: Uint8Array, list: DerElement, entries: Map<string, number>): string | null {
  expectTag(list, DerTag.sequence, 'revokedCertificates');
  let refusal: string | null = null;
  for (let offset = contentStart(list); offset < list.end; ) {
    const entry = expectTag(readTlv(der, offset, list.end), DerTag.sequence, 'revoked certificate');
    offset = entry.end;
    const serialEl = expectTag(readTlv(der, contentStart(entry), entry.end), DerTag.integer, 'userCertificate');
    const timeEl = readTlv(der, serialEl.end, entry.end);
    const serial = readIntegerHex(der, serialEl);
    if (!entries.has(serial)) entries.set(serial, entry.start);
    if (timeEl.end === entry.end) continue;
    const extensions = expectTag(readTlv(der, timeEl.end, entry.end), DerTag.sequence, 'crlEntryExtensions');
    if (extensions.end !== entry.end) throw malformed(`revoked entry at offset ${entry.start} has extra fields`);
    for (let at = contentStart(extensions); at < extensions.end; ) {
      const ext = expectTag(readTlv(der, at, extensions.end), DerTag.sequence, 'Extension');
      at = ext.end;
      const id = readTlv(der, contentStart(ext), ext.end);
      const next = readTlv(der, id.end, ext.end);
      // Only a critical one needs its OID as text: the common reasonCode entry is never decoded here.
      if (next.tag !== DerTag.boolean || !readBoolean(der, next) || refusal !== null) continue;
      const oid = readOid(der, expectTag(id, DerTag.objectIdentifier, 'extnID'));
      if (oid === OID.certificateIssuer) refusal = 'an entry names another certificate issuer (certificateIssuer): indirect CRLs are not supported';
      else if (!KNOWN_ENTRY_EXTENSIONS.has(oid)) refusal = `the entry of serial ${serial} carries the critical extension ${oid}, which pki does not process`;
    }
  }
  return refusal;
}

/** Parses a DER CRL. Throws ERR_MALFORMED_DER / ERR_MALFORMED_CRL. */
// one piece: the TBSCertList's fields in order, each optional one tested where it may appear
export function readVerifiableCrl(der: Uint8Array): VerifiableCrl {
  const root = expectTag(readRootTlv(der), DerTag.sequence, 'CertificateList');
  const tbs = expectTag(readTlv(der, contentStart(root), root.end), DerTag.sequence, 'TBSCertList');
  const algorithm = expectTag(readTlv(der, tbs.end, root.end), DerTag.sequence, 'signatureAlgorithm');
  const signatureEl = expectTag(readTlv(der, algorithm.end, root.end), DerTag.bitString, 'signatureValue');
  if (signatureEl.end !== root.end) throw malformed('CertificateList has more than 3 fields');
  let offset = contentStart(tbs);
  const peek = () => (offset < tbs.end ? readTlv(der, offset, tbs.end) : undefined);
  const take = (what: string) => {
    const el = peek();
    if (el === undefined) throw malformed(`TBSCertList has no ${what}`);
    offset = el.end;
    return el;
  };
  const isTime = (el: DerElement | undefined) => el?.tag === DerTag.utcTime || el?.tag === DerTag.generalizedTime;
  if (peek()?.tag === DerTag.integer) {
    const version = readIntegerBigInt(der, take('version'));
    if (version !== 1n) throw malformed(`CRL version field is ${version}; only v2 (1) carries a version`);
  }
  const innerAlgorithm = expectTag(take('signature'), DerTag.sequence, 'signature');
  // RFC 5280 §5.1.1.2: the signed and unsigned algorithm fields MUST be identical.
  if (!Buffer.from(encodingOf(der, innerAlgorithm)).equals(encodingOf(der, algorithm))) throw malformed('the signature algorithm inside the CRL differs from the one outside it');
  const issuerDer = encodingOf(der, expectTag(take('issuer'), DerTag.sequence, 'issuer'));
  const thisUpdateEl = take('thisUpdate');
  if (!isTime(thisUpdateEl)) throw malformed('the CRL has no thisUpdate time');
  const nextUpdate = isTime(peek()) ? readTime(der, take('nextUpdate')) : null;
  const entries = new Map<string, number>();
  let refusal: string | null = null;
  if (peek()?.tag === DerTag.sequence) refusal = readEntries(der, take('revokedCertificates'), entries);
  let crlNumber: bigint | null = null;
  let authorityKeyIdentifier: Uint8Array | null = null;
  let scope: CrlScope = { endEntities: true, authorities: true, distributionPoints: null };
  if (peek()?.tag === 0xa0) {
    const wrapper = take('crlExtensions');
    for (const ext of readExtensions(der, readTlv(der, contentStart(wrapper), wrapper.end))) {
      if (ext.oid === OID.crlNumber) crlNumber = readIntegerBigInt(ext.value, expectTag(readRootTlv(ext.value), DerTag.integer, 'CRLNumber'));
      else if (ext.oid === OID.authorityKeyIdentifier) {
        const keyId = childrenOf(ext.value, expectTag(readRootTlv(ext.value), DerTag.sequence, 'AuthorityKeyIdentifier')).find((f) => f.tag === 0x80);
        authorityKeyIdentifier = keyId ? contentOf(ext.value, keyId) : null;
      } else if (ext.oid === OID.issuingDistributionPoint) {
        const idp = readIssuingDistributionPoint(ext.value);
        scope = idp.scope;
        refusal ??= idp.refusal;
      } else if (ext.oid === OID.deltaCrlIndicator) {
        refusal = 'it is a delta CRL (deltaCRLIndicator), which pki does not support: give the complete CRL';
      } else if (ext.critical && !KNOWN_CRL_EXTENSIONS.has(ext.oid)) {
        refusal ??= `it carries the critical extension ${ext.oid}, which pki does not process`;
      }
    }
  }
  if (peek() !== undefined) throw malformed(`unexpected field with tag 0x${peek()!.tag.toString(16)} in TBSCertList`);
  const [algorithmOid, algorithmParameters] = childrenOf(der, algorithm);
  if (algorithmOid === undefined) throw malformed('signature AlgorithmIdentifier is empty');
  const bits = readBitString(der, signatureEl);
  return {
    der,
    tbsDer: encodingOf(der, tbs),
    signatureAlgorithmOid: readOid(der, expectTag(algorithmOid, DerTag.objectIdentifier, 'algorithm')),
    ...(algorithmParameters ? { signatureAlgorithmParameters: encodingOf(der, algorithmParameters) } : {}),
    signature: bits.unusedBits === 0 ? bits.bytes : null,
    issuerDer,
    thisUpdate: readTime(der, thisUpdateEl),
    nextUpdate,
    crlNumber,
    authorityKeyIdentifier,
    scope,
    refusal,
    entries,
  };
}

/** The revocation date and reason of `serial` on the CRL, or undefined when it is not listed. */
export function crlEntryStatus(crl: VerifiableCrl, serial: string): CrlEntryStatus | undefined {
  const at = crl.entries.get(serial);
  if (at === undefined) return undefined;
  const der = crl.der;
  const entry = readTlv(der, at);
  const serialEl = readTlv(der, contentStart(entry), entry.end);
  const timeEl = readTlv(der, serialEl.end, entry.end);
  const revokedAt = readTime(der, timeEl);
  if (timeEl.end === entry.end) return { revokedAt };
  for (const ext of childrenOf(der, readTlv(der, timeEl.end, entry.end))) {
    const [id, ...rest] = childrenOf(der, ext);
    if (id === undefined || readOid(der, id) !== OID.reasonCode) continue;
    const value = readOctetString(der, rest[rest.length - 1]!);
    const reason = revocationReasonByCode(readEnumerated(value, readRootTlv(value)));
    if (reason === undefined) throw malformed(`the reasonCode of serial ${serial} is not defined by RFC 5280`);
    return { revokedAt, reason };
  }
  return { revokedAt };
}
