/**
 * The inventory's schema, version by version, and the migration that brings an older database up to date
 * (PRAGMA user_version). docs/inventory.md describes the tables.
 */
import { sep } from 'node:path';
import { PkiError } from '../../core/errors.js';
import { storedRelativeTo } from './paths.js';
import type { SqliteConnection } from './sqlite-connection.js';

/** PRAGMA user_version of the schema below; bump with a migration step in `migrate`. */
export const SCHEMA_VERSION = 8;

const SCHEMA_V1 = `
CREATE TABLE certificates (
  id                 INTEGER PRIMARY KEY,
  kind               TEXT NOT NULL CHECK (kind IN ('x509', 'ssh')),
  serial             TEXT NOT NULL,
  subject            TEXT NOT NULL,
  sans               TEXT NOT NULL,            -- JSON SanSet
  profile            TEXT NOT NULL,
  issuer             TEXT NOT NULL,
  not_before         TEXT NOT NULL,            -- ISO 8601 UTC (Date#toISOString): sorts as text
  not_after          TEXT NOT NULL,
  fingerprint_sha256 TEXT NOT NULL,
  status             TEXT NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'revoked', 'superseded')),
  issued_at          TEXT NOT NULL,
  revoked_at         TEXT,
  revocation_reason  TEXT,
  supersedes         TEXT,
  superseded_by      TEXT,
  certificate_path   TEXT,
  key_path           TEXT,
  key_id             TEXT,
  pem                TEXT NOT NULL,
  UNIQUE (kind, serial)
);
CREATE INDEX certificates_status_not_after ON certificates (status, not_after);
CREATE INDEX certificates_not_after ON certificates (not_after);
CREATE INDEX certificates_path ON certificates (certificate_path) WHERE certificate_path IS NOT NULL;
CREATE TABLE sequences (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
`;

/**
 * v2: partial covering indexes for the passes over the whole inventory, so they read an index in the
 * order they need instead of 100,000 whole rows (each carrying its PEM) and a sort (issue 5):
 * certificates_revocations answers listRevocations (the CRL), certificates_valid_summary answers
 * listSummaries of valid certificates (`pki renew --all`) and `pki list`'s expiring filter.
 */
const SCHEMA_V2 = `
CREATE INDEX certificates_revocations ON certificates (kind, revoked_at, serial, not_after, revocation_reason, profile)
  WHERE status = 'revoked';
CREATE INDEX certificates_valid_summary ON certificates (kind, not_after, serial, status, profile, not_before, certificate_path, key_path)
  WHERE status = 'valid';
`;

/**
 * v3: the identity (device, inode, size, times) of the file published under a sequence's current value,
 * so publishing a CRL need not decode the 5 MB one it replaces to learn its number (issue 5).
 */
const SCHEMA_V3 = `
ALTER TABLE sequences ADD COLUMN published_file TEXT;
`;

/**
 * v4: valid X.509 certificates by path, so `pki renew --all` learns whether two share a path by walking an
 * index in order (20 ms at 100,000) instead of sorting every path into a temporary B-tree (130 ms).
 */
const SCHEMA_V4 = `
CREATE INDEX certificates_valid_path ON certificates (certificate_path, profile) WHERE status = 'valid' AND kind = 'x509';
`;

/**
 * v5 (issue 9): paths inside the CA home become relative to it (the JS step in #migrate, see paths.ts), and
 * `previous_ca` marks a record `pki init --force` carried over from the CA it replaced: the SHA-256
 * fingerprint of that CA's intermediate certificate, archived under ca/previous/ (store/previous-ca.ts).
 * `pki renew --all` finds them through the partial index and treats them as due.
 */
const SCHEMA_V5 = `
ALTER TABLE certificates ADD COLUMN previous_ca TEXT;
CREATE INDEX certificates_previous_ca ON certificates (previous_ca) WHERE previous_ca IS NOT NULL AND status = 'valid';
`;

/**
 * v6 (issue 12): `profile_name`, the pki.json profile a leaf was issued with (`--profile NAME`), so `pki
 * renew` keeps a custom profile; `profile` stays the role (server, client, peer) every pass filters on.
 */
