/**
 * SSH CA keys: generation and the strength policy applied before signing. Storage (PKCS#8 PEM) belongs to
 * core/keys/keys.ts and store/; this module only sees KeyObjects.
 */
import { generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { PkiError } from '../errors.js';
import { sshKeyTypeOf, type SshKeyType } from './public-key.js';
import { isExternalSigningKey, publicKeyOf, type SigningKey } from '../keys/signing-key.js';

/** A CA signs for years and every certificate inherits its strength, so RSA CAs need ≥3072 bits (NIST SP 800-57 128-bit level). */
export const MIN_RSA_CA_BITS = 3072;

export type SshCaKeySpec =
  | { readonly kty: 'OKP'; readonly crv?: 'Ed25519' }
  | { readonly kty: 'EC'; readonly crv?: 'P-256' | 'P-384' | 'P-521' }
  | { readonly kty: 'RSA'; readonly size?: number };

export interface SshCaKeyPair {
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
}

const generateKeyPairAsync = promisify(generateKeyPair);

/** Generates a CA key pair: Ed25519 by default, ECDSA P-256 unless told otherwise, RSA 3072 unless larger. */
export async function generateSshCaKey(spec: SshCaKeySpec = { kty: 'OKP' }): Promise<SshCaKeyPair> {
  switch (spec.kty) {
    case 'OKP':
      if (spec.crv !== undefined && spec.crv !== 'Ed25519') throw unsupportedCurve(spec.crv);
      return generateKeyPairAsync('ed25519');
    case 'EC': {
      const crv = spec.crv ?? 'P-256';
      if (!['P-256', 'P-384', 'P-521'].includes(crv)) throw unsupportedCurve(crv);
      return generateKeyPairAsync('ec', { namedCurve: crv });
    }
    case 'RSA': {
      const size = spec.size ?? MIN_RSA_CA_BITS;
      if (!Number.isInteger(size) || size < MIN_RSA_CA_BITS) {
        throw new PkiError('ERR_WEAK_KEY', `an RSA SSH CA key needs at least ${MIN_RSA_CA_BITS} bits, not ${size}`);
      }
      if (size > 8192) throw new PkiError('ERR_UNSUPPORTED_KEY', `RSA keys larger than 8192 bits are not supported (asked for ${size})`);
      return generateKeyPairAsync('rsa', { modulusLength: size });
    }
    default:
      throw new PkiError('ERR_UNSUPPORTED_KEY', `unsupported key type ${String((spec as { kty: unknown }).kty)}`, {
        hint: 'use OKP (Ed25519), EC or RSA',
      });
  }
}

/** Refuses a CA signing key that is not private, not an OpenSSH type, or RSA under 3072 bits. */
export function checkSshCaKey(privateKey: SigningKey): SshKeyType {
  if (!isExternalSigningKey(privateKey) && privateKey.type !== 'private') {
    throw new PkiError('ERR_UNSUPPORTED_KEY', 'the CA key must be a private key');
  }
  const publicKey = publicKeyOf(privateKey);
  const type = sshKeyTypeOf(publicKey);
  if (type === 'ssh-rsa') {
    const bits = publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_CA_BITS) {
      throw new PkiError('ERR_WEAK_KEY', `the RSA CA key is ${bits} bits; SSH CAs need at least ${MIN_RSA_CA_BITS}`, {
        hint: 'create a new SSH CA with an Ed25519 key',
      });
    }
  }
  return type;
}

function unsupportedCurve(crv: string): PkiError {
  return new PkiError('ERR_UNSUPPORTED_KEY', `unsupported curve ${crv} for an SSH CA`, { hint: 'use Ed25519, P-256, P-384 or P-521' });
}
