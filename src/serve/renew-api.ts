/**
 * `POST /1.0/renew` (step-ca's path) on the HTTPS listener: renewal over mutual TLS for
 * `pki renew --daemon --ca-url`, the current certificate as the credential. The listener requests a client
 * certificate without requiring one (ACME clients send none), so every check is here, in
 * operations/renew-remote.ts: signed by an intermediate of a CA the server holds (the default, a `pki ca
 * add` CA, a trust domain's, or a key `pki ca rotate` retired — renewed by that CA's current key), within
 * validity, known to the inventory and not revoked. The body is empty (same key) or a CSR for a new key (`--rekey`, DER or PEM). The answer
 * is the new leaf + the intermediate (`application/pem-certificate-chain`); a refusal is a JSON problem:
 * 401 without a client certificate, 403 for a foreign, expired, unknown or revoked one (or one pki.json's
 * policy refuses now), 400 for a bad CSR.
 */
import { renewForClient, type RemoteRefusal } from '../operations/renew-remote.js';
import { problemResponse } from './router.js';
import type { Route, ServeContext, ServeRequest, ServeResponse } from './types.js';

const STATUS: Readonly<Record<RemoteRefusal, number>> = {
  'no-certificate': 401,
  foreign: 403,
  'not-yet-valid': 403,
  expired: 403,
  unknown: 403,
  revoked: 403,
  policy: 403,
  'bad-csr': 400,
};

/** Problem types under one URN, so a client can tell the refusals apart without parsing the text. */
const problemType = (reason: RemoteRefusal) => `urn:pki:renew:${reason}`;

async function renew(context: ServeContext, request: ServeRequest): Promise<ServeResponse> {
  const started = process.hrtime.bigint();
  const result = renewForClient({
    clientCertificates: request.clientCertificates ?? [],
    body: request.body,
    // Every CA the server holds: a certificate is renewed by the CA whose key (current or retired) signed it.
    cas: [...context.issuingCas.values()].map((ca) => ({ issuer: ca.issuer, retired: ca.retired.map((r) => r.issuer.certificate), config: ca.config, recordColumns: ca.home.recordColumns })),
    inventory: context.inventory,
    now: context.now(),
  });
  if (result.status === 'refused') {
    context.log.event('renewal refused', { reason: result.reason, serial: result.serial, detail: result.detail, remote: request.remoteAddress });
    return problemResponse(STATUS[result.reason], problemType(result.reason), result.detail);
  }
  context.metrics.observeIssuance('renew', Number(process.hrtime.bigint() - started) / 1e9);
  context.log.event('renewed over mTLS', { serial: result.serial, newSerial: result.newSerial, subject: result.subject, notAfter: result.notAfter.toISOString(), rekeyed: result.rekeyed, remote: request.remoteAddress });
  return { status: 200, headers: { 'Content-Type': 'application/pem-certificate-chain' }, body: result.chainPem };
}

export function renewRoutes(context: ServeContext): Route[] {
  return [{ path: '/1.0/renew', methods: ['POST'], endpoint: 'renew', listeners: ['https'], handler: (request) => renew(context, request) }];
}
