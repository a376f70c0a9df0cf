/**
 * The CA's public files over HTTP: each issuing CA's CRL (DER, application/pkix-crl), the root and each
 * intermediate (PEM, and DER at …/intermediate.crt: the caIssuers URL of certificates issued with a base URL,
 * RFC 5280 §4.2.2.1 asks for DER there). The default intermediate's at `/crl/intermediate_ca.crl`,
 * `/intermediate.pem`, `/intermediate.crt`; a `pki ca add` CA's (issue 14) at `/crl/NAME.crl`,
 * `/ca/NAME/intermediate.pem`, `/ca/NAME/intermediate.crt`. Read from the CA home at each request —
 * `pki revoke` and `pki crl` in another process replace the CRL file atomically, so what is served is always
 * a whole, current file.
 */
import { findPemBlock, PemLabel } from '../core/der/pem.js';
import { fileExists, readBytes, readText, type CaHome } from '../store/ca-home.js';
import { DEFAULT_CA_NAME } from '../store/issuing-ca.js';
import { problemResponse } from './router.js';
import type { Route, ServeContext } from './types.js';

/** The CRL and intermediate routes of one issuing CA (`home`: its view). */
function issuingCaRoutes(home: CaHome, paths: { crl: string; pem: string; crt: string }): Route[] {
  return [
    {
      path: paths.crl,
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
      path: paths.pem,
      methods: ['GET', 'HEAD'],
      endpoint: 'intermediate',
      handler: async () => ({ status: 200, headers: { 'Content-Type': 'application/x-pem-file' }, body: readText(home.intermediateCertPath) }),
    },
    {
      path: paths.crt,
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

export function publicationRoutes(context: ServeContext): Route[] {
  const named = [...context.issuingCas.values()].filter((ca) => ca.name !== DEFAULT_CA_NAME);
  return [
    ...issuingCaRoutes(context.home, { crl: '/crl/intermediate_ca.crl', pem: '/intermediate.pem', crt: '/intermediate.crt' }),
    ...named.flatMap((ca) => issuingCaRoutes(ca.home, { crl: `/crl/${ca.name}.crl`, pem: `/ca/${ca.name}/intermediate.pem`, crt: `/ca/${ca.name}/intermediate.crt` })),
    {
      path: '/roots.pem',
      methods: ['GET', 'HEAD'],
      endpoint: 'roots',
      handler: async () => ({ status: 200, headers: { 'Content-Type': 'application/x-pem-file' }, body: context.rootPem }),
    },
  ];
}
