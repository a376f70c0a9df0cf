/**
 * PKCS#12 (.p12/.pfx, RFC 7292) → typed report for `pki inspect`: the MAC, each SafeContents and how it is
 * encrypted, each bag with its friendlyName and localKeyId, the certificates (as `inspect` describes
 * certificates) and the key's type and size — never the key itself: decrypted key bytes are wiped as
 * soon as they are described. The password is checked with the MAC first (a wrong one is ERR_BAD_PASSWORD).
 */
import { childrenOf, contentOf, DerTag, readIntegerBigInt, readOctetString, readOid, readRootTlv, type DerElement } from '../der/reader.js';
import { PkiError } from '../errors.js';
import { badPassword, decryptForPkcs12, describeEncryption, iterationCount, macHashOf, macMatches, pkcs12Mac, type Pkcs12Encryption } from '../export/pkcs12-crypto.js';
import type { KeyDescription } from '../keys/keys.js';
import { inspectCertificate } from './certificate.js';
import { inspectKey } from './key.js';
import { OID_DATA, OID_SIGNED_DATA, OID_ENCRYPTED_DATA, OID_X509_CERTIFICATE, OID_FRIENDLY_NAME, OID_LOCAL_KEY_ID, OID_SAFE_CONTENTS_BAG } from '../export/pkcs12-oids.js';

export type { Pkcs12Encryption };

export interface Pkcs12Certificate {
  readonly subject: string;
  readonly issuer: string;
  readonly serial: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly isCA: boolean;
  readonly fingerprintSha256: string;
}

export interface Pkcs12Bag {
  readonly type: 'certificate' | 'key' | 'shroudedKey' | 'crl' | 'secret' | 'other';
  readonly bagId: string;
  readonly friendlyName: string | null;
  /** Upper-case hex. */
  readonly localKeyId: string | null;
  /** How a shrouded key bag is encrypted (a certificate's encryption is its SafeContents'). */
  readonly encryption: Pkcs12Encryption | null;
  readonly certificate: Pkcs12Certificate | null;
  /** Type and size only; with the public key's SHA-256 fingerprint to pair it with its certificate. */
  readonly key: (KeyDescription & { readonly publicKeyFingerprintSha256: string | null }) | null;
}

export interface Pkcs12SafeContents {
  /** null: a plain (PKCS#7 data) SafeContents; its bags may still be encrypted one by one. */
  readonly encryption: Pkcs12Encryption | null;
  readonly bags: Pkcs12Bag[];
}

export interface Pkcs12Report {
  readonly type: 'pkcs12';
  readonly bytes: number;
  /** The password MAC (RFC 7292 §5); null when the file has none (nothing then proves it unaltered). */
  readonly mac: { readonly algorithm: string; readonly iterations: number; readonly saltBytes: number } | null;
  readonly safeContents: Pkcs12SafeContents[];
}

const BAG_TYPES: Readonly<Record<string, Pkcs12Bag['type']>> = {
  '1.2.840.113549.1.12.10.1.1': 'key',
  '1.2.840.113549.1.12.10.1.2': 'shroudedKey',
  '1.2.840.113549.1.12.10.1.3': 'certificate',
  '1.2.840.113549.1.12.10.1.4': 'crl',
  '1.2.840.113549.1.12.10.1.5': 'secret',
};

/**
 * RFC 7292 §4: PFX ::= SEQUENCE { version INTEGER {v3(3)}, authSafe ContentInfo, macData MacData OPTIONAL },
 * ContentInfo being PKCS#7 data or signedData. Nothing else starts with INTEGER 3 then such a ContentInfo.
 */
export function looksLikePkcs12(der: Uint8Array): boolean {
  try {
    const root = readRootTlv(der);
    if (root.tag !== DerTag.sequence) return false;
    const [version, authSafe] = childrenOf(der, root);
    if (version?.tag !== DerTag.integer || readIntegerBigInt(der, version) !== 3n) return false;
    if (authSafe?.tag !== DerTag.sequence) return false;
    const [contentType] = childrenOf(der, authSafe);
    if (contentType?.tag !== DerTag.objectIdentifier) return false;
    const oid = readOid(der, contentType);
    return oid === OID_DATA || oid === OID_SIGNED_DATA;
  } catch {
    return false;
  }
}

const malformed = (what: string) => new PkiError('ERR_MALFORMED_DER', `PKCS#12: ${what}`, { hint: 'the file is damaged or not a PKCS#12 file' });
function need(el: DerElement | undefined, tag: number, what: string): DerElement {
  if (el?.tag !== tag) throw malformed(`${what} is missing or of the wrong type`);
  return el;
}

