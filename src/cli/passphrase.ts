/**
 * Where CA passphrases come from: `--password-file FILE` (a path; /dev/fd/N works), the PKI_PASSWORD
 * environment variable, or a prompt on the terminal without echo. Never argv, never printed.
 */
import { readFileSync, statSync } from 'node:fs';
import { PkiError } from '../core/errors.js';
import { warn } from './output.js';

export interface PassphraseOptions {
  readonly passwordFile?: string | undefined;
  /** false with --no-password. */
  readonly password?: boolean | undefined;
  readonly insecure?: boolean | undefined;
}

/** How a new CA key is to be stored: encrypted with a passphrase, or in the clear (CI only). */
export type NewKeyProtection = { readonly encrypt: true; readonly passphrase: Uint8Array } | { readonly encrypt: false };

const MIN_PASSPHRASE = 8;

function readPasswordFile(path: string): Uint8Array {
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

/** Reads one line from the terminal without echo. */
async function promptHidden(question: string): Promise<Uint8Array> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
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
          if (byte === 0x03 || byte === 0x04) {
            stdin.off('data', onData);
            process.stderr.write('\n');
            reject(new PkiError('ERR_PASSWORD_REQUIRED', 'passphrase entry cancelled'));
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

/** Passphrase to open an existing encrypted key. */
export async function readExistingPassphrase(options: PassphraseOptions, what = 'CA key'): Promise<Uint8Array> {
  if (options.passwordFile) return readPasswordFile(options.passwordFile);
  const env = fromEnvironment();
  if (env) return env;
  if (process.stdin.isTTY) return promptHidden(`Passphrase for the ${what}: `);
  throw noSource();
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

/** A PassphraseSource for CaHome.loadIssuer, asked at most once. */
export function passphraseSource(options: PassphraseOptions): () => Promise<Uint8Array> {
  return () => readExistingPassphrase(options, 'intermediate CA key');
}
