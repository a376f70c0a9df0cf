/**
 * `POST /1.0/renew` (step-ca's path): renewal over mutual TLS for `pki renew --daemon --ca-url`, the
 * current certificate as the credential. Placeholder until it lands (issue 13).
 */
import { problemResponse } from './router.js';
import type { Route, ServeContext } from './types.js';

export function renewRoutes(_context: ServeContext): Route[] {
  return [
    {
      path: '/1.0/renew',
      methods: ['POST'],
      endpoint: 'renew',
      listeners: ['https'],
      handler: async () => problemResponse(503, 'about:blank', 'renewal over mTLS is not available yet'),
    },
  ];
}
