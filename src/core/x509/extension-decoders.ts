/**
 * Decoders for the extensions pki writes, reading the same model `extensions.ts` encodes: what building
 * writes, inspect reads back.
 */
import { childrenOf, contentOf, DerTag, expectTag, readBitString, readBoolean, readIntegerBigInt, readOid, readRootTlv } from '../der/reader.js';
import { ExtensionOid } from './extensions.js';
import { formatIpBytes, type SanSet } from './names.js';
import { decodeKeyUsageBits, extKeyUsageName, type KeyUsage } from './usages.js';
import type { CertificateExtension } from './certificate-fields.js';

type WithExtensions = { readonly extensions: readonly CertificateExtension[] };

const find = (f: WithExtensions, oid: string) => f.extensions.find((e) => e.oid === oid);

export function decodeBasicConstraints(f: WithExtensions): { isCA: boolean; pathLen: number | null; present: boolean } {
  const ext = find(f, ExtensionOid.basicConstraints);
  if (!ext) return { isCA: false, pathLen: null, present: false };
  const seq = expectTag(readRootTlv(ext.value), DerTag.sequence, 'BasicConstraints');
  let isCA = false;
  let pathLen: number | null = null;
  for (const el of childrenOf(ext.value, seq)) {
    if (el.tag === DerTag.boolean) isCA = readBoolean(ext.value, el);
    else if (el.tag === DerTag.integer) pathLen = Number(readIntegerBigInt(ext.value, el));
  }
  return { isCA, pathLen, present: true };
}

export function decodeKeyUsage(f: WithExtensions): KeyUsage[] {
  const ext = find(f, ExtensionOid.keyUsage);
  if (!ext) return [];
  return decodeKeyUsageBits(readBitString(ext.value, expectTag(readRootTlv(ext.value), DerTag.bitString, 'KeyUsage')).bytes);
}

export function decodeExtKeyUsage(f: WithExtensions): string[] {
  const ext = find(f, ExtensionOid.extKeyUsage);
  if (!ext) return [];
  const seq = expectTag(readRootTlv(ext.value), DerTag.sequence, 'ExtKeyUsageSyntax');
  return childrenOf(ext.value, seq).map((el) => extKeyUsageName(readOid(ext.value, expectTag(el, DerTag.objectIdentifier, 'KeyPurposeId'))));
}

/** GeneralNames (SAN) grouped by type; other name forms (otherName, directoryName…) are listed under `other`. */
export function decodeGeneralNames(der: Uint8Array): SanSet & { other: string[] } {
  const out = { dns: [] as string[], ip: [] as string[], email: [] as string[], uri: [] as string[], other: [] as string[] };
  const seq = expectTag(readRootTlv(der), DerTag.sequence, 'GeneralNames');
  for (const el of childrenOf(der, seq)) {
    const content = contentOf(der, el);
    switch (el.tag) {
      case 0x81:
        out.email.push(Buffer.from(content).toString('latin1'));
        break;
      case 0x82:
        out.dns.push(Buffer.from(content).toString('latin1'));
        break;
      case 0x86:
        out.uri.push(Buffer.from(content).toString('latin1'));
        break;
      case 0x87:
        out.ip.push(formatIpBytes(content));
        break;
      default:
        out.other.push(`[${el.tag & 0x1f}]`);
    }
  }
  return out;
}

export function decodeSubjectAltName(f: WithExtensions): SanSet & { other: string[] } {
  const ext = find(f, ExtensionOid.subjectAltName);
  return ext ? decodeGeneralNames(ext.value) : { dns: [], ip: [], email: [], uri: [], other: [] };
}

export function decodeUriList(f: WithExtensions, oid: string): string[] {
  const ext = find(f, oid);
  if (!ext) return [];
  const urls: string[] = [];
  // CRLDistributionPoints and AIA both bottom out in [6] URI GeneralNames; collect them at any depth ≤ 4.
  const walk = (el: ReturnType<typeof readRootTlv>, depth: number) => {
    if (el.tag === 0x86) urls.push(Buffer.from(contentOf(ext.value, el)).toString('latin1'));
    else if ((el.tag & 0x20) !== 0 && depth < 4) for (const c of childrenOf(ext.value, el)) walk(c, depth + 1);
  };
  walk(readRootTlv(ext.value), 0);
  return urls;
}

export const EXTENSION_NAMES: Readonly<Record<string, string>> = {
  [ExtensionOid.subjectKeyIdentifier]: 'subjectKeyIdentifier',
  [ExtensionOid.keyUsage]: 'keyUsage',
  [ExtensionOid.subjectAltName]: 'subjectAltName',
  [ExtensionOid.basicConstraints]: 'basicConstraints',
  [ExtensionOid.nameConstraints]: 'nameConstraints',
  [ExtensionOid.crlDistributionPoints]: 'crlDistributionPoints',
  [ExtensionOid.certificatePolicies]: 'certificatePolicies',
  [ExtensionOid.authorityKeyIdentifier]: 'authorityKeyIdentifier',
  [ExtensionOid.extKeyUsage]: 'extKeyUsage',
  [ExtensionOid.authorityInfoAccess]: 'authorityInfoAccess',
};
