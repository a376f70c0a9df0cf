/**
 * The calling side of the PostgreSQL inventory's worker (pg-worker.ts): every call posts one request and
 * blocks on Atomics.wait until the worker has posted the answer, which receiveMessageOnPort then takes
 * off the port without the event loop. So the Inventory interface stays synchronous on PostgreSQL as it
 * is on better-sqlite3 (docs/decisions.md "Issue 14"); the cost per call is in docs/performance.md.
 *
 * Errors come back as data and leave here as one-line PkiErrors (pg-errors.ts). A worker that does not
 * answer within ANSWER_TIMEOUT_MS (it died, or the server stopped answering mid-query) is an unreachable
 * database; the worker is then terminated and every later call refused.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { PkiError } from '../../core/errors.js';
import { pgError } from './pg-errors.js';
import type { PgTarget } from './pg-url.js';

export type PgParam = string | number | null;

export type PgRequest =
  | { readonly op: 'open' }
  | { readonly op: 'query'; readonly sql: string; readonly params: readonly PgParam[]; readonly array: boolean }
  | { readonly op: 'begin' }
  | { readonly op: 'commit' }
  | { readonly op: 'rollback' }
  | { readonly op: 'close' };

export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code: string | undefined;
  readonly constraint: string | undefined;
  readonly hint: string | undefined;
}

export type PgResponse = { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: SerializedError };

export interface PgResult<R> {
  readonly rows: R[];
  readonly rowCount: number;
}

/**
 * The longest a call waits for its answer: the worker's own limits (connect_timeout, the 10 s lock
 * timeout) answer well before; this catches a server that accepted the query and then went silent.
 */
const ANSWER_TIMEOUT_MS = 120_000;

/** dist/pki/pg-worker.cjs, found from the CLI bundle (dist/pki/), tsc's output (dist/store/inventory/) or the sources (vitest). */
function workerFile(): string {
  const candidates = ['./pg-worker.cjs', '../../pki/pg-worker.cjs', '../../../dist/pki/pg-worker.cjs'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new PkiError('ERR_INTERNAL', `the PostgreSQL inventory worker is missing (looked for ${candidates.join(', ')})`, { hint: 'run "npm run build"' });
  return found;
}

export class PgBridge {
  readonly target: PgTarget;
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #signal: Int32Array;
  #broken: PkiError | undefined;
  #closed = false;

  /** Starts the worker and connects (migrating the schema): throws the one-line error when the database cannot be used. */
  constructor(target: PgTarget) {
    this.target = target;
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    this.#signal = new Int32Array(new SharedArrayBuffer(4));
    this.#worker = new Worker(workerFile(), { workerData: { port: port2, signal: this.#signal, target }, transferList: [port2] });
    // The CLI exits when its work is done even if an inventory was left open; the worker never holds it up.
    this.#worker.unref();
    this.#port.unref();
    try {
      this.call({ op: 'open' });
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** One request, answered synchronously. */
  call(request: PgRequest): unknown {
    if (this.#broken) throw this.#broken;
    if (this.#closed) throw new PkiError('ERR_INTERNAL', `the inventory ${this.target.display} is closed`);
    Atomics.store(this.#signal, 0, 0);
    this.#port.postMessage(request);
    const deadline = Date.now() + ANSWER_TIMEOUT_MS;
    let message: { message: PgResponse } | undefined;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      Atomics.wait(this.#signal, 0, 0, left);
      message = receiveMessageOnPort(this.#port) as { message: PgResponse } | undefined;
      if (message) break;
    }
    if (!message) {
      this.#broken = new PkiError('ERR_INVENTORY_UNREACHABLE', `the PostgreSQL inventory ${this.target.display} did not answer within ${ANSWER_TIMEOUT_MS / 1000} s`, {
        hint: 'check the database server and the network to it',
      });
      void this.#worker.terminate();
      throw this.#broken;
    }
    const response = message.message;
    if (!response.ok) throw pgError(response.error, this.target);
    return response.result;
  }

  query<R>(sql: string, params: readonly PgParam[] = []): PgResult<R> {
    return this.call({ op: 'query', sql, params, array: false }) as PgResult<R>;
  }

  /** Rows as arrays (no keyed object per row): for the passes over many records. */
  queryArrays<R extends unknown[]>(sql: string, params: readonly PgParam[] = []): PgResult<R> {
    return this.call({ op: 'query', sql, params, array: true }) as PgResult<R>;
  }

  /** Runs `fn` as one write transaction under the inventory's write lock (a savepoint when nested). */
  transaction<T>(fn: () => T): T {
    this.call({ op: 'begin' });
    let result: T;
    try {
      result = fn();
    } catch (e) {
      try {
        this.call({ op: 'rollback' });
      } catch {
        /* the first error is the one to report; a broken connection is dropped by the worker */
      }
      throw e;
    }
    this.call({ op: 'commit' });
    return result;
  }

  close(): void {
    if (this.#closed) return;
    try {
      if (!this.#broken) this.call({ op: 'close' });
    } catch {
      /* closing a connection that is gone already */
    } finally {
      this.#closed = true;
      this.#port.close();
      void this.#worker.terminate();
    }
  }
}
