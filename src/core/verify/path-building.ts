/**
 * Path building (RFC 4158 in spirit, RFC 5280 §6 for what a path is): from the leaf upward, a candidate
 * issuer of a certificate is any given certificate (--untrusted ∪ --roots) whose subject is the
 * certificate's issuer name and, when the certificate has an AKI keyIdentifier and the candidate an SKI,
 * whose SKI equals it. Every candidate is tried, depth first, trust anchors before intermediates and then
 * in input order, so several roots and cross-signed intermediates work and the result is deterministic.
 * A path ends at the first trust anchor it reaches. Signatures are not checked here: a candidate with the
 * right name but the wrong key yields a complete path that the per-certificate checks then refuse, and
 * the next candidate is tried.
 *
 * Names match byte for byte (what issuance writes: the issuer's subject copied as is); only when no
 * certificate matches so, the RFC 5280 §7.1 comparison is tried (case-insensitive, spaces folded,
 * attributes of an RDN in any order), computed on first need only.
 */
import { decodeName } from '../x509/name-decoder.js';
import type { PathCertificate } from './path-certificate.js';

/** What one branch of the search ends in. `path` is leaf first. */
export type BuildOutcome =
  | { readonly kind: 'complete'; readonly path: readonly PathCertificate[] }
  /** No candidate issuer for the top certificate (`selfSigned`: it names itself as its issuer). */
  | { readonly kind: 'unknown-issuer'; readonly path: readonly PathCertificate[]; readonly selfSigned: boolean }
  /** Every candidate issuer of the top certificate is already in the path. */
  | { readonly kind: 'loop'; readonly path: readonly PathCertificate[]; readonly repeated: PathCertificate };

/** Bounds against hostile inputs (mutually cross-signed meshes): Go stops after 100 signature checks. */
const MAX_PATH_CERTIFICATES = 12;
const MAX_OUTCOMES = 64;

/** RFC 5280 §7.1-ish canonical form of a Name: case and spacing folded, RDN attributes sorted. */
function canonicalName(der: Uint8Array): string {
  try {
    return decodeName(der)
      .map((rdn) =>
        rdn
          .map((a) => `${a.type}=${a.hex ? a.value : a.value.trim().replace(/\s+/g, ' ').toLowerCase()}`)
          .sort()
          .join('+'),
      )
      .join(',');
  } catch {
    return `#undecodable:${Buffer.from(der).toString('hex')}`;
  }
}

/** The candidate issuers, indexed by subject name. */
export class CertificatePool {
  private readonly bySubject = new Map<string, PathCertificate[]>();
  private byCanonicalSubject: Map<string, PathCertificate[]> | undefined;
  private readonly certificates: readonly PathCertificate[];

  private readonly onUnreadable: (c: PathCertificate) => void;
  private readonly reported = new Set<PathCertificate>();

  /**
   * `certificates` in preference order (anchors first, then input order). A candidate is parsed in full
   * when it first matches a name; one that cannot be is dropped and reported once to `onUnreadable`.
   */
  constructor(certificates: readonly PathCertificate[], onUnreadable: (c: PathCertificate) => void = () => {}) {
    this.certificates = certificates;
    this.onUnreadable = onUnreadable;
    for (const c of certificates) {
      const list = this.bySubject.get(c.subjectKey);
      if (list) list.push(c);
      else this.bySubject.set(c.subjectKey, [c]);
    }
  }

  /** Candidate issuers of `child`, in preference order. */
  issuersOf(child: PathCertificate): PathCertificate[] {
    let named = this.bySubject.get(child.issuerKey);
    if (!named) {
      this.byCanonicalSubject ??= this.canonicalIndex();
      named = this.byCanonicalSubject.get(canonicalName(child.issuerDer));
    }
    if (!named) return [];
    const aki = child.authorityKeyId();
    return named.filter((candidate) => {
      if (!candidate.readable()) {
        if (!this.reported.has(candidate)) this.onUnreadable(candidate);
        this.reported.add(candidate);
        return false;
      }
      const ski = aki === undefined ? undefined : candidate.subjectKeyId();
      return aki === undefined || ski === undefined || ski === aki;
    });
  }

  private canonicalIndex(): Map<string, PathCertificate[]> {
    const index = new Map<string, PathCertificate[]>();
    for (const c of this.certificates) {
      const key = canonicalName(c.subjectDer);
      const list = index.get(key);
      if (list) list.push(c);
      else index.set(key, [c]);
    }
    return index;
  }
}

/** Self-issued with matching key identifiers (or none to compare): its own issuer, as far as names and ids tell. */
function looksSelfSigned(c: PathCertificate): boolean {
  const aki = c.authorityKeyId();
  const ski = c.subjectKeyId();
  return c.selfIssued && (aki === undefined || ski === undefined || aki === ski);
}

/**
 * Every path from `leaf` upward, lazily, depth first. The leaf itself is never taken as the anchor here
 * (a leaf in --roots is the caller's case). Dead ends are yielded too, so the caller can name the
 * certificate whose issuer is missing.
 */
export function* buildPaths(leaf: PathCertificate, pool: CertificatePool): Generator<BuildOutcome> {
  let outcomes = 0;
  function* extend(path: PathCertificate[]): Generator<BuildOutcome> {
    const top = path[path.length - 1]!;
    let repeated: PathCertificate | undefined;
    let extended = false;
    for (const candidate of pool.issuersOf(top)) {
      if (outcomes >= MAX_OUTCOMES) return;
      if (candidate === top) continue; // a self-signed certificate is its own issuer: not a loop, a dead end
      if (path.includes(candidate)) {
        repeated ??= candidate;
        continue;
      }
      extended = true;
      const next = [...path, candidate];
      if (candidate.isAnchor) {
        outcomes++;
        yield { kind: 'complete', path: next };
      } else if (next.length >= MAX_PATH_CERTIFICATES) {
        outcomes++;
        yield { kind: 'unknown-issuer', path: next, selfSigned: false };
      } else {
        yield* extend(next);
      }
    }
    if (extended || outcomes >= MAX_OUTCOMES) return;
    outcomes++;
    if (repeated) yield { kind: 'loop', path, repeated };
    else yield { kind: 'unknown-issuer', path, selfSigned: looksSelfSigned(top) };
  }
  yield* extend([leaf]);
}
