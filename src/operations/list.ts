/**
 * Listing the inventory (`pki list`): by default the valid certificates, expired ones included so they
 * stand out; `revoked`, `all`, or `expiring` (a duration: the valid ones expiring within it).
 */
import { parseDuration } from '../core/x509/validity.js';
import type { CaHome } from '../store/ca-home.js';
import { openInventory, type CertificateRecord, type ListFilter } from '../store/inventory/index.js';

export interface ListRequest {
  /** A duration such as `30d`. */
  readonly expiring?: string;
  readonly revoked?: boolean;
  readonly all?: boolean;
}

export interface ListResult {
  /** In inventory order. */
  readonly certificates: CertificateRecord[];
  /** The `expiring` window in milliseconds, or null without one. */
  readonly expiringWithinMs: number | null;
}

export async function listCertificates(home: CaHome, request: ListRequest, context: { now: Date }): Promise<ListResult> {
  const expiringMs = request.expiring !== undefined ? parseDuration(request.expiring) : undefined;
  const inventory = await openInventory(home);
  try {
    const filter: ListFilter = {
      ...(request.revoked ? { status: 'revoked' as const } : request.all ? {} : { status: 'valid' as const }),
      ...(expiringMs !== undefined ? { expiringBefore: new Date(context.now.getTime() + expiringMs) } : {}),
    };
    return { certificates: inventory.list(filter), expiringWithinMs: expiringMs ?? null };
  } finally {
    inventory.close();
  }
}
