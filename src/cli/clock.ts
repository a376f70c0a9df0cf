/**
 * "Now" for one command run. Tests pin it with `PKI_TEST_NOW` (an RFC 3339 UTC time such as
 * 2028-02-29T12:00:00Z) to issue under fixed clocks: leap days, an expired intermediate, 2050 and later.
 * Read here only, once per command, and handed to the command as its `now` parameter; core and store
 * take `now` as a value and never read the clock of their own accord for validity decisions.
 */
import { PkiError } from '../core/errors.js';

const PINNED = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

export function commandNow(env: NodeJS.ProcessEnv = process.env): Date {
  const pinned = env.PKI_TEST_NOW;
  if (pinned === undefined || pinned === '') return new Date();
  const ms = Date.parse(pinned);
  if (!PINNED.test(pinned) || Number.isNaN(ms)) {
    throw new PkiError('ERR_USAGE', `PKI_TEST_NOW "${pinned}" is not a UTC time such as 2028-02-29T12:00:00Z`, { hint: 'unset PKI_TEST_NOW outside tests' });
  }
  return new Date(ms);
}
