/** The directory (RFC 8555 §7.1.1) and newNonce (§7.2). Placeholder until the ACME front end lands. */
import type { AcmeHandler } from './context.js';
import { AcmeProblemError } from './problem.js';

const notYet: AcmeHandler = async () => {
  throw new AcmeProblemError('serverInternal', 'not implemented yet', { status: 503 });
};
export const directory: AcmeHandler = notYet;
export const newNonce: AcmeHandler = notYet;
