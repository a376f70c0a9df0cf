/**
 * Certificate path validation (RFC 5280 §6), pure: DER in, verdict out. Builds candidate paths from the
 * leaf upward by issuer name and AKI/SKI, trying every candidate issuer (several roots, cross-signed
 * intermediates), detects loops, stops at a trust anchor, and checks every certificate of the path
 * (certificate-checks.ts: anchor first, down to the leaf), then the path's name constraints, the host and
 * revocation (host-match.ts, path-name-constraints.ts, revocation.ts). The first valid path is the answer.
 *
 * When no path is valid, the failure reported is that of the best attempt, ranked (first found wins ties):
 *   1. a complete path (reaching a trust anchor) beats a dead end (no issuer found, or a loop);
 *   2. among complete paths, one that failed on anything but a bad signature beats one with a bad
 *      signature (a candidate issuer with the right name and the wrong key is not the real issuer);
 *   3. then the one that passed more checks (it got further); among dead ends, the longer path.
 */
import { findExtension } from '../x509/certificate-fields.js';
import { ExtensionOid } from '../x509/extensions.js';
import { verificationScheme, verifyWithScheme } from '../keys/signature.js';
import { certificateChecks } from './certificate-checks.js';
import { chainEntryOf } from './chain-entry.js';
import { checkHost } from './host-match.js';
import { buildPaths, CertificatePool, type BuildOutcome } from './path-building.js';
import { PathCertificate } from './path-certificate.js';
import { checkPathNameConstraints } from './path-name-constraints.js';
import { checkRevocation } from './revocation.js';
import type { CheckOutcome, PathValidationInput, PathValidationResult, VerifyCheck, VerifyFailure } from './types.js';

interface Attempt {
  readonly path: readonly PathCertificate[];
  readonly checks: readonly VerifyCheck[];
  readonly failure: VerifyFailure | null;
  /** Compared lexicographically, higher is better (the rule in the header). */
  readonly rank: readonly number[];
}

const UNREADABLE = '(unreadable certificate)';

function toCheck(outcome: CheckOutcome): VerifyCheck {
  return outcome.ok ? { name: outcome.name, ok: true, detail: outcome.detail } : { name: outcome.name, ok: false, detail: outcome.failure.message };
}

const pathText = (path: readonly PathCertificate[]) => path.map((c) => c.subject()).join(' ← ');

/**
 * The leaf, and every other certificate once (by DER), anchors marked: roots first, then untrusted, in
 * input order. Only names are read here; a certificate that cannot be parsed is noted (and skipped) when
 * it first matters: as a candidate issuer, or right away when even its names cannot be read.
 */
function gather(input: PathValidationInput, leaf: PathCertificate, notes: VerifyCheck[]): CertificatePool {
  const byIdentity = new Map<string, PathCertificate>([[leaf.identity, leaf]]);
  const anchors: PathCertificate[] = [];
  const others: PathCertificate[] = [];
  const skipped = (label: string, why: string): void => {
    notes.push({ name: 'path', ok: true, detail: `skipped ${label}: ${why}` });
  };
  let order = 1;
  const add = (ders: readonly Uint8Array[], isRoot: boolean, what: string) => {
    ders.forEach((der, i) => {
      const label = `certificate ${i + 1} of the ${what}`;
      const c = PathCertificate.candidate(der, order++, isRoot, label);
      if (c instanceof Error) {
        skipped(label, c.message);
        return;
      }
      const known = byIdentity.get(c.identity);
      if (known) {
        if (isRoot) known.isAnchor = true;
        return;
      }
      byIdentity.set(c.identity, c);
      (isRoot ? anchors : others).push(c);
    });
  };
  add(input.roots, true, 'roots');
  add(input.untrusted, false, 'untrusted certificates');
  return new CertificatePool([...anchors, ...others], (c) => skipped(c.label, c.unreadableReason() ?? 'unreadable'));
}

/** A leaf given in --roots is its own path only when it is a self-signed CA certificate. */
function isSelfSignedCa(c: PathCertificate): boolean {
  if (!c.selfIssued) return false;
  const aki = c.authorityKeyId();
  const ski = c.subjectKeyId();
  if (aki !== undefined && ski !== undefined && aki !== ski) return false;
  try {
    if (!c.basicConstraints().isCA) return false;
  } catch {
    return false;
  }
  const key = c.publicKey();
  if (key instanceof Error) return false;
  const verdict = verificationScheme(c.fields.signatureAlgorithmOid, c.fields.signatureAlgorithmParameters);
  // An anchor's self-signature is not judged (a SHA-1 root is still a root); one that can be checked must verify.
  return !verdict.ok || verifyWithScheme(verdict.scheme, c.fields.tbsDer, c.fields.signature, key);
}

