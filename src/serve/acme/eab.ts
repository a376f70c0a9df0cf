/**
 * External account binding (RFC 8555 §7.3.4): newAccount's `externalAccountBinding` is a flattened JWS
 * MACed (HS256, HS384 or HS512) with a key the operator handed out, whose payload is the new account's
 * JWK. The key id names an entry of the provisioner's `eab` map (pki.json `serve.provisioners.<name>.eab`):
 * a file holding the base64url HMAC key, relative to the CA home, read on each use (so a key can be
 * replaced or removed without a restart).
 */
import { resolve } from 'node:path';
import { calculateJwkThumbprint, flattenedVerify } from 'jose';
import { readBytes } from '../../store/ca-home.js';
import type { AcmeContext } from './context.js';
import { decodeProtectedHeader, parseFlattenedJws } from './jws.js';
import { AcmeProblemError } from './problem.js';

const MAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'];
const B64URL = /^[A-Za-z0-9_-]+$/;

function eabKey(context: AcmeContext, kid: string): Uint8Array {
  const file = Object.hasOwn(context.provisioner.eab, kid) ? context.provisioner.eab[kid] : undefined;
  if (file === undefined) throw new AcmeProblemError('unauthorized', 'the external account binding key id is not known');
  let text: string;
  try {
    text = readBytes(resolve(context.serve.home.dir, file), { maxBytes: 4096, what: 'an EAB key' }).toString('utf8').trim();
  } catch (e) {
    context.serve.log.event('could not read an external account binding key', { provisioner: context.provisioner.name, kid, error: e instanceof Error ? e.message : String(e) });
    throw new AcmeProblemError('serverInternal', 'the external account binding key cannot be read');
  }
  const key = B64URL.test(text) ? Buffer.from(text, 'base64url') : Buffer.alloc(0);
  if (key.length < 16) {
    context.serve.log.event('an external account binding key file does not hold a base64url key of at least 128 bits', { provisioner: context.provisioner.name, kid });
    throw new AcmeProblemError('serverInternal', 'the external account binding key is unusable');
  }
  return key;
}

/**
 * Checks the binding of a newAccount request whose outer JWS (already verified) carried `jwk` to `url`;
 * returns the EAB key id the account is bound with.
 */
export async function verifyExternalAccountBinding(context: AcmeContext, binding: unknown, url: string, accountThumbprint: string): Promise<string> {
  const jws = parseFlattenedJws(binding);
  const header = decodeProtectedHeader(jws.protected);
  const alg = header['alg'];
  if (typeof alg !== 'string' || !MAC_ALGORITHMS.includes(alg)) throw new AcmeProblemError('malformed', `the external account binding must be MACed with ${MAC_ALGORITHMS.join(', ')}`);
  if (header['nonce'] !== undefined) throw new AcmeProblemError('malformed', 'the external account binding must not carry a nonce');
  if (header['url'] !== url) throw new AcmeProblemError('unauthorized', 'the external account binding "url" is not the newAccount URL');
  const kid = header['kid'];
  if (typeof kid !== 'string' || kid === '') throw new AcmeProblemError('malformed', 'the external account binding has no "kid"');
  const key = eabKey(context, kid);
  let payload: Uint8Array;
  try {
    payload = (await flattenedVerify(jws, key, { algorithms: [alg] })).payload;
  } catch {
    throw new AcmeProblemError('unauthorized', 'the external account binding MAC does not verify');
  }
  let thumbprint: string;
  try {
    thumbprint = await calculateJwkThumbprint(JSON.parse(Buffer.from(payload).toString('utf8')) as Parameters<typeof calculateJwkThumbprint>[0], 'sha256');
  } catch {
    throw new AcmeProblemError('malformed', 'the external account binding payload is not a JWK');
  }
  if (thumbprint !== accountThumbprint) throw new AcmeProblemError('unauthorized', 'the external account binding binds another key than the one this request is signed with');
  return kid;
}
