/** A leaf for the OCSP tests: a P-256 key and CSR from openssl, signed by `pki sign` from the CA home. */
import { join } from 'node:path';
import { pki } from './cli.js';
import { peer } from './peers.js';

/** A P-256 key and CSR from openssl, signed by `pki sign`; returns the leaf's path and serial. */
export function issueLeaf(dir: string, name: string): { cert: string; key: string; serial: string } {
  const key = join(dir, '..', `${name}.key`);
  const csr = join(dir, '..', `${name}.csr`);
  const cert = join(dir, '..', `${name}.crt`);
  peer('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name},IP:127.0.0.1`, '-out', csr]);
  const r = pki(['sign', '--dir', dir, '--insecure', csr, '--out', cert]);
  if (r.code !== 0) throw new Error(`pki sign failed: ${r.stderr}`);
  const serial = peer('openssl', ['x509', '-in', cert, '-noout', '-serial']).trim().replace(/^serial=/, '');
  return { cert, key, serial };
}
