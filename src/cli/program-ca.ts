/**
 * `pki ca …` (issue 14): the issuing CAs of a home — add one under the root, renew or rotate an
 * intermediate, rotate the root, roll a rotation back. Each action lazily imports its command module, as
 * in program.ts. The rotation commands are declared in program-ca-rotation.ts.
 */
import type { Command } from 'commander';
import { commandNow } from './clock.js';
import { addCaRotationCommands } from './program-ca-rotation.js';
import { collect, globals } from './program-options.js';

export function addCaCommands(program: Command): void {
  const ca = program.command('ca').description('the issuing CAs: add one under the root, renew, rotate, rotate the root, roll back (docs/operations.md)');
  ca.command('add')
    .description('create a further issuing CA under the root (ca/NAME/), e.g. one for systems and one for users')
    .argument('<name>', 'the CA name (lower-case letters, digits, hyphens): --ca NAME selects it')
    .option('--permit-dns <domain>', 'name constraint: permitted DNS subtree (repeatable)', collect, [])
    .option('--not-after <time>', "the CA certificate's lifetime or end (e.g. 5y, 2031-01-01T00:00:00Z)")
    .option('--profile-set <names>', 'the pki.json profiles this CA may issue (comma-separated; default: all)')
    .option('--crl-url <url>', "crlDistributionPoints of its leaves (repeatable; default: pki.json's rewritten to crl/NAME.crl)", collect, [])
    .option('--ca-issuers-url <url>', "AIA caIssuers of its leaves (repeatable; default: pki.json's rewritten to ca/NAME/intermediate.crt)", collect, [])
    .option('--password-file <file>', 'read the root and new CA key passphrase from FILE (else PKI_PASSWORD, else a prompt)')
    .option('--no-password', 'store the new CA key unencrypted (refused unless --insecure)')
    .action(async (name: string, opts, cmd: Command) => {
      const { runCaAdd } = await import('./commands/ca-add.js');
      await runCaAdd(name, opts, globals(cmd), commandNow());
    });
  addCaRotationCommands(ca);
}
