/**
 * Intermediates retired by `pki ca rotate` (issue 14): the old certificate and key kept as
 * `ca/retired/<key id>/intermediate_ca.{crt,key}` (the folder named by the key's subjectKeyIdentifier, hex).
 * A retired intermediate issues nothing new, but keeps signing the CRL of what it issued
 * (`crl/retired/<key id>.crl`, also in crl/chain.crl.pem) until its last leaf has expired, and `pki renew`
 * accepts its leaves as this CA's.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseCertificate, subjectKeyIdentifierOf, type CertificateFields } from '../core/x509/certificate-fields.js';
import { findPemBlock, PemLabel } from '../core/der/pem.js';
import { isIssuedBy } from '../core/x509/issued-by.js';
import { issuerFromCertificate, type LoadedIssuer } from '../core/x509/issuer.js';
import { keyIdHex } from './inventory/record.js';
import type { Inventory } from './inventory/index.js';
import { normalizeSerial } from '../core/x509/serial.js';
import { readText, type CaHome } from './ca-home.js';
import { openCaKeyFile, type PassphraseSource } from './ca-key.js';

export const RETIRED_CA_FOLDER = 'retired';

export interface RetiredIntermediate {
  /** The key identifier, upper-case hex: its folder name and the inventory's issuer_key_id of its leaves. */
  readonly keyId: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** Where its CRL is published. */
  readonly crlPath: string;
  readonly certificate: CertificateFields;
  readonly certificatePem: string;
}

/** ca/retired/, or ca/NAME/retired/ for a `pki ca add` CA. */
export function retiredFolder(home: CaHome): string {
  return join(home.intermediateDir, RETIRED_CA_FOLDER);
}

/** crl/retired/, or crl/retired/NAME/ for a `pki ca add` CA (the default's CRLs are the *.crl files of crl/retired/). */
export function retiredCrlFolder(home: CaHome): string {
  return home.issuingCaName ? join(home.crlDir, RETIRED_CA_FOLDER, home.issuingCaName) : join(home.crlDir, RETIRED_CA_FOLDER);
}

/** Where intermediate `keyId` goes when retired. */
export function retiredPaths(home: CaHome, keyId: string): Pick<RetiredIntermediate, 'keyId' | 'certPath' | 'keyPath' | 'crlPath'> {
  const dir = join(retiredFolder(home), keyId);
  return { keyId, certPath: join(dir, 'intermediate_ca.crt'), keyPath: join(dir, 'intermediate_ca.key'), crlPath: join(retiredCrlFolder(home), `${keyId}.crl`) };
}

/** The key identifier (hex) of a CA certificate. */
export function caKeyId(certificate: CertificateFields): string {
  const ski = subjectKeyIdentifierOf(certificate);
  if (!ski) throw new Error('a pki CA certificate always has a subjectKeyIdentifier');
  return keyIdHex(ski);
}

/** The retired intermediates of this home (of its trust domain), oldest certificate first. */
export function listRetired(home: CaHome): RetiredIntermediate[] {
  const dir = retiredFolder(home);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => /^[0-9A-F]+$/.test(name))
    .map((keyId) => {
      const paths = retiredPaths(home, keyId);
      if (!existsSync(paths.certPath)) return null;
      const certificatePem = readText(paths.certPath);
      const block = findPemBlock(certificatePem, PemLabel.certificate);
      return block ? { ...paths, certificate: parseCertificate(block.der), certificatePem } : null;
    })
    .filter((r): r is RetiredIntermediate => r !== null)
    .sort((a, b) => a.certificate.notBefore.getTime() - b.certificate.notBefore.getTime());
}

/**
 * The retired intermediates whose CRL still matters at `now`: their certificate has not expired, and (given
 * the inventory) it was not revoked — a revoked key signs nothing more; the root's CRL covers all it issued.
 */
export function activeRetired(home: CaHome, now: Date, inventory?: Pick<Inventory, 'find'>): RetiredIntermediate[] {
  return listRetired(home).filter((r) => r.certificate.notAfter > now && inventory?.find('x509', normalizeSerial(r.certificate.serial))?.status !== 'revoked');
}

/** The retired intermediate whose key signed `fields`, or null. */
export function retiredIssuerOf(home: CaHome, fields: CertificateFields): RetiredIntermediate | null {
  return listRetired(home).find((r) => isIssuedBy(fields, r.certificate)) ?? null;
}

/** A retired intermediate ready to sign its CRL (its key opened with `passphrase` when encrypted). */
export async function loadRetiredIssuer(retired: RetiredIntermediate, passphrase: PassphraseSource, now: Date): Promise<LoadedIssuer & { retired: RetiredIntermediate }> {
  const key = await openCaKeyFile(retired.keyPath, passphrase);
  return { ...issuerFromCertificate(retired.certificate.der, key, now), retired };
}
