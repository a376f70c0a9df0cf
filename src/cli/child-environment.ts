/**
 * The environment of commands pki runs for the operator (`renew --exec`): the operator's, minus every
 * variable pki reads itself. Those are PKI_* (PKI_PASSWORD, PKI_P12_PASSWORD, PKI_DIR, PKI_TEST_* …):
 * a reload command has no use for the CA passphrase, and whatever it runs (a service's own scripts)
 * must not see it. `secretNames`: further variables a passphrase source names (none today: pki reads its
 * passphrases only from PKI_PASSWORD, a file or the terminal).
 */
export function childEnvironment(env: NodeJS.ProcessEnv = process.env, secretNames: readonly string[] = []): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith('PKI_') || secretNames.includes(name)) continue;
    out[name] = value;
  }
  return out;
}
