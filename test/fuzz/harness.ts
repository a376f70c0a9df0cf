/**
 * Shared machinery of the fuzz and property suites (issue 6, point 1).
 *
 * - `runs(n)`: the number of fast-check runs of a property. `npm test` uses `n`; `npm run fuzz` multiplies
 *   it by FUZZ_RUNS (default 50 there, see vitest.fuzz.config.ts). FUZZ_SEED pins fast-check's seed so a
 *   campaign reproduces; without it every run explores new inputs and a failure prints its seed.
 * - `decodeOutcome(decoder, fn)`: runs one decoder call on one input and enforces the contract every
 *   decoder of outside input has: it returns a value or throws a PkiError with a code — never another
 *   exception type — and it returns within HANG_MS of CPU time (a hang guard, not a benchmark: CPU time,
 *   so a loaded machine does not trip it; wall time is bounded too, at WALL_FACTOR × HANG_MS). Every call is counted,
 *   and the counts are printed when the file finishes, so the campaign can report inputs per decoder.
 * - Byte mutators that keep inputs real: bit flips, truncations, DER length-octet and SSH length-field
 *   corruption, inserted, deleted and overwritten runs, duplicated slices.
 */
import fc from 'fast-check';
import { afterAll } from 'vitest';
import { PkiError } from '../../src/core/errors.js';
import { overLimit, timeCall, type Timing } from '../helpers/cpu-time.js';

const SCALE = Math.max(1, Number(process.env.FUZZ_RUNS ?? '1') || 1);

/**
 * Per-call hang guard, in ms of the process's CPU time (see test/helpers/cpu-time.ts): the decoders are
 * pure and synchronous, so an input that makes one loop or backtrack burns CPU, while time spent waiting
 * for a core on a loaded machine does not count. The slowest inputs take about 0.6 s of CPU today.
 */
export const HANG_MS = Number(process.env.FUZZ_HANG_MS ?? '2000');

/**
 * Vitest timeout of a property test: the runs of the property, scaled with the campaign. A hang guard as
 * large as vitest.config.ts's testTimeout: the slowest property (openssl per sample) takes ~13 s on an idle
 * 2-core machine and three times that beside other CPU-heavy work.
 */
export const PROPERTY_TIMEOUT_MS = 120_000 * SCALE;

/** fast-check parameters for a property that runs `base` times in `npm test`. */
export function runs(base: number): fc.Parameters<unknown> {
  const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
  return { numRuns: base * SCALE, ...(seed === undefined ? {} : { seed }), endOnFailure: true };
}

const counts = new Map<string, number>();
const slowest = new Map<string, number>();

afterAll(() => {
  const lines = [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, n]) => `  ${name}: ${n}${slowest.has(name) ? ` (slowest ${slowest.get(name)!.toFixed(1)} ms CPU)` : ''}`);
  if (lines.length > 0) console.info(`fuzz inputs per decoder (FUZZ_RUNS=${SCALE}):\n${lines.join('\n')}`);
});

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: PkiError };

/**
 * Calls `fn` once, counts it under `decoder`, and fails the property (by throwing a plain Error that
 * fast-check reports with the input) unless it returned or threw a PkiError with a code, within HANG_MS.
 */
export function decodeOutcome<T>(decoder: string, fn: () => T, hangMs = HANG_MS): Outcome<T> {
  counts.set(decoder, (counts.get(decoder) ?? 0) + 1);
  const { result: outcome, ...timing } = timeCall((): Outcome<T> => {
    try {
      return { ok: true, value: fn() };
    } catch (e) {
      if (!(e instanceof PkiError) || typeof e.code !== 'string' || (e.code as string) === '') {
        const name = (e as Error)?.constructor?.name ?? typeof e;
        throw new Error(`${decoder} threw ${name} instead of a PkiError: ${(e as Error)?.message}`, { cause: e });
      }
      return { ok: false, error: e };
    }
  });
  checkHang(decoder, timing, hangMs);
  return outcome;
}

/** Records the slowest call per decoder (CPU time) and throws when one call exceeded the hang guard. */
export function checkHang(decoder: string, timing: Timing, hangMs = HANG_MS): void {
  if (timing.cpuMs > (slowest.get(decoder) ?? 0)) slowest.set(decoder, timing.cpuMs);
  const over = overLimit(timing, hangMs);
  if (over) throw new Error(`${decoder} took ${over} on one input (hang guard)`);
}

