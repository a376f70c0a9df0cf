/**
 * Distinguished name DER → RFC 4514 text (`CN=redis,O=pki`: last RDN first, as Go's pkix.Name and
 * `openssl x509 -nameopt RFC2253` print it).
 */
import { childrenOf, contentOf, DerTag, expectTag, readOid, readRootTlv } from '../der/reader.js';

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

/**
 * Decodes a DirectoryString-like value by its tag. Unknown types, and UniversalStrings that are not
 * whole UCS-4 code points, print as `#hex` of the whole encoding (RFC 4514 §2.4) and set `hex`.
 */
function decodeAttributeValue(tag: number, content: Uint8Array, whole: Uint8Array): { value: string; hex?: true } {
  const hexForm = { value: `#${Buffer.from(whole).toString('hex')}`, hex: true } as const;
  switch (tag) {
    case DerTag.utf8String:
      return { value: Buffer.from(content).toString('utf8') };
    case DerTag.printableString:
    case DerTag.ia5String:
    case DerTag.teletexString:
      return { value: Buffer.from(content).toString('latin1') };
    case DerTag.bmpString: {
      const swapped = Buffer.from(content);
      if (swapped.length % 2 === 0) swapped.swap16();
      return { value: swapped.toString('utf16le') };
    }
    case DerTag.universalString: {
      if (content.length % 4 !== 0) return hexForm;
      let s = '';
      for (let i = 0; i < content.length; i += 4) {
        const code = ((content[i]! << 24) | (content[i + 1]! << 16) | (content[i + 2]! << 8) | content[i + 3]!) >>> 0;
        // String.fromCodePoint throws RangeError past U+10FFFF (a corrupt or hostile name).
        if (code > 0x10ffff) return hexForm;
        s += String.fromCodePoint(code);
      }
      return { value: s };
    }
    default:
      return hexForm;
  }
}

/**
 * RFC 4514 §2.4 escaping of a string value. A leading `#` is always escaped: only values that really are
 * `#hex` encodings (`NameAttribute.hex`) may print one bare, or a CN typed as "#0c03616263" would read as
 * the encoding of "abc".
 */
function escapeValue(value: string): string {
  // '=' is not escaped: RFC 4514 §2.4 does not require it, and neither openssl -nameopt RFC2253 nor Go does.
  let out = value.replace(/[\\",+;<>]/g, (c) => `\\${c}`).replace(/[\x00-\x1f\x7f]/g, (c) => `\\${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  const leading = out.startsWith(' ') || out.startsWith('#');
  // A lone space is both leading and trailing: escape it once (it was "\\ ", an escaped backslash).
  if (out.endsWith(' ') && !(leading && out.length === 1)) out = `${out.slice(0, -1)}\\ `;
  if (leading) out = `\\${out}`;
  return out;
}

export interface NameAttribute {
  readonly type: string;
  readonly value: string;
  /** Set when `value` is the `#hex` form of an encoding pki cannot show as text. */
  readonly hex?: true;
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
        ...decodeAttributeValue(valueEl.tag, contentOf(der, valueEl), der.subarray(valueEl.start, valueEl.end)),
      };
    }),
  );
}

export function formatDistinguishedName(der: Uint8Array): string {
  return decodeName(der)
    .reverse()
    .map((rdn) => rdn.map((a) => `${a.type}=${a.hex ? a.value : escapeValue(a.value)}`).join('+'))
    .join(',');
}

/** The CommonName, if any (the last one, as RFC 6125 suggests when there are several). */
export function commonNameOf(der: Uint8Array): string | undefined {
  const cns = decodeName(der).flat().filter((a) => a.type === 'CN');
  return cns.length ? cns[cns.length - 1]!.value : undefined;
}
