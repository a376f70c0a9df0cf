/**
 * How a new CA key is to be stored, as the operations that create one (init, generate --init, ssh init) take
 * it: encrypted under a passphrase, or in the clear (the CLI allows that only with --insecure). A callback
 * supplies it, so an operation refused before it writes anything never prompts (cli/passphrase.ts builds it).
 */
export type NewKeyProtection = { readonly encrypt: true; readonly passphrase: Uint8Array } | { readonly encrypt: false };

export type NewKeyProtectionSource = () => Promise<NewKeyProtection>;
