/**
 * Name constraints (RFC 5280 §4.2.1.10): which names an intermediate may certify. pki stamps them into the
 * intermediate at `pki init` (so every relying party that checks them, openssl and Go included, rejects a
 * leaf outside them) and checks every leaf against them before signing (so pki never issues one).
 *
 * Forms, as OpenSSL reads them:
 *   DNS    `example.com`  — example.com and every name under it; `.example.com` — only names under it
 *   IP     `10.0.0.0/8`, `fd00::/8` — a CIDR block (an address alone is a /32 or /128)
 *   email  `user@example.com` — that mailbox; `example.com` — mailboxes at that host; `.example.com` — under it
 *   URI    `example.com` — URIs whose host is that; `.example.com` — hosts under it
 * A name form with no permitted entry is unconstrained; an excluded entry always wins.
 */
import { octetString, oid, sequence, tlv } from '../der/writer.js';
import { PkiError } from '../errors.js';
import { ExtensionOid } from './extensions.js';
import { ipToBytes, normalizeDnsName, parseSan, type San, type SubjectName } from './names.js';

export interface NameConstraints {
  readonly permittedDns: readonly string[];
  readonly excludedDns: readonly string[];
  readonly permittedIp: readonly string[];
  readonly excludedIp: readonly string[];
  readonly permittedEmail: readonly string[];
  readonly permittedUri: readonly string[];
}

export const NO_NAME_CONSTRAINTS: NameConstraints = { permittedDns: [], excludedDns: [], permittedIp: [], excludedIp: [], permittedEmail: [], permittedUri: [] };

export function hasNameConstraints(nc: NameConstraints): boolean {
  return Object.values(nc).some((list: readonly string[]) => list.length > 0);
}

function invalid(field: string, value: string, why: string): PkiError {
  return new PkiError('ERR_INVALID_CONFIG', `name constraint ${field} "${value}": ${why}`, {
    hint: 'DNS: example.com or .example.com; IP: a CIDR block such as 10.0.0.0/8; email: user@host, host or .host; URI: host or .host',
  });
}

/** `example.com` / `.example.com` → the lower-case A-label text OpenSSL compares against. */
function domainConstraint(field: string, value: string): string {
  const dot = value.startsWith('.');
  try {
    return (dot ? '.' : '') + normalizeDnsName(dot ? value.slice(1) : value, { allowWildcard: false });
  } catch {
    throw invalid(field, value, 'not a DNS name');
  }
}

export interface CidrBlock {
  readonly address: Buffer;
  readonly mask: Buffer;
}

function parseCidr(field: string, value: string): CidrBlock {
  const [addressText, prefixText, extra] = value.trim().split('/');
  let san: San;
  try {
    san = parseSan(addressText ?? '');
  } catch {
    throw invalid(field, value, 'not an IP address or CIDR block');
  }
  if (san.type !== 'ip' || extra !== undefined) throw invalid(field, value, 'not an IP address or CIDR block');
  const address = ipToBytes(san.value);
  const bits = address.length * 8;
  const prefix = prefixText === undefined ? bits : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= bits)) throw invalid(field, value, `the prefix length must be 0 to ${bits}`);
  const mask = Buffer.alloc(address.length);
  for (let i = 0; i < prefix; i++) mask[i >> 3]! |= 0x80 >> (i & 7);
  if (address.some((b, i) => (b & ~mask[i]!) !== 0)) throw invalid(field, value, 'host bits are set beyond the prefix length');
  return { address, mask };
}

function emailConstraint(field: string, value: string): string {
  const at = value.lastIndexOf('@');
  if (at < 0) return domainConstraint(field, value);
  const local = value.slice(0, at);
  if (!/^[\x21-\x7e]{1,64}$/.test(local) || local.includes('@')) throw invalid(field, value, 'not an email address');
  return `${local}@${domainConstraint(field, value.slice(at + 1))}`;
}

