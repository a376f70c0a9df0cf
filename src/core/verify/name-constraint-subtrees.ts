/**
 * Reading what path validation compares under name constraints (RFC 5280 §4.2.1.10): a CA certificate's
 * NameConstraints extension as permitted/excluded subtrees per name form, and a certificate's names per
 * form (its SANs, its subject DN, and — only without a SAN extension — its subject CN read as a host name
 * and its subject emailAddress attributes).
 */
import { childrenOf, contentOf, DerTag, encodingOf, expectTag, readIntegerBigInt, readRootTlv, readTlv, type DerElement } from '../der/reader.js';
import type { CertificateFields } from '../x509/certificate-fields.js';
import { ExtensionOid } from '../x509/extensions.js';
import { commonNameAsHost, type CidrBlock } from '../x509/name-constraints.js';
import { decodeName } from '../x509/name-decoder.js';
import { formatIpBytes, ipToBytes } from '../x509/names.js';

/** GeneralName forms pki does not check (RFC 5280 §4.2.1.6 tags), by context tag number. */
export const UNSUPPORTED_FORMS: Readonly<Record<number, string>> = { 0: 'otherName', 3: 'x400Address', 5: 'ediPartyName', 8: 'registeredID' };

export interface IpSubtree extends CidrBlock {
  /** `10.0.0.0/8`, or `address/mask` for a mask that is not a prefix. */
  readonly text: string;
}

/** The subtrees of one side (permitted or excluded), by name form. */
export interface Subtrees {
  readonly dns: string[];
  readonly ip: IpSubtree[];
  readonly email: string[];
  readonly uri: string[];
  /** DER of each directoryName's Name. */
  readonly directory: Uint8Array[];
  /** Context tag numbers of forms pki cannot check (UNSUPPORTED_FORMS). */
  readonly unsupported: number[];
}

export interface DecodedNameConstraints {
  readonly permitted: Subtrees;
  readonly excluded: Subtrees;
}

const emptySubtrees = (): Subtrees => ({ dns: [], ip: [], email: [], uri: [], directory: [], unsupported: [] });

/** Why a NameConstraints extension cannot be used; the check fails closed on it. */
export class UnreadableConstraints extends Error {}

function prefixLength(mask: Uint8Array): number | null {
  let bits = 0;
  let ended = false;
  for (const byte of mask) {
    for (let b = 7; b >= 0; b--) {
      const set = (byte >> b) & 1;
      if (set && ended) return null;
      if (set) bits++;
      else ended = true;
    }
  }
  return bits;
}

function ipSubtree(content: Uint8Array): IpSubtree {
  if (content.length !== 8 && content.length !== 32) throw new UnreadableConstraints(`an iPAddress subtree has ${content.length} octets, not 8 (IPv4) or 32 (IPv6)`);
  const half = content.length / 2;
  const mask = Buffer.from(content.subarray(half));
  const address = Buffer.from(content.subarray(0, half).map((b, i) => b & mask[i]!));
  const prefix = prefixLength(mask);
  return { address, mask, text: `${formatIpBytes(address)}/${prefix ?? formatIpBytes(mask)}` };
}

/** Lower-case host part; a `user@host` keeps the local part's case (RFC 5280 §4.2.1.10: it is case-sensitive). */
export function normalizeMailbox(text: string): string {
  const at = text.lastIndexOf('@');
  return at < 0 ? text.toLowerCase() : `${text.slice(0, at + 1)}${text.slice(at + 1).toLowerCase()}`;
}

const ascii = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');

function readSubtrees(der: Uint8Array, list: DerElement): Subtrees {
  const out = emptySubtrees();
  for (const subtree of childrenOf(der, list)) {
    const [base, ...bounds] = childrenOf(der, expectTag(subtree, DerTag.sequence, 'GeneralSubtree'));
    if (base === undefined) throw new UnreadableConstraints('a GeneralSubtree has no base name');
    // RFC 5280: minimum MUST be zero and maximum absent; openssl refuses anything else, and so does pki.
    for (const bound of bounds) {
      if (bound.tag !== 0x80 || readIntegerBigInt(der, { ...bound, tag: DerTag.integer }) !== 0n) throw new UnreadableConstraints('a subtree sets a minimum or maximum distance, which RFC 5280 forbids');
    }
    const content = contentOf(der, base);
    switch (base.tag) {
      case 0x81:
        out.email.push(normalizeMailbox(ascii(content).replace(/\.$/, '')));
        break;
      case 0x82:
        out.dns.push(ascii(content).toLowerCase().replace(/\.$/, ''));
        break;
      case 0x86:
        out.uri.push(ascii(content).toLowerCase().replace(/\.$/, ''));
        break;
      case 0x87:
        out.ip.push(ipSubtree(content));
        break;
      case 0xa4: {
        const name = readTlv(der, base.start + base.headerLength, base.end);
        out.directory.push(encodingOf(der, expectTag(name, DerTag.sequence, 'directoryName')));
        break;
      }
      default:
        out.unsupported.push(base.tag & 0x1f);
    }
  }
  return out;
}

