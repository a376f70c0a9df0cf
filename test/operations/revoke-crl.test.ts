/**
 * Issue 10, "done means" 3: revoke, publish-CRL, list, rebuild and export-index called as plain functions
 * (src/operations/, no child process, no argv, the passphrase as a callback), their results checked with
 * openssl as the CLI tests do. The CA and its leaves are made with the built CLI.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pki, snapshotTree, tempDir } from '../helpers/cli.js';
import { peer, runPeer } from '../helpers/peers.js';
import { CaHome, type PassphraseSource } from '../../src/store/ca-home.js';
import { revokeCertificate } from '../../src/operations/revoke.js';
import { publishCrls } from '../../src/operations/publish-crl.js';
import { listCertificates } from '../../src/operations/list.js';
import { rebuildInventory } from '../../src/operations/rebuild.js';
import { exportOpensslIndex } from '../../src/operations/export-index.js';

const PASSPHRASE = 'operations test passphrase';
const ENV = { env: { PKI_PASSWORD: PASSPHRASE } };
/** A fresh copy each call: the store wipes the secret it was given. */
const passphrase: PassphraseSource = async () => new TextEncoder().encode(PASSPHRASE);
const wrongPassphrase: PassphraseSource = async () => new TextEncoder().encode('not the passphrase');
const noWarnings = (message: string) => {
  throw new Error(`unexpected warning: ${message}`);
};

function initEncryptedCa(): string {
  const dir = join(tempDir('pki-ops-'), 'ca');
  const r = pki(['init', '--dir', dir], ENV);
  if (r.code !== 0) throw new Error(`pki init failed: ${r.stderr}`);
  return dir;
}

function signTo(ca: string, name: string): { file: string; serial: string } {
  const work = join(ca, '..');
  const csr = join(work, `${name}.csr`);
  peer('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, `${name}.key`), '-out', csr, '-subj', `/CN=${name}.example.com`]);
  const file = join(work, `${name}.crt`);
  const r = pki(['sign', csr, '--dir', ca, '--out', file], ENV);
  if (r.code !== 0) throw new Error(r.stderr);
  return { file, serial: peer('openssl', ['x509', '-in', file, '-noout', '-serial']).trim().slice('serial='.length) };
}

const crlFile = (ca: string, name = 'intermediate_ca.crl') => join(ca, 'crl', name);

function crlNumberOf(path: string, inform = 'PEM'): bigint {
  return BigInt(peer('openssl', ['crl', '-inform', inform, '-in', path, '-noout', '-crlnumber']).trim().slice('crlNumber='.length));
}

/** `openssl crl -verify` of a CRL against the certificate file of its issuer. */
function expectCrlVerifies(path: string, issuer: string): void {
  const r = runPeer('openssl', ['crl', '-in', path, '-CAfile', issuer, '-noout', '-verify']);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr + r.stdout).toMatch(/verify OK/);
}

/** `openssl verify -crl_check` of a leaf against the root, the intermediate untrusted, with the intermediate's CRL. */
function verifyWithCrl(ca: string, file: string) {
  return runPeer('openssl', ['verify', '-crl_check', '-CRLfile', crlFile(ca), '-CAfile', join(ca, 'ca', 'root_ca.crt'), '-untrusted', join(ca, 'ca', 'intermediate_ca.crt'), file]);
}