/** Counts inputs a property fed to a decoder outside `decodeOutcome` (round trips). */
export function countInput(decoder: string, n = 1): void {
  counts.set(decoder, (counts.get(decoder) ?? 0) + n);
}

// ---------------------------------------------------------------------------------------------------
// Byte mutations

/**
 * Offsets of every DER length octet run a tolerant walk can find: the root, the children of constructed
 * elements, and DER nested inside OCTET STRING / BIT STRING contents (extension values, SPKI keys).
 * `lengthAt` is the offset of the first length octet, `lengthOctets` how many there are.
 */
export function derLengthFields(der: Uint8Array): { lengthAt: number; lengthOctets: number }[] {
  const out: { lengthAt: number; lengthOctets: number }[] = [];
  const stack: [number, number][] = [[0, der.length]];
  let guard = 0;
  while (stack.length > 0 && guard++ < 100_000) {
    const [from, to] = stack.pop()!;
    for (let offset = from; offset + 2 <= to; ) {
      const tag = der[offset]!;
      const first = der[offset + 1]!;
      let length = first;
      let octets = 1;
      if (first & 0x80) {
        const n = first & 0x7f;
        if (n === 0 || n > 4 || offset + 2 + n > to) break;
        length = 0;
        for (let i = 0; i < n; i++) length = length * 256 + der[offset + 2 + i]!;
        octets = 1 + n;
      }
      const contentAt = offset + 1 + octets;
      if (contentAt + length > to) break;
      out.push({ lengthAt: offset + 1, lengthOctets: octets });
      if (tag & 0x20) stack.push([contentAt, contentAt + length]);
      else if (tag === 0x04 && length > 1) stack.push([contentAt, contentAt + length]);
      else if (tag === 0x03 && length > 2 && der[contentAt] === 0) stack.push([contentAt + 1, contentAt + length]);
      offset = contentAt + length;
    }
  }
  return out;
}

/** Offsets of the uint32 length prefixes of SSH `string`s, found by reading strings greedily, recursively. */
export function sshLengthFields(blob: Uint8Array): number[] {
  const out: number[] = [];
  const stack: [number, number][] = [[0, blob.length]];
  let guard = 0;
  while (stack.length > 0 && guard++ < 10_000) {
    const [from, to] = stack.pop()!;
    for (let offset = from; offset + 4 <= to; ) {
      const length = ((blob[offset]! << 24) | (blob[offset + 1]! << 16) | (blob[offset + 2]! << 8) | blob[offset + 3]!) >>> 0;
      if (offset + 4 + length > to) {
        offset += 4; // a uint32/uint64 field rather than a string: step over it
        continue;
      }
      out.push(offset);
      if (length >= 4) stack.push([offset + 4, offset + 4 + length]);
      offset += 4 + length;
    }
  }
  return out;
}

/** Replacement length encodings: huge, indefinite (BER), non-minimal, truncated, off by one. */
const DER_LENGTH_FORGERIES = (original: number[]): number[][] => {
  const value = original.length === 1 ? original[0]! : original.slice(1).reduce((v, b) => v * 256 + b, 0);
  return [
    [0x84, 0xff, 0xff, 0xff, 0xff],
    [0x84, 0x7f, 0xff, 0xff, 0xff],
    [0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    [0x80],
    [0x81, value & 0x7f],
    [0x82, 0x00, value & 0xff],
    [0x83],
    [0xff],
    [Math.min(0x7f, value + 1)],
    [Math.max(0, value - 1)],
    [0x82, ((value + 1) >> 8) & 0xff, (value + 1) & 0xff],
    [0x00],
  ];
};

export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'overwrite'; at: number; bytes: Uint8Array }
  | { kind: 'duplicate'; at: number; count: number; to: number }
  | { kind: 'derLength'; field: number; forgery: number }
  | { kind: 'sshLength'; field: number; value: number | 'inc' | 'dec' };

/** One mutation; positions are raw naturals reduced modulo the input length when applied. */
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.constantFrom(0x00, 0x7f, 0x80, 0xff, 0x30, 0x31, 0x04, 0x03, 0x02, 0xa0, 0xa3) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('overwrite' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 64 }), to: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('derLength' as const), field: fc.nat(), forgery: fc.nat(11) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('sshLength' as const),
      field: fc.nat(),
      value: fc.constantFrom<number | 'inc' | 'dec'>(0xffffffff, 0x7fffffff, 0x80000000, 0, 1, 3, 'inc', 'dec'),
    }),
  },
);

