/**
 * CA keys on a PKCS#11 token (issue 14, point 2) through pkcs11js: the module loaded and initialised once
 * per process, one logged-in session per token, keys generated on the token and never extractable, and
 * signing as a core ExternalSigningKey. pkcs11js calls are synchronous, so a token key signs on the same
 * synchronous path as a key file does (docs/decisions.md "Issue 14").
 *
 * The hash is computed here with node:crypto and the token signs the digest (CKM_ECDSA), which every token
 * offers; RSA uses CKM_SHA*_RSA_PKCS, PKCS#1 v1.5 with the token's own hashing. CKM_ECDSA gives r‖s, which
 * becomes DER for X.509 and stays r‖s for SSH (core/ssh/signature.ts makes the mpints).
 *
 * The PIN: read from the pin-source file into a Buffer, handed to C_Login, the Buffer wiped. pkcs11js takes
 * the PIN as a JS string, which cannot be wiped: it lives until the garbage collector reclaims it. Never
 * in argv, the environment, a message or a log.
 */
import { createHash, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import type * as Pkcs11Js from 'pkcs11js';
import { algorithmIdentifier, tlv } from '../../core/der/writer.js';
import { DerTag, readOctetString, readRootTlv } from '../../core/der/reader.js';
import { PkiError } from '../../core/errors.js';
import { ecdsaP1363ToDer, type DsaEncoding, type ExternalSigningKey, type SignatureHash } from '../../core/keys/signing-key.js';
import { readBytes } from '../fs/read-file.js';
import { formatPkcs11Uri, keyObjectUri, type Pkcs11Uri } from './uri.js';

type Pkcs11Module = typeof Pkcs11Js;

/** What a token key is made as: the key types of `--kty/--crv/--size` the token is asked for. */
export type TokenKeySpec =
  | { readonly kty: 'EC'; readonly crv: 'P-256' | 'P-384' | 'P-521' }
  | { readonly kty: 'RSA'; readonly size: number }
  | { readonly kty: 'OKP'; readonly crv?: string };

/** CKA_EC_PARAMS: the named curve's OID, DER (RFC 5480 §2.1.1.1). */
const CURVE_PARAMS: Readonly<Record<string, string>> = {
  'P-256': '06082a8648ce3d030107',
  'P-384': '06052b81040022',
  'P-521': '06052b81040023',
};
const EC_PUBLIC_KEY_OID = '1.2.840.10045.2.1';

interface OpenToken {
  readonly pkcs11: Pkcs11Js.PKCS11;
  readonly lib: Pkcs11Module;
  readonly session: Buffer;
  readonly uri: Pkcs11Uri;
}

const modules = new Map<string, { lib: Pkcs11Module; pkcs11: Pkcs11Js.PKCS11 }>();
const tokens = new Map<string, OpenToken>();

function pkcs11Failure(e: unknown, what: string): PkiError {
  const name = e instanceof Error ? e.message.split(/[:\s]/)[0] : String(e);
  return new PkiError('ERR_PKCS11', `the PKCS#11 token refused to ${what} (${name})`, { cause: e });
}

/** The pkcs11js binding, loaded only by commands that reach a token (it is a native module). */
async function loadModule(modulePath: string): Promise<{ lib: Pkcs11Module; pkcs11: Pkcs11Js.PKCS11 }> {
  const known = modules.get(modulePath);
  if (known) return known;
  if (!existsSync(modulePath)) {
    throw new PkiError('ERR_PKCS11', `the PKCS#11 module ${modulePath} does not exist`, {
      hint: 'install it (SoftHSM2: apt install softhsm2, /usr/lib/softhsm/libsofthsm2.so) or correct module-path= in the URI',
    });
  }
  const imported = (await import('pkcs11js')) as Pkcs11Module & { default?: Pkcs11Module };
  const lib = imported.default ?? imported;
  const pkcs11 = new lib.PKCS11();
  try {
    pkcs11.load(modulePath);
    pkcs11.C_Initialize();
  } catch (e) {
    throw new PkiError('ERR_PKCS11', `${modulePath} could not be loaded as a PKCS#11 module`, { hint: 'check module-path= names the vendor library (.so) of the token', cause: e });
  }
  const entry = { lib, pkcs11 };
  modules.set(modulePath, entry);
  return entry;
}

/** The PIN file's content without its final newline; the caller wipes it. */
function readPin(pinFile: string): Buffer {
  if (!existsSync(pinFile)) {
    throw new PkiError('ERR_FILE_NOT_FOUND', `the PIN file ${pinFile} does not exist`, { hint: 'write the token user PIN into it (mode 0600), or correct pin-source= in the URI' });
  }
  const bytes = readBytes(pinFile, { maxBytes: 1024, what: 'PIN file' });
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0a) end--;
  if (end > 0 && bytes[end - 1] === 0x0d) end--;
  const pin = Buffer.from(bytes.subarray(0, end));
  bytes.fill(0);
  if (pin.length === 0) throw new PkiError('ERR_BAD_PIN', `the PIN file ${pinFile} is empty`, { hint: 'write the token user PIN into it' });
  return pin;
}

