/** Authorizations (incl. deactivation) and challenges (RFC 8555 §7.5); validation itself is serve/va/. Placeholder. */
import type { AcmeHandler } from './context.js';
import { AcmeProblemError } from './problem.js';

const notYet: AcmeHandler = async () => {
  throw new AcmeProblemError('serverInternal', 'not implemented yet', { status: 503 });
};
export const authorization: AcmeHandler = notYet;
export const challenge: AcmeHandler = notYet;
