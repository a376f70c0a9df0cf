/**
 * Fixtures for bench/run.mjs, made once and kept in the work folder between runs: a CA home, request
 * files, inventories seeded with 10,000 / 100,000 records (written straight through the SQLite inventory,
 * not by signing that many certificates) and the equivalent OpenSSL `index.txt` files.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');
export const PKI = join(ROOT, 'bin/pki.js');

const core = () => import(join(ROOT, 'dist/core/index.js'));
const sqlite = () => import(join(ROOT, 'dist/store/inventory/sqlite.js'));
const opensslIndex = () => import(join(ROOT, 'dist/core/lifecycle/openssl-index.js'));

function pki(...args) {
  execFileSync(process.execPath, [PKI, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** A throw-away EC P-256 CA (unencrypted keys) at `<work>/ca`, with one issued leaf to inspect. */
export function ensureCa(work) {
  const dir = join(work, 'ca');
  if (!existsSync(join(dir, 'pki.json'))) {
    rmSync(dir, { recursive: true, force: true });
    pki('init', '--no-password', '--insecure', '--dir', dir);
    pki('generate', 'redis', 'main', '--dir', dir);
    // A pristine copy of the inventory (root + intermediate + one bundle) that every run starts from.
    copyFileSync(join(dir, 'db/pki.sqlite'), join(work, 'ca-pristine.sqlite'));
  }
  return { dir, leaf: join(dir, 'services/redis/main/certs/redis.crt'), pristineDb: join(work, 'ca-pristine.sqlite') };
}

/** `count` P-256 requests `csr/NNNN.csr`, each with a CN and a DNS SAN. */
export async function ensureCsrs(work, count) {
  const dir = join(work, `csr-${count}`);
  const files = Array.from({ length: count }, (_, i) => join(dir, `host${String(i).padStart(5, '0')}.csr`));
  if (existsSync(files.at(-1))) return files;
  mkdirSync(dir, { recursive: true });
  const { generateKeyPair, buildCsr, encodePem, parseSans } = await core();
  for (let i = 0; i < count; i++) {
    const name = `host${i}.bench.internal`;
    const keys = await generateKeyPair({ kty: 'EC', crv: 'P-256' });
    writeFileSync(files[i], encodePem('CERTIFICATE REQUEST', buildCsr({ subject: { commonName: name }, sans: parseSans([name]), privateKey: keys.privateKey })));
  }
  return files;
}

/** OpenSSL `ca` configuration over the pki CA's intermediate, with its database in `caDir`. */
export function writeOpensslCaConfig(caDir, pkiDir) {
  mkdirSync(join(caDir, 'newcerts'), { recursive: true });
  const cnf = join(caDir, 'openssl-ca.cnf');
  writeFileSync(
    cnf,
    `[ca]
default_ca = CA_default
[CA_default]
dir = ${caDir}
database = $dir/index.txt
crlnumber = $dir/crlnumber
new_certs_dir = $dir/newcerts
rand_serial = yes
certificate = ${pkiDir}/ca/intermediate_ca.crt
private_key = ${pkiDir}/ca/intermediate_ca.key
default_md = sha256
default_days = 90
default_crl_days = 7
policy = policy_any
unique_subject = no
copy_extensions = copy
x509_extensions = leaf_ext
crl_extensions = crl_ext
[policy_any]
commonName = optional
[leaf_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[crl_ext]
authorityKeyIdentifier = keyid
`,
  );
  writeFileSync(join(caDir, 'crlnumber'), '1000\n');
  return cnf;
}

/**
 * A copy of the CA home whose inventory holds `count` leaf records (plus the CA's own), all `revoked` or
 * all valid and far from due, and the equivalent index.txt for `openssl ca`. Records carry a real
 * certificate's PEM so rows have their real size. With `files` (W7, `pki check`), every record's file is
 * written too (the same leaf PEM, and its real fingerprint in the record), so the comparison of each
 * recorded file with the inventory reads 100,000 real files that match.
 */