/** The slot holding the token labelled `label` (CK_TOKEN_INFO labels are padded with spaces). */
function findSlot(pkcs11: Pkcs11Js.PKCS11, uri: Pkcs11Uri): Buffer {
  const labels: string[] = [];
  for (const slot of pkcs11.C_GetSlotList(true)) {
    const label = pkcs11.C_GetTokenInfo(slot).label.replace(/[\s\0]+$/, '');
    if (label === uri.token) return slot;
    if (label !== '') labels.push(label);
  }
  throw new PkiError('ERR_TOKEN_NOT_FOUND', `module ${uri.modulePath} has no token labelled "${uri.token}"${labels.length ? ` (it has ${labels.map((l) => `"${l}"`).join(', ')})` : ''}`, {
    hint: `initialise one (softhsm2-util --init-token --free --label ${uri.token} …) or correct token= in the URI`,
  });
}

/** A read-write session on the token, logged in as the user with the PIN from its file. One per token and process. */
export async function openToken(uri: Pkcs11Uri): Promise<OpenToken> {
  const key = `${uri.modulePath}\0${uri.token}`;
  const known = tokens.get(key);
  if (known) return known;
  const { lib, pkcs11 } = await loadModule(uri.modulePath);
  const slot = findSlot(pkcs11, uri);
  const pin = readPin(uri.pinFile);
  let session: Buffer;
  try {
    session = pkcs11.C_OpenSession(slot, lib.CKF_SERIAL_SESSION | lib.CKF_RW_SESSION);
  } catch (e) {
    pin.fill(0);
    throw pkcs11Failure(e, 'open a session');
  }
  try {
    pkcs11.C_Login(session, lib.CKU_USER, pin.toString('utf8'));
  } catch (e) {
    const code = (e as { code?: number }).code;
    if (code === lib.CKR_PIN_INCORRECT || code === lib.CKR_PIN_LEN_RANGE) {
      throw new PkiError('ERR_BAD_PIN', `the PIN in ${uri.pinFile} is not the user PIN of token "${uri.token}"`, {
        hint: 'put the right PIN in the file (each wrong try counts towards locking the token)',
      });
    }
    if (code === lib.CKR_PIN_LOCKED) {
      throw new PkiError('ERR_BAD_PIN', `token "${uri.token}" is locked after too many wrong PINs`, { hint: 'unlock it with the SO PIN (pkcs11-tool --init-pin --login --login-type so)' });
    }
    if (code !== lib.CKR_USER_ALREADY_LOGGED_IN) throw pkcs11Failure(e, 'log in');
  } finally {
    pin.fill(0);
  }
  const open = { pkcs11, lib, session, uri };
  tokens.set(key, open);
  return open;
}

/** Handles of the objects of class `cls` labelled `label`. */
function findObjects(t: OpenToken, cls: number, label: string): Buffer[] {
  const { pkcs11, lib, session } = t;
  pkcs11.C_FindObjectsInit(session, [
    { type: lib.CKA_CLASS, value: cls },
    { type: lib.CKA_LABEL, value: label },
  ]);
  try {
    return pkcs11.C_FindObjects(session, 16);
  } finally {
    pkcs11.C_FindObjectsFinal(session);
  }
}

