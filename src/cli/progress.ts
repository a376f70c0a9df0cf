/**
 * A progress line for slow work (issue 12, point 4; docs/completion.md): RSA key generation gets a spinner,
 * batches (sign, renew --all, check) an `n/total` counter. Only on stderr, only when stderr is a terminal,
 * never with --json or --quiet; redrawn with \r at most ten times a second and wiped at the end, so
 * nothing of it stays on the screen or reaches a pipe or a log. Operations never print: they report
 * through an `onProgress(done, total)` callback the command hands them.
 */
import type { GlobalOptions } from './output.js';

export interface Progress {
  /** The counter: `label done/total`. */
  readonly update: (done: number, total: number) => void;
  /** Wraps a callback that may prompt (a passphrase source): the line is wiped while it runs. */
  pausing<A extends unknown[], T>(fn: (...args: A) => Promise<T>): (...args: A) => Promise<T>;
  /** Wipes the line and stops the spinner; safe to call twice. */
  readonly end: () => void;
}

/** Redraws at most this often. */
const FRAME_MS = 100;
/** A batch smaller than this finishes before a counter could be read: none is drawn. */
export const MIN_BATCH = 10;
const SPINNER = ['|', '/', '-', '\\'];

const SILENT: Progress = { update: () => {}, pausing: (fn) => fn, end: () => {} };

/** Whether this run may draw a progress line at all. */
export function progressAllowed(globals: Pick<GlobalOptions, 'json' | 'quiet'>, stream: NodeJS.WriteStream = process.stderr): boolean {
  return !globals.json && !globals.quiet && stream.isTTY === true;
}

interface LineOptions {
  /** Spin from the start (work whose size is unknown, e.g. key generation). */
  readonly spinner?: boolean;
  readonly stream?: NodeJS.WriteStream;
}

/** A progress line labelled `label` (`signing`, `generating 2 RSA-4096 keys`); a silent one for a null label or where none is allowed. */
export function startProgress(label: string | null, globals: Pick<GlobalOptions, 'json' | 'quiet'>, options: LineOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  if (label === null || !progressAllowed(globals, stream)) return SILENT;
  let shown = 0; // characters on the line now
  let lastDraw = 0;
  let frame = 0;
  let text: string | null = null;
  let paused = false;
  let ended = false;
  const wipe = () => {
    if (shown > 0) stream.write(`\r${' '.repeat(shown)}\r`);
    shown = 0;
  };
  const draw = (force = false) => {
    const now = Date.now();
    if (text === null || paused || ended || (!force && now - lastDraw < FRAME_MS)) return;
    lastDraw = now;
    const line = options.spinner ? `${text} ${SPINNER[frame++ % SPINNER.length]}` : text;
    stream.write(`\r${line}${' '.repeat(Math.max(0, shown - line.length))}`);
    shown = Math.max(shown, line.length);
  };
  const timer = options.spinner ? setInterval(() => draw(true), FRAME_MS) : undefined;
  timer?.unref();
  if (options.spinner) {
    text = `pki: ${label}`;
    draw(true);
  }
  return {
    update(done, total) {
      if (total < MIN_BATCH) return;
      const first = text === null;
      text = `pki: ${label} ${done}/${total}`;
      draw(first);
    },
    pausing(fn) {
      return async (...args) => {
        paused = true;
        wipe();
        try {
          return await fn(...args);
        } finally {
          paused = false;
          draw(true);
        }
      };
    },
    end() {
      if (ended) return;
      if (timer) clearInterval(timer);
      wipe();
      ended = true;
    },
  };
}

/** Runs `work` with a progress line that is wiped however the work ends. */
export async function withProgress<T>(label: string | null, globals: Pick<GlobalOptions, 'json' | 'quiet'>, options: LineOptions, work: (progress: Progress) => Promise<T>): Promise<T> {
  const progress = startProgress(label, globals, options);
  try {
    return await work(progress);
  } finally {
    progress.end();
  }
}

/** `RSA-4096` when a key spec is an RSA key large enough for its generation to take seconds, else null. */
export function slowKeyLabel(spec: { readonly kty: string; readonly size?: number } | undefined): string | null {
  return spec?.kty === 'RSA' && (spec.size ?? 0) >= 3072 ? `RSA-${spec.size}` : null;
}
