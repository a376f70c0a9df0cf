/**
 * The CA's public files over HTTP: the intermediate's CRL (DER, application/pkix-crl), the root and the
 * intermediate (PEM, and DER at /intermediate.crt: the caIssuers URL of certificates issued with a base URL,
 * RFC 5280 §4.2.2.1 asks for DER there). Read from the CA home at each request — `pki revoke` and `pki crl` in another
 * process replace the CRL file atomically, so what is served is always a whole, current file.
 */
import { findPemBlock, PemLabel } from '../core/der/pem.js';
import { fileExists, readBytes, readText } from '../store/ca-home.js';
import { problemResponse } from './router.js';
import type { Route, ServeContext } from './types.js';

export function publicationRoutes(context: ServeContext): Route[] {
  const home = context.home;
  return [
    {
      path: '/crl/intermediate_ca.crl',
      methods: ['GET', 'HEAD'],
      endpoint: 'crl',
      handler: async () => {
        if (!fileExists(home.crlPath)) return problemResponse(404, 'about:blank', 'no CRL has been published yet (run "pki crl")');
        const data = readBytes(home.crlPath, { maxBytes: 256 * 1024 * 1024, what: 'the CRL' });
        const der = data[0] === 0x30 ? data : (findPemBlock(Buffer.from(data).toString('latin1'), PemLabel.crl)?.der ?? data);
        return { status: 200, headers: { 'Content-Type': 'application/pkix-crl', 'Cache-Control': 'max-age=60' }, body: Buffer.from(der) };
      },
    },
    {
      path: '/roots.pem',
      methods: ['GET', 'HEAD'],
      endpoint: 'roots',
      handler: async () => ({ status: 200, headers: { 'Content-Type': 'application/x-pem-file' }, body: context.rootPem }),
    },
    {
      path: '/intermediate.pem',
      methods: ['GET', 'HEAD'],
      endpoint: 'intermediate',
      handler: async () => ({ status: 200, headers: { 'Content-Type': 'application/x-pem-file' }, body: readText(home.intermediateCertPath) }),
    },
    {
      path: '/intermediate.crt',
      methods: ['GET', 'HEAD'],
      endpoint: 'intermediate',
      handler: async () => {
        const block = findPemBlock(readText(home.intermediateCertPath), PemLabel.certificate);
        if (!block) return problemResponse(500, 'about:blank', 'the intermediate certificate file holds no certificate');
        return { status: 200, headers: { 'Content-Type': 'application/pkix-cert', 'Cache-Control': 'max-age=3600' }, body: Buffer.from(block.der) };
      },
    },
  ];
}