/** The labels among `labels` that already name a key on the token (init refuses to make a second one). */
export async function existingTokenKeys(uri: Pkcs11Uri, labels: readonly string[]): Promise<string[]> {
  const t = await openToken(uri);
  return labels.filter((label) => findObjects(t, t.lib.CKO_PRIVATE_KEY, label).length > 0 || findObjects(t, t.lib.CKO_PUBLIC_KEY, label).length > 0);
}

/** SubjectPublicKeyInfo of a token public key, from CKA_EC_PARAMS/CKA_EC_POINT or CKA_MODULUS/CKA_PUBLIC_EXPONENT. */
function publicKeyOfObject(t: OpenToken, handle: Buffer): KeyObject {
  const { pkcs11, lib, session } = t;
  const [keyType] = pkcs11.C_GetAttributeValue(session, handle, [{ type: lib.CKA_KEY_TYPE }]);
  const type = keyType!.value!.readUIntLE(0, keyType!.value!.length > 6 ? 6 : keyType!.value!.length);
  if (type === lib.CKK_EC) {
    const [params, point] = pkcs11.C_GetAttributeValue(session, handle, [{ type: lib.CKA_EC_PARAMS }, { type: lib.CKA_EC_POINT }]);
    // PKCS#11 2.40 §2.3.3: CKA_EC_POINT is the DER OCTET STRING of the point; some older tokens give it raw.
    const raw = point!.value as Buffer;
    const octets = raw[0] === DerTag.octetString ? Buffer.from(readOctetString(raw, readRootTlv(raw))) : raw;
    const spki = tlv(DerTag.sequence, Buffer.concat([algorithmIdentifier(EC_PUBLIC_KEY_OID, params!.value as Buffer), tlv(DerTag.bitString, Buffer.concat([Buffer.from([0]), octets]))]));
    return createPublicKey({ key: spki, format: 'der', type: 'spki' });
  }
  if (type === lib.CKK_RSA) {
    const [n, e] = pkcs11.C_GetAttributeValue(session, handle, [{ type: lib.CKA_MODULUS }, { type: lib.CKA_PUBLIC_EXPONENT }]);
    return createPublicKey({ key: { kty: 'RSA', n: (n!.value as Buffer).toString('base64url'), e: (e!.value as Buffer).toString('base64url') }, format: 'jwk' });
  }
  throw new PkiError('ERR_UNSUPPORTED_KEY', `the token key is of PKCS#11 key type ${type}, which pki does not sign with`, { hint: 'use an EC or RSA key' });
}

/** Signs with the private key `handle`: ECDSA over our digest, RSA PKCS#1 v1.5 with the token hashing. */
function tokenSigner(t: OpenToken, handle: Buffer, publicKey: KeyObject, label: string): ExternalSigningKey {
  const { pkcs11, lib, session } = t;
  const isEc = publicKey.asymmetricKeyType === 'ec';
  const rsaMechanism = { sha256: lib.CKM_SHA256_RSA_PKCS, sha384: lib.CKM_SHA384_RSA_PKCS, sha512: lib.CKM_SHA512_RSA_PKCS };
  const description = formatPkcs11Uri(keyObjectUri(t.uri, label));
  return {
    publicKey,
    description,
    sign(hash: SignatureHash, data: Uint8Array, dsaEncoding: DsaEncoding): Buffer {
      if (hash === null) throw new PkiError('ERR_UNSUPPORTED_KEY', `${label} on the token cannot sign without a hash (Ed25519)`);
      try {
        if (isEc) {
          pkcs11.C_SignInit(session, { mechanism: lib.CKM_ECDSA }, handle);
          const rs = pkcs11.C_Sign(session, createHash(hash).update(data).digest(), Buffer.alloc(132));
          return dsaEncoding === 'der' ? ecdsaP1363ToDer(rs) : Buffer.from(rs);
        }
        pkcs11.C_SignInit(session, { mechanism: rsaMechanism[hash] }, handle);
        return Buffer.from(pkcs11.C_Sign(session, Buffer.from(data), Buffer.alloc(1024)));
      } catch (e) {
        throw pkcs11Failure(e, `sign with ${label}`);
      }
    },
  };
}

