/**
 * `pki generate <service> <variant> --init`, mkcert's first run: on a home without a CA, the root and the
 * intermediate are created first (operations/init.ts) and the bundle is issued from them in the same
 * process. A home that already has a CA keeps it and the bundle is issued from it, as step and mkcert do
 * with an existing CA: --init never replaces anything (`pki init --force` does that).
 */
import type { CaHome, PassphraseSource } from '../store/ca-home.js';
import type { Inventory } from '../store/inventory/index.js';
import { generateBundle, type GenerateContext, type GenerateRequest, type GenerateResult } from './generate.js';
import { initCaIfMissing, type InitRequest, type InitResult } from './init.js';
import type { NewKeyProtection } from './key-protection.js';

export interface GenerateWithCaRequest {
  /** The CA to create when the home has none. */
  readonly init: Omit<InitRequest, 'force'>;
  readonly bundle: GenerateRequest;
}

export interface GenerateWithCaContext extends GenerateContext {
  /** How the new CA keys are protected; asked only when a CA is created. */
  readonly protection: () => Promise<NewKeyProtection>;
}

export interface GenerateWithCaResult extends GenerateResult {
  /** The CA created by this run; null when the home's existing CA was used. */
  readonly ca: InitResult | null;
}

export async function generateWithCa(home: CaHome, request: GenerateWithCaRequest, context: GenerateWithCaContext): Promise<GenerateWithCaResult> {
  // The passphrase just chosen opens the new intermediate too: asked once, kept only until the bundle is issued.
  let secret: Uint8Array | undefined;
  const protection = async (): Promise<NewKeyProtection> => {
    const chosen = await context.protection();
    if (chosen.encrypt) secret = Uint8Array.from(chosen.passphrase);
    return chosen;
  };
  // The inventory init created is the one the bundle is recorded in: opened once per run.
  let inventory: Inventory | undefined;
  try {
    const ca = home.isInitialized() ? null : await initCaIfMissing(home, request.init, { now: context.now, protection, warn: context.warn }, (open) => (inventory = open));
    const passphrase: PassphraseSource = secret ? async () => Uint8Array.from(secret!) : context.passphrase;
    const bundle = await generateBundle(home, request.bundle, { ...context, passphrase, ...(inventory ? { inventory } : {}) });
    return { ...bundle, ca };
  } finally {
    secret?.fill(0);
    inventory?.close();
  }
}
