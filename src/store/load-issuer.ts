/**
 * An issuing CA ready to sign (CaHome#loadIssuer): certificate and key, checked to match and to be valid
 * now. An intermediate the inventory records as revoked (`pki revoke` of its serial) is refused before the
 * passphrase is asked: it must not sign again.
 */
import { existsSync } from 'node:fs';
import { PkiError } from '../core/errors.js';
import { parseCertificate } from '../core/x509/certificate-fields.js';
import { issuerFromCertificate, type LoadedIssuer } from '../core/x509/issuer.js';
import { normalizeSerial } from '../core/x509/serial.js';
import type { CaHome } from './ca-home.js';
import { openCaKeyFile, type PassphraseSource } from './ca-key.js';
import type { Inventory } from './inventory/index.js';
import { DEFAULT_ISSUING_CA, describeIssuingCa, sameIssuingCa, type IssuingCaRef } from './issuing-ca.js';
import { chainTailPem } from './root-transition.js';

export async function loadIssuerOf(
  home: CaHome,
  passphrase: PassphraseSource,
  now: Date,
  inventory: Pick<Inventory, 'find'>,
  ref: IssuingCaRef,
): Promise<LoadedIssuer & { certificatePem: string; ref: IssuingCaRef }> {
  home.requireInitialized();
  const files = home.issuingCa(ref);
  if (ref.name !== null && !existsSync(files.certPath)) {
    throw new PkiError('ERR_CA_MISSING', `there is no ${describeIssuingCa(ref)} CA in ${home.dir} (${files.certPath} is missing)`, {
      hint: ref.trustDomain ? `create it with "pki generate … --trust-domain ${ref.trustDomain}" or list the domains in pki.json` : `create it with "pki ca add ${ref.name}"`,
    });
  }
  const { pem, der } = home.readIntermediateCertificate(ref);
  const serial = normalizeSerial(parseCertificate(der).serial);
  const record = inventory.find('x509', serial);
  if (record?.status === 'revoked') {
    const name = ref.name ? `issuing CA ${ref.name}` : 'intermediate CA';
    throw new PkiError('ERR_ISSUER_REVOKED', `the ${name} (serial ${serial}) was revoked on ${record.revokedAt} (${record.revocationReason}); it no longer issues certificates or CRLs`, {
      hint: ref.name ? 'issue from another CA (--ca), or create a new one with "pki ca add"' : 'create a new CA with "pki init --force" and redeploy its root',
    });
  }
  // Only the main hierarchy's default intermediate lives on the token; `ca add` and trust-domain CAs keep key files.
  const key = sameIssuingCa(ref, DEFAULT_ISSUING_CA) ? await home.openIntermediateKey(passphrase) : await openCaKeyFile(files.keyPath, passphrase);
  // The chain every leaf is written with: during a root rotation, the cross certificate to the old root after the intermediate.
  return { ...issuerFromCertificate(der, key, now), certificatePem: pem + chainTailPem(home.caDir), ref };
}
