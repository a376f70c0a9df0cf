/**
 * Decoding an OpenSSH certificate (layout in certificate.ts) into a typed value, and checking its CA signature.
 */
import { PkiError } from '../errors.js';
import { CERT_SUFFIX, type SshCertificate } from './certificate.js';
import { decodeSshPublicKeyBlob, fingerprintSshPublicKey, importSshJwk, readKeyMaterial, refuseUnsupportedType, splitSshKeyLine } from './public-key.js';
import { readSshSignatureAlgorithm, verifySshSignature } from './signature.js';
import { encodeSshString, SshReader, UINT64_MAX } from './wire.js';

// JavaScript Dates end at 8.64e15 ms (year 275760); later SSH times other than "forever" are not representable.
const MAX_DATE_SECONDS = 8_640_000_000_000n;

/**
 * Decodes a certificate from its line (`…-cert-v01@openssh.com AAAA… comment`, i.e. a `-cert.pub` file)
 * or from its wire blob. Throws ERR_MALFORMED_SSH for anything structurally wrong, ERR_UNSUPPORTED_KEY for
 * DSA/FIDO certificates and ERR_UNKNOWN_OBJECT for a plain public key. Does not check the signature.
 */
export function decodeSshCertificate(input: string | Uint8Array): SshCertificate {
  const { blob, comment, lineType } = typeof input === 'string' ? splitCertificateLine(input) : { blob: input, comment: '', lineType: undefined };
  const reader = new SshReader(blob, 'SSH certificate');
  const type = reader.readText('certificate type');
  if (lineType !== undefined && type !== lineType) {
    throw new PkiError('ERR_MALFORMED_SSH', `certificate line type does not match its blob (${type})`);
  }
  if (!type.endsWith(CERT_SUFFIX)) {
    throw new PkiError('ERR_UNKNOWN_OBJECT', `this is a ${type} key, not an OpenSSH certificate`);
  }
  const keyType = type.slice(0, -CERT_SUFFIX.length);
  refuseUnsupportedType(keyType);
  reader.readString('nonce');
  const keyStart = reader.offset;
  const jwk = readKeyMaterial(reader, keyType);
  const publicKeyBlob = Buffer.concat([encodeSshString(keyType), blob.subarray(keyStart, reader.offset)]);
  importSshJwk(jwk, keyType); // a certificate for a key that cannot exist is malformed, not merely odd
  const serial = reader.readUint64('serial');
  const certTypeCode = reader.readUint32('certificate type code');
  const certType = certTypeCode === 1 ? 'user' : certTypeCode === 2 ? 'host' : undefined;
  if (certType === undefined) throw malformed(`unknown certificate type code ${certTypeCode}`);
  const keyId = reader.readText('key id');
  const principals = readPrincipals(reader.readString('principals'));
  const validAfterSeconds = reader.readUint64('valid after');
  const validBeforeSeconds = reader.readUint64('valid before');
  const criticalOptions = readOptions(reader.readString('critical options'), 'critical option');
  const extensions = readOptions(reader.readString('extensions'), 'extension');
  reader.readString('reserved');
  const signatureKey = reader.readString('signature key');
  const signedEnd = reader.offset;
  const signature = reader.readString('signature');
  reader.expectEnd();

  const signer = decodeSshPublicKeyBlob(signatureKey);
  return {
    type,
    keyType,
    keyId,
    serial: serial.toString(10),
    certType,
    principals,
    validAfter: secondsToDate(validAfterSeconds, 'valid after'),
    validBefore: validBeforeSeconds === UINT64_MAX ? 'forever' : secondsToDate(validBeforeSeconds, 'valid before'),
    criticalOptions: Object.fromEntries(criticalOptions.map(({ name, data }) => [name, decodeOptionValue(name, data)])),
    extensions: extensions.map(({ name }) => name),
    publicKeyFingerprint: fingerprintSshPublicKey(publicKeyBlob),
    signatureKeyType: signer.type,
    signatureKeyFingerprint: fingerprintSshPublicKey(signatureKey),
    signatureAlgorithm: readSshSignatureAlgorithm(signature),
    comment,
    raw: {
      blob: Buffer.from(blob),
      publicKey: publicKeyBlob,
      signedData: Buffer.from(blob.subarray(0, signedEnd)),
      signatureKey: Buffer.from(signatureKey),
      signature: Buffer.from(signature),
    },
  };
}

/**
 * True when the certificate's signature was made by its embedded signature key. Says nothing about
 * whether that key is a CA anyone trusts: compare `signatureKeyFingerprint` for that.
 */
export function verifySshCertificateSignature(certificate: SshCertificate | string | Uint8Array): boolean {
  const cert = typeof certificate === 'string' || certificate instanceof Uint8Array ? decodeSshCertificate(certificate) : certificate;
  const signer = decodeSshPublicKeyBlob(cert.raw.signatureKey);
  return verifySshSignature(signer.keyObject, signer.type, cert.raw.signature, cert.raw.signedData);
}

/** A `-cert.pub` line → its blob, comment and the type the line names (a plain key line is refused). */
function splitCertificateLine(line: string): { blob: Uint8Array; comment: string; lineType: string } {
  const split = splitSshKeyLine(line, 'certificate');
  if (!split.type.endsWith(CERT_SUFFIX)) {
    throw new PkiError('ERR_UNKNOWN_OBJECT', `this is a ${split.type} public key, not an OpenSSH certificate`, {
      hint: 'certificates are the -cert.pub files that ssh-keygen -s writes',
    });
  }
  return { blob: split.blob, comment: split.comment, lineType: split.type };
}

function readPrincipals(data: Uint8Array): string[] {
  const reader = new SshReader(data, 'SSH certificate principals');
  const principals: string[] = [];
  while (reader.remaining > 0) principals.push(reader.readText('principal'));
  return principals;
}

function readOptions(data: Uint8Array, what: string): { name: string; data: Uint8Array }[] {
  const reader = new SshReader(data, `SSH certificate ${what}s`);
  const options: { name: string; data: Uint8Array }[] = [];
  const seen = new Set<string>();
  while (reader.remaining > 0) {
    const name = reader.readText(`${what} name`);
    if (seen.has(name)) throw malformed(`${what} ${name} appears twice`);
    seen.add(name);
    options.push({ name, data: reader.readString(`${what} ${name}`) });
  }
  return options;
}

/** Known options hold a string inside the data string; unknown ones are shown the same way when they can be, else as hex. */
function decodeOptionValue(name: string, data: Uint8Array): string {
  if (data.length === 0) return '';
  try {
    const inner = new SshReader(data, `critical option ${name}`);
    const value = inner.readText(name);
    inner.expectEnd();
    return value;
  } catch (e) {
    if (name === 'force-command' || name === 'source-address') throw e;
    return Buffer.from(data).toString('hex');
  }
}

function secondsToDate(seconds: bigint, field: string): Date {
  if (seconds > MAX_DATE_SECONDS) throw malformed(`${field} (${seconds}) is beyond any representable date`);
  return new Date(Number(seconds) * 1000);
}

function malformed(detail: string): PkiError {
  return new PkiError('ERR_MALFORMED_SSH', `malformed SSH certificate: ${detail}`);
}