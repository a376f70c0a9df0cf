/**
 * `pki serve`: starts the online CA (serve/start.ts) in the foreground. The command owns what is the
 * process's: the passphrase (asked once, at start), signals (SIGTERM/SIGINT: graceful stop; SIGHUP: reload
 * pki.json), and the output — the start-up line and warnings on stderr, the access log as JSON lines on
 * stdout, events as JSON lines on stderr.
 */
import { startServe } from '../../serve/start.js';
import type { ServeFlags } from '../../serve/settings.js';
import type { LogFields, ServeLogger } from '../../serve/types.js';
import { openHome } from '../home.js';
import { jsonText, type GlobalOptions } from '../output.js';
import { passphraseSource, type PassphraseOptions } from '../passphrase.js';

export interface ServeOptions extends PassphraseOptions {
  readonly listen?: string;
  readonly httpListen?: string;
  readonly baseUrl?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly acmeAllow: string[];
  readonly acmeResolve: string[];
  readonly acmeHttpPort?: number;
  readonly acmeTlsPort?: number;
}

function logger(): ServeLogger {
  const line = (fields: LogFields) => `${jsonText({ time: new Date().toISOString(), ...fields })}\n`;
  return {
    access: (fields) => void process.stdout.write(line({ type: 'access', ...fields })),
    event: (message, fields = {}) => void process.stderr.write(line({ type: 'event', message, ...fields })),
  };
}

export async function runServe(options: ServeOptions, globals: GlobalOptions): Promise<void> {
  const home = openHome(globals);
  home.requireInitialized();
  const flags: ServeFlags = {
    listen: options.listen,
    httpListen: options.httpListen,
    baseUrl: options.baseUrl,
    tlsCert: options.tlsCert,
    tlsKey: options.tlsKey,
    acmeAllow: options.acmeAllow,
    acmeResolve: options.acmeResolve,
    acmeHttpPort: options.acmeHttpPort,
    acmeTlsPort: options.acmeTlsPort,
  };
  const log = logger();
  const passwordFile = options.passwordFile ?? home.readConfig().serve?.passwordFile;
  const passphrase = passphraseSource({ ...options, ...(passwordFile ? { passwordFile } : {}) });
  const running = await startServe(home, { flags, passphrase, now: () => new Date(), log });
  for (const w of running.warnings) process.stderr.write(`pki serve: warning: ${w}\n`);
  process.stderr.write(`${running.startLine}\n`);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.event('stopping', { signal });
      void running.close().then(resolve, resolve);
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => {
      try {
        running.reload();
        log.event('reloaded pki.json');
      } catch (e) {
        log.event('reload refused; the previous configuration stays', { error: e instanceof Error ? e.message : String(e) });
      }
    });
  });
}
