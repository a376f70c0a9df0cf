/**
 * Issuing an ACME order's certificate (RFC 8555 §7.4 finalize) with the issuer and inventory `pki serve`
 * holds open: the CSR judged as `pki sign` judges one (core/x509/csr-policy.ts), then what ACME adds —
 * its names exactly the order's identifiers, its key one of the provisioner's key types — and the leaf
 * issued and recorded as sign.ts issues and records one, without loading the issuer per call. A refusal
 * is a value (the web front end answers it as `badCSR`); nothing is issued or recorded for one.
 */
import { matchCsrToOrder } from '../core/acme/csr-order.js';
import type { Identifier } from '../core/acme/identifier-pattern.js';
import { encodePem, PemLabel } from '../core/der/pem.js';
import { isPkiError } from '../core/errors.js';
import type { KeyDescription } from '../core/keys/keys.js';
import { parseCsr } from '../core/x509/csr.js';
import { evaluateCsr, type CsrApproval } from '../core/x509/csr-policy.js';
import type { LoadedIssuer } from '../core/x509/issuer.js';
import { formatDistinguishedName } from '../core/x509/name-decoder.js';
import { checkProfileKey, type LeafProfile } from '../core/x509/profile-config.js';
import { resolveValidity, type Validity } from '../core/x509/validity.js';
import { clockSkewMs, maxSans, type PkiConfig } from '../store/config.js';
import type { Inventory } from '../store/inventory/index.js';
import { issuedCertificateRecord, type IssuingCaColumns } from '../store/inventory/record.js';
import { issueLeafCertificate, leafNames, leafProfile } from './issue-leaf.js';

export type AcmeKeyType = 'P-256' | 'P-384' | 'RSA' | 'Ed25519';

export interface AcmeIssueRequest {
  /** The CSR as finalize carries it, DER. */
  readonly csrDer: Uint8Array;
  readonly identifiers: readonly Identifier[];
  /** The provisioner's profile name. */
  readonly profile: string;
  /** The provisioner's lifetime (duration text) or undefined: the profile's, else pki.json validity.leaf. */
  readonly lifetime: string | undefined;
  readonly keyTypes: readonly AcmeKeyType[];
  /** The order's notBefore/notAfter (RFC 3339), or null. */
  readonly notBefore: string | null;
  readonly notAfter: string | null;
}

export interface AcmeIssueContext {
  /** The issuing CA the provisioner names (issue 14): its issuer, and its pki.json (CaHome#readConfig of its view: name constraints, profile set). */
  readonly issuer: LoadedIssuer & { certificatePem: string };
  readonly inventory: Inventory;
  readonly config: PkiConfig;
  /** CaHome#recordColumns of that CA (`{ ca: NAME }` for a `pki ca add` CA, `{}` for the default intermediate). */
  readonly recordColumns?: IssuingCaColumns;
  readonly now: Date;
}

export type AcmeCsrDecision =
  | { readonly ok: true; readonly approval: CsrApproval; readonly profile: LeafProfile; readonly validity: Validity }
  | { readonly ok: false; readonly detail: string };

export interface AcmeIssued {
  readonly serial: string;
  /** Leaf + intermediate, PEM. */
  readonly chainPem: string;
  readonly notBefore: string;
  readonly notAfter: string;
}

/** `P-256`, `RSA`… for a key the CSR policy accepted; null for one ACME never issues (P-521). */
export function acmeKeyType(key: KeyDescription): AcmeKeyType | null {
  if (key.type === 'RSA') return 'RSA';
  if (key.type === 'OKP') return key.curve === 'Ed25519' ? 'Ed25519' : null;
  return key.curve === 'P-256' || key.curve === 'P-384' ? key.curve : null;
}

/** The lifetime an order gets when it names no notAfter: the provisioner's, the profile's, else validity.leaf. */
export function acmeLifetime(config: PkiConfig, profileName: string, lifetime: string | undefined): string {
  return lifetime ?? leafProfile(config, profileName).notAfter ?? config.validity.leaf;
}

function refusal(e: unknown): { ok: false; detail: string } {
  if (isPkiError(e)) return { ok: false, detail: e.message };
  throw e;
}

/** Judges the CSR for the order: see the file comment. Never throws for a bad request. */
export function decideAcmeCsr(config: PkiConfig, request: AcmeIssueRequest, now: Date): AcmeCsrDecision {
  let profile: LeafProfile;
  try {
    profile = leafProfile(config, request.profile);
  } catch (e) {
    return refusal(e);
  }
  let decision;
  try {
    decision = evaluateCsr(parseCsr(request.csrDer), { profile: profile.x509, maxSans: maxSans(config) });
  } catch (e) {
    return refusal(e);
  }
  if (!decision.accepted) return { ok: false, detail: decision.reason };
  const match = matchCsrToOrder(decision.sans, decision.subject.commonName, request.identifiers);
  if (!match.ok) return { ok: false, detail: match.detail };
  const type = acmeKeyType(decision.key);
  if (type === null || !request.keyTypes.includes(type)) {
    const got = decision.key.type === 'RSA' ? `RSA ${decision.key.size}` : decision.key.curve;
    return { ok: false, detail: `the CSR's key is ${got}; this provisioner certifies ${request.keyTypes.join(', ')}` };
  }
  try {
    checkProfileKey(decision.key, profile);
    leafNames(config, profile, decision.subject, decision.sans);
    const validity = resolveValidity({
      now,
      notAfter: request.notAfter ?? acmeLifetime(config, request.profile, request.lifetime),
      notBefore: request.notBefore ?? undefined,
      skewMs: clockSkewMs(config),
    });
    return { ok: true, approval: decision, profile, validity };
  } catch (e) {
    return refusal(e);
  }
}

/** Issues the approved request with the open issuer and records it in the open inventory. */
export function issueAcmeCertificate(context: AcmeIssueContext, decided: Extract<AcmeCsrDecision, { ok: true }>): AcmeIssued {
  const { issuer, inventory, config } = context;
  const { approval, profile, validity } = decided;
  const leaf = issueLeafCertificate({ issuer, config, profile, subject: approval.subject, sans: approval.sans, publicKey: approval.publicKey, spkiDer: approval.spkiDer, validity });
  const leafPem = encodePem(PemLabel.certificate, leaf.der);
  const record = issuedCertificateRecord(
    { der: leaf.der, pem: leafPem, serial: leaf.serial, subject: leaf.subject, sans: leaf.sans, issuer: formatDistinguishedName(issuer.subjectDer), issuerKeyIdentifier: issuer.keyIdentifier, validity },
    { profile: profile.role, profileName: profile.name, certificatePath: null, keyPath: null, ...context.recordColumns },
  );
  inventory.recordIssued([record]);
  return { serial: record.serial, chainPem: leafPem + issuer.certificatePem, notBefore: record.notBefore, notAfter: record.notAfter };
}
