/**
 * Crash points for fault tests: when `PKI_TEST_CRASH_AT` names a step, the process kills itself with
 * SIGKILL right there, as a power cut or OOM kill would. Tests drive every step of generate, renew and
 * revoke this way. Outside tests the variable is unset and this is one string comparison.
 */
const target = process.env.PKI_TEST_CRASH_AT;

/** Names the write steps a run passes, for tests that enumerate them (`PKI_TEST_TRACE_STEPS=1`). */
const trace = process.env.PKI_TEST_TRACE_STEPS === '1';

export function crashPoint(step: string): void {
  if (trace) process.stderr.write(`pki-step ${step}\n`);
  if (target !== undefined && target === step) process.kill(process.pid, 'SIGKILL');
}
