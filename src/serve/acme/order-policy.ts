/**
 * What newOrder accepts (RFC 8555 §7.4, RFC 8738, RFC 9773 §5): dns and ip identifiers (ip only when the
 * provisioner allows it), each inside the provisioner's allowlist and its issuing CA's name constraints
 * (pki.json nameConstraints for the default intermediate, ca/NAME/ca.json for a `pki ca add` CA) —
 * refused as `rejectedIdentifier`, several at once as `compound` with one subproblem per identifier; the
 * challenges offered for each; and ARI `replaces`, which must name a certificate of a CA this server holds
 * ordered by the same account.
 */
import { parseAriCertificateId } from '../../core/acme/ari.js';
import { isIdentifierAllowed } from '../../core/acme/identifier-pattern.js';
import { isPkiError } from '../../core/errors.js';
import { checkNameConstraints } from '../../core/x509/name-constraints.js';
import { parseSan } from '../../core/x509/names.js';
import { maxSans } from '../../store/config.js';
import type { AcmeAccount, AcmeChallengeType, AcmeIdentifier } from '../../store/inventory/acme.js';
import { caByKeyIdentifier, provisionerCa } from '../issuing-cas.js';
import type { AcmeContext } from './context.js';
import { AcmeProblemError, type AcmeErrorType } from './problem.js';

interface Refusal {
  readonly type: AcmeErrorType;
  readonly detail: string;
  readonly identifier: AcmeIdentifier;
}

/** A wildcard is proven by dns-01 only (§7.1.3); an IP address by http-01 or tls-alpn-01 (RFC 8738 §7). */
export function challengeTypesFor(identifier: AcmeIdentifier): AcmeChallengeType[] {
  if (identifier.type === 'ip') return ['http-01', 'tls-alpn-01'];
  if (identifier.value.startsWith('*.')) return ['dns-01'];
  return ['http-01', 'dns-01', 'tls-alpn-01'];
}

/** The identifier in canonical form, or the refusal. */
function judgeIdentifier(context: AcmeContext, identifier: AcmeIdentifier): AcmeIdentifier | Refusal {
  const { provisioner } = context;
  if (identifier.type === 'ip' && !provisioner.allowIp) return { type: 'rejectedIdentifier', detail: `IP identifiers are not allowed by provisioner "${provisioner.name}"`, identifier };
  let canonical: AcmeIdentifier;
  try {
    const san = parseSan(identifier.value);
    if (san.type !== identifier.type) return { type: 'rejectedIdentifier', detail: `"${identifier.value}" is not a valid ${identifier.type === 'dns' ? 'DNS name' : 'IP address'}`, identifier };
    canonical = { type: identifier.type, value: san.value };
  } catch (e) {
    if (isPkiError(e)) return { type: 'rejectedIdentifier', detail: e.message, identifier };
    throw e;
  }
  if (provisioner.allow.length === 0) return { type: 'rejectedIdentifier', detail: `provisioner "${provisioner.name}" allows no identifier (serve.acme.allow / --acme-allow)`, identifier };
  if (!isIdentifierAllowed(canonical, provisioner.allow)) return { type: 'rejectedIdentifier', detail: `${canonical.value} is outside what provisioner "${provisioner.name}" allows (${provisioner.allow.join(', ')})`, identifier };
  const ca = provisionerCa(context.serve, provisioner);
  const constraints = ca.config.nameConstraints;
  if (constraints) {
    try {
      checkNameConstraints([{ type: canonical.type, value: canonical.value }], {}, constraints);
    } catch (e) {
      const whose = ca.config.issuingCa ? `issuing CA ${ca.key}'s` : "the intermediate's";
      if (isPkiError(e)) return { type: 'rejectedIdentifier', detail: e.message.replace("the intermediate's", whose), identifier };
      throw e;
    }
  }
  return canonical;
}

function shapeOf(raw: unknown): AcmeIdentifier {
  const o = raw as { type?: unknown; value?: unknown } | null;
  if (typeof o !== 'object' || o === null || typeof o.type !== 'string' || typeof o.value !== 'string') throw new AcmeProblemError('malformed', 'each identifier is {"type": …, "value": …}');
  if (o.type !== 'dns' && o.type !== 'ip') throw new AcmeProblemError('unsupportedIdentifier', `identifier type "${o.type.slice(0, 40)}" is not supported (dns, ip)`);
  return { type: o.type, value: o.value };
}

/** The order's identifiers, canonical and de-duplicated, or the problem. */
export function checkIdentifiers(context: AcmeContext, raw: unknown): AcmeIdentifier[] {
  if (!Array.isArray(raw) || raw.length === 0) throw new AcmeProblemError('malformed', 'newOrder needs a non-empty "identifiers" array');
  const max = maxSans(provisionerCa(context.serve, context.provisioner).config);
  if (raw.length > max) throw new AcmeProblemError('rejectedIdentifier', `an order holds at most ${max} identifiers`);
  const refusals: Refusal[] = [];
  const out: AcmeIdentifier[] = [];
  const seen = new Set<string>();
  for (const item of raw) {
    const judged = judgeIdentifier(context, shapeOf(item));
    if ('detail' in judged) refusals.push(judged);
    else if (!seen.has(`${judged.type}:${judged.value}`)) {
      seen.add(`${judged.type}:${judged.value}`);
      out.push(judged);
    }
  }
  if (refusals.length === 1) throw new AcmeProblemError(refusals[0]!.type, refusals[0]!.detail, { subproblems: refusals });
  if (refusals.length > 1) throw new AcmeProblemError('compound', `${refusals.length} identifiers are refused`, { status: 400, subproblems: refusals });
  return out;
}

/** ARI `replaces` (RFC 9773 §5): a certificate identifier of a CA this server holds that this account ordered; null when absent. */
export function checkReplaces(context: AcmeContext, raw: unknown, account: AcmeAccount): string | null {
  if (raw === undefined) return null;
  if (typeof raw !== 'string') throw new AcmeProblemError('malformed', '"replaces" must be a certificate identifier (RFC 9773)');
  const parsed = parseAriCertificateId(raw);
  // Any CA of this server: a provisioner whose `ca` changed still replaces what the previous CA issued.
  if (!parsed || !caByKeyIdentifier(context.serve, parsed.authorityKeyId)) throw new AcmeProblemError('malformed', `"replaces" does not name a certificate of this CA`);
  const previous = context.store.findOrderByCertificate(parsed.serialHex);
  if (!previous || previous.accountId !== account.id) throw new AcmeProblemError('malformed', `"replaces" names a certificate this account did not order`);
  return raw;
}