/** The NameConstraints extension of a CA certificate, or null without one. Throws UnreadableConstraints or ERR_MALFORMED_DER. */
export function decodeNameConstraints(ca: Pick<CertificateFields, 'extensions'>): DecodedNameConstraints | null {
  const ext = ca.extensions.find((e) => e.oid === ExtensionOid.nameConstraints);
  if (!ext) return null;
  const out = { permitted: emptySubtrees(), excluded: emptySubtrees() };
  for (const el of childrenOf(ext.value, expectTag(readRootTlv(ext.value), DerTag.sequence, 'NameConstraints'))) {
    if (el.tag === 0xa0) out.permitted = readSubtrees(ext.value, el);
    else if (el.tag === 0xa1) out.excluded = readSubtrees(ext.value, el);
    else throw new UnreadableConstraints(`unexpected field with tag 0x${el.tag.toString(16)}`);
  }
  return out;
}

/** The names of one certificate that constraints apply to, by form. */
export interface CertificateNames {
  readonly dns: { value: string; fromCommonName: boolean }[];
  readonly ip: { bytes: Uint8Array; fromCommonName: boolean }[];
  readonly email: string[];
  readonly uri: string[];
  /** The subject DN (when not empty) and directoryName SANs, as Name DER. */
  readonly directory: Uint8Array[];
  /** Context tag numbers of SANs of forms pki cannot check. */
  readonly otherForms: Set<number>;
  /** A CN read as a host name that is not a valid one (`evil_host.example`): it cannot be held to DNS constraints. */
  readonly invalidCommonName: string | null;
}

const OID_EMAIL_ADDRESS = 'emailAddress';

function sanNames(der: Uint8Array, out: CertificateNames): void {
  for (const el of childrenOf(der, expectTag(readRootTlv(der), DerTag.sequence, 'GeneralNames'))) {
    const content = contentOf(der, el);
    if (el.tag === 0x81) out.email.push(normalizeMailbox(ascii(content)));
    else if (el.tag === 0x82) out.dns.push({ value: ascii(content).toLowerCase().replace(/\.$/, ''), fromCommonName: false });
    else if (el.tag === 0x86) out.uri.push(ascii(content));
    else if (el.tag === 0x87) out.ip.push({ bytes: content, fromCommonName: false });
    else if (el.tag === 0xa4) out.directory.push(encodingOf(der, expectTag(readTlv(der, el.start + el.headerLength, el.end), DerTag.sequence, 'directoryName')));
    else out.otherForms.add(el.tag & 0x1f);
  }
}

/** Throws ERR_MALFORMED_DER for a SAN extension that cannot be read. */
export function certificateNames(cert: Pick<CertificateFields, 'extensions' | 'subjectDer'>): CertificateNames {
  const out: CertificateNames = { dns: [], ip: [], email: [], uri: [], directory: [], otherForms: new Set(), invalidCommonName: null };
  const subject = decodeName(cert.subjectDer);
  if (subject.length > 0) out.directory.push(cert.subjectDer);
  const san = cert.extensions.find((e) => e.oid === ExtensionOid.subjectAltName);
  if (san) {
    sanNames(san.value, out);
    return out;
  }
  // No SAN extension: the CN, when it looks like a host name, and emailAddress attributes stand for the SANs.
  const attributes = subject.flat();
  for (const a of attributes) if (a.type === OID_EMAIL_ADDRESS) out.email.push(normalizeMailbox(a.value));
  const cns = attributes.filter((a) => a.type === 'CN');
  const cn = cns[cns.length - 1]?.value;
  const host = commonNameAsHost(cn);
  if (host === 'invalid') return { ...out, invalidCommonName: cn ?? '' };
  if (host?.type === 'dns') out.dns.push({ value: host.value, fromCommonName: true });
  if (host?.type === 'ip') out.ip.push({ bytes: ipToBytes(host.value), fromCommonName: true });
  return out;
}
