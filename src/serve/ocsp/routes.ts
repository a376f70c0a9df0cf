/** OCSP (RFC 6960) at /ocsp, POST and GET (Appendix A). Placeholder until the responder lands (issue 13). */
import type { Route, ServeContext } from '../types.js';

export function ocspRoutes(_context: ServeContext): Route[] {
  return [
    {
      path: '/ocsp',
      methods: ['GET', 'POST'],
      endpoint: 'ocsp',
      // OCSPResponse { responseStatus internalError(2) }: the shape every OCSP client understands.
      handler: async () => ({ status: 200, headers: { 'Content-Type': 'application/ocsp-response' }, body: Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x02]) }),
    },
    {
      path: '/ocsp/',
      methods: ['GET'],
      endpoint: 'ocsp',
      handler: async () => ({ status: 200, headers: { 'Content-Type': 'application/ocsp-response' }, body: Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x02]) }),
    },
  ];
}
