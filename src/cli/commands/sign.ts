/**
 * `pki sign <csr-file…>`: signs externally made certification requests (PEM or DER; openssl req, certtool,
 * pki) with the intermediate. Every request is read and judged (core/x509/csr-policy.ts) before the issuer is
 * loaded, so one bad request in a batch refuses the batch with nothing written and nothing recorded. The
 * issuer is loaded once and the whole batch is recorded in one inventory transaction.
 */
import { basename, extname, join, resolve } from 'node:path';
import { parseCsr, type CsrFields } from '../../core/x509/csr.js';
import { csrRefusalError, evaluateCsr, type CsrApproval } from '../../core/x509/csr-policy.js';
import { isPkiError, PkiError } from '../../core/errors.js';
import { formatDistinguishedName } from '../../core/x509/name-decoder.js';
import { checkNameConstraints } from '../../core/x509/name-constraints.js';
import { parseSans, type SanSet } from '../../core/x509/names.js';
import { decodePem, encodePem, looksLikePem, PemLabel } from '../../core/der/pem.js';
import { isLeafProfileName, LEAF_PROFILE_NAMES, PROFILES } from '../../core/x509/profiles.js';
import { resolveValidity } from '../../core/x509/validity.js';
import { writeFilesAtomic } from '../../store/fs/batch-write.js';
import { ensureFolder, fileExists, FileMode, readBytes } from '../../store/ca-home.js';
import { clockSkewMs, maxSans } from '../../store/config.js';
import { openInventory } from '../../store/inventory/index.js';
import { issuedCertificateRecord } from '../../store/inventory/record.js';
import { issueLeafCertificate } from '../../operations/issue-leaf.js';
import { emit, type GlobalOptions } from '../output.js';
import { openHome } from '../home.js';
import { passphraseSource, type PassphraseOptions } from '../passphrase.js';

export interface SignOptions extends PassphraseOptions {
  readonly profile: string;
  readonly notAfter?: string;
  readonly notBefore?: string;
  readonly san: string[];
  readonly out?: string;
  readonly outDir?: string;
  readonly force?: boolean;
}

/** certtool and older openssl write `NEW CERTIFICATE REQUEST` (RFC 7468 §7 notes the legacy label). */
const CSR_LABELS: ReadonlySet<string> = new Set([PemLabel.csr, 'NEW CERTIFICATE REQUEST']);

/** A certification request is a few KiB; 1 MiB leaves room for hundreds of SANs and bounds the work on a wrong file. */
const MAX_CSR_BYTES = 1024 * 1024;

/** Reads one request file, PEM or DER (at most MAX_CSR_BYTES); errors name the file. */
function readCsr(path: string): CsrFields {
  const data = readBytes(path, { maxBytes: MAX_CSR_BYTES, what: 'a certificate request' });
  try {
    if (looksLikePem(data)) {
      const block = decodePem(data.toString('latin1')).find((b) => CSR_LABELS.has(b.label));
      if (!block) throw new PkiError('ERR_MALFORMED_CSR', 'no CERTIFICATE REQUEST block found');
      return parseCsr(block.der);
    }
    return parseCsr(data);
  } catch (e) {
    if (isPkiError(e)) throw new PkiError(e.code, `${path}: ${e.message}`, e.hint === undefined ? {} : { hint: e.hint });
    throw e;
  }
}

/** `web.csr` → `web.crt` in the output folder. */
function certificateName(csrPath: string): string {
  const base = basename(csrPath);
  const ext = extname(base);
  return `${['.csr', '.req', '.pem', '.der', '.p10'].includes(ext.toLowerCase()) ? base.slice(0, -ext.length) : base}.crt`;
}

export interface SignedCertificate {
  readonly request: string;
  readonly serial: string;
  readonly subject: string;
  readonly sans: SanSet;
  readonly notAfter: string;
  readonly path: string | null;
  readonly ignored: readonly string[];
}

