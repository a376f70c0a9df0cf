/**
 * `--help` examples for every command, kept in one table (issue 12, point 4) instead of in each declaration:
 * addHelpExamples walks the built program and appends an "Examples:" block after each command's help
 * (after any text the declaration already adds). test/cli/help-examples.test.ts parses every line with
 * the real program, so an example naming an unknown flag or command fails.
 */
import type { Command } from 'commander';

/** Command path (`ssh sign`; '' for the program) → example command lines, each a real invocation. */
export const HELP_EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  '': ['pki init --name "Example Corp"', 'pki generate redis main --san cache.internal', 'pki list --expiring 30d'],
  init: ['pki init --name "Example Corp"', 'pki init --kty RSA --size 4096 --root-not-after 20y', 'pki init --import-ca ca.crt --import-key ca.key --import-index index.txt'],
  generate: ['pki generate redis main --san cache.internal --san 10.0.0.5', 'pki generate postgres prod --client app --client backup --not-after 90d', 'pki generate web dev --init'],
  inspect: ['pki inspect services/redis/main/certs/redis.crt', 'openssl req -new -key k.pem -subj /CN=x | pki inspect -', 'pki inspect --password-file p12.pass client.p12'],
  ssh: ['pki ssh init', 'pki ssh sign --user --principal alice ~/.ssh/id_ed25519.pub', 'pki ssh revoke alice@2026-01-01 --reason keyCompromise'],
  'ssh init': ['pki ssh init', 'pki ssh init --kty EC --crv P-384'],
  'ssh sign': [
    'pki ssh sign --user --principal alice --not-after 8h ~/.ssh/id_ed25519.pub',
    'pki ssh sign --host --principal db1.internal /etc/ssh/ssh_host_ed25519_key.pub',
    'pki ssh sign --user --principal deploy --force-command "/usr/bin/rsync --server" --source-address 10.0.0.0/8 deploy.pub',
  ],
  'ssh revoke': ['pki ssh revoke ~/.ssh/id_ed25519-cert.pub --reason keyCompromise', 'pki ssh revoke 12345678'],
  'ssh krl': ['pki ssh krl', 'pki ssh krl --dir /srv/pki'],
  renew: [
    'pki renew services/redis/main/certs/redis.crt',
    'pki renew --all --exec "systemctl reload redis"',
    'pki renew services/web/prod/certs/web.crt --rekey --force',
    'pki renew --daemon --all --exec "systemctl reload nginx"',
  ],
  sign: ['pki sign web.csr --out web.crt', 'pki sign --profile client --not-after 30d app.csr', 'pki sign *.csr --out-dir issued/'],
  revoke: ['pki revoke 4F:2A:9C:01 --reason keyCompromise', 'pki revoke services/redis/main/certs/client.crt --reason superseded'],
  crl: ['pki crl', 'pki crl --if-due --der', 'pki crl --root --next-update 1y'],
  list: ['pki list', 'pki list --expiring 30d', 'pki list --all --json'],
  db: ['pki db rebuild', 'pki db export-index --out index.txt', 'pki db migrate --to sqlite'],
  'db rebuild': ['pki db rebuild', 'pki db rebuild --dir /srv/pki'],
  'db migrate': ['pki db migrate --to postgres://pki@db.internal:5432/pki?sslmode=verify-full', 'pki db migrate --to sqlite'],
  ca: ['pki ca add users --not-after 3y', 'pki ca renew', 'pki ca rotate-root'],
  'ca add': ['pki ca add systems --permit-dns internal --not-after 5y', 'pki ca add users --not-after 3y --profile-set client'],
  'ca renew': ['pki ca renew', 'pki ca renew systems --rekey --not-after 5y'],
  'ca rotate': ['pki ca rotate', 'pki ca rotate users --password-file ca.pass'],
  'ca rotate-root': ['pki ca rotate-root --not-after 20y', 'pki ca rotate-root --finish'],
  'ca rollback': ['pki ca rollback', 'pki ca rollback --list', 'pki ca rollback --snapshot 20261201T120000Z'],
  'db export-index': ['pki db export-index', 'pki db export-index --out /srv/ocsp/index.txt --force'],
  verify: ['pki verify services/redis/main/certs/redis.crt --host cache.internal', 'pki verify leaf.pem --untrusted chain.pem --roots root.pem --purpose server', 'pki verify client.crt --crl-check --time 2027-01-01T00:00:00Z'],
  check: ['pki check', 'pki check --warn 30d --critical 7d --nagios', 'pki check --path /etc/nginx/certs --prometheus /var/lib/node_exporter/pki.prom'],
  export: ['pki export redis main --p12 redis.p12', 'pki export web prod --k8s-secret --namespace prod', 'pki export --cert web.crt --key web.key --haproxy web.pem'],
  serve: [
    "pki serve --acme-allow '*.internal' --acme-allow 10.0.0.0/8",
    'pki serve --listen 0.0.0.0:8443 --http-listen 0.0.0.0:8080 --base-url https://ca.internal:8443 --password-file /etc/pki/pass',
  ],
  trust: ['pki trust install', 'pki trust status --nss', 'pki trust uninstall --dry-run'],
  'trust install': ['pki trust install', 'pki trust install --nss --java', 'pki trust install --root root.crt --dry-run'],
  'trust uninstall': ['pki trust uninstall', 'pki trust uninstall --nss --java --dry-run'],
  'trust status': ['pki trust status', 'pki trust status --nss --java'],
  config: ['pki config show', 'pki config validate ./pki.json'],
  'config show': ['pki config show', 'pki config show --json'],
  'config validate': ['pki config validate', 'pki config validate /srv/pki/pki.json'],
  completion: ['source <(pki completion bash)', 'pki completion zsh > "${fpath[1]}/_pki"', 'pki completion fish > ~/.config/fish/completions/pki.fish'],
};

/** A command's path below the program: `ssh sign`. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Appends each command's examples to its --help, the program's included. */
export function addHelpExamples(program: Command): void {
  const walk = (command: Command) => {
    const examples = HELP_EXAMPLES[commandPath(command)];
    if (examples?.length) command.addHelpText('after', `\nExamples:\n${examples.map((e) => `  ${e}`).join('\n')}`);
    command.commands.forEach(walk);
  };
  walk(program);
}
