/**
 * The `source-address` critical option (PROTOCOL.certkeys): a comma-separated CIDR list. sshd parses it
 * with addr_match_cidr_list(), which refuses the whole certificate when one entry is bad, including a
 * prefix with host bits set (`10.0.0.1/8`). We apply the same rules at issuance so a certificate never
 * turns out useless at login time.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { PkiError } from '../errors.js';

/** Validates each CIDR (or bare address) and returns the value to embed: the entries joined by commas. */
export function formatSourceAddressList(entries: readonly string[]): string {
  if (entries.length === 0) {
    throw new PkiError('ERR_INVALID_OPTION', 'source-address needs at least one address or CIDR block');
  }
  return entries.map(validateSourceAddress).join(',');
}

function validateSourceAddress(raw: string): string {
  const entry = raw.trim();
  const refuse = (why: string) =>
    new PkiError('ERR_INVALID_OPTION', `source-address "${raw}" ${why}`, {
      hint: 'use CIDR blocks such as 192.0.2.0/24 or 2001:db8::/32',
    });
  const slash = entry.indexOf('/');
  const address = slash < 0 ? entry : entry.slice(0, slash);
  const prefixText = slash < 0 ? undefined : entry.slice(slash + 1);
  let bytes: Uint8Array;
  if (isIPv4(address)) bytes = Uint8Array.from(address.split('.').map(Number));
  else if (isIPv6(address) && !address.includes('%')) bytes = ipv6Bytes(address);
  else throw refuse('is not an IPv4 or IPv6 address');
  const maxPrefix = bytes.length * 8;
  let prefix = maxPrefix;
  if (prefixText !== undefined) {
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > maxPrefix) {
      throw refuse(`has a prefix length outside 0-${maxPrefix}`);
    }
    prefix = Number(prefixText);
  }
  if (!hostBitsAreZero(bytes, prefix)) throw refuse(`has host bits set beyond /${prefix}`);
  return prefixText === undefined ? address : `${address}/${prefix}`;
}

function hostBitsAreZero(bytes: Uint8Array, prefix: number): boolean {
  for (let bit = prefix; bit < bytes.length * 8; bit++) {
    if ((bytes[bit >> 3]! >> (7 - (bit & 7))) & 1) return false;
  }
  return true;
}

/** 16 bytes of an IPv6 address already accepted by net.isIPv6 (handles `::` and a dotted IPv4 tail). */
function ipv6Bytes(address: string): Uint8Array {
  let text = address;
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (isIPv4(last)) {
    // Rewrite a dotted IPv4 tail (`::ffff:192.0.2.1`) as two hex groups so one parser handles both forms.
    const [a, b, c, d] = last.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const doubleColon = text.indexOf('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const head = parse(doubleColon < 0 ? text : text.slice(0, doubleColon));
  const rest = doubleColon < 0 ? [] : parse(text.slice(doubleColon + 2));
  const groups = [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}