/** The key labelled `label` on the token, ready to sign: its private object and the public key beside it. */
export async function openTokenKey(uri: Pkcs11Uri, label: string): Promise<ExternalSigningKey> {
  const t = await openToken(uri);
  const privates = findObjects(t, t.lib.CKO_PRIVATE_KEY, label);
  const publics = findObjects(t, t.lib.CKO_PUBLIC_KEY, label);
  if (privates.length === 0 || publics.length === 0) {
    throw new PkiError('ERR_TOKEN_KEY_MISSING', `token "${uri.token}" holds no ${privates.length === 0 ? 'private' : 'public'} key labelled "${label}"`, {
      hint: 'check token= names the token the CA was created on (pkcs11-tool --list-objects --login shows its keys)',
    });
  }
  if (privates.length > 1 || publics.length > 1) {
    throw new PkiError('ERR_PKCS11', `token "${uri.token}" holds more than one key labelled "${label}"`, { hint: 'delete the extra objects (pkcs11-tool --delete-object) so that one key pair has the label' });
  }
  return tokenSigner(t, privates[0]!, publicKeyOfObject(t, publics[0]!), label);
}

/**
 * Generates a key pair on the token labelled `label`: the private key is a token object, private,
 * sensitive, never extractable, for signing only; its public key is a token object beside it (same
 * CKA_ID), from which pki reads the public half again later.
 */
export async function generateTokenKey(uri: Pkcs11Uri, label: string, spec: TokenKeySpec): Promise<ExternalSigningKey> {
  const t = await openToken(uri);
  const { pkcs11, lib, session } = t;
  if (spec.kty === 'OKP') {
    throw new PkiError('ERR_UNSUPPORTED_KEY', 'pki does not make Ed25519 keys on a PKCS#11 token', { hint: 'use --kty EC (P-256, P-384) or --kty RSA with --kms' });
  }
  const id = randomBytes(8);
  const common = [
    { type: lib.CKA_TOKEN, value: true },
    { type: lib.CKA_LABEL, value: label },
    { type: lib.CKA_ID, value: id },
  ];
  const publicTemplate = [...common, { type: lib.CKA_PRIVATE, value: false }, { type: lib.CKA_VERIFY, value: true }, { type: lib.CKA_ENCRYPT, value: false }, { type: lib.CKA_WRAP, value: false }];
  const privateTemplate = [
    ...common,
    { type: lib.CKA_PRIVATE, value: true },
    { type: lib.CKA_SENSITIVE, value: true },
    { type: lib.CKA_EXTRACTABLE, value: false },
    { type: lib.CKA_SIGN, value: true },
    { type: lib.CKA_DECRYPT, value: false },
    { type: lib.CKA_UNWRAP, value: false },
    { type: lib.CKA_DERIVE, value: false },
  ];
  const [mechanism, parameters] =
    spec.kty === 'EC'
      ? [lib.CKM_EC_KEY_PAIR_GEN, [{ type: lib.CKA_EC_PARAMS, value: Buffer.from(CURVE_PARAMS[spec.crv]!, 'hex') }]]
      : [lib.CKM_RSA_PKCS_KEY_PAIR_GEN, [{ type: lib.CKA_MODULUS_BITS, value: spec.size }, { type: lib.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) }]];
  let pair: Pkcs11Js.KeyPair;
  try {
    pair = pkcs11.C_GenerateKeyPair(session, { mechanism }, [...publicTemplate, ...parameters], privateTemplate);
  } catch (e) {
    const code = (e as { code?: number }).code;
    if (code === lib.CKR_MECHANISM_INVALID || code === lib.CKR_DOMAIN_PARAMS_INVALID || code === lib.CKR_ATTRIBUTE_VALUE_INVALID || code === lib.CKR_KEY_SIZE_RANGE) {
      throw new PkiError('ERR_UNSUPPORTED_KEY', `token "${uri.token}" does not make ${spec.kty === 'EC' ? `EC ${spec.crv}` : `RSA ${spec.size}`} keys`, { hint: 'choose another --kty/--crv/--size', cause: e });
    }
    throw pkcs11Failure(e, `generate the key ${label}`);
  }
  return tokenSigner(t, pair.privateKey, publicKeyOfObject(t, pair.publicKey), label);
}