/** ContentInfo of PKCS#7 data → the bytes of its [0] EXPLICIT OCTET STRING. */
function dataContent(der: Uint8Array, contentInfo: DerElement): Uint8Array {
  const [, content] = childrenOf(der, contentInfo);
  return readOctetString(der, need(childrenOf(der, need(content, 0xa0, 'ContentInfo content'))[0], DerTag.octetString, 'ContentInfo data'));
}

function readMac(der: Uint8Array, macData: DerElement, authSafe: Uint8Array, password: Uint8Array): Pkcs12Report['mac'] {
  const [digestInfo, saltEl, iterEl] = childrenOf(der, macData);
  const [alg, digestEl] = childrenOf(der, need(digestInfo, DerTag.sequence, 'MAC DigestInfo'));
  const algOid = readOid(der, need(childrenOf(der, need(alg, DerTag.sequence, 'MAC algorithm'))[0], DerTag.objectIdentifier, 'MAC algorithm'));
  const digest = readOctetString(der, need(digestEl, DerTag.octetString, 'MAC value'));
  const salt = readOctetString(der, need(saltEl, DerTag.octetString, 'MAC salt'));
  const iterations = iterEl ? iterationCount(der, need(iterEl, DerTag.integer, 'MAC iterations'), 'MAC iteration count') : 1;
  const hash = macHashOf(algOid);
  if (!hash) {
    throw new PkiError('ERR_UNSUPPORTED_KEY', `PKCS#12: MAC algorithm ${algOid} is not supported`, { hint: 'pki checks SHA-1 and SHA-2 PKCS#12 MACs; openssl pkcs12 -info may read this file' });
  }
  if (!macMatches(digest, pkcs12Mac(hash, password, salt, iterations, authSafe))) throw badPassword('the MAC does not match');
  return { algorithm: hash, iterations, saltBytes: salt.length };
}

function bmpText(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i + 1 < bytes.length; i += 2) s += String.fromCharCode((bytes[i]! << 8) | bytes[i + 1]!);
  return s;
}

function attributesOf(der: Uint8Array, set: DerElement | undefined): { friendlyName: string | null; localKeyId: string | null } {
  let friendlyName: string | null = null;
  let localKeyId: string | null = null;
  for (const attribute of set?.tag === DerTag.set ? childrenOf(der, set) : []) {
    const [typeEl, valuesEl] = childrenOf(der, attribute);
    if (typeEl?.tag !== DerTag.objectIdentifier || valuesEl?.tag !== DerTag.set) continue;
    const value = childrenOf(der, valuesEl)[0];
    const type = readOid(der, typeEl);
    if (type === OID_FRIENDLY_NAME && value?.tag === 0x1e) friendlyName = bmpText(contentOf(der, value));
    if (type === OID_LOCAL_KEY_ID && value?.tag === DerTag.octetString) localKeyId = Buffer.from(contentOf(der, value)).toString('hex').toUpperCase();
  }
  return { friendlyName, localKeyId };
}

/** PKCS#8 bytes → type and size; the bytes are wiped here, whatever happens. */
function describePkcs8(pkcs8: Uint8Array): Pkcs12Bag['key'] {
  try {
    const report = inspectKey('PRIVATE KEY', pkcs8);
    return report.key ? { ...report.key, publicKeyFingerprintSha256: report.publicKeyFingerprintSha256 } : null;
  } finally {
    pkcs8.fill(0);
  }
}

function certificateOf(der: Uint8Array, certBag: DerElement): Pkcs12Certificate | null {
  const [idEl, valueEl] = childrenOf(der, certBag);
  if (idEl?.tag !== DerTag.objectIdentifier || readOid(der, idEl) !== OID_X509_CERTIFICATE) return null;
  const c = inspectCertificate(readOctetString(der, need(childrenOf(der, need(valueEl, 0xa0, 'certificate value'))[0], DerTag.octetString, 'certificate')));
  return { subject: c.subject, issuer: c.issuer, serial: c.serial, notBefore: c.notBefore, notAfter: c.notAfter, isCA: c.isCA, fingerprintSha256: c.fingerprintSha256 };
}

