/**
 * store/pkcs11/uri.ts: RFC 7512 URIs as `--kms` takes them and pki.json stores them. Strict: unknown or
 * repeated attributes, broken escapes, pin-value and non-file PIN sources are ERR_USAGE, and no message
 * repeats a value (a PIN could be one).
 */
import { describe, expect, it } from 'vitest';
import { formatPkcs11Uri, keyObjectUri, parsePkcs11Uri } from '../../src/store/pkcs11/uri.js';
import { PkiError } from '../../src/core/errors.js';

const M = '/usr/lib/softhsm/libsofthsm2.so';

function refusal(text: string): PkiError {
  try {
    parsePkcs11Uri(text, '/work');
  } catch (e) {
    if (e instanceof PkiError) return e;
    throw e;
  }
  throw new Error(`${text} was accepted`);
}

describe('parsePkcs11Uri', () => {
  it('reads token, object, id and the query, %-decoded; relative paths against cwd; round-trips through formatPkcs11Uri', () => {
    const uri = parsePkcs11Uri(`pkcs11:token=CA%20token;object=pki-root;id=%01%ff?module-path=${M}&pin-source=file:secrets/pin`, '/work');
    expect(uri).toEqual({ token: 'CA token', object: 'pki-root', id: Buffer.from([1, 255]), modulePath: M, pinFile: '/work/secrets/pin' });
    expect(parsePkcs11Uri(formatPkcs11Uri(uri), '/elsewhere')).toEqual(uri);
    expect(formatPkcs11Uri(keyObjectUri(uri, 'pki-intermediate'))).toBe(`pkcs11:token=CA%20token;object=pki-intermediate?module-path=${M}&pin-source=file:/work/secrets/pin`);
    expect(parsePkcs11Uri(`pkcs11:token=pki?pin-source=/etc/pki/pin&module-path=${M}`, '/').pinFile).toBe('/etc/pki/pin');
  });

  it.each([
    [`pkcs11:token=pki?module-path=${M}&pin-value=314159`, /pin-value/],
    [`pkcs11:token=pki;pin-value=314159?module-path=${M}`, /pin-value/],
    [`pkcs11:token=pki?module-path=${M}&pin-source=env:PIN314159`, /must be a file/],
    [`pkcs11:token=pki?module-path=${M}&pin-source=https://x/314159`, /must be a file/],
    [`pkcs11:token=pki;token=314159?module-path=${M}&pin-source=file:/p`, /names "token" twice/],
    [`pkcs11:token=pki;slot-id=314159?module-path=${M}&pin-source=file:/p`, /attribute "slot-id"/],
    [`pkcs11:token=pki?module-path=${M}&pin-source=file:/p&module-name=314159`, /attribute "module-name"/],
    [`pkcs11:token=pki%3?module-path=${M}&pin-source=file:/p314159`, /broken %-escape/],
    [`pkcs11:object=x?module-path=${M}&pin-source=file:/p314159`, /names no token/],
    [`pkcs11:token=pki?pin-source=file:/p314159`, /names no module/],
    [`pkcs11:token=pki?module-path=${M}`, /names no PIN file/],
    ['pkcs12:token=314159', /must start with "pkcs11:"/],
  ])('refuses %s as a usage error without repeating a value', (text, message) => {
    const e = refusal(text);
    expect(e.code).toBe('ERR_USAGE');
    expect(e.message).toMatch(message);
    expect(`${e.message} ${e.hint}`).not.toContain('314159');
  });
});
