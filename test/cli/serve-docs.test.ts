/**
 * docs/serve.md's "Configuration" table matches pki.json's `serve` schema (src/store/serve-config.ts, read
 * from the schema itself, not from a list kept here): every leaf field has a row naming it in backticks
 * (`serve.limits.bodyBytes`, `serve.provisioners.<name>.allow`), and every `serve.*` field a row names
 * exists in the schema.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ServeConfigSchema } from '../../src/store/serve-config.js';

interface Def {
  readonly type: string;
  readonly shape?: Record<string, { _zod: { def: Def } }>;
  readonly innerType?: { _zod: { def: Def } };
  readonly valueType?: { _zod: { def: Def } };
}

/** Dotted paths of the schema's leaves; a record of objects is walked under `<name>`. */
function leaves(def: Def, prefix: string): string[] {
  if (def.type === 'optional' || def.type === 'default') return leaves(def.innerType!._zod.def, prefix);
  if (def.type === 'object') return Object.entries(def.shape!).flatMap(([k, v]) => leaves(v._zod.def, `${prefix}.${k}`));
  if (def.type === 'record' && ['object', 'optional'].includes(def.valueType!._zod.def.type)) return leaves(def.valueType!._zod.def, `${prefix}.<name>`);
  return [prefix];
}

const doc = readFileSync(resolve(import.meta.dirname, '../../docs/serve.md'), 'utf8');
const table = doc.slice(doc.indexOf('## Configuration'), doc.indexOf('\n## ', doc.indexOf('## Configuration') + 1));
const named = new Set([...table.matchAll(/`(serve\.[^`]+)`/g)].map((m) => m[1]!));
const fields = leaves(ServeConfigSchema._zod.def as unknown as Def, 'serve');

describe('docs/serve.md Configuration', () => {
  it('has a row for every serve.* field of the schema', () => {
    expect(fields.length).toBeGreaterThanOrEqual(25);
    expect(fields.filter((f) => !named.has(f))).toEqual([]);
  });

  it('names no serve.* field the schema does not have', () => {
    expect([...named].filter((n) => !fields.includes(n))).toEqual([]);
  });
});