/** SafeContents ::= SEQUENCE OF SafeBag { bagId, bagValue [0] EXPLICIT, bagAttributes SET OPTIONAL }. */
function readBags(der: Uint8Array, password: Uint8Array, depth = 0): Pkcs12Bag[] {
  const bags: Pkcs12Bag[] = [];
  for (const bag of childrenOf(der, need(readRootTlv(der), DerTag.sequence, 'SafeContents'))) {
    const [idEl, wrapper, attributesEl] = childrenOf(der, need(bag, DerTag.sequence, 'SafeBag'));
    const bagId = readOid(der, need(idEl, DerTag.objectIdentifier, 'bag type'));
    const value = need(childrenOf(der, need(wrapper, 0xa0, 'bag value'))[0], DerTag.sequence, 'bag value');
    if (bagId === OID_SAFE_CONTENTS_BAG && depth < 4) {
      bags.push(...readBags(der.subarray(value.start, value.end), password, depth + 1));
      continue;
    }
    const base = { bagId, ...attributesOf(der, attributesEl), encryption: null, certificate: null, key: null };
    const type = BAG_TYPES[bagId] ?? 'other';
    if (type === 'certificate') bags.push({ ...base, type, certificate: certificateOf(der, value) });
    else if (type === 'key') bags.push({ ...base, type, key: describePkcs8(Uint8Array.prototype.slice.call(der, value.start, value.end)) });
    else if (type === 'shroudedKey') {
      const [alg, ciphertext] = childrenOf(der, value);
      const algEl = need(alg, DerTag.sequence, 'key encryption algorithm');
      const plain = decryptForPkcs12(der, algEl, readOctetString(der, need(ciphertext, DerTag.octetString, 'encrypted key')), password);
      bags.push({ ...base, type, encryption: describeEncryption(der, algEl), key: describePkcs8(plain) });
    } else bags.push({ ...base, type });
  }
  return bags;
}

/** EncryptedData ::= SEQUENCE { version, EncryptedContentInfo { contentType, algorithm, [0] IMPLICIT content } }. */
function readEncryptedSafe(der: Uint8Array, contentInfo: DerElement, password: Uint8Array): Pkcs12SafeContents {
  const [, content] = childrenOf(der, contentInfo);
  const encryptedData = need(childrenOf(der, need(content, 0xa0, 'EncryptedData'))[0], DerTag.sequence, 'EncryptedData');
  const [, eci] = childrenOf(der, encryptedData);
  const [, alg, encrypted] = childrenOf(der, need(eci, DerTag.sequence, 'EncryptedContentInfo'));
  const algEl = need(alg, DerTag.sequence, 'content encryption algorithm');
  if (encrypted?.tag !== 0x80) throw malformed('the encrypted content is missing (or BER-constructed, which pki does not read)');
  const plain = decryptForPkcs12(der, algEl, contentOf(der, encrypted), password);
  return { encryption: describeEncryption(der, algEl), bags: readBags(plain, password) };
}

/** The report, having checked `password` against the MAC; ERR_BAD_PASSWORD when it does not open the file. */
export function inspectPkcs12(der: Uint8Array, password: Uint8Array): Pkcs12Report {
  const [, authSafeInfo, macData] = childrenOf(der, readRootTlv(der));
  const authInfo = need(authSafeInfo, DerTag.sequence, 'AuthenticatedSafe');
  if (readOid(der, need(childrenOf(der, authInfo)[0], DerTag.objectIdentifier, 'content type')) !== OID_DATA) {
    throw new PkiError('ERR_UNSUPPORTED_KEY', 'PKCS#12 in public-key integrity mode (signedData) is not supported', { hint: 'openssl pkcs12 -info may read it' });
  }
  const authSafe = dataContent(der, authInfo);
  const mac = macData ? readMac(der, need(macData, DerTag.sequence, 'MacData'), authSafe, password) : null;
  const safeContents: Pkcs12SafeContents[] = [];
  for (const info of childrenOf(authSafe, need(readRootTlv(authSafe), DerTag.sequence, 'AuthenticatedSafe'))) {
    const type = readOid(authSafe, need(childrenOf(authSafe, info)[0], DerTag.objectIdentifier, 'content type'));
    if (type === OID_DATA) safeContents.push({ encryption: null, bags: readBags(dataContent(authSafe, info), password) });
    else if (type === OID_ENCRYPTED_DATA) safeContents.push(readEncryptedSafe(authSafe, info, password));
    else throw new PkiError('ERR_UNSUPPORTED_KEY', `PKCS#12: a SafeContents of type ${type} (public-key privacy mode) is not supported`, { hint: 'openssl pkcs12 -info may read it' });
  }
  return { type: 'pkcs12', bytes: der.length, mac, safeContents };
}
