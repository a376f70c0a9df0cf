/**
 * Where CA passphrases come from: `--password-file FILE` (a path; /dev/fd/N works), the PKI_PASSWORD
 * environment variable, or a prompt on the terminal without echo. Never argv, never printed.
 */
import { readFileSync, statSync } from 'node:fs';
import { PkiError } from '../core/errors.js';
import type { PassphraseCheck, PassphraseSource } from '../store/ca-home.js';
import { ExitError } from './errors.js';
import { warn } from './output.js';
import type { NewKeyProtection } from '../operations/key-protection.js';

export interface PassphraseOptions {
  readonly passwordFile?: string | undefined;
  /** false with --no-password. */
  readonly password?: boolean | undefined;
  readonly insecure?: boolean | undefined;
}

/** How a new CA key is to be stored: encrypted with a passphrase, or in the clear (CI only). */

const MIN_PASSPHRASE = 8;

export function readPasswordFile(path: string): Uint8Array {
  let data: Buffer;
  try {
    if (!path.startsWith('/dev/fd/') && !path.startsWith('/proc/self/fd/')) {
      const st = statSync(path);
      if ((st.mode & 0o077) !== 0 && st.isFile()) {
        warn(`password file ${path} is readable by other users (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
      }
    }
    data = readFileSync(path);
  } catch (e) {
    throw new PkiError('ERR_FILE_NOT_FOUND', `cannot read password file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      hint: 'check the --password-file path',
    });
  }
  // One trailing newline is not part of the passphrase (as with openssl's file: source).
  let end = data.length;
  if (end > 0 && data[end - 1] === 0x0a) end--;
  if (end > 0 && data[end - 1] === 0x0d) end--;
  const secret = Uint8Array.prototype.slice.call(data, 0, end);
  data.fill(0);
  if (secret.length === 0) throw new PkiError('ERR_PASSWORD_REQUIRED', `password file ${path} is empty`, { hint: 'write the passphrase into the file' });
  return secret;
}

/** Exit code of a run cancelled with Ctrl-C (128 + SIGINT), as shells report it. */
export const INTERRUPTED_EXIT_CODE = 130;

/**
 * Reads one line from the terminal without echo. Raw mode is switched on before the question is shown,
 * so a Ctrl-C typed at the question arrives as the byte 0x03 (not as a signal) and ends the run with 130
 * after the terminal is restored; a SIGINT from elsewhere (kill -INT) does the same.
 */
export async function promptHidden(question: string): Promise<Uint8Array> {
  const stdin = process.stdin;
  stdin.setRawMode(true);
  const onSignal = () => {
    stdin.setRawMode(false);
    process.stderr.write('\n');
    process.exit(INTERRUPTED_EXIT_CODE);
  };
  process.once('SIGINT', onSignal);
  process.stderr.write(question);
  stdin.resume();
  const chunks: number[] = [];
  try {
    return await new Promise<Uint8Array>((resolve, reject) => {
      const onData = (buf: Buffer) => {
        for (const byte of buf) {
          if (byte === 0x0d || byte === 0x0a) {
            stdin.off('data', onData);
            process.stderr.write('\n');
            resolve(Uint8Array.from(chunks));
            return;
          }
          if (byte === 0x03) {
            stdin.off('data', onData);
            process.stderr.write('\n');
            reject(new ExitError(INTERRUPTED_EXIT_CODE));
            return;
          }
          if (byte === 0x04) {
            stdin.off('data', onData);
            process.stderr.write('\n');
            reject(new PkiError('ERR_PASSWORD_REQUIRED', 'passphrase entry cancelled (Ctrl-D)'));
            return;
          }
          if (byte === 0x7f || byte === 0x08) chunks.pop();
          else chunks.push(byte);
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    chunks.fill(0);
    process.off('SIGINT', onSignal);
    stdin.setRawMode(false);
    stdin.pause();
  }
}

function fromEnvironment(): Uint8Array | undefined {
  const value = process.env.PKI_PASSWORD;
  return value ? new TextEncoder().encode(value) : undefined;
}

const noSource = () =>
  new PkiError('ERR_PASSWORD_REQUIRED', 'a CA passphrase is needed and there is no terminal to ask on', {
    hint: 'pass --password-file FILE or set PKI_PASSWORD (or, for throw-away test CAs, --no-password --insecure at init)',
  });

/** Wrong passphrases accepted at an interactive prompt before the command gives up (as sudo and ssh do). */
export const PROMPT_TRIES = 3;

/** A secret that does not open the key: the error names the source that gave it, so the fix is obvious. */
function checked(secret: Uint8Array, check: PassphraseCheck | undefined, source: string, what: string): Uint8Array {
  if (!check || check(secret)) return secret;
  secret.fill(0);
  throw new PkiError('ERR_BAD_PASSWORD', `wrong passphrase for the ${what} (from ${source})`, {
    hint: source === 'PKI_PASSWORD' ? 'set PKI_PASSWORD to the passphrase given at init, or unset it to be asked' : `put the passphrase given at init into ${source.replace(/^--password-file /, '')}`,
  });
}

/**
 * Passphrase to open an existing encrypted key: from --password-file, else PKI_PASSWORD, else the
 * terminal. With `check` (the store tries the key with it), a wrong passphrase from a file or the
 * environment fails at once naming that source, and the prompt asks again, up to PROMPT_TRIES times.
 */
export async function readExistingPassphrase(options: PassphraseOptions, what = 'CA key', check?: PassphraseCheck): Promise<Uint8Array> {
  if (options.passwordFile) return checked(readPasswordFile(options.passwordFile), check, `--password-file ${options.passwordFile}`, what);
  const env = fromEnvironment();
  if (env) return checked(env, check, 'PKI_PASSWORD', what);
  if (!process.stdin.isTTY) throw noSource();
  for (let attempt = 1; ; attempt++) {
    const secret = await promptHidden(`Passphrase for the ${what}: `);
    if (!check || check(secret)) return secret;
    secret.fill(0);
    if (attempt === PROMPT_TRIES) {
      throw new PkiError('ERR_BAD_PASSWORD', `${PROMPT_TRIES} wrong passphrases for the ${what} at the prompt`, {
        hint: 'type the passphrase given at init (or pass it with --password-file FILE)',
      });
    }
    process.stderr.write('Wrong passphrase, try again.\n');
  }
}

/** Decides how new CA keys are protected, asking twice on a terminal. Refuses before anything is written. */
export async function resolveNewKeyProtection(options: PassphraseOptions): Promise<NewKeyProtection> {
  if (options.password === false) {
    if (!options.insecure) {
      throw new PkiError('ERR_USAGE', '--no-password stores CA keys unencrypted and needs --insecure as well', {
        hint: 'add --insecure (test CAs only), or drop --no-password',
      });
    }
    if (options.passwordFile) throw new PkiError('ERR_USAGE', '--no-password and --password-file contradict each other');
    return { encrypt: false };
  }
  let passphrase: Uint8Array;
  if (options.passwordFile) passphrase = readPasswordFile(options.passwordFile);
  else if (fromEnvironment()) passphrase = fromEnvironment()!;
  else if (process.stdin.isTTY) {
    passphrase = await promptHidden('New passphrase for the CA keys: ');
    const again = await promptHidden('Repeat the passphrase: ');
    const same = Buffer.from(passphrase).equals(Buffer.from(again));
    again.fill(0);
    if (!same) throw new PkiError('ERR_BAD_PASSWORD', 'the two passphrases differ', { hint: 'run the command again' });
  } else throw noSource();
  if (passphrase.length < MIN_PASSPHRASE) {
    throw new PkiError('ERR_BAD_PASSWORD', `the passphrase is shorter than ${MIN_PASSPHRASE} characters`, { hint: 'choose a longer passphrase' });
  }
  return { encrypt: true, passphrase };
}

/** A PassphraseSource for CaHome.loadIssuer. */
export function passphraseSource(options: PassphraseOptions): PassphraseSource {
  return (check) => readExistingPassphrase(options, 'intermediate CA key', check);
}
