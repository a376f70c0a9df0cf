/**
 * Certificate profiles as data (after smallstep's x509util templates): what each kind of certificate
 * may do. Kinds differ in this table, never in branches elsewhere.
 *
 * server/client/peer follow cfssl's profile names: server = serverAuth, client = clientAuth,
 * peer = both. `pki generate` issues its service certificate with `peer`, because Redis replication and
 * cluster links (and PostgreSQL streaming replicas) present the server certificate as a TLS client too.
 */
import type { ExtKeyUsage, KeyUsage } from './usages.js';
import type { CertificateFields } from './certificate-fields.js';
import { decodeExtKeyUsage } from './extension-decoders.js';
import { PkiError } from '../errors.js';

export type ProfileName = 'root' | 'intermediate' | 'server' | 'client' | 'peer';
export type LeafProfileName = 'server' | 'client' | 'peer';

export interface Profile {
  /** A built-in ProfileName, or a pki.json profile's name (core/x509/profile-config.ts). */
  readonly name: string;
  readonly isCA: boolean;
  /** BasicConstraints pathLenConstraint; null means absent. */
  readonly pathLen: number | null;
  readonly keyUsage: readonly KeyUsage[];
  /** RFC 5280 §4.2.1.3: keyEncipherment only makes sense for RSA key transport (TLS ≤ 1.2 RSA kex). */
  readonly keyEnciphermentForRsa: boolean;
  readonly extKeyUsage: readonly ExtKeyUsage[];
  /** Default lifetime as a duration (the CLI's --not-after default). */
  readonly defaultNotAfter: string;
}

export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  // pathLen 1: the root may sign intermediates that sign only leaves.
  root: { name: 'root', isCA: true, pathLen: 1, keyUsage: ['keyCertSign', 'cRLSign'], keyEnciphermentForRsa: false, extKeyUsage: [], defaultNotAfter: '10y' },
  intermediate: { name: 'intermediate', isCA: true, pathLen: 0, keyUsage: ['keyCertSign', 'cRLSign'], keyEnciphermentForRsa: false, extKeyUsage: [], defaultNotAfter: '5y' },
  server: { name: 'server', isCA: false, pathLen: null, keyUsage: ['digitalSignature'], keyEnciphermentForRsa: true, extKeyUsage: ['serverAuth'], defaultNotAfter: '90d' },
  // A client only signs (RFC 5280 §4.2.1.12: clientAuth is digitalSignature/keyAgreement): no keyEncipherment.
  client: { name: 'client', isCA: false, pathLen: null, keyUsage: ['digitalSignature'], keyEnciphermentForRsa: false, extKeyUsage: ['clientAuth'], defaultNotAfter: '90d' },
  peer: { name: 'peer', isCA: false, pathLen: null, keyUsage: ['digitalSignature'], keyEnciphermentForRsa: true, extKeyUsage: ['serverAuth', 'clientAuth'], defaultNotAfter: '90d' },
};

/**
 * A delegated OCSP responder (RFC 6960 §4.2.2.2), issued by `pki serve` only (operations/ocsp-signer.ts):
 * id-kp-OCSPSigning, digitalSignature, short-lived. Not a pki.json profile and not in PROFILES.
 */
export const OCSP_SIGNING_PROFILE: Profile = {
  name: 'ocsp',
  isCA: false,
  pathLen: null,
  keyUsage: ['digitalSignature'],
  keyEnciphermentForRsa: false,
  extKeyUsage: ['OCSPSigning'],
  defaultNotAfter: '3d',
};

export const LEAF_PROFILE_NAMES: readonly LeafProfileName[] = ['server', 'client', 'peer'];

export function isLeafProfileName(name: string): name is LeafProfileName {
  return (LEAF_PROFILE_NAMES as readonly string[]).includes(name);
}

/** The key usages a profile grants to a key of the given type. */
export function keyUsagesFor(profile: Profile, keyType: 'EC' | 'RSA' | 'OKP'): KeyUsage[] {
  const usages = [...profile.keyUsage];
  if (profile.keyEnciphermentForRsa && keyType === 'RSA') usages.push('keyEncipherment');
  return usages;
}

/**
 * The leaf profile a certificate's extended key usages name (cfssl's names): serverAuth+clientAuth → peer,
 * serverAuth → server, clientAuth → client. A certificate with neither gets `fallback` when one is given
 * (`pki db rebuild` records such a certificate as `server`) and is refused with ERR_POLICY otherwise
 * (`pki renew` cannot tell what to re-issue). CA certificates are the caller's to tell apart first.
 */
export function leafProfileOf(fields: Pick<CertificateFields, 'extensions'>, fallback?: LeafProfileName): LeafProfileName {
  const eku = decodeExtKeyUsage(fields);
  const server = eku.includes('serverAuth');
  const client = eku.includes('clientAuth');
  if (server && client) return 'peer';
  if (server) return 'server';
  if (client) return 'client';
  if (fallback !== undefined) return fallback;
  throw new PkiError('ERR_POLICY', `the certificate allows neither serverAuth nor clientAuth (${eku.join(', ') || 'no extended key usage'}), so no pki profile matches it`, {
    hint: 'issue a new certificate with "pki sign --profile server|client|peer"',
  });
}
