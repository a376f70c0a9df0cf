/**
 * Creating a trust domain (issue 14, `--trust-domain NAME`): a root and an intermediate of its own under
 * `domains/NAME/`, so that a service whose `ca.crt` is that root admits only the clients that domain's
 * intermediate issued — a PostgreSQL client certificate no longer gets `PONG` from Redis. The domain shares
 * the home's pki.json (key type, lifetimes, profiles), inventory (its records carry `trust_domain`) and
 * services/; its CRLs are its own (`domains/NAME/crl/`, CRL Numbers `crl@NAME`). docs/operations.md,
 * "Trust domains", has the trade-off against one shared hierarchy.
 */
import { PkiError } from '../core/errors.js';
import { formatKeySpec, generateKeyPair } from '../core/keys/keys.js';
import { validateCommonName } from '../core/x509/names.js';
import { encodePem, PemLabel } from '../core/der/pem.js';
import { resolveValidity } from '../core/x509/validity.js';
import { writeFilesAtomic } from '../store/fs/batch-write.js';
import { ensureHomeFolder, FileMode, type CaHome } from '../store/ca-home.js';
import { keySpecFromConfig } from '../store/config.js';
import { openInventory, type Inventory } from '../store/inventory/index.js';
import { certificateRecord } from '../store/inventory/record.js';
import { issueCa, keyPems, summary, type CertificateSummary } from './init.js';
import { publishInitialCrls } from './publish-crl.js';
import type { NewKeyProtection } from './key-protection.js';

/** What `generate --trust-domain` reports when it created the domain. */
export interface TrustDomainReport {
  readonly name: string;
  readonly dir: string;
  readonly key: string;
  readonly keysEncrypted: boolean;
  readonly root: CertificateSummary;
  readonly intermediate: CertificateSummary;
}

export interface TrustDomainContext {
  readonly now: Date;
  /** How the new domain's keys are protected; asked only when the domain is created. */
  readonly protection: () => Promise<NewKeyProtection>;
  /** The inventory to record the domain's CA certificates in (else one is opened and closed). */
  readonly inventory?: Inventory;
}

/** The subject common names of a domain's CA: `<ca name> <domain> Root CA`, `… Intermediate CA`. */
export function trustDomainCaName(caName: string, domain: string): string {
  return validateCommonName(`${caName} ${domain}`);
}

/**
 * The home of trust domain `name` in `main`, its CA created first when missing (under the domain folder's
 * lock, so two runs at once make one CA). Returns the report when this run created it, else null.
 */
export async function ensureTrustDomain(main: CaHome, name: string, context: TrustDomainContext): Promise<{ home: CaHome; created: TrustDomainReport | null }> {
  const home = main.trustDomain(name);
  main.requireInitialized();
  if (home.hasCa()) return { home, created: null };
  const config = main.readConfig();
  const caName = trustDomainCaName(config.name, name);
  if (caName.length > 52) throw new PkiError('ERR_INVALID_NAME', `the trust domain's CA name "${caName} Intermediate CA" would be longer than 64 characters`, { hint: 'choose a shorter trust domain name' });
  const rootValidity = resolveValidity({ now: context.now, notAfter: config.validity.root });
  const intermediateValidity = resolveValidity({ now: context.now, notAfter: config.validity.intermediate });
  const keySpec = keySpecFromConfig(config);
  const created = await home.withLock(async () => {
    if (home.hasCa()) return null; // another run made it meanwhile
    const protection = await context.protection();
    const [root, intermediate] = await Promise.all([generateKeyPair(keySpec), generateKeyPair(keySpec)]);
    const ca = issueCa({ name: caName, rootValidity, intermediateValidity, nameConstraints: null }, { root, intermediate, onToken: false });
    const keys = await keyPems({ rootKey: root.privateKey, intermediateKey: intermediate.privateKey }, protection);
    ensureHomeFolder(home.caDir, FileMode.privateFolder);
    const rootPem = encodePem(PemLabel.certificate, ca.rootDer);
    const intermediatePem = encodePem(PemLabel.certificate, ca.intermediateDer);
    // Keys first, the intermediate's certificate last: its presence is what marks the domain as made (CaHome#hasCa).
    await writeFilesAtomic(
      [
        { path: home.rootKeyPath, data: keys[0], mode: FileMode.privateKey },
        { path: home.intermediateKeyPath, data: keys[1], mode: FileMode.privateKey },
        { path: home.rootCertPath, data: rootPem, mode: FileMode.public },
        { path: home.intermediateCertPath, data: intermediatePem, mode: FileMode.public },
      ],
      { overwrite: false },
    );
    const inventory = context.inventory ?? (await openInventory(main));
    try {
      inventory.recordIssued([
        certificateRecord(rootPem, { profile: 'root', certificatePath: home.rootCertPath, keyPath: home.rootKeyPath, ...home.recordColumns }),
        certificateRecord(intermediatePem, { profile: 'intermediate', certificatePath: home.intermediateCertPath, keyPath: home.intermediateKeyPath, ...home.recordColumns }),
      ]);
      publishInitialCrls(home, inventory, { rootDer: ca.rootDer, rootKey: ca.rootKey, intermediateDer: ca.intermediateDer, intermediateKey: ca.intermediateKey }, config, context.now);
    } finally {
      if (!context.inventory) inventory.close();
    }
    const report: TrustDomainReport = {
      name,
      dir: home.dir,
      key: formatKeySpec(keySpec),
      keysEncrypted: protection.encrypt,
      root: summary(ca.rootDer, home.rootCertPath, home.rootKeyPath),
      intermediate: summary(ca.intermediateDer, home.intermediateCertPath, home.intermediateKeyPath),
    };
    return report;
  });
  return { home, created };
}
