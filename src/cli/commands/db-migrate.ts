/** `pki db migrate --to postgres://… | sqlite` (operations/db-migrate.ts; docs/operations.md "Moving an inventory"). */
import { PkiError } from '../../core/errors.js';
import { migrateInventory } from '../../operations/db-migrate.js';
import { openHome } from '../home.js';
import { emit, type GlobalOptions } from '../output.js';

export interface DbMigrateOptions {
  readonly to?: string;
  readonly force?: boolean;
}

export async function runDbMigrate(options: DbMigrateOptions, globals: GlobalOptions, now: Date): Promise<void> {
  if (options.to === undefined || options.to === '') throw new PkiError('ERR_USAGE', '--to needs "sqlite" or a postgres:// URL');
  const result = await migrateInventory(openHome(globals), { to: options.to, force: options.force === true, now });
  emit(globals, result, (r) =>
    [
      `Copied the inventory from ${r.from} to ${r.to}; counts and checksums match:`,
      ...r.tables.map((t) => `  ${t.table.padEnd(20)} ${String(t.rows).padStart(8)} rows  sha256 ${t.sha256.slice(0, 16)}…`),
      `pki.json now ${r.to.startsWith('postgres') ? `names ${r.to} (inventory.url)` : 'names no PostgreSQL database: the home uses db/pki.sqlite'}.`,
      ...(r.keptAs ? [`The old SQLite file is kept as ${r.keptAs}.`] : []),
      ...(r.environmentOverrides ? ['Warning: PKI_DATABASE_URL is set and still wins over db/pki.sqlite; unset it.'] : []),
    ].join('\n'),
  );
}
