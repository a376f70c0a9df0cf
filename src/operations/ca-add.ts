/**
 * `pki ca add NAME` (issue 14, point 3): a further issuing CA under the root — e.g. `systems` for servers
 * and `users` for people, with their own lifetimes so their expiries are staggered (the OpenSSL CA
 * chapter's user CA and system CA) — kept in `ca/NAME/` (key 0600, certificate, the policy ca.json) and
 * publishing its own CRL `crl/NAME.crl` (CRL Numbers `crl:NAME`). The root signs it, so it must be here for
 * this step (a key file brought back, or the token). `--ca NAME` on generate, sign, renew and crl selects
 * it; revoke and renew find it from the inventory's `ca` column; `pki serve` per provisioner.
 */
import { PkiError } from '../core/errors.js';
import { encodePem, PemLabel } from '../core/der/pem.js';
import { exportPrivateKeyPem, formatKeySpec, generateKeyPair } from '../core/keys/keys.js';
import { encryptPrivateKeyPem } from '../core/keys/encryption.js';
import { hasNameConstraints, normalizeNameConstraints, NO_NAME_CONSTRAINTS, type NameConstraints } from '../core/x509/name-constraints.js';
import { validateCommonName } from '../core/x509/names.js';
import { issuerFromCertificate } from '../core/x509/issuer.js';
import { resolveValidity } from '../core/x509/validity.js';
import { writeFilesAtomic } from '../store/fs/batch-write.js';
import { ensureHomeFolder, FileMode, type CaHome, type PassphraseSource } from '../store/ca-home.js';
import { keySpecFromConfig, type PkiConfig } from '../store/config.js';
import { formatIssuingCaPolicy, issuingCaPolicyPath, withIssuingCaPolicy, type IssuingCaPolicy } from '../store/issuing-ca-policy.js';
import { openInventory } from '../store/inventory/index.js';
import { certificateRecord } from '../store/inventory/record.js';
import { issueIntermediateCa, summary, type CertificateSummary } from './init.js';
import { leafProfile } from './issue-leaf.js';
import { crlLifetimeMs, loadRootIssuer, publishCrl, type PublishedCrl } from './publish-crl.js';
import type { NewKeyProtection } from './key-protection.js';
import { trustDomainCaName } from './trust-domain.js';

export interface CaAddRequest {
  readonly name: string;
  /** Name constraints: permitted DNS subtrees (RFC 5280 §4.2.1.10). */
  readonly permitDns: readonly string[];
  /** The CA certificate's lifetime or end; default pki.json validity.intermediate. */
  readonly notAfter?: string;
  /** The profiles it may issue; absent: all. */
  readonly profiles?: readonly string[];
  /** Its leaves' crlDistributionPoints / caIssuers; absent: pki.json's rewritten (store/issuing-ca-policy.ts). */
  readonly crlDistributionPoints?: readonly string[];
  readonly caIssuers?: readonly string[];
}

export interface CaAddContext {
  readonly now: Date;
  readonly rootPassphrase: PassphraseSource;
  readonly protection: () => Promise<NewKeyProtection>;
}

export interface CaAddResult {
  readonly name: string;
  readonly dir: string;
  readonly key: string;
  readonly keyEncrypted: boolean;
  readonly certificate: CertificateSummary;
  readonly permittedDns: readonly string[];
  readonly profiles: readonly string[] | null;
  readonly crl: PublishedCrl;
  readonly rootKeyPath: string;
}

/** The subject name and name constraints an intermediate of `home` is issued with (pki init, ca add, ca renew, ca rotate). */
export function intermediatePlan(home: CaHome, config: PkiConfig): { name: string; nameConstraints: NameConstraints | null } {
  if (home.trustDomainName) return { name: trustDomainCaName(config.name, home.trustDomainName), nameConstraints: null };
  const name = home.issuingCaName ? validateCommonName(`${config.name} ${home.issuingCaName}`) : config.name;
  const constraints = config.nameConstraints ? normalizeNameConstraints({ ...NO_NAME_CONSTRAINTS, ...config.nameConstraints }) : null;
  return { name, nameConstraints: constraints && hasNameConstraints(constraints) ? constraints : null };
}

function checkUrls(urls: readonly string[], flag: string): string[] {
  for (const u of urls) {
    if (!/^https?:\/\/[\x21-\x7e]+$/.test(u)) throw new PkiError('ERR_USAGE', `${flag} "${u}" is not an http(s) URL`, { hint: 'e.g. http://pki.internal/crl/systems.crl' });
  }
  if (urls.length > 4) throw new PkiError('ERR_USAGE', `${flag} is given ${urls.length} times; at most 4`);
  return [...urls];
}

