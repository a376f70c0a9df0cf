/**
 * Issue 9, "Renewal trusts nothing on disk" (points 1, 2, 3, 10, 11): `pki renew` re-signs only a
 * certificate this CA issued and recorded at that path, never writes through a link, ignores journals
 * planted beside a file, creates re-keyed keys with a mode pki chose, and runs --exec without pki's secrets.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, lstatSync, readFileSync, readlinkSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { initCa, pki, pkiAsync, tempDir } from '../helpers/cli.js';
import { peer } from '../helpers/peers.js';

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const serialOf = (path: string) =>
  peer('openssl', ['x509', '-in', path, '-noout', '-serial'])
    .trim()
    .replace(/^serial=0*/, '');

/** Every inventory row that matters for "nothing was signed": serial, status, path. */
function inventoryRows(dir: string): string {
  const db = new Database(join(dir, 'db', 'pki.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return JSON.stringify(db.prepare('SELECT serial, status, certificate_path FROM certificates ORDER BY serial').all());
  } finally {
    db.close();
  }
}

const errorOf = (stdout: string) => (JSON.parse(stdout) as { error: { code: string; message: string } }).error;

/** An EC key + request for `cn` in `work`. */
function request(work: string, name: string, cn: string): { key: string; csr: string } {
  const key = join(work, `${name}.key`);
  const csr = join(work, `${name}.csr`);
  peer('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${cn}`]);
  return { key, csr };
}

/** A `pki sign --out` certificate (+ its key) in a folder of its own, as delivered to a service. */
function signedFile(dir: string, extra: string[] = [], env?: NodeJS.ProcessEnv): { work: string; crt: string; key: string } {
  const work = tempDir('pki-renew-trust-');
  const { key, csr } = request(work, 'web', 'web.example.com');
  const crt = join(work, 'web.crt');
  const r = pki(['sign', csr, '--dir', dir, '--out', crt, ...extra], env ? { env } : {});
  if (r.code !== 0) throw new Error(r.stderr);
  return { work, crt, key };
}

const LEAF_EXT = [
  'basicConstraints = critical, CA:FALSE',
  'keyUsage = critical, digitalSignature',
  'extendedKeyUsage = serverAuth',
  'subjectAltName = DNS:*.bank.example, IP:10.0.0.1',
].join('\n');

/** Signs `csr` with openssl as `caCrt`/`caKey`, with the foreign SANs; `serial` as hex when given. */
function opensslLeaf(work: string, csr: string, caCrt: string, caKey: string, out: string, serial?: string): void {
  const ext = join(work, 'leaf.ext');
  writeFileSync(ext, `${LEAF_EXT}\n`);
  peer('openssl', ['x509', '-req', '-in', csr, '-CA', caCrt, '-CAkey', caKey, '-days', '30', '-sha256', '-extfile', ext, ...(serial ? ['-set_serial', `0x${serial}`] : ['-CAcreateserial', '-CAserial', join(work, 'ca.srl')]), '-out', out]);
}

describe('renew re-signs only what this CA issued and recorded there (point 1)', () => {
  it('the forged renewal: a look-alike CA with the intermediate\'s subject DN, a forged leaf with foreign SANs and its own key over a sign --out file — renew and renew --all refuse, nothing is signed', () => {
    const dir = initCa();
    const { work, crt, key } = signedFile(dir);
    // The look-alike CA: the intermediate's certificate re-signed with another key (same subject DN, byte for byte).
    const evilKey = join(work, 'evil-ca.key');
    const lookalike = join(work, 'evil-ca.crt');
    peer('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', evilKey]);
    peer('openssl', ['x509', '-in', join(dir, 'ca', 'intermediate_ca.crt'), '-signkey', evilKey, '-days', '365', '-out', lookalike]);
    const dn = (path: string, which: string) => peer('openssl', ['x509', '-in', path, '-noout', which, '-nameopt', 'RFC2253']).trim().replace(/^\w+=/, '');
    expect(dn(lookalike, '-subject')).toBe(dn(join(dir, 'ca', 'intermediate_ca.crt'), '-subject'));
    const forged = request(work, 'forged', 'web.example.com');
    const forgedCrt = join(work, 'forged.crt');
    opensslLeaf(work, forged.csr, lookalike, evilKey, forgedCrt);
    expect(dn(forgedCrt, '-issuer')).toBe(dn(join(dir, 'ca', 'intermediate_ca.crt'), '-subject'));
    copyFileSync(forgedCrt, crt);
    copyFileSync(forged.key, key);
    const fileBefore = readFileSync(crt);
    const rowsBefore = inventoryRows(dir);

    for (const args of [[crt], [crt, '--force'], ['--all', '--force']]) {
      const r = pki(['renew', ...args, '--dir', dir, '--json']);
      expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(1);
      if (args[0] === '--all') {
        const report = JSON.parse(r.stdout) as { renewed: number; certificates: { path: string; status: string; error?: { code: string } }[] };
        expect(report.renewed).toBe(0);
        expect(report.certificates.find((c) => c.path === crt)).toMatchObject({ status: 'failed', error: { code: 'ERR_UNTRUSTED_CERTIFICATE' } });
      } else {
        const error = errorOf(r.stdout);
        expect(error.code).toBe('ERR_UNTRUSTED_CERTIFICATE');
        // One message naming the file, the serial it holds and what pki recorded there.
        expect(error.message).toContain(crt);
        expect(error.message).toContain(`serial ${serialOf(forgedCrt)}`);
        expect(error.message).toContain(`recorded serial`);
      }
      expect(readFileSync(crt).equals(fileBefore)).toBe(true);
      expect(inventoryRows(dir)).toBe(rowsBefore);
    }
  });

  it('a certificate signed with the intermediate\'s key under a serial the CA never issued is refused (ERR_UNKNOWN_SERIAL)', () => {
    const dir = initCa();
    const { work, crt } = signedFile(dir);
    const other = request(work, 'other', 'web.example.com');
    const outside = join(work, 'outside.crt');
    opensslLeaf(work, other.csr, join(dir, 'ca', 'intermediate_ca.crt'), join(dir, 'ca', 'intermediate_ca.key'), outside);
    copyFileSync(outside, crt);
    const rowsBefore = inventoryRows(dir);
    const r = pki(['renew', crt, '--dir', dir, '--force', '--json']);
    expect(r.code, r.stderr).toBe(1);
    expect(errorOf(r.stdout).code).toBe('ERR_UNKNOWN_SERIAL');
    expect(readFileSync(crt).equals(readFileSync(outside))).toBe(true);
    expect(inventoryRows(dir)).toBe(rowsBefore);
  });

  it('a recorded serial with other bytes (re-signed by the intermediate\'s key) is refused (ERR_UNTRUSTED_CERTIFICATE)', () => {
    const dir = initCa();
    const { work, crt } = signedFile(dir);
    const other = request(work, 'other', 'web.example.com');
    const twin = join(work, 'twin.crt');
    opensslLeaf(work, other.csr, join(dir, 'ca', 'intermediate_ca.crt'), join(dir, 'ca', 'intermediate_ca.key'), twin, serialOf(crt));
    expect(serialOf(twin)).toBe(serialOf(crt));
    copyFileSync(twin, crt);
    const rowsBefore = inventoryRows(dir);
    const r = pki(['renew', crt, '--dir', dir, '--force', '--json']);
    expect(r.code, r.stderr).toBe(1);
    expect(errorOf(r.stdout)).toMatchObject({ code: 'ERR_UNTRUSTED_CERTIFICATE', message: expect.stringMatching(/not the certificate pki recorded/) });
    expect(inventoryRows(dir)).toBe(rowsBefore);
  });

  it('a copy of a recorded certificate at another path is refused, naming the recorded path', () => {
    const dir = initCa();
    const { work, crt } = signedFile(dir);
    const copy = join(work, 'copy.crt');
    copyFileSync(crt, copy);
    const rowsBefore = inventoryRows(dir);
    const r = pki(['renew', copy, '--dir', dir, '--force', '--json']);
    expect(r.code, r.stderr).toBe(1);
    const error = errorOf(r.stdout);
    expect(error.code).toBe('ERR_UNTRUSTED_CERTIFICATE');
    expect(error.message).toContain(`recorded at ${crt}`);
    expect(readFileSync(copy).equals(readFileSync(crt))).toBe(true);
    expect(inventoryRows(dir)).toBe(rowsBefore);
  });

  it('names outside name constraints added to pki.json since issue are refused before the passphrase is asked', () => {
    const dir = join(tempDir(), 'ca');
    const pw = join(tempDir(), 'pw');
    writeFileSync(pw, 'correct horse battery\n', { mode: 0o600 });
    expect(pki(['init', '--dir', dir, '--password-file', pw]).code).toBe(0);
    const { crt } = signedFile(dir, ['--password-file', pw]);
    const config = JSON.parse(readFileSync(join(dir, 'pki.json'), 'utf8')) as Record<string, unknown>;
    config.nameConstraints = { permittedDns: ['corp.example'], excludedDns: [], permittedIp: [], excludedIp: [], permittedEmail: [], permittedUri: [] };
    writeFileSync(join(dir, 'pki.json'), JSON.stringify(config, null, 2));
    const before = readFileSync(crt);
    // No passphrase source and no terminal: the refusal must come from the policy, not from the prompt.
    const r = pki(['renew', crt, '--dir', dir, '--force', '--json']);
    expect(r.code, r.stderr).toBe(1);
    expect(errorOf(r.stdout).code).toBe('ERR_NAME_CONSTRAINTS');
    expect(readFileSync(crt).equals(before)).toBe(true);
  });
});

describe('a plain file is renewed by its own name, never through a link (point 2)', () => {
  it('a certificate path that is a symbolic link is refused, and the file it points to is not touched', () => {
    const dir = initCa();
    const { work, crt } = signedFile(dir);
    const real = join(work, 'real.crt');
    renameSync(crt, real);
    symlinkSync(real, crt);
    const before = readFileSync(real);
    const r = pki(['renew', crt, '--dir', dir, '--force', '--json']);
    expect(r.code, r.stderr).toBe(1);
    expect(errorOf(r.stdout)).toMatchObject({ code: 'ERR_POLICY', message: expect.stringMatching(/symbolic link/) });
    expect(readFileSync(real).equals(before)).toBe(true);
    expect(lstatSync(crt).isSymbolicLink()).toBe(true);
  });

  it('a link swapped in while renew waits for the passphrase is refused, never written through', async () => {
    const dir = join(tempDir(), 'ca');
    const pwFile = join(tempDir(), 'pw');
    writeFileSync(pwFile, 'correct horse battery\n', { mode: 0o600 });
    expect(pki(['init', '--dir', dir, '--password-file', pwFile]).code).toBe(0);
    const { work, crt } = signedFile(dir, ['--password-file', pwFile]);
    const victim = join(work, 'victim.txt');
    writeFileSync(victim, 'not for pki\n');
    const fifo = join(work, 'pw.fifo');
    expect(spawnSync('mkfifo', ['-m', '600', fifo]).status).toBe(0);
    const rowsBefore = inventoryRows(dir);

    const run = pkiAsync(['renew', crt, '--dir', dir, '--force', '--json', '--password-file', fifo]);
    // Opening the FIFO for writing completes when pki opens it to read the passphrase: it has read the certificate by then.
    let timer: NodeJS.Timeout | undefined;
    const writer = await Promise.race([
      open(fifo, 'w'),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('pki never asked for the passphrase')), 60_000))),
    ]).finally(() => clearTimeout(timer));
    renameSync(crt, join(work, 'moved.crt'));
    symlinkSync(victim, crt);
    await writer.write('correct horse battery\n');
    await writer.close();
    const r = await run;
    expect(r.code, r.stderr).toBe(1);
    expect(errorOf(r.stdout)).toMatchObject({ code: 'ERR_POLICY', message: expect.stringMatching(/replaced by a symbolic link/) });
    expect(readFileSync(victim, 'utf8')).toBe('not for pki\n');
    expect(lstatSync(crt).isSymbolicLink()).toBe(true);
    expect(inventoryRows(dir)).toBe(rowsBefore);
  });
});

