/**
 * The CA's public files over HTTP: each issuing CA's CRL (DER, application/pkix-crl), the root and each
 * intermediate (PEM, and DER at …/intermediate.crt: the caIssuers URL of certificates issued with a base URL,
 * RFC 5280 §4.2.2.1 asks for DER there). The default intermediate's at `/crl/intermediate_ca.crl`,
 * `/intermediate.pem`, `/intermediate.crt`; a `pki ca add` CA's (issue 14) at `/crl/NAME.crl`,
 * `/ca/NAME/intermediate.pem`, `/ca/NAME/intermediate.crt`; a trust domain's under `/domains/NAME/`, with its
 * own root (settings.ts#publishedPaths). Read from the CA home at each request —
 * `pki revoke` and `pki crl` in another process replace the CRL file atomically, so what is served is always
 * a whole, current file.
 */
import { findPemBlock, PemLabel } from '../core/der/pem.js';
import { fileExists, readBytes, readText } from '../store/ca-home.js';
import { publishedPaths } from './settings.js';
import { problemResponse } from './router.js';
import type { Route, ServeContext, ServeIssuingCa } from './types.js';

/** A PEM certificate file's first certificate as DER (application/pkix-cert: RFC 5280 §4.2.2.1 asks for DER at a caIssuers URL). */
function derResponse(path: string, what: string) {
  const block = findPemBlock(readText(path), PemLabel.certificate);
  if (!block) return problemResponse(500, 'about:blank', `the ${what} certificate file holds no certificate`);
  return { status: 200, headers: { 'Content-Type': 'application/pkix-cert', 'Cache-Control': 'max-age=3600' }, body: Buffer.from(block.der) };
}

const pemResponse = (text: string) => ({ status: 200, headers: { 'Content-Type': 'application/x-pem-file' }, body: text });

/** The CRL and certificate routes of one issuing CA (serve/settings.ts#publishedPaths). */
function issuingCaRoutes(ca: ServeIssuingCa): Route[] {
  const home = ca.home;
  const paths = publishedPaths(ca.ref);
  const get = ['GET', 'HEAD'];
  const routes: Route[] = [
    {
      path: paths.crl,
      methods: get,
      endpoint: 'crl',
      handler: async () => {
        if (!fileExists(home.crlPath)) return problemResponse(404, 'about:blank', 'no CRL has been published yet (run "pki crl")');
        const data = readBytes(home.crlPath, { maxBytes: 256 * 1024 * 1024, what: 'the CRL' });
        const der = data[0] === 0x30 ? data : (findPemBlock(Buffer.from(data).toString('latin1'), PemLabel.crl)?.der ?? data);
        return { status: 200, headers: { 'Content-Type': 'application/pkix-crl', 'Cache-Control': 'max-age=60' }, body: Buffer.from(der) };
      },
    },
    { path: paths.intermediatePem, methods: get, endpoint: 'intermediate', handler: async () => pemResponse(readText(home.intermediateCertPath)) },
    { path: paths.intermediateCrt, methods: get, endpoint: 'intermediate', handler: async () => derResponse(home.intermediateCertPath, 'intermediate') },
  ];
  // A trust domain's root is its own: its clients' trust anchor, not /roots.pem.
  if (paths.rootPem) routes.push({ path: paths.rootPem, methods: get, endpoint: 'roots', handler: async () => pemResponse(ca.rootPem) });
  if (paths.rootCrt) routes.push({ path: paths.rootCrt, methods: get, endpoint: 'roots', handler: async () => derResponse(home.rootCertPath, 'root') });
  return routes;
}

export function publicationRoutes(context: ServeContext): Route[] {
  return [
    ...[...context.issuingCas.values()].flatMap(issuingCaRoutes),
    { path: '/roots.pem', methods: ['GET', 'HEAD'], endpoint: 'roots', handler: async () => pemResponse(context.rootPem) },
  ];
}
