/**
 * PKCS#12 (RFC 7292) files for `pki export --p12`, written with the project's DER writer (docs/decisions.md
 * says why not pkijs). The layout is OpenSSL 3's: an AuthenticatedSafe of two ContentInfos, the
 * certificates in an encrypted SafeContents and the key in a shrouded key bag in a plain one, then a
 * password MAC over both. friendlyName and localKeyId (SHA-1 of the leaf, as OpenSSL computes it) sit on
 * the key and the leaf so that Java and Windows pair them into one entry.
 */
import { createHash, randomBytes } from 'node:crypto';
import { algorithmIdentifier, explicit, integer, nullValue, octetString, oid, sequence, set, tlv } from '../der/writer.js';
import { encryptForPkcs12, MAC_OID, pkcs12MacKey, pkcs12MacWithKey } from './pkcs12-crypto.js';
import { OID_DATA, OID_ENCRYPTED_DATA, OID_SHROUDED_KEY_BAG, OID_CERT_BAG, OID_X509_CERTIFICATE, OID_FRIENDLY_NAME, OID_LOCAL_KEY_ID } from './pkcs12-oids.js';

export interface Pkcs12Contents {
  /** The private key as PKCS#8 DER (unencrypted; it is encrypted into the file). */
  readonly privateKeyPkcs8: Uint8Array;
  /** DER certificates, the leaf first, then its chain (intermediate, root with --with-root). */
  readonly certificates: readonly Uint8Array[];
  /** The leaf's friendlyName (its CN). */
  readonly friendlyName: string;
  /** UTF-8 password bytes. */
  readonly password: Uint8Array;
  /** 3DES + SHA-1 (pbeWithSHAAnd3-KeyTripleDES-CBC, SHA-1 MAC) for old Java and Windows readers. */
  readonly legacy: boolean;
  /** PBKDF2, PKCS#12 PBE and MAC iterations; default PKCS12_ITERATIONS (modern) or PKCS12_LEGACY_ITERATIONS. */
  readonly iterations?: number;
}

/**
 * One count for the bags AND the MAC: the MAC checks a password guess as well as a bag does, so a lower
 * MAC count would be the attacker's shortcut. OpenSSL 3 writes 2,048 and Java 17 10,000; 600,000 is what
 * pki uses for encrypted keys (OWASP 2023 for PBKDF2-HMAC-SHA256). OpenSSL opens such a file in ~0.3 s.
 */
export const PKCS12_ITERATIONS = 600_000;
/** `openssl pkcs12 -export -legacy`'s count: the legacy form is for readers from before PBES2. */
export const PKCS12_LEGACY_ITERATIONS = 2048;


/** BMPString (UTF-16BE), friendlyName's type. */
function bmpString(text: string): Buffer {
  const out = Buffer.alloc(text.length * 2);
  for (let i = 0; i < text.length; i++) out.writeUInt16BE(text.charCodeAt(i), i * 2);
  return tlv(0x1e, out);
}

/** DER SET OF: members in the order of their encodings (X.690 §11.6). */
function setOf(members: Buffer[]): Buffer {
  return set(...[...members].sort(Buffer.compare));
}

function bagAttributes(friendlyName: string, localKeyId: Uint8Array): Buffer {
  return setOf([
    sequence(oid(OID_FRIENDLY_NAME), set(bmpString(friendlyName))),
    sequence(oid(OID_LOCAL_KEY_ID), set(octetString(localKeyId))),
  ]);
}

/** SafeBag ::= SEQUENCE { bagId, bagValue [0] EXPLICIT, bagAttributes SET OF OPTIONAL }. */
function safeBag(bagId: string, value: Buffer, attributes?: Buffer): Buffer {
  return attributes ? sequence(oid(bagId), explicit(0, value), attributes) : sequence(oid(bagId), explicit(0, value));
}

const dataContentInfo = (content: Buffer): Buffer => sequence(oid(OID_DATA), explicit(0, octetString(content)));

/** ContentInfo of EncryptedData (RFC 5652 §8) whose encryptedContent [0] IMPLICIT holds `plain`, encrypted. */
async function encryptedContentInfo(plain: Buffer, contents: Pkcs12Contents, iterations: number): Promise<Buffer> {
  const { algorithm, ciphertext } = await encryptForPkcs12(plain, { password: contents.password, iterations, legacy: contents.legacy });
  const encryptedData = sequence(integer(0), sequence(oid(OID_DATA), algorithm, tlv(0x80, ciphertext)));
  return sequence(oid(OID_ENCRYPTED_DATA), explicit(0, encryptedData));
}

/** DER of a PFX holding the key, the certificates and a MAC over them. */
export async function encodePkcs12(contents: Pkcs12Contents): Promise<Uint8Array> {
  const iterations = contents.iterations ?? (contents.legacy ? PKCS12_LEGACY_ITERATIONS : PKCS12_ITERATIONS);
  const [leaf, ...chain] = contents.certificates;
  if (!leaf) throw new RangeError('encodePkcs12: no certificate');
  const localKeyId = createHash('sha1').update(leaf).digest();
  const attributes = bagAttributes(contents.friendlyName, localKeyId);

  const certBag = (der: Uint8Array) => sequence(oid(OID_X509_CERTIFICATE), explicit(0, octetString(der)));
  const certificates = sequence(safeBag(OID_CERT_BAG, certBag(leaf), attributes), ...chain.map((der) => safeBag(OID_CERT_BAG, certBag(der))));
  // The two PBKDF2 derivations run on libuv's threads while the MAC key's KDF (a JavaScript loop: it
  // depends on the password and salt only) runs here: about 0.45 s less per file (docs/performance.md W8).
  const keyCipherPromise = encryptForPkcs12(contents.privateKeyPkcs8, { password: contents.password, iterations, legacy: contents.legacy });
  const certificatesPromise = encryptedContentInfo(certificates, contents, iterations);
  const hash = contents.legacy ? 'sha1' : 'sha256';
  const macSalt = randomBytes(16);
  let macKey: Buffer;
  try {
    macKey = pkcs12MacKey(hash, contents.password, macSalt, iterations);
  } catch (e) {
    await Promise.allSettled([keyCipherPromise, certificatesPromise]);
    throw e;
  }
  const [keyCipher, encryptedCertificates] = await Promise.all([keyCipherPromise, certificatesPromise]);
  const shroudedKey = sequence(keyCipher.algorithm, octetString(keyCipher.ciphertext));
  const keys = sequence(safeBag(OID_SHROUDED_KEY_BAG, shroudedKey, attributes));

  const authenticatedSafe = sequence(encryptedCertificates, dataContentInfo(keys));
  const mac = pkcs12MacWithKey(hash, macKey, authenticatedSafe);
  const macData = sequence(sequence(algorithmIdentifier(MAC_OID[hash], nullValue()), octetString(mac)), octetString(macSalt), integer(iterations));
  return sequence(integer(3), dataContentInfo(authenticatedSafe), macData);
}