describe('journals live in the CA home (point 3)', () => {
  it('a journal planted beside a plain file never reaches the inventory (renew, revoke, db rebuild)', () => {
    const dir = initCa();
    const { work, crt } = signedFile(dir);
    const forged = request(work, 'forged', 'evil.example');
    const forgedCrt = join(work, 'forged.crt');
    opensslLeaf(work, forged.csr, join(dir, 'ca', 'intermediate_ca.crt'), join(dir, 'ca', 'intermediate_ca.key'), forgedCrt, 'DEADBEEF01');
    const pem = readFileSync(forgedCrt, 'utf8');
    const fingerprintOf = (path: string) => {
      const text = readFileSync(path, 'utf8');
      const b64 = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(text)![1]!.replace(/\s+/g, '');
      return createHash('sha256').update(Buffer.from(b64, 'base64')).digest('hex').toUpperCase();
    };
    const record = {
      kind: 'x509',
      serial: 'DEADBEEF01',
      subject: 'CN=evil.example',
      sans: { dns: ['*.bank.example'], ip: ['10.0.0.1'], email: [], uri: [] },
      profile: 'server',
      issuer: 'forged',
      notBefore: new Date().toISOString(),
      notAfter: new Date(Date.now() + 30 * DAY).toISOString(),
      fingerprintSha256: fingerprintOf(forgedCrt),
      certificatePath: join(work, 'evil.crt'),
      keyPath: null,
      supersedes: null,
      pem,
    };
    // Written as pki <= issue 8 wrote them: the old code recorded it because the file's fingerprint is the target's.
    const planted = join(work, '.web.crt.pki-journal.json');
    const journal = `${JSON.stringify({ format: 'pki-inventory-journal/1', target: { fingerprintSha256: fingerprintOf(crt) }, records: [record] })}\n`;
    const plantedNow = () => writeFileSync(planted, journal);
    const forgedRecorded = () => inventoryRows(dir).includes('DEADBEEF01');

    plantedNow();
    expect(pki(['renew', crt, '--dir', dir]).code).toBe(0); // not due
    expect(forgedRecorded()).toBe(false);
    expect(readFileSync(planted, 'utf8')).toBe(journal); // not pki's: left as it is
    expect(pki(['db', 'rebuild', '--dir', dir]).code).toBe(0);
    expect(forgedRecorded()).toBe(false);
    expect(pki(['revoke', crt, '--dir', dir]).code).toBe(0);
    expect(forgedRecorded()).toBe(false);
  });

  it('a journal planted in a bundle folder (where pki <= issue 8 kept them) never reaches the inventory (generate, renew --all, db rebuild)', () => {
    const dir = initCa();
    expect(pki(['generate', 'redis', 'main', '--dir', dir, '--no-client']).code).toBe(0);
    const folder = join(dir, 'services', 'redis', 'main', 'certs');
    const work = tempDir('pki-renew-trust-');
    const forged = request(work, 'forged', 'evil.example');
    const forgedCrt = join(work, 'forged.crt');
    opensslLeaf(work, forged.csr, join(dir, 'ca', 'intermediate_ca.crt'), join(dir, 'ca', 'intermediate_ca.key'), forgedCrt, 'DEADBEEF02');
    const record = {
      kind: 'x509',
      serial: 'DEADBEEF02',
      subject: 'CN=evil.example',
      sans: { dns: ['*.bank.example'], ip: ['10.0.0.1'], email: [], uri: [] },
      profile: 'server',
      issuer: 'forged',
      notBefore: new Date().toISOString(),
      notAfter: new Date(Date.now() + 30 * DAY).toISOString(),
      fingerprintSha256: 'AA'.repeat(32),
      certificatePath: join(work, 'evil.crt'),
      keyPath: null,
      supersedes: null,
      pem: readFileSync(forgedCrt, 'utf8'),
    };
    const planted = join(folder, '..inventory-journal.json');
    writeFileSync(planted, `${JSON.stringify({ format: 'pki-inventory-journal/1', target: { version: readlinkSync(join(folder, '..data')) }, records: [record] })}\n`);
    for (const args of [['generate', 'redis', 'main', '--no-client'], ['renew', '--all', '--force'], ['db', 'rebuild']]) {
      const r = pki([...args, '--dir', dir]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(inventoryRows(dir)).not.toContain('DEADBEEF02');
    }
  });

  it('the journal of a plain-file renewal is written in db/journal/, 0600 in a 0700 folder', () => {
    const dir = initCa();
    const { crt } = signedFile(dir);
    const r = pki(['renew', crt, '--dir', dir, '--force'], { env: { PKI_TEST_CRASH_AT: 'journal:written' } });
    expect(r.code, r.stderr).toBe(128);
    const folder = join(dir, 'db', 'journal');
    expect((statSync(folder).mode & 0o777).toString(8)).toBe('700');
    const files = spawnSync('ls', ['-A', folder], { encoding: 'utf8' }).stdout.trim().split('\n');
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^file-[0-9a-f]{32}\.json$/);
    expect((statSync(join(folder, files[0]!)).mode & 0o777).toString(8)).toBe('600');
    expect(existsSync(join(crt, '..', '.web.crt.pki-journal.json'))).toBe(false);
  });
});

