/**
 * Option values shared by several commands, validated once: key flags, file modes, groups.
 */
import { readFileSync } from 'node:fs';
import { PkiError } from '../core/errors.js';
import { resolveKeySpec, type KeySpec } from '../core/keys/keys.js';

export interface KeyFlags {
  readonly kty?: string | undefined;
  readonly crv?: string | undefined;
  readonly size?: string | undefined;
}

/** The key spec from flags, falling back to `fallback` (pki.json's default) when no key flag is given. */
export function keySpecFromFlags(flags: KeyFlags, fallback?: KeySpec): KeySpec {
  if (flags.kty === undefined && flags.crv === undefined && flags.size === undefined && fallback) return fallback;
  if (flags.size !== undefined && !/^\d+$/.test(flags.size)) {
    throw new PkiError('ERR_USAGE', `--size "${flags.size}" is not a number`, { hint: 'use --size 2048, 3072 or 4096' });
  }
  return resolveKeySpec({ kty: flags.kty, crv: flags.crv, size: flags.size === undefined ? undefined : Number(flags.size) });
}

/** `--key-mode 0640` → 0o640. Private keys may be shared with a group, never with everyone. */
export function parseKeyMode(text: string): number {
  if (!/^0?[0-7]{3}$/.test(text)) {
    throw new PkiError('ERR_USAGE', `--key-mode "${text}" is not an octal file mode`, { hint: 'use e.g. 0600 or 0640' });
  }
  const mode = Number.parseInt(text, 8);
  if ((mode & 0o007) !== 0) {
    throw new PkiError('ERR_POLICY', `--key-mode ${text} would let every user on the machine read the private key`, {
      hint: 'use 0600, or 0640 with --group',
    });
  }
  if ((mode & 0o400) === 0) throw new PkiError('ERR_USAGE', `--key-mode ${text} would stop the owner reading the key`);
  return mode;
}

/** Group name or numeric id → gid, from /etc/group (Node has no getgrnam). */
export function resolveGroup(name: string): number {
  if (/^\d+$/.test(name)) return Number(name);
  let text = '';
  try {
    text = readFileSync('/etc/group', 'utf8');
  } catch {
    /* fall through to "unknown group" */
  }
  for (const line of text.split('\n')) {
    const [group, , gid] = line.split(':');
    if (group === name && gid !== undefined) return Number(gid);
  }
  throw new PkiError('ERR_INVALID_OPTION', `unknown group "${name}"`, { hint: 'give an existing group name or numeric gid' });
}
