/**
 * OCSP (RFC 6960) at /ocsp: POST with the DER request as the body, and GET /ocsp/<url-encoded base64>
 * (Appendix A.1). Every answer is an OCSPResponse with status 200 and `application/ocsp-response` —
 * garbage included (`malformedRequest`), as OCSP clients expect. Nonce-less answers carry Cache-Control
 * up to their nextUpdate (RFC 5019 §6), so an HTTP cache in front may keep them.
 */
import { decodeGetRequest, ocspErrorResponse } from '../../core/ocsp/index.js';
import type { Route, ServeContext, ServeRequest, ServeResponse } from '../types.js';
import { OcspResponder, type OcspAnswer, type OcspKey } from './responder.js';
import { createOcspSigner } from './signer.js';

const CONTENT_TYPE = 'application/ocsp-response';

function reply(answer: OcspAnswer): ServeResponse {
  const headers: Record<string, string> = { 'Content-Type': CONTENT_TYPE };
  if (answer.maxAgeSeconds !== undefined) headers['Cache-Control'] = `max-age=${answer.maxAgeSeconds}, public, no-transform, must-revalidate`;
  return { status: 200, headers, body: answer.der };
}

export interface RunningOcsp {
  readonly routes: Route[];
  readonly responder: OcspResponder;
  stop(): void;
}

/** The signer issued, the responder and its timers started, the routes to mount. */
export async function startOcsp(context: ServeContext): Promise<RunningOcsp> {
  // One signer per CA key the server holds (issue 14) — each issuing CA's current key and its retired
  // ones — each issued by (or being) that key: a CertID names its issuer by key, and so must the signer.
  const keys: OcspKey[] = [];
  for (const ca of context.issuingCas.values()) {
    keys.push({ id: ca.key, ref: ca.ref, issuer: ca.issuer, retired: false, signer: await createOcspSigner(context, { name: ca.key, issuer: ca.issuer }) });
    for (const r of ca.retired) {
      const id = `${ca.key}#${r.keyId}`;
      keys.push({ id, ref: ca.ref, issuer: r.issuer, retired: true, signer: await createOcspSigner(context, { name: id, issuer: r.issuer }) });
    }
  }
  const responder = new OcspResponder(context, keys);
  responder.start();
  const malformed = { status: 200, headers: { 'Content-Type': CONTENT_TYPE }, body: ocspErrorResponse('malformedRequest') };
  const handle = async (request: ServeRequest): Promise<ServeResponse> => {
    if (request.method === 'POST') return reply(responder.answer(request.body));
    const rest = request.path.slice('/ocsp/'.length);
    if (rest.length === 0) return malformed;
    let der: Uint8Array;
    try {
      der = decodeGetRequest(rest);
    } catch {
      return malformed;
    }
    return reply(responder.answer(der));
  };
  return {
    routes: [
      { path: '/ocsp', methods: ['GET', 'POST'], endpoint: 'ocsp', handler: handle },
      // GET's request in the path; POST too, for AIA URLs that end in '/'.
      { path: '/ocsp/', methods: ['GET', 'POST'], endpoint: 'ocsp', handler: handle },
    ],
    responder,
    stop: () => responder.stop(),
  };
}