describe('revokeCertificate and publishCrls, called directly', () => {
  let ca: string;
  let home: CaHome;
  let good: { file: string; serial: string };
  let bad: { file: string; serial: string };
  const now = new Date();

  beforeAll(() => {
    ca = initEncryptedCa();
    home = new CaHome(ca);
    good = signTo(ca, 'good');
    bad = signTo(ca, 'bad');
  });

  it('refuses a wrong passphrase before recording anything, and an unknown serial', async () => {
    const before = snapshotTree(ca);
    await expect(revokeCertificate(home, { target: bad.serial }, { now, passphrase: wrongPassphrase, rootPassphrase: wrongPassphrase, onWarning: noWarnings })).rejects.toMatchObject({ code: 'ERR_BAD_PASSWORD' });
    await expect(revokeCertificate(home, { target: 'ABCDEF0123' }, { now, passphrase, rootPassphrase: passphrase, onWarning: noWarnings })).rejects.toMatchObject({ code: 'ERR_UNKNOWN_SERIAL' });
    expect(snapshotTree(ca)).toBe(before);
  });

  it('revokes a leaf by its file: the CRL verifies, lists the serial with its reason, and openssl refuses the leaf', async () => {
    const numberBefore = crlNumberOf(crlFile(ca));
    expect(verifyWithCrl(ca, bad.file).status).toBe(0);
    const result = await revokeCertificate(home, { target: bad.file, reason: 'keyCompromise' }, { now, passphrase, rootPassphrase: passphrase, onWarning: noWarnings });
    expect(result).toMatchObject({ kind: 'leaf', serial: bad.serial, subject: 'CN=bad.example.com', reason: 'keyCompromise', crl: { path: crlFile(ca), entries: 1, chainPath: crlFile(ca, 'chain.crl.pem') } });
    expect(BigInt(result.crl!.crlNumber)).toBe(numberBefore + 1n);
    expect(crlNumberOf(crlFile(ca))).toBe(numberBefore + 1n);
    // The chain file holds root CRL then intermediate CRL; -CAfile takes the chain of certificates.
    const chain = join(tempDir('pki-ops-chain-'), 'chain.pem');
    writeFileSync(chain, readFileSync(join(ca, 'ca', 'intermediate_ca.crt'), 'utf8') + readFileSync(join(ca, 'ca', 'root_ca.crt'), 'utf8'));
    expectCrlVerifies(crlFile(ca), chain);
    const text = peer('openssl', ['crl', '-in', crlFile(ca), '-noout', '-text']);
    expect(text).toMatch(new RegExp(`Serial Number: ${bad.serial}\\s+Revocation Date: [^\\n]+\\n\\s+CRL entry extensions:\\s+X509v3 CRL Reason Code:\\s+Key Compromise`));
    expect(text).not.toContain(good.serial);
    const refused = verifyWithCrl(ca, bad.file);
    expect(refused.status).not.toBe(0);
    expect(refused.stdout + refused.stderr).toMatch(/certificate revoked/);
    expect(verifyWithCrl(ca, good.file).status, 'the other leaf still verifies').toBe(0);
    await expect(revokeCertificate(home, { target: bad.serial }, { now, passphrase, rootPassphrase: passphrase, onWarning: noWarnings })).rejects.toMatchObject({ code: 'ERR_ALREADY_REVOKED' });
  });

  it('publishCrls re-publishes the intermediate CRL with a higher number, skips it when not due, and signs the root CRL', async () => {
    const before = crlNumberOf(crlFile(ca));
    const published = await publishCrls(home, { der: true }, { now, passphrase, rootPassphrase: passphrase });
    expect(published.kind).toBe('intermediate');
    if (published.kind !== 'intermediate') return;
    expect(published.crl).toMatchObject({ entries: 1, derPath: `${crlFile(ca)}.der` });
    expect(crlNumberOf(crlFile(ca))).toBe(before + 1n);
    expect(crlNumberOf(`${crlFile(ca)}.der`, 'DER')).toBe(before + 1n);
    expect(verifyWithCrl(ca, bad.file).status).not.toBe(0);

    const tree = snapshotTree(ca);
    const notDue = await publishCrls(home, { ifDue: true }, { now, passphrase: wrongPassphrase, rootPassphrase: wrongPassphrase });
    expect(notDue).toMatchObject({ kind: 'if-due', republication: { status: 'not due', crl: null, root: { due: false } } });
    expect(snapshotTree(ca), 'nothing written, no passphrase asked').toBe(tree);

    const rootBefore = crlNumberOf(crlFile(ca, 'root_ca.crl'));
    const root = await publishCrls(home, { root: true }, { now, passphrase: wrongPassphrase, rootPassphrase: passphrase });
    expect(root).toMatchObject({ kind: 'root', rootKeyPath: join(ca, 'ca', 'root_ca.key'), crl: { entries: 0, chainPath: crlFile(ca, 'chain.crl.pem') } });
    expect(crlNumberOf(crlFile(ca, 'root_ca.crl'))).toBe(rootBefore + 1n);
    expectCrlVerifies(crlFile(ca, 'root_ca.crl'), join(ca, 'ca', 'root_ca.crt'));
    // Both levels checked with the chain file: the good leaf passes, the revoked one does not.
    const all = (file: string) =>
      runPeer('openssl', ['verify', '-crl_check_all', '-CRLfile', crlFile(ca, 'chain.crl.pem'), '-CAfile', join(ca, 'ca', 'root_ca.crt'), '-untrusted', join(ca, 'ca', 'intermediate_ca.crt'), file]);
    expect(all(good.file).status, all(good.file).stderr).toBe(0);
    expect(all(bad.file).stdout + all(bad.file).stderr).toMatch(/certificate revoked/);
  });

  it('listCertificates filters valid, revoked and all', async () => {
    const serials = async (request: Parameters<typeof listCertificates>[1]) => (await listCertificates(home, request, { now })).certificates.map((r) => r.serial).sort();
    const valid = await serials({});
    expect(valid).toContain(good.serial);
    expect(valid).not.toContain(bad.serial);
    expect(await serials({ revoked: true })).toEqual([bad.serial]);
    expect((await serials({ all: true })).length).toBe(valid.length + 1);
    // Every leaf here lives 90 days or more: none expires within a day.
    expect(await listCertificates(home, { expiring: '1d' }, { now })).toEqual({ certificates: [], expiringWithinMs: 86_400_000 });
  });

  it('exportOpensslIndex returns what the CLI prints and writes an index openssl ca reads', async () => {
    const fixed = new Date(Math.floor(now.getTime() / 1000) * 1000);
    const result = await exportOpensslIndex(home, {}, { now: fixed });
    expect(result).toMatchObject({ entries: 2, path: null });
    const cli = pki(['db', 'export-index', '--dir', ca], { env: { PKI_TEST_NOW: fixed.toISOString().replace('.000Z', 'Z') } });
    expect(cli.code, cli.stderr).toBe(0);
    expect(result.index).toBe(cli.stdout);
    const lines = result.index.trimEnd().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^V\\t\\d{12}Z\\t\\t${good.serial}\\tunknown\\t/CN=good\\.example\\.com$`)),
      expect.stringMatching(new RegExp(`^R\\t\\d{12}Z\\t\\d{12}Z,keyCompromise\\t${bad.serial}\\tunknown\\t/CN=bad\\.example\\.com$`)),
    ]);

    const work = tempDir('pki-ops-index-');
    const index = join(work, 'index.txt');
    expect(await exportOpensslIndex(home, { out: index }, { now: fixed })).toMatchObject({ entries: 2, path: index });
    expect(readFileSync(`${index}.attr`, 'utf8')).toBe('unique_subject = no\n');
    await expect(exportOpensslIndex(home, { out: index }, { now: fixed })).rejects.toMatchObject({ code: 'ERR_FILE_EXISTS' });
    const config = join(work, 'openssl.cnf');
    writeFileSync(config, `[ca]\ndefault_ca = pki\n[pki]\ndatabase = ${index}\n`);
    const status = (serial: string) => runPeer('openssl', ['ca', '-config', config, '-status', serial]).stderr;
    expect(status(good.serial)).toMatch(new RegExp(`${good.serial}=Valid \\(V\\)`));
    expect(status(bad.serial)).toMatch(new RegExp(`${bad.serial}=Revoked \\(R\\)`));
    // openssl ca -updatedb (it loads the CA key) rewrites the index it read; a well-formed one comes back
    // unchanged, as nothing has expired. The passphrase goes through the environment, never argv.
    const caConfig = join(work, 'openssl-ca.cnf');
    writeFileSync(caConfig, `[ca]\ndefault_ca = pki\n[pki]\ndatabase = ${index}\ndefault_md = sha256\nprivate_key = ${join(ca, 'ca', 'intermediate_ca.key')}\ncertificate = ${join(ca, 'ca', 'intermediate_ca.crt')}\n`);
    const updated = runPeer('openssl', ['ca', '-config', caConfig, '-updatedb', '-passin', 'env:OPS_CA_PASSPHRASE'], { env: { ...process.env, OPS_CA_PASSPHRASE: PASSPHRASE } });
    expect(updated.status, updated.stderr).toBe(0);
    expect(readFileSync(index, 'utf8')).toBe(result.index);
  });

  it('rebuildInventory recovers the certificates and the revocation from disk after the database is lost', async () => {
    const before = (await listCertificates(home, { all: true }, { now })).certificates.map((r) => `${r.serial}:${r.status}`).sort();
    rmSync(join(ca, 'db'), { recursive: true });
    const result = await rebuildInventory(home, { now });
    // On disk: the root and intermediate; the two leaves were written outside the CA home and the
    // inventory that named them is gone, so the revoked one comes back from the CRL as a serial-only record.
    expect(result).toMatchObject({ path: join(ca, 'db', 'pki.sqlite'), scanned: 2, added: 3, revocationsRecovered: 1, revokedWithoutCertificate: 1, skipped: [], journals: [] });
    const after = (await listCertificates(home, { all: true }, { now })).certificates.map((r) => `${r.serial}:${r.status}`).sort();
    expect(after).toEqual(before.filter((s) => !s.startsWith(`${good.serial}:`)));
    expect(await rebuildInventory(home, { now })).toMatchObject({ added: 0, revocationsRecovered: 0 });
    // The next CRL still lists the revoked serial and continues the numbering.
    const number = crlNumberOf(crlFile(ca));
    await publishCrls(home, {}, { now, passphrase, rootPassphrase: passphrase });
    expect(crlNumberOf(crlFile(ca))).toBe(number + 1n);
    expect(verifyWithCrl(ca, bad.file).status).not.toBe(0);
  });
});

describe('revokeCertificate of the intermediate', () => {
  it('re-signs the root CRL in the same step, which then lists the intermediate (verified by openssl)', async () => {
    const ca = initEncryptedCa();
    const home = new CaHome(ca);
    const serial = peer('openssl', ['x509', '-in', join(ca, 'ca', 'intermediate_ca.crt'), '-noout', '-serial']).trim().slice('serial='.length);
    const rootBefore = crlNumberOf(crlFile(ca, 'root_ca.crl'));
    const result = await revokeCertificate(home, { target: serial, reason: 'cACompromise' }, { now: new Date(), passphrase: wrongPassphrase, rootPassphrase: passphrase, onWarning: noWarnings });
    expect(result).toMatchObject({ kind: 'intermediate', serial, reason: 'cACompromise', crl: { path: crlFile(ca, 'root_ca.crl'), entries: 1 } });
    expect(crlNumberOf(crlFile(ca, 'root_ca.crl'))).toBe(rootBefore + 1n);
    expectCrlVerifies(crlFile(ca, 'root_ca.crl'), join(ca, 'ca', 'root_ca.crt'));
    expect(peer('openssl', ['crl', '-in', crlFile(ca, 'root_ca.crl'), '-noout', '-text'])).toMatch(new RegExp(`Serial Number: ${serial}[\\s\\S]*CA Compromise`));
    // The intermediate signs nothing any more.
    await expect(publishCrls(home, {}, { now: new Date(), passphrase, rootPassphrase: passphrase })).rejects.toMatchObject({ code: 'ERR_ISSUER_REVOKED' });
  });
});