/** Checks and normalises every entry (ERR_INVALID_CONFIG naming the bad one). */
export function normalizeNameConstraints(nc: NameConstraints): NameConstraints {
  nc.permittedIp.forEach((v) => parseCidr('permittedIp', v));
  nc.excludedIp.forEach((v) => parseCidr('excludedIp', v));
  return {
    permittedDns: nc.permittedDns.map((v) => domainConstraint('permittedDns', v)),
    excludedDns: nc.excludedDns.map((v) => domainConstraint('excludedDns', v)),
    permittedIp: nc.permittedIp.map((v) => v.trim()),
    excludedIp: nc.excludedIp.map((v) => v.trim()),
    permittedEmail: nc.permittedEmail.map((v) => emailConstraint('permittedEmail', v)),
    permittedUri: nc.permittedUri.map((v) => domainConstraint('permittedUri', v)),
  };
}

/** The critical NameConstraints extension (RFC 5280 §4.2.1.10: conforming CAs MUST mark it critical). */
export function nameConstraintsExtension(input: NameConstraints): Buffer {
  const nc = normalizeNameConstraints(input);
  const subtree = (generalName: Buffer) => sequence(generalName); // minimum 0 (DEFAULT), no maximum
  const ip = (field: string, v: string) => {
    const { address, mask } = parseCidr(field, v);
    return tlv(0x87, Buffer.concat([address, mask]));
  };
  const permitted = [
    ...nc.permittedDns.map((d) => subtree(tlv(0x82, Buffer.from(d, 'ascii')))),
    ...nc.permittedIp.map((v) => subtree(ip('permittedIp', v))),
    ...nc.permittedEmail.map((e) => subtree(tlv(0x81, Buffer.from(e, 'ascii')))),
    ...nc.permittedUri.map((u) => subtree(tlv(0x86, Buffer.from(u, 'ascii')))),
  ];
  const excluded = [...nc.excludedDns.map((d) => subtree(tlv(0x82, Buffer.from(d, 'ascii')))), ...nc.excludedIp.map((v) => subtree(ip('excludedIp', v)))];
  const value = sequence(...(permitted.length ? [tlv(0xa0, Buffer.concat(permitted))] : []), ...(excluded.length ? [tlv(0xa1, Buffer.concat(excluded))] : []));
  return sequence(oid(ExtensionOid.nameConstraints), Buffer.from([0x01, 0x01, 0xff]), octetString(value));
}

/** OpenSSL's nc_dns: `.d` matches names under d; `d` matches d and names under it. */
export function domainMatches(name: string, constraint: string): boolean {
  if (constraint.startsWith('.')) return name.endsWith(constraint);
  return name === constraint || name.endsWith(`.${constraint}`);
}

/** A wildcard `*.d` stands for every name one label under d: excluded if any of those could be. */
export function dnsExcludedBy(name: string, constraint: string): boolean {
  if (domainMatches(name, constraint)) return true;
  if (!name.startsWith('*.')) return false;
  const base = name.slice(2);
  const c = constraint.startsWith('.') ? constraint.slice(1) : constraint;
  return c.endsWith(`.${base}`);
}

export function ipMatches(ip: string, block: CidrBlock): boolean {
  const bytes = ipToBytes(ip);
  return bytes.length === block.address.length && bytes.every((b, i) => (b & block.mask[i]!) === block.address[i]);
}

export function emailMatches(email: string, constraint: string): boolean {
  if (constraint.includes('@')) return email === constraint;
  const host = email.slice(email.lastIndexOf('@') + 1);
  return constraint.startsWith('.') ? host.endsWith(constraint) : host === constraint;
}

export function uriHost(uri: string): string {
  try {
    return new URL(uri).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  } catch {
    return '';
  }
}