export async function addIssuingCa(main: CaHome, request: CaAddRequest, context: CaAddContext): Promise<CaAddResult> {
  main.requireInitialized();
  const home = main.issuingCaHome(request.name);
  if (home === main || home.trustDomainName) throw new PkiError('ERR_USAGE', `"${request.name}" names the default intermediate`, { hint: 'choose another name' });
  if (home.hasCa()) {
    throw new PkiError('ERR_CA_EXISTS', `issuing CA ${request.name} already exists (${home.intermediateCertPath})`, { hint: `renew it with "pki ca renew ${request.name}", or choose another name` });
  }
  const base = main.readConfig();
  const { now } = context;
  // Every refusal that needs no secret first: names, profiles, constraints, lifetime, CN length.
  const policy: IssuingCaPolicy = {
    version: 1,
    permittedDns: normalizeNameConstraints({ ...NO_NAME_CONSTRAINTS, permittedDns: [...request.permitDns] }).permittedDns,
    ...(request.profiles ? { profiles: [...new Set(request.profiles)] } : {}),
    ...(request.crlDistributionPoints ? { crlDistributionPoints: checkUrls(request.crlDistributionPoints, '--crl-url') } : {}),
    ...(request.caIssuers ? { caIssuers: checkUrls(request.caIssuers, '--ca-issuers-url') } : {}),
  };
  for (const p of policy.profiles ?? []) leafProfile(base, p);
  const config = withIssuingCaPolicy(base, request.name, policy);
  const plan = intermediatePlan(home, config);
  if (plan.name.length > 48) throw new PkiError('ERR_INVALID_NAME', `the CA's name "${plan.name} Intermediate CA" would be longer than 64 characters`, { hint: 'choose a shorter CA name' });
  const validity = resolveValidity({ now, notAfter: request.notAfter ?? config.validity.intermediate });
  const root = await loadRootIssuer(main, context.rootPassphrase, now);
  if (validity.notAfter > root.certificate.notAfter) {
    throw new PkiError('ERR_VALIDITY', `the CA would outlive the root (${root.certificate.notAfter.toISOString()})`, { hint: 'choose a shorter --not-after' });
  }
  return home.withLock(async () => {
    if (home.hasCa()) throw new PkiError('ERR_CA_EXISTS', `issuing CA ${request.name} already exists (${home.intermediateCertPath})`, { hint: 'choose another name' });
    const keySpec = keySpecFromConfig(config);
    const keys = await generateKeyPair(keySpec);
    const der = issueIntermediateCa({ name: plan.name, intermediateValidity: validity, nameConstraints: plan.nameConstraints }, { der: root.certificate.der, key: root.privateKey, notAfter: root.certificate.notAfter }, keys.publicKey);
    const protection = await context.protection();
    const keyPem = protection.encrypt ? await encryptPrivateKeyPem(keys.privateKey, { passphrase: protection.passphrase }) : exportPrivateKeyPem(keys.privateKey);
    const pem = encodePem(PemLabel.certificate, der);
    ensureHomeFolder(home.intermediateDir, FileMode.privateFolder);
    // Key and policy first, the certificate last: its presence is what marks the CA as made (CaHome#hasCa).
    await writeFilesAtomic(
      [
        { path: home.intermediateKeyPath, data: keyPem, mode: FileMode.privateKey },
        { path: issuingCaPolicyPath(home.intermediateDir), data: formatIssuingCaPolicy(policy), mode: FileMode.public },
        { path: home.intermediateCertPath, data: pem, mode: FileMode.public },
      ],
      { overwrite: false },
    );
    const inventory = await openInventory(main);
    try {
      const crl = inventory.exclusive(() => {
        inventory.recordIssued([certificateRecord(pem, { profile: 'intermediate', certificatePath: home.intermediateCertPath, keyPath: home.intermediateKeyPath, ...home.recordColumns })]);
        return publishCrl(home, inventory, issuerFromCertificate(der, keys.privateKey, now), { now, nextUpdateMs: crlLifetimeMs(config), der: false });
      });
      return {
        name: request.name,
        dir: home.intermediateDir,
        key: formatKeySpec(keySpec),
        keyEncrypted: protection.encrypt,
        certificate: summary(der, home.intermediateCertPath, home.intermediateKeyPath),
        permittedDns: policy.permittedDns,
        profiles: policy.profiles ?? null,
        crl,
        rootKeyPath: main.rootKeyLocation(),
      };
    } finally {
      inventory.close();
    }
  });
}
