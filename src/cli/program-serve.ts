/**
 * `pki serve`: the online CA (issue 13) — ACME, OCSP, the CRL and CA certificates over HTTP, renewal over
 * mutual TLS. Every flag can also be set in pki.json `serve.*` (docs/serve.md); flags win. The action
 * lazily imports its command module, as in program.ts.
 */
import type { Command } from 'commander';
import { collect, globals } from './program-options.js';

const port = (value: string): number => {
  const n = Number(value);
  if (!/^\d{1,5}$/.test(value) || n < 1 || n > 65535) throw new Error(`"${value}" is not a port from 1 to 65535`);
  return n;
};

export function addServeCommands(program: Command): void {
  program
    .command('serve')
    .description('run the online CA: ACME (certbot, lego, Caddy…), OCSP, the CRL and CA certificates over HTTP, renewal over mTLS')
    .option('--listen <addr:port>', 'HTTPS listener (default 127.0.0.1:8443: loopback unless you name another address)')
    .option('--http-listen <addr:port>', 'also a plain HTTP listener for OCSP and the CRL (plain HTTP by convention)')
    .option('--base-url <url>', 'the external URL clients use (behind a proxy); also stamped as CRL/OCSP/caIssuers URLs into issued certificates')
    .option('--tls-cert <file>', 'serve HTTPS with this certificate chain instead of one issued from the CA home')
    .option('--tls-key <file>', 'the private key of --tls-cert')
    .option('--acme-allow <pattern>', 'an identifier ACME may issue for: *.test (one label), .internal (every name under it), db.internal, 10.0.0.0/8 (repeatable)', collect, [])
    .option('--acme-resolve <pattern=ip>', 'resolve matching names to IP for validation, without DNS (repeatable)', collect, [])
    .option('--acme-http-port <n>', 'connect to this port instead of 80 for http-01 validation (tests only)', port)
    .option('--acme-tls-port <n>', 'connect to this port instead of 443 for tls-alpn-01 validation (tests only)', port)
    .option('--password-file <file>', 'read the intermediate key passphrase from FILE (else PKI_PASSWORD, else a prompt)')
    .action(async (opts, cmd: Command) => {
      const { runServe } = await import('./commands/serve.js');
      await runServe(opts, globals(cmd));
    });
}
