/**
 * `pki ca renew | rotate | rotate-root | rollback` (issue 14): an intermediate's new certificate, a new
 * intermediate key, a new root with cross certificates, and the snapshot each of them takes first.
 */
import type { Command } from 'commander';
import { commandNow } from './clock.js';
import { globals } from './program-options.js';

export function addCaRotationCommands(ca: Command): void {
  ca.command('renew')
    .description('a new certificate for an intermediate (same key unless --rekey), signed by the root; prints the old and new notAfter')
    .argument('[name]', 'the issuing CA (default: the default intermediate)')
    .option('--rekey', 'a new key as well: the same as pki ca rotate (the old key is retired and keeps signing its CRL)')
    .option('--not-after <time>', 'the new certificate\'s lifetime or end (e.g. 5y)')
    .option('--trust-domain <name>', "the trust domain's intermediate")
    .option('--password-file <file>', 'read the CA key passphrase from FILE (else PKI_PASSWORD, else a prompt)')
    .action(async (name: string | undefined, opts, cmd: Command) => {
      // A new intermediate key is a rotation: the old key keeps signing the CRL of what it issued.
      if (opts.rekey) {
        const { runCaRotate } = await import('./commands/ca-rotate.js');
        return runCaRotate(name, opts, globals(cmd), commandNow());
      }
      const { runCaRenew } = await import('./commands/ca-renew.js');
      await runCaRenew(name, opts, globals(cmd), commandNow());
    });
  ca.command('rotate')
    .description('a new intermediate key and certificate; the old one keeps signing CRLs and OCSP for what it issued')
    .argument('[name]', 'the issuing CA (default: the default intermediate)')
    .option('--not-after <time>', "the new intermediate's lifetime or end")
    .option('--trust-domain <name>', "the trust domain's intermediate")
    .option('--password-file <file>', 'read the CA key passphrase from FILE (else PKI_PASSWORD, else a prompt)')
    .action(async (name: string | undefined, opts, cmd: Command) => {
      const { runCaRotate } = await import('./commands/ca-rotate.js');
      await runCaRotate(name, opts, globals(cmd), commandNow());
    });
  ca.command('rotate-root')
    .description('a new root, cross-signed both ways; bundles carry both roots until --finish')
    .option('--finish', 'drop the old root once no valid certificate chains only to it')
    .option('--not-after <time>', "the new root's lifetime or end")
    .option('--trust-domain <name>', "the trust domain's root")
    .option('--password-file <file>', 'read the CA key passphrase from FILE (else PKI_PASSWORD, else a prompt)')
    .action(async (opts, cmd: Command) => {
      const { runCaRotateRoot } = await import('./commands/ca-rotate.js');
      await runCaRotateRoot(opts, globals(cmd), commandNow());
    });
  ca.command('rollback')
    .description('restore the CA home and inventory from the snapshot taken before a rotation')
    .option('--snapshot <id>', 'the snapshot (ca/snapshots/ID; default: the latest)')
    .option('--list', 'list the snapshots instead')
    .option('--force', 'roll back even when certificates were issued since the snapshot (they drop out of the inventory)')
    .option('--trust-domain <name>', "the trust domain's snapshots (domains/<name>/ca/snapshots/)")
    .action(async (opts, cmd: Command) => {
      const { runCaRollback } = await import('./commands/ca-renew.js');
      await runCaRollback(opts, globals(cmd), commandNow());
    });
}