/** Runs the checks of a complete path in order, stopping at the first failure. */
function judgeCompletePath(path: readonly PathCertificate[], input: PathValidationInput): Attempt {
  const checks: VerifyCheck[] = [{ name: 'path', ok: true, detail: pathText(path) }];
  const run = (outcomes: Iterable<CheckOutcome>): VerifyFailure | null => {
    for (const outcome of outcomes) {
      checks.push(toCheck(outcome));
      if (!outcome.ok) return outcome.failure;
    }
    return null;
  };
  const failure = run(pathChecks(path, input));
  const rank = [2, failure?.code === 'ERR_BAD_SIGNATURE' ? 0 : 1, checks.filter((c) => c.ok).length];
  return { path, checks, failure, rank };
}

/** Every check of a complete path, lazily, in the order made. */
function* pathChecks(path: readonly PathCertificate[], input: PathValidationInput): Generator<CheckOutcome> {
  const leaf = path[0]!;
  if (input.maxDepth !== undefined) {
    const intermediates = Math.max(0, path.length - 2);
    yield intermediates <= input.maxDepth
      ? { ok: true, name: 'pathLength', detail: `${intermediates} intermediate CA certificate(s), --max-depth ${input.maxDepth}` }
      : {
          ok: false,
          name: 'pathLength',
          failure: {
            code: 'ERR_PATH_LENGTH',
            message: `the path has ${intermediates} intermediate CA certificates, more than --max-depth ${input.maxDepth}`,
            certificate: leaf.subject(),
            hint: 'raise --max-depth, or give a shorter chain',
          },
        };
  }
  yield* certificateChecks(path, input);
  const fields = path.map((c) => c.fields);
  if (path.slice(1).some((c) => findExtension(c.fields, ExtensionOid.nameConstraints))) yield checkPathNameConstraints(fields);
  if (input.host !== undefined || input.ip !== undefined) {
    yield checkHost(leaf.fields, { ...(input.host !== undefined ? { host: input.host } : {}), ...(input.ip !== undefined ? { ip: input.ip } : {}) });
  }
  if (input.crlCheck !== 'none' || input.crls.length > 0) yield* checkRevocation(fields, input.crls, input.crlCheck, input.time);
}

/** The failure of a dead end: the top certificate's issuer is unknown, or every candidate is already in the path. */
function judgeDeadEnd(outcome: Exclude<BuildOutcome, { kind: 'complete' }>): Attempt {
  const top = outcome.path[outcome.path.length - 1]!;
  let failure: VerifyFailure;
  if (outcome.kind === 'loop') {
    failure = {
      code: 'ERR_CHAIN_LOOP',
      message: `certificate chain loops: ${top.subject()} is issued by ${outcome.repeated.subject()}, which is already in the path`,
      certificate: top.subject(),
      hint: 'give the root CA certificate with --roots',
    };
  } else if (top.isAnchor && outcome.path.length === 1) {
    failure = {
      code: 'ERR_NOT_CA',
      message: 'the certificate is in --roots, but a trust anchor given as the leaf must be a self-signed CA certificate, and this one is not',
      certificate: top.subject(),
      hint: 'give the CA that issued it with --roots instead',
    };
  } else {
    failure = {
      code: 'ERR_UNKNOWN_AUTHORITY',
      message: `signed by unknown authority ${top.issuer()}${outcome.selfSigned ? ' (a self-signed certificate not among the roots)' : ''}`,
      certificate: top.subject(),
      hint: outcome.selfSigned ? 'add it to --roots if you trust it' : 'give the intermediate with --untrusted, or the right --roots',
    };
  }
  return { path: outcome.path, checks: [{ name: 'path', ok: false, detail: failure.message }], failure, rank: [1, 0, outcome.path.length] };
}

const better = (a: readonly number[], b: readonly number[]): boolean => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return false;
};

export function validateCertificatePath(input: PathValidationInput): PathValidationResult {
  const leaf = PathCertificate.parse(input.leaf, 0, false, 'the leaf');
  if (leaf instanceof Error) {
    const failure: VerifyFailure = { code: 'ERR_MALFORMED_CERTIFICATE', message: leaf.message, certificate: UNREADABLE, hint: 'give a PEM or DER X.509 certificate' };
    return { valid: false, chain: [], error: failure, checks: [{ name: 'path', ok: false, detail: failure.message }] };
  }
  const notes: VerifyCheck[] = [];
  const pool = gather(input, leaf, notes);
  const outcomes: Iterable<BuildOutcome> = leaf.isAnchor && isSelfSignedCa(leaf) ? [{ kind: 'complete', path: [leaf] }] : buildPaths(leaf, pool);
  let best: Attempt | undefined;
  for (const outcome of outcomes) {
    const attempt = outcome.kind === 'complete' ? judgeCompletePath(outcome.path, input) : judgeDeadEnd(outcome);
    if (attempt.failure === null) return { valid: true, chain: attempt.path.map(chainEntryOf), error: null, checks: [...notes, ...attempt.checks] };
    if (best === undefined || better(attempt.rank, best.rank)) best = attempt;
  }
  // buildPaths always yields at least one outcome (a dead end when nothing else).
  const chosen = best!;
  return { valid: false, chain: chosen.path.map(chainEntryOf), error: chosen.failure, checks: [...notes, ...chosen.checks] };
}
