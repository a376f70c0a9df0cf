/**
 * validateCertificatePath never throws on hostile input: every single-byte corruption of each certificate
 * of a valid 3-tier chain gives a verdict (valid only where the byte does not matter, e.g. never inside
 * a signed part), with a chain and checks that are plain data.
 */
import { describe, expect, it } from 'vitest';
import { threeTier, validate } from './path-fixtures.js';

describe('hostile input', () => {
  const t = threeTier('P-256', 'Hostile');
  const certificates = { leaf: t.leafDer, intermediate: t.intermediateDer, root: t.rootDer } as const;

  for (const [which, der] of Object.entries(certificates)) {
    it(`every byte of the ${which} flipped: a verdict, never an exception`, () => {
      const verdicts = new Map<string, number>();
      for (let i = 0; i < der.length; i++) {
        const bad = Buffer.from(der);
        bad[i]! ^= 0x5a;
        const input = {
          leaf: which === 'leaf' ? bad : t.leafDer,
          untrusted: [which === 'intermediate' ? bad : t.intermediateDer],
          roots: [which === 'root' ? bad : t.rootDer],
        };
        const r = validate(input);
        const code = r.error?.code ?? 'valid';
        verdicts.set(code, (verdicts.get(code) ?? 0) + 1);
        expect(JSON.parse(JSON.stringify(r))).toEqual(r);
        // A flipped byte inside the leaf's or the intermediate's signed part can never give a valid path.
        if (which !== 'root' && code === 'valid') expect(i).toBeGreaterThanOrEqual(der.length - 80);
      }
      expect(verdicts.size).toBeGreaterThan(1);
    });
  }
});
