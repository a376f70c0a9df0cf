/**
 * export, trust, config and completion: fitting certificates into the software and hosts that use them
 * (issue 12). Each action lazily imports its command module, as in program.ts.
 */
import type { Command } from 'commander';
import { commandNow } from './clock.js';
import { globals } from './program-options.js';

export function addUseCommands(program: Command): void {
  program
    .command('export')
    .description('write a bundle (or a --cert/--key pair) in the form the consuming software wants: PKCS#12, Kubernetes Secret, full chain, HAProxy PEM, DER')
    .argument('[service]', 'service name of the bundle, e.g. redis')
    .argument('[variant]', 'variant name of the bundle, e.g. main')
    .option('--client <name>', "export this client's certificate and key instead of the server's")
    .option('--cert <file>', 'export this certificate file instead of a bundle (with --key)')
    .option('--key <file>', 'the private key of --cert')
    .option('--p12 <file>', 'write a PKCS#12 file (key, leaf, intermediate), mode 0600')
    .option('--k8s-secret', 'print a kubernetes.io/tls Secret (YAML; JSON with --json) on stdout')
    .option('--fullchain <file>', 'write leaf + intermediate (nginx ssl_certificate)')
    .option('--chain <file>', 'write the intermediate(s) only')
    .option('--haproxy <file>', 'write leaf + chain + key in one PEM (HAProxy crt), mode 0600')
    .option('--der <file>', 'write the leaf certificate as DER')
    .option('--password-file <file>', 'with --p12: read the PKCS#12 password from FILE (else PKI_P12_PASSWORD, else a prompt)')
    .option('--legacy', 'with --p12: 3DES and SHA-1 (for old Java and Windows readers) instead of AES-256 and SHA-256')
    .option('--with-root', 'with --p12: add the root certificate too')
    .option('--name <name>', 'with --k8s-secret: the Secret name (default <service>-<variant>-tls, with --client <service>-<variant>-<client>-tls)')
    .option('--namespace <ns>', 'with --k8s-secret: the Secret namespace (default: none)')
    .option('--force', 'replace an existing output file')
    .action(async (service: string | undefined, variant: string | undefined, opts, cmd: Command) => {
      const { runExport } = await import('./commands/export.js');
      await runExport(service, variant, opts, globals(cmd), commandNow());
    });

  const trust = program.command('trust').description("the CA's root in this host's trust stores: system, NSS (--nss), Java (--java)");
  for (const action of ['install', 'uninstall', 'status'] as const) {
    trust
      .command(action)
      .description(
        action === 'install'
          ? 'add the root to the system trust store (and NSS / Java with --nss / --java); without root privileges, print the commands'
          : action === 'uninstall'
            ? 'remove the root from every store install put it in'
            : 'is the root installed in every store asked for? exit 0 yes, 1 no',
      )
      .option('--root <file>', 'the root certificate (default: the CA home root)')
      .option('--nss', 'also the NSS database $HOME/.pki/nssdb (created if absent) and Firefox profiles')
      .option('--java', 'also the Java cacerts keystore ($JAVA_HOME/lib/security/cacerts, else the JDK of keytool)')
      .option('--java-keystore <file>', 'with --java: this keystore instead (a copy, an application truststore; password changeit)')
      .option('--platform <name>', 'the system store of debian, rhel, alpine, arch or macos instead of the detected one (another platform: printed only)')
      .option('--dry-run', 'print the commands and files, change nothing')
      .action(async (opts, cmd: Command) => {
        const { runTrust } = await import('./commands/trust.js');
        await runTrust(action, opts, globals(cmd), commandNow());
      });
  }

  const config = program.command('config').description('pki.json: the effective configuration and its validation');
  config
    .command('show')
    .description('print the effective configuration, defaults and built-in profiles included')
    .action(async (_opts, cmd: Command) => {
      const { runConfigShow } = await import('./commands/config.js');
      await runConfigShow(globals(cmd));
    });
  config
    .command('validate')
    .description('check a pki.json (default: the CA home one); each problem names the field and the file')
    .argument('[file]', 'the file to check')
    .action(async (file: string | undefined, _opts, cmd: Command) => {
      const { runConfigValidate } = await import('./commands/config.js');
      await runConfigValidate(file, globals(cmd));
    });

  program
    .command('completion')
    .description('print a shell completion script: source <(pki completion bash)')
    .argument('<shell>', 'bash, zsh or fish')
    .action(async (shell: string, _opts, cmd: Command) => {
      const { runCompletion } = await import('./commands/completion.js');
      await runCompletion(shell, cmd.parent as Command, globals(cmd));
    });
}
