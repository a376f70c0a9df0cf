/**
 * `pki generate <service> <variant>`: the eight openssl commands of a mutual-TLS setup in one step —
 * trust anchor, service certificate + key, one certificate + key per client. Convergent: a second run
 * with the same request changes nothing; a request that adds clients or changes SANs or --not-after is
 * applied by issuing only what changed (the other keys stay); only --force re-keys the whole bundle.
 */
import { join } from 'node:path';
import { bundleFiles, buildBundleRequest, compareBundle, type BundleRequest, type BundleState } from '../../core/lifecycle/bundle.js';
import { certificatePublicKey, parseCertificate } from '../../core/x509/certificate-fields.js';
import { normalizeSerial } from '../../core/x509/serial.js';
import { PkiError } from '../../core/errors.js';
import { exportPrivateKeyPem, formatKeySpec, generateKeyPair } from '../../core/keys/keys.js';
import { groupSans } from '../../core/x509/names.js';
import { decodePem, encodePem, PemLabel } from '../../core/der/pem.js';
import { PROFILES } from '../../core/x509/profiles.js';
import { resolveValidity, type Validity } from '../../core/x509/validity.js';
import { FileMode, readText, type CaHome } from '../../store/ca-home.js';
import { clockSkewMs, keySpecFromConfig, type PkiConfig } from '../../store/config.js';
import { bundleFolder, readExistingBundle, recoverBundle, writeBundle } from '../../store/service-bundle.js';
import { openInventory, type Inventory, type NewCertificateRecord } from '../../store/inventory/index.js';
import { certificateRecord } from '../../store/inventory/record.js';
import { fileOwnership, liveFilePath, type VersionFile } from '../../store/fs/versioned-folder.js';
import { issueLeafCertificate } from '../../operations/issue-leaf.js';
import { emit, warn, type GlobalOptions } from '../output.js';
import { openHome } from '../home.js';
import { describeSettled, hasBundleJournal, publishVersionRecorded, settleBundleJournal } from '../../store/inventory/journal.js';
import { keySpecFromFlags, parseKeyMode, resolveGroup, type KeyFlags } from '../options.js';
import { passphraseSource, type PassphraseOptions } from '../passphrase.js';

export interface GenerateOptions extends KeyFlags, PassphraseOptions {
  readonly san: string[];
  readonly client: string[] | false;
  readonly notAfter?: string;
  readonly notBefore?: string;
  readonly out?: string;
  readonly keyMode: string;
  readonly group?: string;
  readonly force?: boolean;
}

export interface IssuedFile {
  readonly path: string;
  readonly role: string;
  readonly serial?: string;
}

interface UpdateInput {
  readonly home: CaHome;
  readonly config: PkiConfig;
  readonly request: BundleRequest;
  readonly folder: string;
  readonly validity: Validity;
  readonly keyMode: number;
  readonly gid: number | undefined;
  readonly options: GenerateOptions;
  readonly globals: GlobalOptions;
  readonly now: Date;
  readonly state: Extract<BundleState, { state: 'update' }>;
}

/**
 * `generate` on an existing bundle whose request needs no new key for what is there (issue 9): new
 * clients get a key and certificate, certificates whose SANs or validity changed are re-signed over their
 * existing keys, and every other file (the service key, other clients) is carried into the new version
 * unchanged — one version switch, recorded through the folder's journal as renewals are.
 */