/** 1–4 mutations applied in order. */
export const mutationsArb = fc.array(mutationArb, { minLength: 1, maxLength: 4 });

/** Applies one mutation to a copy of `input`. Length-field mutations fall back to a bit flip when none is found. */
export function applyMutation(input: Uint8Array, m: Mutation): Uint8Array {
  const n = input.length;
  if (n === 0) return m.kind === 'insert' ? Uint8Array.from(m.bytes) : new Uint8Array(0);
  const out = Buffer.from(input);
  switch (m.kind) {
    case 'flip':
      out[m.at % n]! ^= 1 << m.bit;
      return out;
    case 'set':
      out[m.at % n] = m.byte;
      return out;
    case 'truncate':
      return out.subarray(0, m.at % n);
    case 'delete': {
      const at = m.at % n;
      return Buffer.concat([out.subarray(0, at), out.subarray(Math.min(n, at + m.count))]);
    }
    case 'insert': {
      const at = m.at % (n + 1);
      return Buffer.concat([out.subarray(0, at), m.bytes, out.subarray(at)]);
    }
    case 'overwrite': {
      const at = m.at % n;
      out.set(m.bytes.subarray(0, n - at), at);
      return out;
    }
    case 'duplicate': {
      const at = m.at % n;
      const slice = out.subarray(at, Math.min(n, at + m.count));
      const to = m.to % (n + 1);
      return Buffer.concat([out.subarray(0, to), slice, out.subarray(to)]);
    }
    case 'derLength': {
      const fields = derLengthFields(input);
      if (fields.length === 0) return applyMutation(input, { kind: 'flip', at: m.field, bit: 7 });
      const { lengthAt, lengthOctets } = fields[m.field % fields.length]!;
      const original = Array.from(input.subarray(lengthAt, lengthAt + lengthOctets));
      const forgery = DER_LENGTH_FORGERIES(original)[m.forgery]!;
      return Buffer.concat([out.subarray(0, lengthAt), Buffer.from(forgery), out.subarray(lengthAt + lengthOctets)]);
    }
    case 'sshLength': {
      const fields = sshLengthFields(input);
      if (fields.length === 0) return applyMutation(input, { kind: 'flip', at: m.field, bit: 0 });
      const at = fields[m.field % fields.length]!;
      const current = out.readUInt32BE(at);
      const value = m.value === 'inc' ? current + 1 : m.value === 'dec' ? current - 1 : m.value;
      out.writeUInt32BE(value >>> 0, at);
      return out;
    }
  }
}

export function mutate(input: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  return mutations.reduce((bytes, m) => applyMutation(bytes, m), input);
}

/** A real input plus the mutations applied to it, as one fast-check value. */
export function mutatedFrom<T extends { bytes: Uint8Array }>(seeds: readonly T[]): fc.Arbitrary<{ seed: T; bytes: Uint8Array }> {
  return fc
    .record({ index: fc.nat(seeds.length - 1), mutations: mutationsArb })
    .map(({ index, mutations }) => ({ seed: seeds[index]!, bytes: mutate(seeds[index]!.bytes, mutations) }));
}

// ---------------------------------------------------------------------------------------------------
// Bombs: hand-built hostile inputs that random mutation rarely reaches

/** `depth` nested SEQUENCEs with correct definite lengths, innermost empty (≈5 bytes per level at depth 100k). */
export function nestedSequences(depth: number, tag = 0x30): Buffer {
  // Built from the inside out into one buffer: lengths are known once the inner part is.
  const headers: Buffer[] = [];
  let inner = 0;
  for (let i = 0; i < depth; i++) {
    const header = derHeader(tag, inner);
    headers.push(header);
    inner += header.length;
  }
  const out = Buffer.alloc(inner);
  let at = 0;
  for (let i = headers.length - 1; i >= 0; i--) {
    headers[i]!.copy(out, at);
    at += headers[i]!.length;
  }
  return out;
}

export function derHeader(tag: number, length: number): Buffer {
  if (length < 0x80) return Buffer.from([tag, length]);
  const bytes: number[] = [];
  for (let v = length; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
}

/** Wraps DER as one PEM block. */
export function pem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
