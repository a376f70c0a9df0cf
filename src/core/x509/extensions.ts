/**
 * DER encoders for the certificate extensions pki writes (RFC 5280 §4.2). Each returns one complete
 * `Extension` (extnID, critical, extnValue).
 */
import { bitString, nullValue, octetString, oid, sequence, tlv } from '../der/writer.js';
import { encodeGeneralName, type San } from './names.js';
import { EXT_KEY_USAGE_OIDS, KEY_USAGE_BITS, type ExtKeyUsage, type KeyUsage } from './usages.js';

export const ExtensionOid = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  crlDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  ocspNoCheck: '1.3.6.1.5.5.7.48.1.5',
} as const;

const TRUE = Buffer.from([0x01, 0x01, 0xff]);

function extension(extnId: string, critical: boolean, value: Uint8Array): Buffer {
  return critical ? sequence(oid(extnId), TRUE, octetString(value)) : sequence(oid(extnId), octetString(value));
}

/** BasicConstraints; cA FALSE is the DEFAULT and so omitted in DER, leaving an empty SEQUENCE. */
export function basicConstraintsExtension(isCA: boolean, pathLen: number | null): Buffer {
  const items: Buffer[] = [];
  if (isCA) items.push(TRUE);
  if (isCA && pathLen !== null) items.push(tlv(0x02, Buffer.from([pathLen])));
  return extension(ExtensionOid.basicConstraints, true, sequence(...items));
}

/** KeyUsage as a DER named-bit list: trailing zero bits dropped (X.690 §11.2.2). Always critical. */
export function keyUsageExtension(usages: readonly KeyUsage[]): Buffer {
  let value = 0;
  let highest = 0;
  for (const u of usages) {
    const bit = KEY_USAGE_BITS[u];
    value |= 1 << (15 - bit);
    highest = Math.max(highest, bit);
  }
  const bytes = highest >= 8 ? Buffer.from([value >> 8, value & 0xff]) : Buffer.from([value >> 8]);
  const lastBits = bytes[bytes.length - 1]!;
  let unused = 0;
  while (unused < 8 && (lastBits & (1 << unused)) === 0) unused++;
  return extension(ExtensionOid.keyUsage, true, bitString(bytes, unused === 8 ? 0 : unused));
}

export function extKeyUsageExtension(usages: readonly ExtKeyUsage[]): Buffer {
  return extension(ExtensionOid.extKeyUsage, false, sequence(...usages.map((u) => oid(EXT_KEY_USAGE_OIDS[u]))));
}

export function subjectKeyIdentifierExtension(keyId: Uint8Array): Buffer {
  return extension(ExtensionOid.subjectKeyIdentifier, false, octetString(keyId));
}

export function authorityKeyIdentifierExtension(keyId: Uint8Array): Buffer {
  return extension(ExtensionOid.authorityKeyIdentifier, false, sequence(tlv(0x80, keyId)));
}

/** SubjectAltName; critical when the subject is empty (RFC 5280 §4.2.1.6). */
export function subjectAltNameExtension(sans: readonly San[], subjectEmpty: boolean): Buffer {
  return extension(ExtensionOid.subjectAltName, subjectEmpty, sequence(...sans.map(encodeGeneralName)));
}

/** CRLDistributionPoints with one fullName URI per distribution point. */
export function crlDistributionPointsExtension(urls: readonly string[]): Buffer {
  const points = urls.map((url) => sequence(tlv(0xa0, tlv(0xa0, encodeGeneralName({ type: 'uri', value: url })))));
  return extension(ExtensionOid.crlDistributionPoints, false, sequence(...points));
}

const OID_OCSP = '1.3.6.1.5.5.7.48.1';
const OID_CA_ISSUERS = '1.3.6.1.5.5.7.48.2';

export function authorityInfoAccessExtension(access: { ocsp?: readonly string[]; caIssuers?: readonly string[] }): Buffer {
  const items = [
    ...(access.ocsp ?? []).map((u) => sequence(oid(OID_OCSP), encodeGeneralName({ type: 'uri', value: u }))),
    ...(access.caIssuers ?? []).map((u) => sequence(oid(OID_CA_ISSUERS), encodeGeneralName({ type: 'uri', value: u }))),
  ];
  return extension(ExtensionOid.authorityInfoAccess, false, sequence(...items));
}

/** id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1): clients need not check a delegated OCSP signer's revocation. Value NULL. */
export function ocspNoCheckExtension(): Buffer {
  return extension(ExtensionOid.ocspNoCheck, false, nullValue());
}