function outside(san: string, why: string): PkiError {
  return new PkiError('ERR_NAME_CONSTRAINTS', `${san} is outside the intermediate's name constraints (${why})`, {
    hint: 'issue only names inside pki.json nameConstraints; changing them means re-creating the intermediate (pki init --force)',
  });
}

/** Full stops UTS #46 maps to "." (a CN written with them reads as a host name to IDNA-aware clients). */
const DOTS = /[.\u3002\uff0e\uff61]/;

/**
 * The subject CN as the name a client could match it as: a CN without white space that has a dot reads as
 * a host name (or an IP address) to clients that still fall back to the CN. Returns null for CNs no
 * client takes for a host ("alice", "Jane Doe"), and 'invalid' for one that looks like a host name but is
 * not a valid one (`evil_host.bank.example`): that cannot be checked, so it is refused under DNS constraints.
 */
export function commonNameAsHost(cn: string | undefined): San | 'invalid' | null {
  const text = cn?.trim();
  if (text === undefined || /\s/.test(text) || !DOTS.test(text)) return null;
  let san: San;
  try {
    san = parseSan(text);
  } catch {
    return 'invalid';
  }
  return san.type === 'dns' || san.type === 'ip' ? san : null; // an email or URI CN is not a host name
}

/**
 * Throws ERR_NAME_CONSTRAINTS for the first name the constraints do not allow. A subject CN that looks like
 * a host name (a dot, no white space) is checked as a DNS name or IP address too, whether or not there are
 * DNS SANs (stricter than OpenSSL, which checks it only without DNS SANs: a legacy client may still match
 * the CN); one that looks like a host name but is not a valid one is refused when there are DNS constraints.
 */
export function checkNameConstraints(sans: readonly San[], subject: SubjectName, input: NameConstraints): void {
  if (!hasNameConstraints(input)) return;
  const nc = normalizeNameConstraints(input);
  const names: San[] = [...sans];
  const cnHost = commonNameAsHost(subject.commonName);
  if (cnHost === 'invalid') {
    if (nc.permittedDns.length > 0 || nc.excludedDns.length > 0) {
      throw new PkiError('ERR_NAME_CONSTRAINTS', `the common name "${subject.commonName}" looks like a host name but is not a valid one, so it cannot be held to the intermediate's DNS name constraints`, {
        hint: 'use a valid host name as the CN (or a CN without dots), and give host names as DNS SANs',
      });
    }
  } else if (cnHost !== null) {
    names.push(cnHost);
  }
  for (const san of names) {
    switch (san.type) {
      case 'dns': {
        const excluded = nc.excludedDns.find((c) => dnsExcludedBy(san.value, c));
        if (excluded) throw outside(`DNS name ${san.value}`, `excluded: ${excluded}`);
        if (nc.permittedDns.length && !nc.permittedDns.some((c) => domainMatches(san.value, c))) throw outside(`DNS name ${san.value}`, `permitted: ${nc.permittedDns.join(', ')}`);
        break;
      }
      case 'ip': {
        const excluded = nc.excludedIp.find((c) => ipMatches(san.value, parseCidr('excludedIp', c)));
        if (excluded) throw outside(`IP address ${san.value}`, `excluded: ${excluded}`);
        if (nc.permittedIp.length && !nc.permittedIp.some((c) => ipMatches(san.value, parseCidr('permittedIp', c)))) throw outside(`IP address ${san.value}`, `permitted: ${nc.permittedIp.join(', ')}`);
        break;
      }
      case 'email':
        if (nc.permittedEmail.length && !nc.permittedEmail.some((c) => emailMatches(san.value, c))) throw outside(`email ${san.value}`, `permitted: ${nc.permittedEmail.join(', ')}`);
        break;
      case 'uri':
        if (nc.permittedUri.length && !nc.permittedUri.some((c) => domainMatches(uriHost(san.value), c))) throw outside(`URI ${san.value}`, `permitted: ${nc.permittedUri.join(', ')}`);
        break;
    }
  }
}
