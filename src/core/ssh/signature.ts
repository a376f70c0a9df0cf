/**
 * SSH signatures (`string algorithm, string blob`) made and checked with node:crypto alone.
 *
 * Formats: Ed25519 raw 64 bytes (RFC 8709 §6); ECDSA `mpint r, mpint s` inside the blob (RFC 5656 §3.1.2),
 * converted from Node's fixed-width IEEE P1363 form; RSA PKCS#1 v1.5 over SHA-512 as `rsa-sha2-512`
 * (RFC 8332). pki never signs with `ssh-rsa` (SHA-1): OpenSSH 8.8+ refuses such CA signatures.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { publicKeyOf, signData, type SigningKey } from '../keys/signing-key.js';
import { PkiError } from '../errors.js';
import { ecdsaCurveForType, sshKeyTypeOf, type SshKeyType } from './public-key.js';
import { encodeSshMpint, encodeSshString, SshReader } from './wire.js';

export type SshSignatureAlgorithm =
  | 'ssh-ed25519'
  | 'ecdsa-sha2-nistp256'
  | 'ecdsa-sha2-nistp384'
  | 'ecdsa-sha2-nistp521'
  | 'rsa-sha2-256'
  | 'rsa-sha2-512';

/** Signs `data` and returns the SSH signature blob and the algorithm name inside it. */
export function signSshData(privateKey: SigningKey, data: Uint8Array): { algorithm: SshSignatureAlgorithm; blob: Buffer } {
  const type = sshKeyTypeOf(publicKeyOf(privateKey));
  if (type === 'ssh-ed25519') {
    return wrap('ssh-ed25519', signData(null, data, privateKey));
  }
  if (type === 'ssh-rsa') {
    return wrap('rsa-sha2-512', signData('sha512', data, privateKey));
  }
  const curve = ecdsaCurveForType(type);
  const rs = signData(curve.hash, data, privateKey, 'ieee-p1363');
  const r = rs.subarray(0, curve.coordinateBytes);
  const s = rs.subarray(curve.coordinateBytes);
  return wrap(type, Buffer.concat([encodeSshMpint(r), encodeSshMpint(s)]));
}

/**
 * Checks an SSH signature blob over `data` with the signer's public key of type `keyType`. Returns false
 * for a wrong signature or an algorithm that does not belong to the key; throws ERR_UNSUPPORTED_KEY for
 * `ssh-rsa` (SHA-1) and ERR_MALFORMED_SSH when the blob cannot be parsed.
 */
export function verifySshSignature(publicKey: KeyObject, keyType: SshKeyType, signatureBlob: Uint8Array, data: Uint8Array): boolean {
  const reader = new SshReader(signatureBlob, 'SSH signature');
  const algorithm = reader.readText('signature algorithm');
  const raw = reader.readString('signature');
  reader.expectEnd();
  const key = publicKey.type === 'private' ? createPublicKey(publicKey) : publicKey;
  try {
    if (keyType === 'ssh-ed25519') {
      return algorithm === 'ssh-ed25519' && raw.length === 64 && verify(null, data, key, raw);
    }
    if (keyType === 'ssh-rsa') {
      if (algorithm === 'ssh-rsa') {
        throw new PkiError('ERR_UNSUPPORTED_KEY', 'the signature uses ssh-rsa (RSA with SHA-1), which pki does not accept', {
          hint: 're-sign with rsa-sha2-512: ssh-keygen -s CA -t rsa-sha2-512 …',
        });
      }
      if (algorithm === 'rsa-sha2-512') return verify('sha512', data, key, raw);
      if (algorithm === 'rsa-sha2-256') return verify('sha256', data, key, raw);
      return false;
    }
    const curve = ecdsaCurveForType(keyType);
    if (algorithm !== keyType) return false;
    const inner = new SshReader(raw, 'ECDSA signature');
    const r = inner.readMpint('r');
    const s = inner.readMpint('s');
    inner.expectEnd();
    const width = curve.coordinateBytes;
    if (r.length > width || s.length > width) return false;
    const p1363 = Buffer.alloc(2 * width);
    p1363.set(r, width - r.length);
    p1363.set(s, 2 * width - s.length);
    return verify(curve.hash, data, { key, dsaEncoding: 'ieee-p1363' }, p1363);
  } catch (e) {
    if (e instanceof PkiError) throw e;
    // OpenSSL rejects some structurally odd inputs by throwing; for a verifier that is simply "invalid".
    return false;
  }
}

/** The signature algorithm name inside an SSH signature blob. */
export function readSshSignatureAlgorithm(signatureBlob: Uint8Array): string {
  return new SshReader(signatureBlob, 'SSH signature').readText('signature algorithm');
}

function wrap(algorithm: SshSignatureAlgorithm, raw: Uint8Array): { algorithm: SshSignatureAlgorithm; blob: Buffer } {
  return { algorithm, blob: Buffer.concat([encodeSshString(algorithm), encodeSshString(raw)]) };
}
