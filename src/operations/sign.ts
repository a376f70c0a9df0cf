/**
 * Signing externally made certification requests (PEM or DER; openssl req, certtool, pki) with the
 * intermediate (`pki sign`, and later a request handler of `pki serve`). Every request is read and judged
 * (core/x509/csr-policy.ts) before the issuer is loaded, so one bad request in a batch refuses the batch
 * with nothing written and nothing recorded. The issuer is loaded once and the whole batch is recorded in
 * one inventory transaction.
 */
import { parseCsr, type CsrFields } from '../core/x509/csr.js';
import { csrRefusalError, evaluateCsr, type CsrApproval } from '../core/x509/csr-policy.js';
import { isPkiError, PkiError } from '../core/errors.js';
import { formatDistinguishedName } from '../core/x509/name-decoder.js';
import { parseSans, type SanSet } from '../core/x509/names.js';
import { encodePem, findPemBlock, looksLikePem, PemLabel } from '../core/der/pem.js';
import { checkProfileKey } from '../core/x509/profile-config.js';
import { resolveValidity } from '../core/x509/validity.js';
import { writeFilesAtomic } from '../store/fs/batch-write.js';
import { ensureFolder, fileExists, FileMode, readBytes, type CaHome, type PassphraseSource } from '../store/ca-home.js';
import { clockSkewMs, maxSans } from '../store/config.js';
import { openInventory } from '../store/inventory/index.js';
import { issuedCertificateRecord } from '../store/inventory/record.js';
import { issueLeafCertificate, leafNames, leafProfile } from './issue-leaf.js';

/** certtool and older openssl write `NEW CERTIFICATE REQUEST` (RFC 7468 §7 notes the legacy label). */
const CSR_LABELS: ReadonlySet<string> = new Set([PemLabel.csr, 'NEW CERTIFICATE REQUEST']);

/** A certification request is a few KiB; 1 MiB leaves room for hundreds of SANs and bounds the work on a wrong file. */
export const MAX_CSR_BYTES = 1024 * 1024;

export interface CsrInput {
  /** Names the request in messages and results: the file named on the command line, or a handler's label. */
  readonly label: string;
  /** The request itself (PEM or DER), or a file read (at most MAX_CSR_BYTES) when its turn comes in the batch. */
  readonly data: Uint8Array | { readonly path: string };
  /** Where leaf + intermediate are written; null: only returned (standard output, a handler's response). */
  readonly target: string | null;
}

export interface SignRequest {
  readonly csrs: readonly CsrInput[];
  /** A pki.json profile name, or a built-in one (server, client, peer). */
  readonly profile: string;
  /** Lifetime (duration or RFC 3339 time); undefined: pki.json's validity.leaf. */
  readonly notAfter?: string | undefined;
  readonly notBefore?: string | undefined;
  /** SANs added to every request's own. */
  readonly extraSans: readonly string[];
  /** A folder created for the targets first (`--out-dir`). */
  readonly outDir?: string | undefined;
  /** Replace existing target files. */
  readonly force?: boolean;
}

export interface SignContext {
  readonly now: Date;
  /** Asked only once every request has been accepted. */
  readonly passphrase: PassphraseSource;
  /** Told after each certificate of the batch is issued (the CLI's progress line). */
  readonly onProgress?: (done: number, total: number) => void;
}

/** What `pki sign --json` prints for one request. */
export interface SignedCertificate {
  readonly request: string;
  readonly serial: string;
  readonly subject: string;
  readonly sans: SanSet;
  readonly notAfter: string;
  readonly path: string | null;
  readonly ignored: readonly string[];
}

export interface SignResult {
  /** One per request, in request order. */
  readonly certificates: readonly SignedCertificate[];
  /** Leaf + intermediate, PEM, one per request (what was written to each target). */
  readonly chains: readonly string[];
  readonly profile: string;
  /** The batch's notAfter, ISO 8601. */
  readonly notAfter: string;
}

/** Names the request in a refusal's message. */
function labelled(label: string, e: unknown): unknown {
  return isPkiError(e) ? new PkiError(e.code, `${label}: ${e.message}`, e.hint === undefined ? {} : { hint: e.hint }) : e;
}