async function updateBundle(u: UpdateInput): Promise<void> {
  const { request, folder, validity, now } = u;
  const inventory = await openInventory(u.home);
  const files: (VersionFile & { role: string; serial?: string })[] = [];
  const records: NewCertificateRecord[] = [];
  try {
    const issuer = await u.home.loadIssuer(passphraseSource(u.options), now, inventory);
    const chainTail = issuer.certificatePem;
    const issue = (name: string, role: string, leaf: { der: Buffer; serial: string }, keyName: string, supersedes: string | null, owner: Partial<VersionFile>) => {
      const content = encodePem(PemLabel.certificate, leaf.der) + chainTail;
      files.push({ name, content, mode: FileMode.public, ...owner, role, serial: leaf.serial });
      records.push(certificateRecord(content, { profile: role === 'service-certificate' ? 'peer' : 'client', certificatePath: join(folder, name), keyPath: join(folder, keyName), supersedes }));
    };
    for (const name of u.state.reissue) {
      const live = liveFilePath(folder, name);
      const old = parseCertificate(decodePem(readText(live))[0]!.der);
      const isService = name === `${request.service}.crt`;
      const client = name.slice(0, -'.crt'.length);
      const leaf = issueLeafCertificate({
        issuer,
        config: u.config,
        profile: isService ? PROFILES.peer : PROFILES.client,
        subject: { commonName: isService ? request.service : client },
        sans: isService ? request.sans : [],
        publicKey: certificatePublicKey(old),
        validity,
      });
      const own = fileOwnership(live);
      issue(name, isService ? 'service-certificate' : 'client-certificate', leaf, name.replace(/\.crt$/, '.key'), normalizeSerial(old.serial), { mode: own.mode, uid: own.uid, gid: own.gid });
    }
    const keys = await Promise.all(u.state.addClients.map(() => generateKeyPair(request.keySpec)));
    u.state.addClients.forEach((client, i) => {
      const leaf = issueLeafCertificate({ issuer, config: u.config, profile: PROFILES.client, subject: { commonName: client }, sans: [], publicKey: keys[i]!.publicKey, validity });
      files.push({ name: `${client}.key`, content: exportPrivateKeyPem(keys[i]!.privateKey), mode: u.keyMode, ...(u.gid !== undefined ? { gid: u.gid } : {}), role: 'client-key' });
      issue(`${client}.crt`, 'client-certificate', leaf, `${client}.key`, null, {});
    });
    const { settled } = publishVersionRecorded(
      folder,
      files.map(({ role: _role, serial: _serial, ...f }) => f),
      { noClobber: false, keepOthers: true },
      records,
      inventory,
      now,
    );
    if (settled?.recorded.length) warn(describeSettled(settled));
  } finally {
    inventory.close();
  }
  const result = {
    folder,
    status: 'updated' as const,
    changes: u.state.changes,
    files: files.map((f): IssuedFile => ({ path: join(folder, f.name), role: f.role, ...(f.serial ? { serial: f.serial } : {}) })),
  };
  emit(u.globals, result, (r) =>
    [`Updated ${request.service}/${request.variant} in ${r.folder} (${r.changes.join('; ')}); other files and keys unchanged:`, ...r.files.map((f) => `  ${f.path.slice(r.folder.length + 1).padEnd(24)} ${f.role}${f.serial ? `  serial ${f.serial}` : ''}`)].join('\n'),
  );
}

/** Marks superseded the valid records of files in `folder` that the new version does not hold. */
function retireDropped(inventory: Inventory, folder: string, written: ReadonlySet<string>): void {
  const prefix = `${folder}/`;
  const dropped = inventory
    .listSummaries({ kind: 'x509', status: 'valid' })
    .filter((r) => r.certificatePath !== null && r.certificatePath.startsWith(prefix) && !written.has(r.certificatePath) && !r.certificatePath.slice(prefix.length).includes('/'))
    .map((r) => r.serial);
  inventory.retire('x509', dropped);
}