const SCHEMA_V6 = `
ALTER TABLE certificates ADD COLUMN profile_name TEXT;
`;

/**
 * v7 (issue 13): the ACME state of `pki serve` (store/inventory/sqlite-acme.ts): accounts, orders, their
 * authorizations and challenges, and the outstanding nonces. Ids, tokens and nonces are random base64url
 * text; objects (JWK, contact, identifiers, problems) are JSON; times ISO 8601 UTC like the certificates'.
 * IF NOT EXISTS: a database whose user_version was set back by hand re-runs this step harmlessly.
 */
const SCHEMA_V7 = `
CREATE TABLE IF NOT EXISTS acme_accounts (
  id           TEXT PRIMARY KEY,
  provisioner  TEXT NOT NULL,
  status       TEXT NOT NULL CHECK (status IN ('valid', 'deactivated', 'revoked')),
  jwk          TEXT NOT NULL,                 -- JSON public JWK
  thumbprint   TEXT NOT NULL,                 -- RFC 7638 SHA-256, base64url
  contact      TEXT NOT NULL,                 -- JSON array of URIs
  created_at   TEXT NOT NULL,
  created_from TEXT NOT NULL,
  eab_kid      TEXT,
  UNIQUE (provisioner, thumbprint)
);
CREATE INDEX IF NOT EXISTS acme_accounts_created_from ON acme_accounts (created_from, created_at);
CREATE TABLE IF NOT EXISTS acme_orders (
  id                 TEXT PRIMARY KEY,
  account_id         TEXT NOT NULL REFERENCES acme_accounts (id),
  provisioner        TEXT NOT NULL,
  status             TEXT NOT NULL CHECK (status IN ('pending', 'ready', 'processing', 'valid', 'invalid')),
  expires            TEXT NOT NULL,
  identifiers        TEXT NOT NULL,           -- JSON [{type, value}]
  not_before         TEXT,
  not_after          TEXT,
  error              TEXT,                    -- JSON problem
  certificate_serial TEXT,
  replaces           TEXT,
  created_at         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS acme_orders_account ON acme_orders (account_id, created_at);
CREATE INDEX IF NOT EXISTS acme_orders_certificate ON acme_orders (certificate_serial) WHERE certificate_serial IS NOT NULL;
CREATE TABLE IF NOT EXISTS acme_authorizations (
  id               TEXT PRIMARY KEY,
  order_id         TEXT NOT NULL REFERENCES acme_orders (id),
  position         INTEGER NOT NULL,
  account_id       TEXT NOT NULL REFERENCES acme_accounts (id),
  identifier_type  TEXT NOT NULL CHECK (identifier_type IN ('dns', 'ip')),
  identifier_value TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('pending', 'valid', 'invalid', 'deactivated', 'expired', 'revoked')),
  expires          TEXT NOT NULL,
  wildcard         INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS acme_authorizations_order ON acme_authorizations (order_id, position);
CREATE TABLE IF NOT EXISTS acme_challenges (
  id               TEXT PRIMARY KEY,
  authorization_id TEXT NOT NULL REFERENCES acme_authorizations (id),
  position         INTEGER NOT NULL,
  type             TEXT NOT NULL CHECK (type IN ('http-01', 'dns-01', 'tls-alpn-01')),
  token            TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'valid', 'invalid')),
  validated        TEXT,
  error            TEXT                       -- JSON problem
);
CREATE INDEX IF NOT EXISTS acme_challenges_authorization ON acme_challenges (authorization_id, position);
CREATE INDEX IF NOT EXISTS acme_challenges_processing ON acme_challenges (status) WHERE status = 'processing';
CREATE TABLE IF NOT EXISTS acme_nonces (
  nonce      TEXT PRIMARY KEY,
  expires_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS acme_nonces_expires ON acme_nonces (expires_at);
`;

