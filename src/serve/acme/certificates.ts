/** Certificate download (application/pem-certificate-chain), revokeCert (§7.6), renewalInfo (ARI, RFC 9773). Placeholder. */
import type { AcmeHandler } from './context.js';
import { AcmeProblemError } from './problem.js';

const notYet: AcmeHandler = async () => {
  throw new AcmeProblemError('serverInternal', 'not implemented yet', { status: 503 });
};
export const certificate: AcmeHandler = notYet;
export const revokeCert: AcmeHandler = notYet;
export const renewalInfo: AcmeHandler = notYet;
