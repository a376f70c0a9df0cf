/**
 * ACME Renewal Information (RFC 9773): the certificate identifier — base64url(authority key identifier's
 * keyIdentifier) '.' base64url(the serial's DER INTEGER content octets) — and the window in which the
 * server suggests renewal: from two thirds of the lifetime, for a twelfth of it, never past notAfter; a
 * revoked certificate's window is already open (renew now).
 */

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

function fromBase64url(text: string): Buffer | null {
  if (text.length === 0 || !/^[A-Za-z0-9_-]+$/.test(text)) return null;
  return Buffer.from(text, 'base64url');
}

/** The content octets of the DER INTEGER for a positive serial given as hex (a 00 pad when the top bit is set). */
export function serialDerBytes(serialHex: string): Buffer {
  let hex = serialHex.replace(/^0+/, '') || '0';
  if (hex.length % 2) hex = `0${hex}`;
  const bytes = Buffer.from(hex, 'hex');
  return bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
}

export function ariCertificateId(authorityKeyId: Uint8Array, serialHex: string): string {
  return `${base64url(authorityKeyId)}.${base64url(serialDerBytes(serialHex))}`;
}

/** The identifier's parts, the serial as upper-case hex without leading zeros; null when it is not one. */
export function parseAriCertificateId(id: string): { authorityKeyId: Buffer; serialHex: string } | null {
  const parts = id.split('.');
  if (parts.length !== 2) return null;
  const aki = fromBase64url(parts[0]!);
  const serial = fromBase64url(parts[1]!);
  if (!aki || !serial || serial.length > 21) return null;
  // A DER INTEGER of a positive serial: no negative value, no superfluous 00 pad.
  if (serial[0]! & 0x80) return null;
  if (serial.length > 1 && serial[0] === 0 && !(serial[1]! & 0x80)) return null;
  const hex = serial.toString('hex').toUpperCase().replace(/^0+/, '') || '0';
  return { authorityKeyId: aki, serialHex: hex };
}

export interface SuggestedWindow {
  readonly start: Date;
  readonly end: Date;
}

/** From 2/3 of the lifetime to 2/3 + 1/12 (never past notAfter); revoked: a window that opened a minute before `now`. */
export function suggestedRenewalWindow(notBefore: Date, notAfter: Date, options: { revoked: boolean; now: Date }): SuggestedWindow {
  if (options.revoked) {
    const t = options.now.getTime();
    return { start: new Date(t - 120_000), end: new Date(t - 60_000) };
  }
  const from = notBefore.getTime();
  const life = Math.max(0, notAfter.getTime() - from);
  const start = from + Math.floor((life * 2) / 3);
  const end = Math.min(notAfter.getTime(), start + Math.floor(life / 12));
  return { start: new Date(start), end: new Date(end) };
}