/**
 * v8 (issue 14): which CA issued a record — `ca` (a `pki ca add` name; null = the default intermediate),
 * `trust_domain` (null = the main hierarchy) and `issuer_key_id` (the authorityKeyIdentifier, hex), so each
 * issuing CA and each intermediate key after a rotation publishes its own CRL and OCSP answers. The CRL's
 * covering index (v2) gains the three columns, so a CRL of one CA is still read from the index alone.
 */
const SCHEMA_V8 = `
ALTER TABLE certificates ADD COLUMN ca TEXT;
ALTER TABLE certificates ADD COLUMN trust_domain TEXT;
ALTER TABLE certificates ADD COLUMN issuer_key_id TEXT;
CREATE INDEX certificates_issuing_ca ON certificates (trust_domain, ca, status);
DROP INDEX IF EXISTS certificates_revocations;
CREATE INDEX certificates_revocations ON certificates (kind, revoked_at, serial, not_after, revocation_reason, profile, trust_domain, ca, issuer_key_id)
  WHERE status = 'revoked';
`;

/** Brings the schema to SCHEMA_VERSION, in one write transaction; refuses a newer schema. */
export function migrate(c: SqliteConnection): void {
  const version = c.db.pragma('user_version', { simple: true }) as number;
  if (version === SCHEMA_VERSION) return;
  if (version > SCHEMA_VERSION) {
    throw new PkiError('ERR_INVENTORY_VERSION', `the inventory ${c.path} has schema version ${version}, newer than this pki understands (${SCHEMA_VERSION})`, {
      hint: 'upgrade pki',
    });
  }
  c.write(() => {
    // Re-read inside the lock: another process may have migrated meanwhile.
    const current = c.db.pragma('user_version', { simple: true }) as number;
    if (current === 0) c.db.exec(SCHEMA_V1);
    if (current < 2) c.db.exec(SCHEMA_V2);
    if (current < 3) c.db.exec(SCHEMA_V3);
    if (current < 4) c.db.exec(SCHEMA_V4);
    if (current < 5) {
      c.db.exec(SCHEMA_V5);
      relativizePaths(c);
    }
    // Only when missing: a database whose user_version was set back by hand (or restored) may already have it.
    if (current < 6 && !hasColumn(c, 'profile_name')) c.db.exec(SCHEMA_V6);
    if (current < 7) c.db.exec(SCHEMA_V7);
    if (current < 8 && !hasColumn(c, 'issuer_key_id')) c.db.exec(SCHEMA_V8);
    c.db.pragma(`user_version = ${SCHEMA_VERSION}`);
  });
}

function hasColumn(c: SqliteConnection, name: string): boolean {
  return (c.db.prepare('PRAGMA table_info(certificates)').all() as { name: string }[]).some((col) => col.name === name);
}

/**
 * Schema v5: absolute paths inside the CA home become relative. The home the paths were written under is
 * read from init's own records (`<home>/ca/intermediate_ca.crt`), so a home copied before the upgrade
 * stops pointing at the original's files as well; paths outside every such home stay absolute.
 */
function relativizePaths(c: SqliteConnection): void {
  const caFile = /\/ca\/(?:root_ca|intermediate_ca)\.crt$/;
  const homes = new Set<string>([c.paths.home]);
  const caPaths = c.db
    .prepare(`SELECT certificate_path FROM certificates WHERE kind = 'x509' AND profile IN ('root', 'intermediate') AND certificate_path IS NOT NULL`)
    .pluck()
    .all() as string[];
  for (const p of caPaths) if (caFile.test(p)) homes.add(p.replace(caFile, ''));
  const roots = [...homes].filter((h) => h.startsWith(sep));
  const rows = c.db
    .prepare(`SELECT id, certificate_path, key_path FROM certificates WHERE substr(certificate_path, 1, 1) = '/' OR substr(key_path, 1, 1) = '/'`)
    .raw(true)
    .all() as [number, string | null, string | null][];
  const update = c.db.prepare('UPDATE certificates SET certificate_path = ?, key_path = ? WHERE id = ?');
  const rel = (p: string | null) => (p === null ? null : storedRelativeTo(roots, p));
  for (const [id, cert, key] of rows) update.run(rel(cert), rel(key), id);
}
