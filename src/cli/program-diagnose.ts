/**
 * verify and check: diagnosing and monitoring certificates (issue 11). `inspect --tls` is declared with
 * inspect in program.ts. Each action lazily imports its command module, as in program.ts.
 */
import type { Command } from 'commander';
import { commandNow } from './clock.js';
import { collect, globals } from './program-options.js';

export function addDiagnoseCommands(program: Command): void {
  program
    .command('verify')
    .description('validate a certificate path (RFC 5280): the verdict "OK: …" or "invalid: <certificate>: <cause>" on stdout, exit 0 or 1')
    .argument('<cert-file>', 'the certificate to verify (PEM or DER; further certificates in the file count as untrusted intermediates)')
    .option('--untrusted <file>', 'intermediate certificates to build the path from (repeatable)', collect, [])
    .option('--roots <file>', 'trust anchors (repeatable; default: the CA home root, else /etc/ssl/certs/ca-certificates.crt)', collect, [])
    .option('--host <name>', 'the DNS name (or IP literal) the certificate must be valid for')
    .option('--ip <address>', 'the IP address the certificate must be valid for')
    .option('--purpose <purpose>', 'server, client or any: the extended key usage the certificate must allow', 'any')
    .option('--time <time>', 'validate at this RFC 3339 time instead of now')
    .option('--crl <file>', 'a CRL to check revocation against (repeatable); a stale or wrongly signed one makes the result invalid', collect, [])
    .option('--crl-check', "check the certificate's revocation (the CA home's CRL counts too); no CRL for it is a failure")
    .option('--crl-check-all', 'check the revocation of every certificate below the trust anchor')
    .option('--max-depth <n>', 'at most N intermediate CA certificates in the path')
    .action(async (file: string, opts, cmd: Command) => {
      const { runVerify } = await import('./commands/verify.js');
      await runVerify(file, opts, globals(cmd), commandNow());
    });

  program
    .command('check')
    .description('expiry monitoring: every certificate in the inventory, the CA certificates, the CRL and --path files; table, --json, --nagios or a Prometheus textfile')
    .option('--path <file-or-dir>', 'also watch this certificate file or folder (walked recursively for .crt .pem .cer; repeatable)', collect, [])
    .option('--warn <duration>', 'WARN when a certificate expires within this long', '30d')
    .option('--critical <duration>', 'CRITICAL when a certificate expires within this long', '7d')
    .option('--nagios', 'the Nagios plugin contract: one status line with perfdata, exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN')
    .option('--prometheus <file>', 'also write a node_exporter textfile (atomically) with x509-certificate-exporter metric names')
    .option('--fail-on-due', 'exit 1 when a certificate is past its renewal threshold, even if not yet WARN')
    .action(async (opts, cmd: Command) => {
      const { runCheck } = await import('./commands/check.js');
      await runCheck(opts, globals(cmd), commandNow());
    });
}
