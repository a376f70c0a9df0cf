/** newOrder (allowlist, rate limit), the order resource, finalize (CSR checks, issuance) (RFC 8555 §7.4). Placeholder. */
import type { AcmeHandler } from './context.js';
import { AcmeProblemError } from './problem.js';

const notYet: AcmeHandler = async () => {
  throw new AcmeProblemError('serverInternal', 'not implemented yet', { status: 503 });
};
export const newOrder: AcmeHandler = notYet;
export const order: AcmeHandler = notYet;
export const finalize: AcmeHandler = notYet;
