/**
 * Issue 6 point 5: parallel issuers, a revoker and a CRL publisher against one CA home, through
 * scripts/concurrency.mjs (the same script that measures the figures in docs/security.md, with a small N × M):
 * no lost or duplicated inventory row, no duplicate serial, integrity_check ok, CRL Numbers distinct and
 * the published CRL carrying the highest, every revocation on it, no command failed or timed out on the lock.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SCRIPT = resolve(import.meta.dirname, '../../scripts/concurrency.mjs');
/** A hang guard for the whole script: ~40 s on a 2-core machine at load 10, more beside a CPU hog. */
const SCRIPT_MS = 300_000;

describe('concurrent pki invocations', () => {
  it('4 issuers × 6 commands (sign and generate) with revokes and CRL publications in parallel', () => {
    let out: string;
    try {
      out = execFileSync(process.execPath, [SCRIPT, '--n', '4', '--m', '6', '--json'], { encoding: 'utf8', timeout: SCRIPT_MS });
    } catch (e) {
      const failed = e as { stdout: string; stderr: string; code?: string };
      if (failed.code === 'ETIMEDOUT') throw new Error(`scripts/concurrency.mjs did not finish within ${SCRIPT_MS / 1000} s (killed):\n${failed.stderr}`);
      out = failed.stdout; // exit 1: the figures say which check failed
    }
    const figures = JSON.parse(out) as Record<string, unknown>;
    expect(figures).toMatchObject({
      certificatesExpected: 36,
      inventoryRows: 36,
      lostRows: 0,
      extraRows: 0,
      duplicateRows: 0,
      duplicateSerials: 0,
      rowsNotMatchingFile: 0,
      integrityCheck: 'ok',
      duplicateCrlNumbers: 0,
      publishedCrlNumberIsHighest: true,
      revokedMissingFromCrl: 0,
      failedCommands: 0,
      busyErrors: 0,
      ok: true,
    });
    expect(figures.revocations as number).toBeGreaterThan(0);
    expect(figures.crlPublications as number).toBeGreaterThan(1);
  }, SCRIPT_MS + 20_000);
});