describe('modes and secrets (points 10 and 11)', () => {
  function bundleDue(dir: string): string {
    const now = Date.now();
    const r = pki(['generate', 'redis', 'main', '--dir', dir, '--no-client', '--not-before', iso(now - 80 * DAY), '--not-after', iso(now + 10 * DAY)]);
    if (r.code !== 0) throw new Error(r.stderr);
    return join(dir, 'services', 'redis', 'main', 'certs');
  }

  it.each([
    [0o2660, '640'], // set-gid and group write dropped, group read kept
    [0o4600, '600'],
    [0o644, '600'], // readable by everyone: not a mode pki writes, so not copied
  ])('renew --rekey of a key with mode %s creates the new key %s', (mode, expected) => {
    const dir = initCa();
    const folder = bundleDue(dir);
    chmodSync(join(folder, 'redis.key'), mode); // through the link: the live file
    chmodSync(join(folder, 'redis.crt'), 0o6755);
    const r = pki(['renew', join(folder, 'redis.crt'), '--dir', dir, '--rekey']);
    expect(r.code, r.stderr).toBe(0);
    expect((statSync(join(folder, 'redis.key')).mode & 0o7777).toString(8)).toBe(expected);
    expect((statSync(join(folder, 'redis.crt')).mode & 0o7777).toString(8)).toBe('644');
  });

  it('db export-index --out refuses to overwrite without --force', () => {
    const dir = initCa();
    const out = join(tempDir(), 'index.txt');
    writeFileSync(out, 'precious\n');
    const r = pki(['db', 'export-index', '--out', out, '--dir', dir, '--json']);
    expect(r.code).toBe(1);
    expect(errorOf(r.stdout).code).toBe('ERR_FILE_EXISTS');
    expect(readFileSync(out, 'utf8')).toBe('precious\n');
    expect(existsSync(`${out}.attr`)).toBe(false);
    const forced = pki(['db', 'export-index', '--out', out, '--dir', dir, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).not.toBe('precious\n');
  });

  it('--exec children get none of pki\'s variables (PKI_PASSWORD, PKI_P12_PASSWORD, PKI_TEST_*)', () => {
    const dir = initCa();
    bundleDue(dir);
    const out = join(tempDir(), 'env.txt');
    const r = pki(['renew', '--all', '--dir', dir, '--exec', `env > '${out}'`], {
      env: { PKI_PASSWORD: 'hunter2-secret', PKI_P12_PASSWORD: 'p12-secret', PKI_TEST_MARKER: 'marker', OPERATOR_VAR: 'kept' },
    });
    expect(r.code, r.stderr).toBe(0);
    const env = readFileSync(out, 'utf8');
    expect(env).toMatch(/^OPERATOR_VAR=kept$/m);
    expect(env).not.toMatch(/^PKI_/m);
    expect(env).not.toContain('hunter2-secret');
    expect(env).not.toContain('p12-secret');
  });
});
