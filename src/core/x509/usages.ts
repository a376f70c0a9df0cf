/**
 * The key usage and extended key usage vocabulary (RFC 5280 §4.2.1.3 and §4.2.1.12), shared by profiles,
 * CSR policy and inspect output. OpenSSL's `nonRepudiation` is accepted as the old name of contentCommitment.
 */

export type KeyUsage =
  | 'digitalSignature'
  | 'contentCommitment'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly';

/** Bit positions in the KeyUsage BIT STRING. */
export const KEY_USAGE_BITS: Readonly<Record<KeyUsage, number>> = {
  digitalSignature: 0,
  contentCommitment: 1, // formerly nonRepudiation
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
  encipherOnly: 7,
  decipherOnly: 8,
};

export type ExtKeyUsage = 'serverAuth' | 'clientAuth' | 'codeSigning' | 'emailProtection' | 'timeStamping' | 'OCSPSigning';

export const EXT_KEY_USAGE_OIDS: Readonly<Record<ExtKeyUsage, string>> = {
  serverAuth: '1.3.6.1.5.5.7.3.1', // TLS WWW server authentication
  clientAuth: '1.3.6.1.5.5.7.3.2', // TLS WWW client authentication
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  OCSPSigning: '1.3.6.1.5.5.7.3.9',
};

const EKU_BY_OID = new Map(Object.entries(EXT_KEY_USAGE_OIDS).map(([name, o]) => [o, name as ExtKeyUsage]));

/** EKU name for an OID, or the dotted OID itself when pki has no name for it. */
export function extKeyUsageName(dotted: string): string {
  return EKU_BY_OID.get(dotted) ?? dotted;
}

/** Key usage names set in a KeyUsage BIT STRING's bytes (without the unused-bits octet), in bit order. */
export function decodeKeyUsageBits(bits: Uint8Array): KeyUsage[] {
  const out: KeyUsage[] = [];
  for (const [name, bit] of Object.entries(KEY_USAGE_BITS) as [KeyUsage, number][]) {
    const byte = bits[bit >> 3];
    if (byte !== undefined && (byte & (0x80 >> (bit & 7))) !== 0) out.push(name);
  }
  return out;
}
