/**
 * Certificate serial numbers: random, positive, fixed length (RFC 5280 §4.1.2.2 allows up to 20 octets;
 * CA/Browser Forum BR 7.1 asks for at least 64 bits of CSPRNG output).
 */
import { randomBytes } from 'node:crypto';
import { PkiError } from '../errors.js';

export const SERIAL_BYTES = 16;

/**
 * 16 random bytes with the top bit cleared (a positive INTEGER needs no 0x00 pad) and the next bit set
 * (so the encoding never shortens): 126 random bits, always 16 octets. Upper-case hex.
 */
export function generateSerial(random: (n: number) => Uint8Array = randomBytes): string {
  const bytes = Buffer.from(random(SERIAL_BYTES));
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes.toString('hex').toUpperCase();
}

/**
 * Normalises a serial as operators paste it: hex in any case, with or without colons, `0x` or leading
 * zeros (`openssl x509 -serial` prints `serial=0A1B…`). Returns upper-case hex without leading zeros
 * (at least one digit), the form the inventory stores.
 */
export function normalizeSerial(text: string): string {
  let s = text.trim();
  if (/^serial=/i.test(s)) s = s.slice(7);
  if (/^0x/i.test(s)) s = s.slice(2);
  s = s.replace(/:/g, '');
  if (!/^[0-9a-fA-F]{1,64}$/.test(s)) {
    throw new PkiError('ERR_INVALID_SERIAL', `"${text}" is not a hexadecimal serial number`, {
      hint: 'give the serial as `pki inspect` or `openssl x509 -serial` prints it, e.g. 4F3A…',
    });
  }
  s = s.replace(/^0+/, '');
  return (s || '0').toUpperCase();
}