/** One request, PEM or DER; errors name its label. */
export function readCsr(input: Pick<CsrInput, 'label' | 'data'>): CsrFields {
  const data = input.data instanceof Uint8Array ? input.data : readBytes(input.data.path, { maxBytes: MAX_CSR_BYTES, what: 'a certificate request' });
  try {
    if (looksLikePem(data)) {
      const block = findPemBlock(Buffer.from(data).toString('latin1'), CSR_LABELS);
      if (!block) throw new PkiError('ERR_MALFORMED_CSR', 'no CERTIFICATE REQUEST block found');
      return parseCsr(block.der);
    }
    return parseCsr(data);
  } catch (e) {
    throw labelled(input.label, e);
  }
}

/** Refuses two requests written to one file, and existing targets without force, before anything is read or written. */
function checkTargets(csrs: readonly CsrInput[], force: boolean): void {
  const seen = new Set<string>();
  for (const { target } of csrs) {
    if (target === null) continue;
    if (seen.has(target)) throw new PkiError('ERR_USAGE', `two requests would both be written to ${target}`, { hint: 'give the request files distinct names' });
    seen.add(target);
    if (!force && fileExists(target)) throw new PkiError('ERR_FILE_EXISTS', `${target} already exists`, { hint: 'pass --force to replace it' });
  }
}

/** Signs every request of the batch, or none: see the file comment. */
export async function signCsrs(home: CaHome, request: SignRequest, context: SignContext): Promise<SignResult> {
  const { now } = context;
  const config = home.readConfig();
  const profile = leafProfile(config, request.profile);
  const validity = resolveValidity({ now, notAfter: request.notAfter ?? profile.notAfter ?? config.validity.leaf, notBefore: request.notBefore, skewMs: clockSkewMs(config) });
  parseSans(request.extraSans); // a bad extra SAN is a problem of the whole batch, reported once
  checkTargets(request.csrs, request.force === true);
  const approvals: CsrApproval[] = request.csrs.map((csr) => {
    const extraSans = [...request.extraSans, ...profile.sans.map((s) => s.value)];
    const decision = evaluateCsr(readCsr(csr), { profile: profile.x509, extraSans, maxSans: maxSans(config) });
    if (!decision.accepted) throw csrRefusalError(decision, csr.label);
    // Before the passphrase is asked: a key or name the profile or the intermediate's constraints refuse is the request's fault.
    try {
      checkProfileKey(decision.key, profile);
      leafNames(config, profile, decision.subject, decision.sans);
    } catch (e) {
      throw labelled(csr.label, e);
    }
    return decision;
  });

  const inventory = await openInventory(home); // refuses when the database is missing, before any write
  try {
    const issuer = await home.loadIssuer(context.passphrase, now, inventory);
    // Issue everything first: a certificate that cannot be issued (e.g. it would outlive the CA) stops the batch unwritten.
    const issuerName = formatDistinguishedName(issuer.subjectDer);
    const issued = approvals.map((a, i) => {
      const leaf = issueLeafCertificate({ issuer, config, profile, subject: a.subject, sans: a.sans, publicKey: a.publicKey, spkiDer: a.spkiDer, validity });
      context.onProgress?.(i + 1, approvals.length);
      return { ...leaf, leafPem: encodePem(PemLabel.certificate, leaf.der) };
    });
    const chains = issued.map((leaf) => leaf.leafPem + issuer.certificatePem);
    if (request.outDir !== undefined) ensureFolder(request.outDir);
    await writeFilesAtomic(
      request.csrs.flatMap((csr, i) => (csr.target !== null ? [{ path: csr.target, data: chains[i]!, mode: FileMode.public }] : [])),
      { overwrite: request.force === true },
    );
    // From the values just signed, not by parsing each certificate back (test/core/certificate.test.ts: same record).
    const records = issued.map((leaf, i) =>
      issuedCertificateRecord(
        { der: leaf.der, pem: leaf.leafPem, serial: leaf.serial, subject: leaf.subject, sans: leaf.sans, issuer: issuerName, issuerKeyIdentifier: issuer.keyIdentifier, validity },
        { profile: profile.role, profileName: profile.name, certificatePath: request.csrs[i]!.target, keyPath: null, ...home.recordColumns },
      ),
    );
    inventory.recordIssued(records);
    const certificates = records.map((r, i) => ({
      request: request.csrs[i]!.label,
      serial: r.serial,
      subject: r.subject,
      sans: r.sans,
      notAfter: r.notAfter,
      path: request.csrs[i]!.target,
      ignored: approvals[i]!.ignored,
    }));
    return { certificates, chains, profile: request.profile, notAfter: validity.notAfter.toISOString() };
  } finally {
    inventory.close();
  }
}