export async function ensureInventory(work, ca, count, kind, { files = false } = {}) {
  const home = join(work, `inv-${kind}-${count}${files ? '-files' : ''}`);
  const index = join(home, 'openssl/index.txt');
  if (existsSync(join(home, 'ready'))) return { home, index, db: join(home, 'db/pki.sqlite') };
  rmSync(home, { recursive: true, force: true });
  cpSync(ca.dir, home, { recursive: true });
  copyFileSync(ca.pristineDb, join(home, 'db/pki.sqlite'));
  for (const suffix of ['-wal', '-shm']) rmSync(join(home, `db/pki.sqlite${suffix}`), { force: true });
  const { SqliteInventory } = await sqlite();
  const { formatOpensslIndexLine } = await opensslIndex();
  const { decodePem, parseCertificate } = await core();
  const pem = readFileSync(ca.leaf, 'utf8');
  const leafDer = decodePem(pem)[0].der;
  const subjectDer = parseCertificate(leafDer).subjectDer;
  const leafFingerprint = createHash('sha256').update(leafDer).digest('hex').toUpperCase();
  if (files) mkdirSync(join(home, 'issued'), { recursive: true });
  const now = Date.now();
  const day = 86_400_000;
  const records = [];
  const lines = [];
  for (let i = 0; i < count; i++) {
    const serialBytes = randomBytes(16);
    serialBytes[0] = (serialBytes[0] & 0x7f) | 0x40;
    const serial = serialBytes.toString('hex').toUpperCase();
    // Valid ones: issued within the last 20 days for 90 days, so due (two thirds) no sooner than day 60
    // and none expiring within 30 days. Revoked ones: still unexpired, so every one is on the CRL.
    const notBefore = new Date(now - (i % 20) * day - 60_000);
    const notAfter = new Date(notBefore.getTime() + 90 * day);
    records.push({
      kind: 'x509',
      serial,
      subject: `CN=host${i}.bench.internal`,
      sans: { dns: [`host${i}.bench.internal`], ip: [], email: [], uri: [] },
      profile: 'server',
      issuer: 'CN=pki Intermediate CA',
      notBefore: notBefore.toISOString(),
      notAfter: notAfter.toISOString(),
      fingerprintSha256: files ? leafFingerprint : randomBytes(32).toString('hex').toUpperCase(),
      certificatePath: join(home, `issued/host${i}.crt`),
      keyPath: null,
      pem,
    });
    if (files) writeFileSync(join(home, `issued/host${i}.crt`), pem);
    const revokedAt = kind === 'revoked' ? new Date(now - (i % 1000) * 60_000) : null;
    lines.push(formatOpensslIndexLine({ serialHex: serial, notAfter, revokedAt, reason: revokedAt ? 'keyCompromise' : null, subjectDer }, new Date(now)));
  }
  const inventory = new SqliteInventory(join(home, 'db/pki.sqlite'), { create: false });
  try {
    // importMissing, not recordIssued: the same rows (every path is distinct, so nothing is superseded),
    // without recordIssued's per-record supersede-by-path UPDATE, which made 100,000 records take most of
    // an hour on the 2-core VM (10,000: 10 s against 1.2 s).
    inventory.importMissing(records);
    if (kind === 'revoked') {
      inventory.exclusive(() => {
        records.forEach((r, i) => inventory.revoke('x509', r.serial, new Date(now - (i % 1000) * 60_000), 'keyCompromise'));
      });
    }
  } finally {
    inventory.close();
  }
  mkdirSync(join(home, 'openssl'), { recursive: true });
  writeFileSync(index, `${lines.join('\n')}\n`);
  writeFileSync(`${index}.attr`, 'unique_subject = no\n');
  writeOpensslCaConfig(join(home, 'openssl'), home);
  writeFileSync(join(home, 'ready'), '');
  return { home, index, db: join(home, 'db/pki.sqlite') };
}