export async function runGenerate(service: string, variant: string, options: GenerateOptions, globals: GlobalOptions, now = new Date()): Promise<void> {
  const home = openHome(globals);
  const config = home.readConfig();
  const request: BundleRequest = buildBundleRequest({
    service,
    variant,
    extraSans: options.san,
    clients: options.client === false ? [] : options.client.length ? options.client : ['client'],
    keySpec: keySpecFromFlags(options, keySpecFromConfig(config)),
  });
  const keyMode = parseKeyMode(options.keyMode);
  const gid = options.group ? resolveGroup(options.group) : undefined;
  const validity = resolveValidity({ now, notAfter: options.notAfter ?? config.validity.leaf, notBefore: options.notBefore, skewMs: clockSkewMs(config) });
  const folder = bundleFolder(options.out ?? home.servicesDir, request);
  home.checkFolderInside(folder); // services/… reached through a link would write outside the home
  const rootPem = home.readRootCertificatePem();

  recoverBundle(folder); // a killed earlier run's leftovers must not count as bundle files
  if (hasBundleJournal(folder, { path: home.dbPath })) {
    // A run killed between switching this bundle and recording it: record what is live (one existsSync otherwise).
    const inventory = await openInventory(home);
    try {
      const settled = settleBundleJournal(folder, inventory);
      if (settled?.recorded.length) warn(describeSettled(settled));
    } finally {
      inventory.close();
    }
  }
  const state = compareBundle(request, readExistingBundle(folder, request, rootPem), options.notAfter !== undefined ? validity : undefined);
  if (!options.force && state.state === 'update') {
    await updateBundle({ home, config, request, folder, validity, keyMode, gid, options, globals, now, state });
    return;
  }
  if (!options.force) {
    if (state.state === 'up-to-date') {
      emit(globals, { folder, status: 'up-to-date', files: [] as IssuedFile[] }, () => `${folder} is up to date; nothing changed.`);
      return;
    }
    if (state.state === 'different') {
      throw new PkiError('ERR_BUNDLE_MISMATCH', `${folder} exists but differs from the request: ${state.differences.join('; ')}`, {
        hint: state.differences.some((d) => d.startsWith('ca.crt'))
          ? 'run "pki renew --all" to re-issue it under the current CA (it replaces ca.crt), or --force to re-issue the whole bundle with new keys'
          : 'list every client the bundle has (--client, repeatable) to add one, or pass --force to re-issue the whole bundle with new keys',
      });
    }
    if (state.state === 'partial') {
      throw new PkiError('ERR_BUNDLE_PARTIAL', `${folder} is incomplete: missing ${state.missing.join(', ')}`, {
        hint: 'pass --force to re-issue the whole bundle with new keys (the remaining files would not match new ones)',
      });
    }
  }

  const inventory = await openInventory(home); // refuses (before any write) when the database is missing
  const issuer = await home.loadIssuer(passphraseSource(options), now, inventory);
  // All keys of the bundle at once: generateKeyPair runs on the libuv pool, one RSA prime search per core.
  const [serviceKeys, ...clientKeys] = await Promise.all([request.keySpec, ...request.clients.map(() => request.keySpec)].map(generateKeyPair));
  const chainTail = issuer.certificatePem;
  const files: { name: string; content: string; mode: number; role: string; serial?: string }[] = [];
  const service_ = issueLeafCertificate({ issuer, config, profile: PROFILES.peer, subject: { commonName: request.service }, sans: request.sans, publicKey: serviceKeys!.publicKey, validity });
  files.push({ name: 'ca.crt', content: rootPem, mode: FileMode.public, role: 'trust-anchor' });
  files.push({ name: `${request.service}.key`, content: exportPrivateKeyPem(serviceKeys!.privateKey), mode: keyMode, role: 'service-key' });
  files.push({ name: `${request.service}.crt`, content: encodePem(PemLabel.certificate, service_.der) + chainTail, mode: FileMode.public, role: 'service-certificate', serial: service_.serial });
  request.clients.forEach((client, i) => {
    const leaf = issueLeafCertificate({ issuer, config, profile: PROFILES.client, subject: { commonName: client }, sans: [], publicKey: clientKeys[i]!.publicKey, validity });
    files.push({ name: `${client}.key`, content: exportPrivateKeyPem(clientKeys[i]!.privateKey), mode: keyMode, role: 'client-key' });
    files.push({ name: `${client}.crt`, content: encodePem(PemLabel.certificate, leaf.der) + chainTail, mode: FileMode.public, role: 'client-certificate', serial: leaf.serial });
  });
  // Sanity: the file list is exactly what bundleFiles describes, so compareBundle and writing agree.
  if (files.length !== bundleFiles(request).length) throw new Error('bundle file list mismatch');

  // One inventory transaction for the bundle, once its files are in place.
  const records = files
    .filter((f) => f.serial !== undefined)
    .map((f) =>
      certificateRecord(f.content, {
        profile: f.role === 'service-certificate' ? 'peer' : 'client',
        certificatePath: join(folder, f.name),
        keyPath: join(folder, f.name.replace(/\.crt$/, '.key')),
      }),
    );
  // One version of the whole bundle, switched in one rename: --force never shows a new cert beside an old key.
  // The folder's inventory journal makes the switch and the inventory record one step even across a kill.
  try {
    const settled = writeBundle(
      folder,
      files.map((f) => ({ name: f.name, content: f.content, mode: f.mode, ...(gid !== undefined && f.role.endsWith('-key') ? { gid } : {}) })),
      options.force === true,
      records,
      inventory,
      now,
    );
    if (settled?.recorded.length) warn(describeSettled(settled));
    // --force with fewer clients: the dropped ones' files are gone, so their records must stop being valid
    // (else `renew --all` would look for them forever).
    retireDropped(inventory, folder, new Set(records.map((r) => r.certificatePath!)));
  } finally {
    inventory.close();
  }

  const sans = groupSans(request.sans);
  const result = {
    folder,
    status: 'issued' as const,
    key: formatKeySpec(request.keySpec),
    notAfter: validity.notAfter.toISOString(),
    sans,
    clients: request.clients,
    files: files.map((f): IssuedFile => ({ path: join(folder, f.name), role: f.role, ...(f.serial ? { serial: f.serial } : {}) })),
  };
  emit(globals, result, (r) =>
    [
      `Issued ${request.service}/${request.variant} (${r.key}, valid until ${r.notAfter.slice(0, 10)}) in ${r.folder}`,
      ...r.files.map((f) => `  ${f.path.slice(r.folder.length + 1).padEnd(24)} ${f.role}${f.serial ? `  serial ${f.serial}` : ''}`),
      `  SANs: ${[...sans.dns, ...sans.ip, ...sans.email, ...sans.uri].join(', ')}`,
    ].join('\n'),
  );
}
