/**
 * Distinguished name DER → RFC 4514 text (`CN=redis,O=pki`: last RDN first, as Go's pkix.Name and
 * `openssl x509 -nameopt RFC2253` print it).
 */
import { childrenOf, contentOf, DerTag, expectTag, readOid, readRootTlv } from '../der-reader.js';

const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.42': 'GN',
  '2.5.4.97': 'organizationIdentifier',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/** Decodes a DirectoryString-like value by its tag; unknown types print as `#hex` (RFC 4514 §2.4). */
function decodeAttributeValue(tag: number, content: Uint8Array, whole: Uint8Array): string {
  switch (tag) {
    case DerTag.utf8String:
      return Buffer.from(content).toString('utf8');
    case DerTag.printableString:
    case DerTag.ia5String:
    case DerTag.teletexString:
      return Buffer.from(content).toString('latin1');
    case DerTag.bmpString: {
      const swapped = Buffer.from(content);
      if (swapped.length % 2 === 0) swapped.swap16();
      return swapped.toString('utf16le');
    }
    case DerTag.universalString: {
      let s = '';
      for (let i = 0; i + 3 < content.length; i += 4) {
        s += String.fromCodePoint(((content[i]! << 24) | (content[i + 1]! << 16) | (content[i + 2]! << 8) | content[i + 3]!) >>> 0);
      }
      return s;
    }
    default:
      return `#${Buffer.from(whole).toString('hex')}`;
  }
}

/** RFC 4514 §2.4 escaping. */
function escapeValue(value: string): string {
  if (value.startsWith('#') && /^#[0-9a-f]+$/.test(value)) return value;
  let out = value.replace(/[\\",+;<>=]/g, (c) => `\\${c}`).replace(/[\x00-\x1f]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  if (out.startsWith(' ') || out.startsWith('#')) out = `\\${out}`;
  if (out.endsWith(' ') && out.length > 1) out = `${out.slice(0, -1)}\\ `;
  return out;
}

export interface NameAttribute {
  readonly type: string;
  readonly value: string;
}

/** The attributes of a Name in encoded order, multi-valued RDNs flattened. */
export function decodeName(der: Uint8Array): NameAttribute[][] {
  const root = expectTag(readRootTlv(der), DerTag.sequence, 'Name');
  return childrenOf(der, root).map((rdn) =>
    childrenOf(der, expectTag(rdn, DerTag.set, 'RelativeDistinguishedName')).map((atv) => {
      const [typeEl, valueEl] = childrenOf(der, expectTag(atv, DerTag.sequence, 'AttributeTypeAndValue'));
      if (!typeEl || !valueEl) return { type: '?', value: '' };
      const oid = readOid(der, typeEl);
      return {
        type: ATTRIBUTE_NAMES[oid] ?? oid,
        value: decodeAttributeValue(valueEl.tag, contentOf(der, valueEl), der.subarray(valueEl.start, valueEl.end)),
      };
    }),
  );
}

export function formatDistinguishedName(der: Uint8Array): string {
  return decodeName(der)
    .reverse()
    .map((rdn) => rdn.map((a) => `${a.type}=${escapeValue(a.value)}`).join('+'))
    .join(',');
}

/** The CommonName, if any (the last one, as RFC 6125 suggests when there are several). */
export function commonNameOf(der: Uint8Array): string | undefined {
  const cns = decodeName(der).flat().filter((a) => a.type === 'CN');
  return cns.length ? cns[cns.length - 1]!.value : undefined;
}
