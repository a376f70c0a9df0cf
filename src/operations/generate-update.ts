/**
 * `generate` on an existing bundle whose request needs no new key for what is there (issue 9): new
 * clients get a key and certificate, certificates whose SANs or validity changed are re-signed over their
 * existing keys, and every other file (the service key, other clients) is carried into the new version
 * unchanged — one version switch, recorded through the folder's journal as renewals are.
 */
import type { BundleRequest, BundleState } from '../core/lifecycle/bundle.js';
import { certificatePublicKey, parseCertificate } from '../core/x509/certificate-fields.js';
import { normalizeSerial } from '../core/x509/serial.js';
import { exportPrivateKeyPem, generateKeyPair } from '../core/keys/keys.js';
import { encodePem, findPemBlock, PemLabel } from '../core/der/pem.js';
import type { Validity } from '../core/x509/validity.js';
import { FileMode, readText, type CaHome, type PassphraseSource } from '../store/ca-home.js';
import type { PkiConfig } from '../store/config.js';
import { openInventory, type NewCertificateRecord } from '../store/inventory/index.js';
import { certificateRecord } from '../store/inventory/record.js';
import { fileOwnership, liveFilePath, type VersionFile } from '../store/fs/versioned-folder.js';
import { describeSettled, publishVersionRecorded } from '../store/inventory/journal.js';
import { issueLeafCertificate } from './issue-leaf.js';
import { bundlePath, issuedFiles, type BundleFileOut, type IssuedFile } from './generate-files.js';
import type { BundleProfiles } from './generate.js';

export interface UpdateInput {
  readonly home: CaHome;
  readonly config: PkiConfig;
  readonly profiles: BundleProfiles;
  readonly request: BundleRequest;
  readonly folder: string;
  readonly validity: Validity;
  readonly keyMode: number;
  readonly gid: number | undefined;
  readonly now: Date;
  readonly passphrase: PassphraseSource;
  readonly warn: (message: string) => void;
  readonly state: Extract<BundleState, { state: 'update' }>;
}

/** Applies `state` (re-issues and new clients) as one new version of the bundle; returns the files written. */
export async function updateBundle(u: UpdateInput): Promise<IssuedFile[]> {
  const { request, folder, validity, now } = u;
  const inventory = await openInventory(u.home);
  const files: BundleFileOut[] = [];
  const records: NewCertificateRecord[] = [];
  try {
    const issuer = await u.home.loadIssuer(u.passphrase, now, inventory);
    const issue = (name: string, role: string, leaf: { der: Buffer; serial: string }, keyName: string, supersedes: string | null, owner: Partial<Pick<VersionFile, 'mode' | 'uid' | 'gid'>>) => {
      const content = encodePem(PemLabel.certificate, leaf.der) + issuer.certificatePem;
      files.push({ name, content, mode: FileMode.public, ...owner, role, serial: leaf.serial });
      const profile = role === 'service-certificate' ? u.profiles.service : u.profiles.client;
      records.push(certificateRecord(content, { profile: profile.role, profileName: profile.name, certificatePath: bundlePath(folder, name), keyPath: bundlePath(folder, keyName), supersedes, ...u.home.recordColumns }));
    };
    for (const name of u.state.reissue) {
      const live = liveFilePath(folder, name);
      const old = parseCertificate(findPemBlock(readText(live), PemLabel.certificate)!.der);
      const isService = name === `${request.service}.crt`;
      const leaf = issueLeafCertificate({
        issuer,
        config: u.config,
        profile: isService ? u.profiles.service : u.profiles.client,
        subject: { commonName: isService ? request.service : name.slice(0, -'.crt'.length) },
        sans: isService ? request.sans : [],
        publicKey: certificatePublicKey(old),
        validity,
      });
      const own = fileOwnership(live);
      issue(name, isService ? 'service-certificate' : 'client-certificate', leaf, name.replace(/\.crt$/, '.key'), normalizeSerial(old.serial), { mode: own.mode, uid: own.uid, gid: own.gid });
    }
    const keys = await Promise.all(u.state.addClients.map(() => generateKeyPair(request.keySpec)));
    u.state.addClients.forEach((client, i) => {
      const leaf = issueLeafCertificate({ issuer, config: u.config, profile: u.profiles.client, subject: { commonName: client }, sans: [], publicKey: keys[i]!.publicKey, validity });
      files.push({ name: `${client}.key`, content: exportPrivateKeyPem(keys[i]!.privateKey), mode: u.keyMode, ...(u.gid !== undefined ? { gid: u.gid } : {}), role: 'client-key' });
      issue(`${client}.crt`, 'client-certificate', leaf, `${client}.key`, null, {});
    });
    const { settled } = publishVersionRecorded(folder, files.map(({ role: _role, serial: _serial, ...f }) => f), { noClobber: false, keepOthers: true }, records, inventory, now);
    if (settled?.recorded.length) u.warn(describeSettled(settled));
  } finally {
    inventory.close();
  }
  return issuedFiles(folder, files);
}
