/**
 * Fault points for tests. When `PKI_TEST_CRASH_AT` names a step, the process kills itself with SIGKILL
 * right there, as a power cut or OOM kill would; `PKI_TEST_FAIL_WRITE=<ERRNO>:<step>` (ENOSPC, EACCES,
 * EROFS, EDQUOT, EIO) makes the write at that step fail with that errno instead, as a full disk, a
 * permission change or a read-only remount would. Tests drive every step of generate, renew and revoke
 * this way. Outside tests both variables are unset and this is two string comparisons.
 */
const target = process.env.PKI_TEST_CRASH_AT;

/** Names the write steps a run passes, for tests that enumerate them (`PKI_TEST_TRACE_STEPS=1`). */
const trace = process.env.PKI_TEST_TRACE_STEPS === '1';

const failure = /^(ENOSPC|EACCES|EROFS|EDQUOT|EIO):(.+)$/.exec(process.env.PKI_TEST_FAIL_WRITE ?? '');

export function crashPoint(step: string): void {
  if (trace) process.stderr.write(`pki-step ${step}\n`);
  if (target !== undefined && target === step) process.kill(process.pid, 'SIGKILL');
  if (failure !== null && failure[2] === step) {
    throw Object.assign(new Error(`${failure[1]}: injected at ${step}`), { code: failure[1], errno: -1, syscall: 'write' });
  }
}
