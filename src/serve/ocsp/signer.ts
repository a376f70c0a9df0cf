/**
 * Who signs `pki serve`'s OCSP responses: with `serve.ocsp.delegated` (the default) a delegated responder
 * certificate issued at start (operations/ocsp-signer.ts) and replaced in-process once a third of its life
 * has passed — its life is three response lifetimes (at least an hour), so a response signed just before
 * a rotation still expires before the signer that signed it (at least a minute, so short lifetimes stay
 * testable); else the intermediate itself. One holder per issuing CA key (issue 14) — each CA's, each
 * retired key's — whose responses are signed by a responder that key issued, or by that key.
 */
import type { OcspSigner } from '../../core/ocsp/index.js';
import { issueOcspSigner } from '../../operations/ocsp-signer.js';
import type { LoadedIssuer } from '../../core/x509/issuer.js';
import type { ServeContext } from '../types.js';

export interface OcspSignerHolder {
  current(): OcspSigner;
  /** Starts the rotation timer (delegated signers only); `onRotate` after each successor is in place. */
  scheduleRotation(onRotate: () => void): void;
  stop(): void;
}

const MIN_SIGNER_LIFETIME_MS = 60_000;

/** A key the responder answers for: a CA's current key, or one `pki ca rotate` retired (`name` is what logs call it). */
export interface OcspKeyHolder {
  readonly name: string;
  readonly issuer: LoadedIssuer;
}

/** The signer for the certificates `ca`'s key issued. */
export async function createOcspSigner(context: ServeContext, ca: OcspKeyHolder): Promise<OcspSignerHolder> {
  const issuer = ca.issuer;
  const issuerDer = issuer.certificate.der;
  if (!context.settings.ocsp.delegated) {
    const signer: OcspSigner = { subjectDer: issuer.subjectDer, privateKey: issuer.privateKey, certificates: [issuerDer] };
    return { current: () => signer, scheduleRotation: () => {}, stop: () => {} };
  }
  const lifetimeMs = () => Math.max(MIN_SIGNER_LIFETIME_MS, 3 * context.settings.ocsp.lifetimeMs);
  const issue = async () => {
    const issuedAt = context.now().getTime();
    const d = await issueOcspSigner(issuer, { lifetimeMs: lifetimeMs() }, new Date(issuedAt));
    return { d, issuedAt, signer: { subjectDer: d.subjectDer, privateKey: d.privateKey, certificates: [d.certificateDer, issuerDer] } satisfies OcspSigner };
  };
  let held = await issue();
  context.log.event('issued the delegated OCSP signer', { ca: ca.name, serial: held.d.serial, notAfter: held.d.notAfter.toISOString() });
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  return {
    current: () => held.signer,
    scheduleRotation(onRotate) {
      const arm = (delayMs: number) => {
        if (stopped) return;
        timer = setTimeout(async () => {
          try {
            held = await issue();
            context.log.event('rotated the delegated OCSP signer', { ca: ca.name, serial: held.d.serial, notAfter: held.d.notAfter.toISOString() });
            onRotate();
          } catch (e) {
            context.log.event('could not rotate the delegated OCSP signer; retrying in 60 s', { ca: ca.name, error: e instanceof Error ? e.message : String(e) });
            arm(60_000);
            return;
          }
          arm(dueIn());
        }, delayMs);
        timer.unref();
      };
      // A third of the life from issuance (notBefore is back-dated for clock skew).
      const dueIn = () => Math.max(1_000, held.issuedAt + (held.d.notAfter.getTime() - held.issuedAt) / 3 - context.now().getTime());
      arm(dueIn());
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
