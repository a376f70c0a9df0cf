/**
 * PKCS#12 (RFC 7292) files for `pki export --p12` and their reading for `pki inspect` (issue 12). Stub: the
 * PKCS#12 work fills it in (docs/export.md; the library choice in docs/decisions.md).
 */
import { PkiError } from '../errors.js';

export interface Pkcs12Contents {
  /** The private key as PKCS#8 DER (unencrypted; it is encrypted into the file). */
  readonly privateKeyPkcs8: Uint8Array;
  /** DER certificates, the leaf first, then its chain (intermediate, root with --with-root). */
  readonly certificates: readonly Uint8Array[];
  /** The leaf's friendlyName (its CN). */
  readonly friendlyName: string;
  /** UTF-8 password bytes. */
  readonly password: Uint8Array;
  /** 3DES + SHA-1 (pbeWithSHAAnd3-KeyTripleDES-CBC, SHA-1 MAC) for old Java and Windows readers. */
  readonly legacy: boolean;
}

/** DER of a PFX holding the key, the certificates and a MAC over them. */
export async function encodePkcs12(_contents: Pkcs12Contents): Promise<Uint8Array> {
  throw new PkiError('ERR_UNSUPPORTED_KEY', 'PKCS#12 writing is not implemented yet', { hint: 'see docs/export.md' });
}
