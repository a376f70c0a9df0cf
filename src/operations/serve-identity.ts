/**
 * The HTTPS listener's own certificate for `pki serve` (issue 13): a fresh P-256 key that lives only in the
 * server's memory and a short-lived server certificate from the intermediate for the listen address (its
 * IP or name, and `localhost`), recorded in the inventory like any other leaf so it can be listed and
 * revoked. The server asks for a successor at two thirds of the lifetime (serve/tls-identity.ts).
 */
import { isIP } from 'node:net';
import { encodePem, PemLabel } from '../core/der/pem.js';
import { generateKeyPair } from '../core/keys/keys.js';
import type { LoadedIssuer } from '../core/x509/issuer.js';
import { formatDistinguishedName } from '../core/x509/name-decoder.js';
import { parseSans } from '../core/x509/names.js';
import { resolveValidity } from '../core/x509/validity.js';
import type { PkiConfig } from '../store/config.js';
import type { Inventory } from '../store/inventory/index.js';
import { issuedCertificateRecord } from '../store/inventory/record.js';
import { issueLeafCertificate, leafProfile } from './issue-leaf.js';

export interface ServerIdentityRequest {
  /** The listen host (`127.0.0.1`, `::1`, `ca.internal`; `0.0.0.0`/`::` add no SAN). */
  readonly host: string;
  /** Lifetime, a duration; default 1d. */
  readonly lifetime?: string;
}

export interface ServerIdentity {
  readonly keyPem: string;
  /** Leaf + intermediate, PEM (clients trust only the root). */
  readonly chainPem: string;
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export async function issueServerIdentity(
  inventory: Inventory,
  issuer: LoadedIssuer & { certificatePem: string },
  config: PkiConfig,
  request: ServerIdentityRequest,
  now: Date,
): Promise<ServerIdentity> {
  const wildcard = request.host === '0.0.0.0' || request.host === '::';
  const names = ['localhost', ...(wildcard || request.host === 'localhost' ? [] : [request.host])];
  if (!names.includes('127.0.0.1') && (request.host === 'localhost' || wildcard)) names.push('127.0.0.1', '::1');
  const sans = parseSans(names);
  const keys = await generateKeyPair({ kty: 'EC', crv: 'P-256' });
  const validity = resolveValidity({ now, notAfter: request.lifetime ?? '1d', skewMs: 60_000 });
  const commonName = isIP(request.host) || wildcard ? 'pki serve' : request.host;
  const profile = leafProfile(config, 'server');
  const leaf = issueLeafCertificate({ issuer, config, profile, subject: { commonName }, sans, publicKey: keys.publicKey, validity });
  const pem = encodePem(PemLabel.certificate, leaf.der);
  inventory.recordIssued([
    issuedCertificateRecord(
      { der: leaf.der, pem, serial: leaf.serial, subject: leaf.subject, sans: leaf.sans, issuer: formatDistinguishedName(issuer.subjectDer), issuerKeyIdentifier: issuer.keyIdentifier, validity },
      { profile: 'server', profileName: 'serve-tls', certificatePath: null, keyPath: null },
    ),
  ]);
  return {
    keyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    chainPem: pem + issuer.certificatePem,
    serial: leaf.serial,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
  };
}