export async function runSign(csrFiles: string[], options: SignOptions, globals: GlobalOptions, now = new Date()): Promise<void> {
  const home = openHome(globals);
  const config = home.readConfig();
  if (!isLeafProfileName(options.profile)) {
    throw new PkiError('ERR_USAGE', `unknown profile "${options.profile}"`, { hint: `use one of: ${LEAF_PROFILE_NAMES.join(', ')}` });
  }
  if (options.out !== undefined && options.outDir !== undefined) throw new PkiError('ERR_USAGE', '--out and --out-dir exclude each other');
  if (csrFiles.length > 1 && options.outDir === undefined) {
    throw new PkiError('ERR_USAGE', `${csrFiles.length} requests need --out-dir DIR (one <name>.crt per request)`, { hint: '--out and standard output take a single request' });
  }
  const profile = PROFILES[options.profile];
  const validity = resolveValidity({ now, notAfter: options.notAfter ?? config.validity.leaf, notBefore: options.notBefore, skewMs: clockSkewMs(config) });
  parseSans(options.san); // a bad --san is a usage problem of the whole batch, reported once

  // Where each certificate goes; refuse collisions and existing files before anything is written.
  const targets = csrFiles.map((file) =>
    options.outDir !== undefined ? resolve(join(options.outDir, certificateName(file))) : options.out !== undefined ? resolve(options.out) : null,
  );
  const seen = new Set<string>();
  for (const target of targets) {
    if (target === null) continue;
    if (seen.has(target)) throw new PkiError('ERR_USAGE', `two requests would both be written to ${target}`, { hint: 'give the request files distinct names' });
    seen.add(target);
    if (!options.force && fileExists(target)) throw new PkiError('ERR_FILE_EXISTS', `${target} already exists`, { hint: 'pass --force to replace it' });
  }

  const approvals: CsrApproval[] = csrFiles.map((file) => {
    const decision = evaluateCsr(readCsr(file), { profile, extraSans: options.san, maxSans: maxSans(config) });
    if (!decision.accepted) throw csrRefusalError(decision, file);
    // Before the passphrase is asked: a name outside the intermediate's constraints is the request's fault.
    if (config.nameConstraints) {
      try {
        checkNameConstraints(decision.sans, decision.subject, config.nameConstraints);
      } catch (e) {
        if (e instanceof PkiError) throw new PkiError(e.code, `${file}: ${e.message}`, e.hint === undefined ? {} : { hint: e.hint });
        throw e;
      }
    }
    return decision;
  });

  const inventory = await openInventory(home); // refuses when the database is missing, before any write
  try {
    const issuer = await home.loadIssuer(passphraseSource(options), now, inventory);
    // Issue everything first: a certificate that cannot be issued (e.g. it would outlive the CA) stops the batch unwritten.
    const issuerName = formatDistinguishedName(issuer.subjectDer);
    const issued = approvals.map((a) => {
      const leaf = issueLeafCertificate({ issuer, config, profile, subject: a.subject, sans: a.sans, publicKey: a.publicKey, spkiDer: a.spkiDer, validity });
      return { ...leaf, leafPem: encodePem(PemLabel.certificate, leaf.der), subject: a.subject, sans: a.sans };
    });
    if (options.outDir !== undefined) ensureFolder(resolve(options.outDir));
    await writeFilesAtomic(
      issued.flatMap((leaf, i) => (targets[i] ? [{ path: targets[i]!, data: leaf.leafPem + issuer.certificatePem, mode: FileMode.public }] : [])),
      { overwrite: options.force === true },
    );
    // From the values just signed, not by parsing each certificate back (test/core/certificate.test.ts: same record).
    const records = issued.map((leaf, i) =>
      issuedCertificateRecord(
        { der: leaf.der, pem: leaf.leafPem, serial: leaf.serial, subject: leaf.subject, sans: leaf.sans, issuer: issuerName, validity },
        { profile: profile.name as 'server' | 'client' | 'peer', certificatePath: targets[i] ?? null, keyPath: null },
      ),
    );
    inventory.recordIssued(records);

    const results: SignedCertificate[] = records.map((r, i) => ({
      request: csrFiles[i]!,
      serial: r.serial,
      subject: r.subject,
      sans: r.sans,
      notAfter: r.notAfter,
      path: targets[i] ?? null,
      ignored: approvals[i]!.ignored,
    }));
    if (targets[0] === null) {
      // One request to standard output: the chain itself is the output (inside the JSON document with --json).
      const chain = issued[0]!.leafPem + issuer.certificatePem;
      if (globals.json) emit(globals, { ...results[0]!, chain }, () => '');
      else process.stdout.write(chain);
      return;
    }
    emit(globals, results, (rs) =>
      rs.length === 1
        ? `Signed ${rs[0]!.request} → ${rs[0]!.path} (${rs[0]!.subject || '(no subject)'}, serial ${rs[0]!.serial}, ${profile.name}, until ${rs[0]!.notAfter.slice(0, 10)})`
        : [`Signed ${rs.length} requests into ${resolve(options.outDir!)} (${profile.name}, until ${validity.notAfter.toISOString().slice(0, 10)})`, ...rs.map((r) => `  ${basename(r.path!)}  serial ${r.serial}  ${r.subject}`)].join('\n'),
    );
  } finally {
    inventory.close();
  }
}
