/** The directory (RFC 8555 §7.1.1) and newNonce (§7.2). */
import { NONCE_LIFETIME_MS } from './routes.js';
import { acmeJson, type AcmeHandler } from './context.js';

export const directory: AcmeHandler = async (context) =>
  acmeJson(200, {
    newNonce: context.url('new-nonce'),
    newAccount: context.url('new-account'),
    newOrder: context.url('new-order'),
    revokeCert: context.url('revoke-cert'),
    keyChange: context.url('key-change'),
    renewalInfo: context.url('renewal-info'),
    meta: { externalAccountRequired: context.provisioner.externalAccountRequired },
  });

/**
 * HEAD → 200, GET → 204 (§7.2), both with a fresh Replay-Nonce and Cache-Control: no-store. The dispatcher
 * adds nonces to non-GET answers only, so this makes its own for both.
 */
export const newNonce: AcmeHandler = async (context, request) => {
  const now = context.serve.now();
  const nonce = context.store.createNonce(now, new Date(now.getTime() + NONCE_LIFETIME_MS));
  const headers: Record<string, string> = { 'Replay-Nonce': nonce, 'Cache-Control': 'no-store' };
  if (request.method !== 'HEAD') return { status: 204, headers };
  // Content-Length: 0 keeps the connection: without it node's http client (acme-client fetches a nonce by
  // HEAD before every request) decides on keep-alive before it knows a HEAD answer has no body, and closes
  // the socket, so every request paid a new TLS handshake.
  return { status: 200, headers: { ...headers, 'Content-Length': '0' } };
};
