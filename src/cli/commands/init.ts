/**
 * `pki init`: a root CA and an intermediate CA signed by it. The root key belongs offline afterwards;
 * the intermediate does all day-to-day issuing.
 */
import { existsSync } from 'node:fs';
import { issueCertificate } from '../../core/x509/certificate.js';
import { parseCertificate, subjectKeyIdentifierOf } from '../../core/x509/certificate-fields.js';
import { PkiError } from '../../core/errors.js';
import { encryptPrivateKeyPem } from '../../core/keys/encryption.js';
import { exportPrivateKeyPem, formatKeySpec, generateKeyPair } from '../../core/keys/keys.js';
import { encodeSubjectName, validateCommonName } from '../../core/x509/names.js';
import { encodePem, PemLabel } from '../../core/der/pem.js';
import { hasNameConstraints, NO_NAME_CONSTRAINTS, normalizeNameConstraints } from '../../core/x509/name-constraints.js';
import { PROFILES } from '../../core/x509/profiles.js';
import { generateSerial } from '../../core/x509/serial.js';
import { parseDuration, resolveValidity, type Validity } from '../../core/x509/validity.js';
import { inspectCertificate } from '../../core/inspect/certificate.js';
import { writeFileAtomic } from '../../store/fs/atomic-write.js';
import { ensureFolder, ensureHomeFolder, FileMode, type CaHome } from '../../store/ca-home.js';
import { defaultConfig, type PkiConfig } from '../../store/config.js';
import { openInventory } from '../../store/inventory/index.js';
import { certificateRecord } from '../../store/inventory/record.js';
import { publishInitialCrls } from '../../operations/publish-crl.js';
import { emit, warn, type GlobalOptions } from '../output.js';
import { openHome } from '../home.js';
import { certificatesThatStopChaining, describeStopsChaining } from '../../operations/ca-handover.js';
import { archiveCurrentCa } from '../../store/previous-ca.js';
import { keySpecFromFlags, type KeyFlags } from '../options.js';
import { resolveNewKeyProtection, type PassphraseOptions } from '../passphrase.js';

export interface InitOptions extends KeyFlags, PassphraseOptions {
  readonly name: string;
  readonly rootNotAfter: string;
  readonly intermediateNotAfter: string;
  readonly force?: boolean;
  readonly permitDns?: string[];
  readonly excludeDns?: string[];
  readonly permitIp?: string[];
  readonly excludeIp?: string[];
}

/**
 * pki.json records lifetimes as durations. `--root-not-after 2060-01-01T00:00:00Z` is a time, which the
 * config cannot hold (writing it made every later command refuse pki.json): record the lifetime it meant.
 */
function lifetimeText(given: string, validity: Validity, now: Date): string {
  try {
    parseDuration(given);
    return given.trim();
  } catch {
    const seconds = Math.round((validity.notAfter.getTime() - now.getTime()) / 1000);
    return seconds % 86_400 === 0 ? `${seconds / 86_400}d` : `${seconds}s`;
  }
}

export async function runInit(options: InitOptions, globals: GlobalOptions, now = new Date()): Promise<void> {
  const home = openHome(globals, ['ca', 'db']);
  // One init at a time: two at once would leave one run's keys beside the other's certificates.
  await home.withLock(() => initLocked(home, options, globals, now));
}

