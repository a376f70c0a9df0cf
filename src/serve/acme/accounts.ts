/** newAccount (incl. onlyReturnExisting, EAB), account update and deactivation, the orders list, keyChange (RFC 8555 §7.3). Placeholder. */
import type { AcmeHandler } from './context.js';
import { AcmeProblemError } from './problem.js';

const notYet: AcmeHandler = async () => {
  throw new AcmeProblemError('serverInternal', 'not implemented yet', { status: 503 });
};
export const newAccount: AcmeHandler = notYet;
export const account: AcmeHandler = notYet;
export const accountOrders: AcmeHandler = notYet;
export const keyChange: AcmeHandler = notYet;
