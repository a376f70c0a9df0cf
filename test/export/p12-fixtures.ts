/**
 * Bundles and .p12 files for the PKCS#12 peer tests: one CA home, a bundle per key type, each bundle's
 * server pair written with the core encoder (src/core/export/pkcs12.ts) the way `pki export --p12` calls it.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodePkcs12 } from '../../src/core/export/pkcs12.js';
import { pki } from '../helpers/cli.js';

export const KEY_TYPES = {
  rsa: ['--kty', 'RSA', '--size', '2048'],
  ec: ['--kty', 'EC', '--crv', 'P-256'],
  ed25519: ['--kty', 'OKP', '--crv', 'Ed25519'],
} as const;
export type KeyTypeName = keyof typeof KEY_TYPES;

/** DER blocks of a PEM file, in order. */
export function pemBlocks(file: string): Buffer[] {
  return [...readFileSync(file, 'utf8').matchAll(/-----BEGIN [^-]+-----([\s\S]*?)-----END [^-]+-----/g)].map((m) => Buffer.from(m[1]!.replace(/\s/g, ''), 'base64'));
}

export interface Bundle {
  readonly certs: string;
  /** leaf + intermediate (PEM) */
  readonly chainFile: string;
  readonly keyFile: string;
  readonly rootFile: string;
  readonly cn: string;
}

/** `pki generate SERVICE main` with the key type's flags; the server pair (or `pair: 'client'`). */
export function generateBundle(dir: string, service: string, keyType: KeyTypeName, pair: 'server' | 'client' = 'server'): Bundle {
  const r = pki(['generate', service, 'main', '--san', 'localhost', '--san', '127.0.0.1', '--dir', dir, ...KEY_TYPES[keyType]]);
  if (r.code !== 0) throw new Error(`pki generate failed: ${r.stderr}`);
  const certs = join(dir, 'services', service, 'main', 'certs');
  const base = pair === 'server' ? service : 'client';
  return { certs, chainFile: join(certs, `${base}.crt`), keyFile: join(certs, `${base}.key`), rootFile: join(certs, 'ca.crt'), cn: pair === 'server' ? service : 'client' };
}

/** Writes `out` with encodePkcs12 from a bundle's pair and returns its bytes. */
export async function writeP12(bundle: Bundle, out: string, password: string, options: { legacy?: boolean; iterations?: number } = {}): Promise<Buffer> {
  const key = createPrivateKey(readFileSync(bundle.keyFile)).export({ type: 'pkcs8', format: 'der' });
  const der = await encodePkcs12({
    privateKeyPkcs8: key,
    certificates: pemBlocks(bundle.chainFile),
    friendlyName: bundle.cn,
    password: new TextEncoder().encode(password),
    legacy: options.legacy ?? false,
    ...(options.iterations ? { iterations: options.iterations } : {}),
  });
  writeFileSync(out, der, { mode: 0o600 });
  return Buffer.from(der);
}

/** A password file as the operator writes it (one line, newline-terminated). */
export function writePasswordFile(file: string, password: string): string {
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return file;
}