async function initLocked(home: CaHome, options: InitOptions, globals: GlobalOptions, now: Date): Promise<void> {
  // Refusals first: nothing is written until every check has passed.
  const leftovers = [home.configPath, home.rootCertPath, home.rootKeyPath, home.intermediateCertPath, home.intermediateKeyPath].filter((p) => existsSync(p));
  if (leftovers.length > 0 && !options.force) {
    throw new PkiError('ERR_CA_EXISTS', home.isInitialized() ? `a CA already exists in ${home.dir}` : `${home.dir} holds CA files from an unfinished init (${leftovers.length} files)`, {
      hint: 'pass --force to replace it (certificates issued by the old CA will no longer chain), or choose another --dir',
    });
  }
  const name = validateCommonName(options.name.trim());
  if (name.length > 40) throw new PkiError('ERR_INVALID_NAME', `CA name "${name}" is longer than 40 characters`);
  const keySpec = keySpecFromFlags(options);
  const rootValidity = resolveValidity({ now, notAfter: options.rootNotAfter });
  const intermediateValidity = resolveValidity({ now, notAfter: options.intermediateNotAfter });
  if (intermediateValidity.notAfter > rootValidity.notAfter) {
    throw new PkiError('ERR_VALIDITY', `the intermediate (${options.intermediateNotAfter}) would outlive the root (${options.rootNotAfter})`, {
      hint: 'choose a shorter --intermediate-not-after or a longer --root-not-after',
    });
  }
  const nameConstraints = normalizeNameConstraints({
    ...NO_NAME_CONSTRAINTS,
    permittedDns: options.permitDns ?? [],
    excludedDns: options.excludeDns ?? [],
    permittedIp: options.permitIp ?? [],
    excludedIp: options.excludeIp ?? [],
  });
  const constrained = hasNameConstraints(nameConstraints);
  // init --force: name what will stop chaining before anything is replaced (issue 9).
  const stopsChaining = options.force ? await certificatesThatStopChaining(home, now) : [];
  if (stopsChaining.length) warn(describeStopsChaining(stopsChaining));
  const protection = await resolveNewKeyProtection(options);

  const [root, intermediate] = await Promise.all([generateKeyPair(keySpec), generateKeyPair(keySpec)]);
  const rootSubject = { commonName: `${name} Root CA` };
  const intermediateSubject = { commonName: `${name} Intermediate CA` };
  const rootDer = issueCertificate({
    serial: generateSerial(),
    subject: rootSubject,
    sans: [],
    profile: PROFILES.root,
    publicKey: root.publicKey,
    ...rootValidity,
    issuer: 'self',
    selfSigningKey: root.privateKey,
  });
  const intermediateDer = issueCertificate({
    serial: generateSerial(),
    subject: intermediateSubject,
    sans: [],
    profile: PROFILES.intermediate,
    publicKey: intermediate.publicKey,
    ...intermediateValidity,
    ...(constrained ? { nameConstraints } : {}),
    issuer: {
      subjectDer: encodeSubjectName(rootSubject),
      keyIdentifier: subjectKeyIdentifierOf(parseCertificate(rootDer)) ?? null, // the root's SKI, copied
      privateKey: root.privateKey,
      notAfter: rootValidity.notAfter,
    },
  });
  const [rootKeyPem, intermediateKeyPem] = protection.encrypt
    ? await Promise.all([
        encryptPrivateKeyPem(root.privateKey, { passphrase: protection.passphrase }),
        encryptPrivateKeyPem(intermediate.privateKey, { passphrase: protection.passphrase }),
      ])
    : [exportPrivateKeyPem(root.privateKey), exportPrivateKeyPem(intermediate.privateKey)];
  if (protection.encrypt) protection.passphrase.fill(0);

  ensureFolder(home.dir);
  ensureHomeFolder(home.caDir, FileMode.privateFolder);
  const overwrite = options.force === true;
  // The old intermediate stays as ca/previous/<fingerprint>/, so renew recognises what it signed.
  const previousCa = overwrite ? archiveCurrentCa(home) : null;
  writeFileAtomic(home.rootKeyPath, rootKeyPem, { mode: FileMode.privateKey, overwrite });
  writeFileAtomic(home.intermediateKeyPath, intermediateKeyPem, { mode: FileMode.privateKey, overwrite });
  const rootPem = encodePem(PemLabel.certificate, rootDer);
  const intermediatePem = encodePem(PemLabel.certificate, intermediateDer);
  writeFileAtomic(home.rootCertPath, rootPem, { mode: FileMode.public, overwrite });
  writeFileAtomic(home.intermediateCertPath, intermediatePem, { mode: FileMode.public, overwrite });
  // A new CA starts a fresh inventory (an old one is kept as db/pki.sqlite.replaced-<time>), recorded in one transaction.
  // Without an old X.509 CA, an inventory here holds only the SSH CAs' records (`pki ssh init` came first): keep it.
  const inventory = await openInventory(home, leftovers.length === 0 ? 'create-if-missing' : 'fresh', now, previousCa);
  inventory.recordIssued([
    certificateRecord(rootPem, { profile: 'root', certificatePath: home.rootCertPath, keyPath: home.rootKeyPath }),
    certificateRecord(intermediatePem, { profile: 'intermediate', certificatePath: home.intermediateCertPath, keyPath: home.intermediateKeyPath }),
  ]);
  inventory.close();
  const config: PkiConfig = {
    ...defaultConfig(name, keySpec, { root: lifetimeText(options.rootNotAfter, rootValidity, now), intermediate: lifetimeText(options.intermediateNotAfter, intermediateValidity, now) }),
    ...(constrained ? { nameConstraints: { ...nameConstraints, permittedDns: [...nameConstraints.permittedDns], excludedDns: [...nameConstraints.excludedDns], permittedIp: [...nameConstraints.permittedIp], excludedIp: [...nameConstraints.excludedIp], permittedEmail: [], permittedUri: [] } } : {}),
  };
  // pki.json last: its presence is what marks the CA as complete.
  writeFileAtomic(home.configPath, `${JSON.stringify(config, null, 2)}\n`, { mode: FileMode.public, overwrite });
  // The root's and the intermediate's first CRLs and crl/chain.crl.pem, while the root key is at hand.
  const crls = await publishInitialCrls(home, { rootDer, rootKey: root.privateKey, intermediateDer, intermediateKey: intermediate.privateKey }, now);

  const rootReport = inspectCertificate(rootDer);
  const intermediateReport = inspectCertificate(intermediateDer);
  const result = {
    dir: home.dir,
    key: formatKeySpec(keySpec),
    keysEncrypted: protection.encrypt,
    root: { certificate: home.rootCertPath, key: home.rootKeyPath, subject: rootReport.subject, serial: rootReport.serial, notAfter: rootReport.notAfter, fingerprintSha256: rootReport.fingerprintSha256 },
    intermediate: { certificate: home.intermediateCertPath, key: home.intermediateKeyPath, subject: intermediateReport.subject, serial: intermediateReport.serial, notAfter: intermediateReport.notAfter, fingerprintSha256: intermediateReport.fingerprintSha256 },
    crl: { root: crls.root.path, intermediate: crls.intermediate.path, chain: crls.intermediate.chainPath, rootNextUpdate: crls.root.nextUpdate },
    ...(options.force ? { previousCa, stopsChaining } : {}),
  };
  emit(globals, result, (r) =>
    [
      `Created CA "${name}" in ${r.dir} (${r.key}${r.keysEncrypted ? ', keys encrypted' : ', KEYS UNENCRYPTED (--insecure)'})`,
      `  root CA          ${r.root.certificate}  (${r.root.subject}, until ${r.root.notAfter.slice(0, 10)})`,
      `  intermediate CA  ${r.intermediate.certificate}  (${r.intermediate.subject}, until ${r.intermediate.notAfter.slice(0, 10)})`,
      `  root fingerprint SHA-256 ${r.root.fingerprintSha256}`,
      `  CRLs             ${r.crl.chain ?? r.crl.intermediate}  (root CRL valid until ${r.crl.rootNextUpdate.slice(0, 10)}: re-sign it before then with "pki crl --root")`,
      '',
      `${r.root.key} belongs offline: copy it to offline storage (an encrypted USB key, a safe) and delete it here.`,
      'The intermediate CA issues every certificate without it; the root key is needed again only to renew the intermediate.',
      `Next: pki generate <service> <variant>${globals.dir !== './pki' ? ` --dir ${globals.dir}` : ''}`,
      ...(stopsChaining.length ? [`${stopsChaining.length} certificates of the replaced CA no longer chain: run "pki renew --all${globals.dir !== './pki' ? ` --dir ${globals.dir}` : ''}" to re-issue them.`] : []),
    ].join('\n'),
  );
}
