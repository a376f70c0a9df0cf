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

/**
 * Access-log lines are gathered and written once per turn of the event loop: one write per request cost a
 * quarter of the server's CPU per OCSP response under 64 concurrent clients (docs/performance.md, OCSP).
 */
function logger(): ServeLogger & { flush(): void } {
  const line = (fields: LogFields) => `${jsonText({ time: new Date().toISOString(), ...fields })}\n`;
  let pending: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    process.stdout.write(text);
  };
  return {
    access: (fields) => {
      pending.push(line({ type: 'access', ...fields }));
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    event: (message, fields = {}) => void process.stderr.write(line({ type: 'event', message, ...fields })),
    flush,
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
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.event('stopping', { signal });
      const done = () => {
        log.flush();
        resolve();
      };
      void running.close().then(done, done);
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
    // Only now: stderr to a pipe is written synchronously, and a supervisor (or a test) that signals as soon
    // as it reads the start-up line must find the handlers in place (SIGHUP's default would end the process).
    for (const w of running.warnings) process.stderr.write(`pki serve: warning: ${w}\n`);
    process.stderr.write(`${running.startLine}\n`);
  });
}
