/**
 * `pki ssh init/sign/revoke/krl` and `pki inspect` on OpenSSH material, run as the built CLI and checked
 * with the real ssh-keygen (-L for certificates, -l for fingerprints, -Q for the KRL). The real sshd
 * proof is in ssh-sshd.test.ts.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCa, pki, snapshotTree, tempDir } from '../helpers/cli.js';
import { expectCliError } from '../helpers/errors.js';
import { requirePeer, runPeer } from '../helpers/peers.js';
import { parseSshKeygenListing } from '../core/ssh/ssh-keygen.js';

const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);

/** ssh-keygen with UTC times; fails the test (naming openssh-client) when it is missing. */
function sshKeygen(args: readonly string[]): string {
  const r = runPeer('ssh-keygen', args, { env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' } });
  if (r.status !== 0) throw new Error(`ssh-keygen ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** A fresh key pair made by ssh-keygen; returns the private key path (the .pub is next to it). */
function userKey(dir: string, name: string, type: readonly string[]): string {
  const path = join(dir, name);
  sshKeygen(['-q', '-N', '', '-C', name, ...type, '-f', path]);
  return path;
}

/** A home with unencrypted SSH CAs (plus extra `ssh init` flags). */
function sshHome(extra: readonly string[] = []): string {
  const dir = join(tempDir('pki-ssh-'), 'ca');
  const r = pki(['ssh', 'init', '--no-password', '--insecure', '--dir', dir, ...extra]);
  if (r.code !== 0) throw new Error(`pki ssh init failed: ${r.stderr}`);
  return dir;
}

interface SignJson {
  certificate: string;
  keyId: string;
  serial: string;
  principals: string[];
  validAfter: string;
  validBefore: string;
  criticalOptions: Record<string, string>;
  extensions: string[];
  signingCaFingerprint: string;
}

function sign(dir: string, args: readonly string[]): SignJson {
  const r = pki(['ssh', 'sign', '--dir', dir, '--json', ...args]);
  if (r.code !== 0) throw new Error(`pki ssh sign ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as SignJson;
}

/** ssh-keygen -L prints `from 2026-01-01T00:00:00 to …` in UTC (TZ=UTC). */
const sshTime = (iso: string) => iso.replace(/\.000Z$/, '');

/**
 * The signing time `signedAt` (a validity bound minus its documented offset) lies between clock readings
 * taken just before and just after the `pki` run — however long a loaded machine made the run take.
 * OpenSSH times are whole seconds, so the lower bound is `before` rounded down to the second.
 */
function expectSignedBetween(signedAt: number, before: number, after: number): void {
  expect(signedAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
  expect(signedAt).toBeLessThanOrEqual(after);
}

beforeAll(() => {
  requirePeer('ssh-keygen');
});

describe('pki ssh init', () => {
  it('creates encrypted user and host CAs with the documented modes and prints the sshd_config and known_hosts lines', () => {
    const dir = join(tempDir('pki-ssh-'), 'ca');
    const r = pki(['ssh', 'init', '--dir', dir], { env: { PKI_PASSWORD: 'ssh ca passphrase' } });
    expect(r.code, r.stderr).toBe(0);
    const ssh = join(dir, 'ssh');
    expect(mode(ssh)).toBe('700');
    for (const t of ['user', 'host']) {
      expect(mode(join(ssh, `ssh_${t}_ca_key`))).toBe('600');
      expect(mode(join(ssh, `ssh_${t}_ca_key.pub`))).toBe('644');
      expect(readFileSync(join(ssh, `ssh_${t}_ca_key`), 'utf8')).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
      const pub = readFileSync(join(ssh, `ssh_${t}_ca_key.pub`), 'utf8');
      expect(pub).toMatch(/^ssh-ed25519 AAAA\S+ pki-ssh-\w+-ca\n$/);
      // The fingerprint ssh-keygen computes is the one pki prints.
      const fp = sshKeygen(['-l', '-E', 'sha256', '-f', join(ssh, `ssh_${t}_ca_key.pub`)]).split(' ')[1]!;
      expect(r.stdout).toContain(fp);
    }
    expect(mode(join(ssh, 'revoked_keys'))).toBe('644');
    expect(sshKeygen(['-Q', '-l', '-f', join(ssh, 'revoked_keys')])).toMatch(/# KRL version 1/);
    const hostPub = readFileSync(join(ssh, 'ssh_host_ca_key.pub'), 'utf8').trim();
    const userPub = readFileSync(join(ssh, 'ssh_user_ca_key.pub'), 'utf8').trim();
    expect(r.stdout).toContain('TrustedUserCAKeys /etc/ssh/ssh_user_ca.pub');
    expect(r.stdout).toContain('RevokedKeys /etc/ssh/revoked_keys');
    expect(r.stdout).toContain(userPub);
    expect(r.stdout).toContain(`@cert-authority *.example.com ${hostPub}`);
  });

  it('--json reports both CAs and the deployment lines', () => {
    const dir = join(tempDir('pki-ssh-'), 'ca');
    const r = pki(['ssh', 'init', '--no-password', '--insecure', '--json', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { keyType: string; keysEncrypted: boolean; user: { publicKeyLine: string }; knownHosts: string; sshdConfig: string[] };
    expect(j.keyType).toBe('ssh-ed25519');
    expect(j.keysEncrypted).toBe(false);
    expect(j.sshdConfig).toContain('TrustedUserCAKeys /etc/ssh/ssh_user_ca.pub');
    expect(j.knownHosts).toMatch(/^@cert-authority \*\.example\.com ssh-ed25519 AAAA/);
    expect(readFileSync(join(dir, 'ssh/ssh_user_ca_key'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it.each([
    [['--kty', 'EC', '--crv', 'P-256'], 'ecdsa-sha2-nistp256'],
    [['--kty', 'EC', '--crv', 'P-384'], 'ecdsa-sha2-nistp384'],
    [['--kty', 'RSA', '--size', '3072'], 'ssh-rsa'],
  ])('okCaKeyType %j → %s', (flags, type) => {
    const dir = sshHome(flags);
    expect(readFileSync(join(dir, 'ssh/ssh_user_ca_key.pub'), 'utf8')).toMatch(new RegExp(`^${type} `));
    if (type === 'ssh-rsa') expect(sshKeygen(['-l', '-f', join(dir, 'ssh/ssh_user_ca_key.pub')])).toMatch(/^3072 /);
  });

  it.each([
    ['failRsaUnder3072', ['--kty', 'RSA', '--size', '2048'], 1, 'ERR_WEAK_KEY'],
    ['failUnknownKty', ['--kty', 'DSA'], 1, 'ERR_UNSUPPORTED_KEY'],
    ['failUnknownCurve', ['--kty', 'EC', '--crv', 'secp256k1'], 1, 'ERR_UNSUPPORTED_KEY'],
    ['failNoPasswordWithoutInsecure', ['--no-password'], 2, 'ERR_USAGE'],
  ])('%s: one line, nothing written', (_name, flags, exit, code) => {
    const parent = tempDir('pki-ssh-');
    const before = snapshotTree(parent);
    const r = pki(['ssh', 'init', '--json', '--dir', join(parent, 'ca'), ...flags], { env: { PKI_PASSWORD: 'ssh ca passphrase' } });
    expectCliError(r, code, exit);
    expect(snapshotTree(parent)).toBe(before);
  });

  it('refuses to re-init without --force and replaces the CAs with it', () => {
    const dir = sshHome();
    const before = snapshotTree(dir);
    const oldPub = readFileSync(join(dir, 'ssh/ssh_user_ca_key.pub'), 'utf8');
    const r = pki(['ssh', 'init', '--json', '--no-password', '--insecure', '--dir', dir]);
    expect(expectCliError(r, 'ERR_CA_EXISTS')).toMatch(/SSH CAs already exist.*--force/);
    expect(snapshotTree(dir)).toBe(before);
    const forced = pki(['ssh', 'init', '--no-password', '--insecure', '--force', '--dir', dir]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(join(dir, 'ssh/ssh_user_ca_key.pub'), 'utf8')).not.toBe(oldPub);
  });

  it('keeps its inventory records when the X.509 CA is created afterwards (issue 4)', () => {
    const dir = sshHome();
    const keys = tempDir('pki-ssh-keys-');
    const key = userKey(keys, 'id_ed25519', ['-t', 'ed25519']);
    const j = sign(dir, ['--user', '--principal', 'alice', `${key}.pub`]);
    const init = pki(['init', '--no-password', '--insecure', '--dir', dir]);
    expect(init.code, init.stderr).toBe(0);
    const r = pki(['ssh', 'revoke', j.certificate, '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(runPeer('ssh-keygen', ['-Q', '-f', join(dir, 'ssh/revoked_keys'), j.certificate]).stdout).toMatch(/: REVOKED/);
  });

  it('keeps SSH revocations when the X.509 CA is replaced with init --force', () => {
    const dir = sshHome();
    const keys = tempDir('pki-ssh-keys-');
    const revoked = sign(dir, ['--user', '--principal', 'alice', `${userKey(keys, 'id_a', ['-t', 'ed25519'])}.pub`]);
    const kept = sign(dir, ['--user', '--principal', 'bob', `${userKey(keys, 'id_b', ['-t', 'ed25519'])}.pub`]);
    expect(pki(['init', '--no-password', '--insecure', '--dir', dir]).code).toBe(0);
    expect(pki(['ssh', 'revoke', revoked.certificate, '--dir', dir]).code).toBe(0);
    const forced = pki(['init', '--no-password', '--insecure', '--force', '--dir', dir]);
    expect(forced.code, forced.stderr).toBe(0);
    const krl = pki(['ssh', 'krl', '--dir', dir]);
    expect(krl.code, krl.stderr).toBe(0);
    expect(runPeer('ssh-keygen', ['-Q', '-f', join(dir, 'ssh/revoked_keys'), revoked.certificate]).stdout).toMatch(/: REVOKED/);
    expect(runPeer('ssh-keygen', ['-Q', '-f', join(dir, 'ssh/revoked_keys'), kept.certificate]).stdout).toMatch(/: ok/);
    // The already-revoked certificate stays revoked in the new inventory: revoking it again is refused.
    expect(expectCliError(pki(['ssh', 'revoke', '--json', revoked.certificate, '--dir', dir]), 'ERR_ALREADY_REVOKED')).toMatch(/already revoked/);
  });

  it('lives next to an X.509 CA in the same home and inventory', () => {
    const dir = join(tempDir('pki-ssh-'), 'ca');
    expect(pki(['init', '--no-password', '--insecure', '--dir', dir]).code).toBe(0);
    const r = pki(['ssh', 'init', '--no-password', '--insecure', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    const keys = tempDir('pki-ssh-keys-');
    const key = userKey(keys, 'id_ed25519', ['-t', 'ed25519']);
    expect(sign(dir, ['--user', '--principal', 'alice', `${key}.pub`]).principals).toEqual(['alice']);
  });
});

describe('pki ssh sign: ssh-keygen -L shows what was asked for', () => {
  let dir: string;
  let keys: string;
  const KEY_TYPES: readonly (readonly [string, readonly string[]])[] = [
    ['ed25519', ['-t', 'ed25519']],
    ['ecdsa-p256', ['-t', 'ecdsa', '-b', '256']],
    ['ecdsa-p384', ['-t', 'ecdsa', '-b', '384']],
    ['ecdsa-p521', ['-t', 'ecdsa', '-b', '521']],
    ['rsa-2048', ['-t', 'rsa', '-b', '2048']],
    ['rsa-3072', ['-t', 'rsa', '-b', '3072']],
  ];
  beforeAll(() => {
    dir = sshHome();
    keys = tempDir('pki-ssh-keys-');
  });

  it.each(KEY_TYPES)('okUserCertificate %s: key id, serial, principals, validity, critical options, extensions', (name, type) => {
    const key = userKey(keys, `user_${name}`, type);
    const j = sign(dir, [
      '--user',
      '--principal',
      'alice',
      '--principal',
      'deploy',
      '--key-id',
      `alice-${name}`,
      '--not-before',
      '2026-01-01T00:00:00Z',
      '--not-after',
      '2036-01-01T08:00:00Z',
      '--no-pty',
      '--no-user-rc',
      '--force-command',
      '/usr/bin/uptime',
      '--source-address',
      '192.0.2.0/24,2001:db8::/32',
      `${key}.pub`,
    ]);
    expect(j.certificate).toBe(`${key}-cert.pub`);
    expect(mode(j.certificate)).toBe('644');
    const listing = parseSshKeygenListing(sshKeygen(['-L', '-f', j.certificate]));
    expect(listing.type).toMatch(/-cert-v01@openssh\.com user certificate$/);
    expect(listing.keyId).toBe(`"alice-${name}"`);
    expect(listing.serial).toBe(j.serial);
    expect(BigInt(j.serial)).toBeGreaterThan(0n);
    expect(listing.principals).toEqual(['alice', 'deploy']);
    expect(listing.valid).toBe('from 2026-01-01T00:00:00 to 2036-01-01T08:00:00');
    expect(listing.criticalOptions).toEqual(['force-command /usr/bin/uptime', 'source-address 192.0.2.0/24,2001:db8::/32']);
    expect(listing.extensions).toEqual(['permit-X11-forwarding', 'permit-agent-forwarding', 'permit-port-forwarding']);
    expect(listing.signingCa).toContain(j.signingCaFingerprint);
    expect(listing.signingCa).toMatch(/\(using ssh-ed25519\)$/);
  });

  it.each(KEY_TYPES)('okHostCertificate %s: host type, principals, no options, default 7d', (name, type) => {
    const key = userKey(keys, `host_${name}`, type);
    const before = Date.now();
    const j = sign(dir, ['--host', '--principal', 'web1.example.com', '--principal', '192.0.2.10', `${key}.pub`]);
    const listing = parseSshKeygenListing(sshKeygen(['-L', '-f', j.certificate]));
    expect(listing.type).toMatch(/-cert-v01@openssh\.com host certificate$/);
    expect(listing.keyId).toBe(`"${j.keyId}"`);
    expect(j.keyId).toMatch(/^web1\.example\.com@\d{8}T\d{6}Z$/);
    expect(listing.serial).toBe(j.serial);
    expect(listing.principals).toEqual(['web1.example.com', '192.0.2.10']);
    expect(listing.valid).toBe(`from ${sshTime(j.validAfter)} to ${sshTime(j.validBefore)}`);
    expectSignedBetween(Date.parse(j.validBefore) - 7 * 86_400_000, before, Date.now());
    expect(listing.criticalOptions).toEqual([]);
    expect(listing.extensions).toEqual([]);
  });

  it('okDefaults: user certificate valid from 5 minutes back for 16 hours, the five permits, key id <principal>@<time>', () => {
    const key = userKey(keys, 'defaults', ['-t', 'ed25519']);
    const before = Date.now();
    const j = sign(dir, ['--user', '--principal', 'carol', `${key}.pub`]);
    const after = Date.now();
    expectSignedBetween(Date.parse(j.validAfter) + 5 * 60_000, before, after);
    expectSignedBetween(Date.parse(j.validBefore) - 16 * 3_600_000, before, after);
    expect(j.keyId).toMatch(/^carol@\d{8}T\d{6}Z$/);
    const listing = parseSshKeygenListing(sshKeygen(['-L', '-f', j.certificate]));
    expect(listing.extensions).toEqual(['permit-X11-forwarding', 'permit-agent-forwarding', 'permit-port-forwarding', 'permit-pty', 'permit-user-rc']);
    expect(listing.valid).toBe(`from ${sshTime(j.validAfter)} to ${sshTime(j.validBefore)}`);
  });

  it('okAnyPrincipal, --out and durations', () => {
    const key = userKey(keys, 'anyp', ['-t', 'ed25519']);
    const out = join(keys, 'elsewhere-cert.pub');
    const j = sign(dir, ['--user', '--any-principal', '--not-after', '30m', '--out', out, `${key}.pub`]);
    expect(j.certificate).toBe(out);
    const listing = parseSshKeygenListing(sshKeygen(['-L', '-f', out]));
    expect(listing.principals).toEqual([]);
    expect(Date.parse(j.validBefore) - Date.now()).toBeLessThan(31 * 60_000);
  });

  it('okNoExtensions: all five --no-… flags give a certificate without extensions', () => {
    const key = userKey(keys, 'noext', ['-t', 'ed25519']);
    const j = sign(dir, ['--user', '--principal', 'robot', '--no-pty', '--no-port-forwarding', '--no-agent-forwarding', '--no-x11-forwarding', '--no-user-rc', `${key}.pub`]);
    expect(parseSshKeygenListing(sshKeygen(['-L', '-f', j.certificate])).extensions).toEqual([]);
  });

  it.each([
    [['--kty', 'EC', '--crv', 'P-384'], 'ecdsa-sha2-nistp384'],
    [['--kty', 'RSA', '--size', '3072'], 'rsa-sha2-512'],
  ])('okCaType %j signs with %s (never ssh-rsa SHA-1)', (flags, algorithm) => {
    const home = sshHome(flags);
    const key = userKey(keys, `ca_${algorithm}`, ['-t', 'ed25519']);
    const j = sign(home, ['--user', '--principal', 'alice', `${key}.pub`]);
    expect(parseSshKeygenListing(sshKeygen(['-L', '-f', j.certificate])).signingCa).toMatch(new RegExp(`\\(using ${algorithm}\\)$`));
  });

  it('gives every certificate its own serial, all recorded (revocable by serial)', () => {
    const key = userKey(keys, 'serials', ['-t', 'ed25519']);
    const serials = new Set<string>();
    for (let i = 0; i < 5; i++) serials.add(sign(dir, ['--user', '--principal', 'alice', '--force', `${key}.pub`]).serial);
    expect(serials.size).toBe(5);
    for (const s of serials) expect(pki(['ssh', 'revoke', s, '--dir', dir]).code).toBe(0);
  });
});

describe('pki ssh sign: bad input is refused with one line, exit 1, nothing written', () => {
  let dir: string;
  let parent: string;
  const files: Record<string, string> = {};
  beforeAll(() => {
    parent = tempDir('pki-ssh-bad-');
    dir = join(parent, 'ca');
    expect(pki(['init', '--no-password', '--insecure', '--dir', dir]).code).toBe(0);
    expect(pki(['ssh', 'init', '--no-password', '--insecure', '--dir', dir]).code).toBe(0);
    sshKeygen(['-q', '-N', '', '-t', 'ed25519', '-f', join(parent, 'id_ed25519')]);
    files.good = join(parent, 'id_ed25519.pub');
    files.privateKey = join(parent, 'id_ed25519');
    files.pemCertificate = join(dir, 'ca/root_ca.crt');
    files.garbage = join(parent, 'garbage');
    writeFileSync(files.garbage, Buffer.from([0x00, 0xff, 0x13, 0x37, 0x42, 0x0a, 0x99]));
    files.text = join(parent, 'text.pub');
    writeFileSync(files.text, 'hello world, this is not a key\n');
    files.unknownType = join(parent, 'unknown.pub');
    const blob = (type: string) => {
      const name = Buffer.from(type);
      const len = Buffer.alloc(4);
      len.writeUInt32BE(name.length);
      return Buffer.concat([len, name, Buffer.alloc(40, 7)]).toString('base64');
    };
    writeFileSync(files.unknownType, `ssh-foo ${blob('ssh-foo')} x\n`);
    files.dsa = join(parent, 'dsa.pub');
    writeFileSync(files.dsa, `ssh-dss ${blob('ssh-dss')} x\n`);
    sshKeygen(['-q', '-N', '', '-t', 'rsa', '-b', '1024', '-f', join(parent, 'rsa1024')]);
    files.rsa1024 = join(parent, 'rsa1024.pub');
    sshKeygen(['-q', '-N', '', '-t', 'ed25519', '-f', join(parent, 'exists')]);
    writeFileSync(join(parent, 'exists-cert.pub'), 'already here\n');
    files.exists = join(parent, 'exists.pub');
  });

  it.each([
    ['failPemCertificate', 'pemCertificate', ['--user', '--principal', 'a'], /PEM file \(CERTIFICATE\), not an OpenSSH public key/, 'ERR_UNKNOWN_OBJECT'],
    ['failGarbage', 'garbage', ['--user', '--principal', 'a'], /OpenSSH public key/, 'ERR_MALFORMED_SSH'],
    ['failText', 'text', ['--user', '--principal', 'a'], /not valid base64|OpenSSH public key/, 'ERR_MALFORMED_SSH'],
    ['failPrivateKey', 'privateKey', ['--user', '--principal', 'a'], /private key.*\(pass the \.pub file\)/, 'ERR_UNKNOWN_OBJECT'],
    ['failUnknownKeyType', 'unknownType', ['--user', '--principal', 'a'], /unsupported SSH key type "ssh-foo"/, 'ERR_UNSUPPORTED_KEY'],
    ['failDsa', 'dsa', ['--user', '--principal', 'a'], /DSA/, 'ERR_UNSUPPORTED_KEY'],
    ['failRsa1024', 'rsa1024', ['--user', '--principal', 'a'], /1024 bits/, 'ERR_WEAK_KEY'],
    ['failUserWithoutPrincipals', 'good', ['--user'], /without principals/, 'ERR_SSH_POLICY'],
    ['failBadSourceAddress', 'good', ['--user', '--principal', 'a', '--source-address', '10.0.0.1/8'], /host bits/, 'ERR_INVALID_OPTION'],
    ['failSourceAddressNotIp', 'good', ['--user', '--principal', 'a', '--source-address', 'example.com'], /not an IPv4 or IPv6/, 'ERR_INVALID_OPTION'],
    ['failHostForceCommand', 'good', ['--host', '--principal', 'h', '--force-command', 'true'], /host certificates cannot carry critical options/, 'ERR_SSH_POLICY'],
    ['failInvertedValidity', 'good', ['--user', '--principal', 'a', '--not-before', '2030-01-01T00:00:00Z', '--not-after', '2029-01-01T00:00:00Z'], /must be after/, 'ERR_VALIDITY'],
    ['failBadDuration', 'good', ['--user', '--principal', 'a', '--not-after', 'soon'], /neither a duration/, 'ERR_INVALID_TIME'],
    ['failCertExists', 'exists', ['--user', '--principal', 'a'], /already exists.*--force/, 'ERR_FILE_EXISTS'],
    ['failMissingFile', 'nope', ['--user', '--principal', 'a'], /cannot read/, 'ERR_FILE_NOT_FOUND'],
  ])('%s', (_name, file, flags, message, code) => {
    const before = snapshotTree(parent);
    const r = pki(['ssh', 'sign', '--json', '--dir', dir, ...flags, files[file] ?? join(parent, 'missing.pub')]);
    expect(expectCliError(r, code)).toMatch(message);
    expect(snapshotTree(parent)).toBe(before);
  });

  it.each([
    ['failBothUserAndHost', ['--user', '--host', '--principal', 'a']],
    ['failNeitherUserNorHost', ['--principal', 'a']],
    ['failNoPtyOnHost', ['--host', '--principal', 'a', '--no-pty']],
  ])('%s: usage error, exit 2', (_name, flags) => {
    const before = snapshotTree(parent);
    const r = pki(['ssh', 'sign', '--json', '--dir', dir, ...flags, files.good!]);
    expectCliError(r, 'ERR_USAGE', 2);
    expect(snapshotTree(parent)).toBe(before);
  });

  it('failNoSshCa: a home without SSH CAs names "pki ssh init"', () => {
    const other = join(tempDir('pki-ssh-'), 'ca');
    const r = pki(['ssh', 'sign', '--json', '--dir', other, '--user', '--principal', 'a', files.good!]);
    expect(expectCliError(r, 'ERR_SSH_CA_MISSING')).toMatch(/no SSH user CA.*pki ssh init/);
  });

  it('failNoPassphraseSource: an encrypted SSH CA with no TTY and no PKI_PASSWORD', () => {
    const home = join(tempDir('pki-ssh-'), 'ca');
    expect(pki(['ssh', 'init', '--dir', home], { env: { PKI_PASSWORD: 'ssh ca passphrase' } }).code).toBe(0);
    const key = join(home, '..', 'k');
    sshKeygen(['-q', '-N', '', '-t', 'ed25519', '-f', key]);
    const before = snapshotTree(join(home, '..'));
    const r = pki(['ssh', 'sign', '--json', '--dir', home, '--user', '--principal', 'a', `${key}.pub`]);
    expect(expectCliError(r, 'ERR_PASSWORD_REQUIRED')).toMatch(/passphrase is needed and there is no terminal/);
    const missingFile = pki(['ssh', 'sign', '--json', '--dir', home, '--user', '--principal', 'a', '--password-file', join(home, 'nope'), `${key}.pub`]);
    expect(expectCliError(missingFile, 'ERR_FILE_NOT_FOUND')).toMatch(/cannot read password file/);
    const wrong = pki(['ssh', 'sign', '--json', '--dir', home, '--user', '--principal', 'a', `${key}.pub`], { env: { PKI_PASSWORD: 'wrong passphrase' } });
    expect(expectCliError(wrong, 'ERR_BAD_PASSWORD')).toMatch(/passphrase/);
    expect(snapshotTree(join(home, '..'))).toBe(before);
    const ok = pki(['ssh', 'sign', '--dir', home, '--user', '--principal', 'a', `${key}.pub`], { env: { PKI_PASSWORD: 'ssh ca passphrase' } });
    expect(ok.code, ok.stderr).toBe(0);
  });
});

describe('pki ssh revoke reads serials as ssh-keygen -L and pki list print them (issue 9, point 19)', () => {
  /** The SERIAL column of `pki list --all` for the row with this subject (principals). */
  const listedSerial = (dir: string, principal: string) => {
    const row = pki(['list', '--all', '--dir', dir]).stdout.split('\n').find((l) => l.split(/\s+/)[1] === principal);
    return row!.split(/\s+/)[0]!;
  };

  it('decimal from ssh-keygen -L, the SERIAL column of pki list, and 0x-hex all name the same certificate', () => {
    const dir = initCa(); // pki list needs the X.509 CA too
    expect(pki(['ssh', 'init', '--no-password', '--insecure', '--dir', dir]).code).toBe(0);
    const keys = tempDir('pki-ssh-keys-');
    const certs = ['s1', 's2', 's3'].map((n) => sign(dir, ['--user', '--principal', n, '--key-id', `${n}-key`, `${userKey(keys, n, ['-t', 'ed25519'])}.pub`]));
    const krl = join(dir, 'ssh/revoked_keys');
    const revoked = (c: SignJson) => runPeer('ssh-keygen', ['-Q', '-f', krl, c.certificate]).stdout.trim().endsWith(': REVOKED');

    const fromSshKeygen = parseSshKeygenListing(sshKeygen(['-L', '-f', certs[0]!.certificate])).serial;
    expect(fromSshKeygen).toMatch(/^[1-9]\d*$/);
    const r1 = pki(['ssh', 'revoke', fromSshKeygen, '--dir', dir, '--json']);
    expect(r1.code, r1.stderr).toBe(0);
    expect(JSON.parse(r1.stdout).revoked.map((r: { serial: string }) => r.serial)).toEqual([fromSshKeygen]);

    const fromList = listedSerial(dir, 's2');
    expect(fromList).toBe(certs[1]!.serial); // list prints SSH serials as ssh-keygen -L does
    const r2 = pki(['ssh', 'revoke', fromList, '--dir', dir]);
    expect(r2.code, r2.stderr).toBe(0);

    const hex = `0x${BigInt(certs[2]!.serial).toString(16).toUpperCase()}`;
    const r3 = pki(['ssh', 'revoke', hex, '--dir', dir]);
    expect(r3.code, r3.stderr).toBe(0);
    expect(certs.map(revoked)).toEqual([true, true, true]);
  });

  it('refuses the readings that could mean two serials, naming the fix, and changes nothing', () => {
    const dir = sshHome();
    const keys = tempDir('pki-ssh-keys-');
    const cert = sign(dir, ['--user', '--principal', 'amb', `${userKey(keys, 'amb', ['-t', 'ed25519'])}.pub`]);
    const before = snapshotTree(dir);
    const hexDigits = BigInt(cert.serial).toString(16);
    const cases: [string, string][] = [
      [`0${cert.serial}`, 'ERR_INVALID_SERIAL'], // octal to ssh-keygen's KRL specs, decimal to others
      [/[a-f]/.test(hexDigits) ? hexDigits : `${hexDigits}a`, 'ERR_INVALID_SERIAL'], // hex without 0x
      ['18446744073709551616', 'ERR_INVALID_SERIAL'], // 2^64
      ['12345', 'ERR_UNKNOWN_SERIAL'],
    ];
    for (const [arg, code] of cases) {
      const r = pki(['ssh', 'revoke', arg, '--dir', dir, '--json']);
      expect(r.code, arg).toBe(1);
      expect(JSON.parse(r.stdout).error.code, arg).toBe(code);
    }
    expect(snapshotTree(dir)).toBe(before);
  });
});

describe('pki ssh revoke and pki ssh krl: ssh-keygen -Q agrees', () => {
  it('revokes by certificate file, by serial and by key id; the others stay ok', () => {
    const dir = sshHome();
    const keys = tempDir('pki-ssh-keys-');
    const certs = ['a', 'b', 'c', 'd'].map((n) => {
      const key = userKey(keys, n, ['-t', 'ed25519']);
      return sign(dir, ['--user', '--principal', n, '--key-id', `${n}-key`, `${key}.pub`]);
    });
    const krl = join(dir, 'ssh/revoked_keys');
    // ssh-keygen -Q prints "<file> (<comment>): ok" or ": REVOKED" (and exits 1 for a revoked one).
    const revokedNow = () => certs.map((c) => runPeer('ssh-keygen', ['-Q', '-f', krl, c.certificate]).stdout.trim().endsWith(': REVOKED'));
    expect(revokedNow()).toEqual([false, false, false, false]);

    const byFile = pki(['ssh', 'revoke', certs[0]!.certificate, '--dir', dir, '--reason', 'keyCompromise']);
    expect(byFile.code, byFile.stderr).toBe(0);
    expect(byFile.stdout).toContain(`serial ${certs[0]!.serial}`);
    const bySerial = pki(['ssh', 'revoke', certs[1]!.serial, '--dir', dir]);
    expect(bySerial.code, bySerial.stderr).toBe(0);
    const byKeyId = pki(['ssh', 'revoke', 'c-key', '--dir', dir, '--json']);
    expect(byKeyId.code, byKeyId.stderr).toBe(0);
    expect((JSON.parse(byKeyId.stdout) as { revoked: { serial: string }[] }).revoked.map((r) => r.serial)).toEqual([certs[2]!.serial]);

    expect(revokedNow()).toEqual([true, true, true, false]);
    expect(mode(krl)).toBe('644');
    const listing = sshKeygen(['-Q', '-l', '-f', krl]);
    expect(listing).toMatch(/# KRL version 4/);
    for (const c of certs.slice(0, 3)) expect(listing).toContain(`serial: ${c.serial}`);
    expect(listing).toContain('id: c-key');

    const again = pki(['ssh', 'revoke', '--json', certs[0]!.certificate, '--dir', dir]);
    expect(expectCliError(again, 'ERR_ALREADY_REVOKED')).toMatch(/already revoked/);
    const unknown = pki(['ssh', 'revoke', '--json', 'nobody-key', '--dir', dir]);
    expect(expectCliError(unknown, 'ERR_UNKNOWN_SERIAL')).toMatch(/no SSH certificate with serial or key id "nobody-key"/);

    // A revoked key id cannot be reused: sshd would refuse the new certificate.
    const reuse = pki(['ssh', 'sign', '--json', '--dir', dir, '--user', '--principal', 'c', '--key-id', 'c-key', '--force', certs[2]!.certificate.replace('-cert.pub', '.pub')]);
    expect(expectCliError(reuse, 'ERR_SSH_POLICY')).toMatch(/key id "c-key" is revoked/);

    const krlRun = pki(['ssh', 'krl', '--dir', dir, '--json']);
    expect(krlRun.code, krlRun.stderr).toBe(0);
    expect(JSON.parse(krlRun.stdout)).toMatchObject({ version: '5', serialsRevoked: 3 });
    expect(revokedNow()).toEqual([true, true, true, false]);
  });

  it('refuses a certificate file this pki did not issue', () => {
    const dir = sshHome();
    const other = sshHome();
    const keys = tempDir('pki-ssh-keys-');
    const key = userKey(keys, 'x', ['-t', 'ed25519']);
    const j = sign(other, ['--user', '--principal', 'x', `${key}.pub`]);
    const before = snapshotTree(dir);
    expect(expectCliError(pki(['ssh', 'revoke', '--json', j.certificate, '--dir', dir]), 'ERR_UNKNOWN_SERIAL')).toMatch(/was not issued by this pki/);
    expect(snapshotTree(dir)).toBe(before);
  });
});

describe('pki inspect on OpenSSH files', () => {
  it('describes a certificate like ssh-keygen -L, with remaining time, and --json without raw buffers', () => {
    const dir = sshHome();
    const keys = tempDir('pki-ssh-keys-');
    const key = userKey(keys, 'id_ecdsa', ['-t', 'ecdsa', '-b', '384']);
    const j = sign(dir, ['--user', '--principal', 'alice', '--key-id', 'alice@laptop', '--force-command', 'uptime', '--not-after', '2h', `${key}.pub`]);
    const human = pki(['inspect', j.certificate]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/OpenSSH user certificate/);
    expect(human.stdout).toMatch(/Key id\s+alice@laptop/);
    expect(human.stdout).toMatch(new RegExp(`Serial\\s+${j.serial}`));
    expect(human.stdout).toMatch(/Principals\s+alice/);
    expect(human.stdout).toMatch(/Valid before\s+.*\((1h 5\dm|2h 0m) left\)/);
    expect(human.stdout).toMatch(/Critical options\s+force-command uptime/);
    expect(human.stdout).toMatch(/Extensions\s+permit-X11-forwarding/);
    const caFp = sshKeygen(['-l', '-E', 'sha256', '-f', join(dir, 'ssh/ssh_user_ca_key.pub')]).split(' ')[1]!;
    expect(human.stdout).toContain(`Signing CA            ssh-ed25519 ${caFp}`);
    expect(human.stdout).toMatch(/Signature\s+ssh-ed25519, valid/);

    const json = pki(['inspect', '--json', j.certificate]);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({
      type: 'sshCertificate',
      certType: 'user',
      keyId: 'alice@laptop',
      serial: j.serial,
      principals: ['alice'],
      validBefore: j.validBefore,
      criticalOptions: { 'force-command': 'uptime' },
      signingCa: { keyType: 'ssh-ed25519', fingerprint: caFp },
      publicKey: { keyType: 'ecdsa-sha2-nistp384', fingerprint: sshKeygen(['-l', '-E', 'sha256', '-f', `${key}.pub`]).split(' ')[1] },
      signatureValid: true,
    });
    expect(json.stdout).not.toMatch(/"raw"|"data"|"Buffer"/);
  });

  it('describes public keys (the CA .pub and a user key) with ssh-keygen -l fingerprints', () => {
    const dir = sshHome();
    const pub = join(dir, 'ssh/ssh_host_ca_key.pub');
    const r = pki(['inspect', '--json', pub]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      type: 'sshPublicKey',
      keyType: 'ssh-ed25519',
      bits: 256,
      fingerprint: sshKeygen(['-l', '-E', 'sha256', '-f', pub]).split(' ')[1],
      comment: 'pki-ssh-host-ca',
    });
    const keys = tempDir('pki-ssh-keys-');
    const rsa = userKey(keys, 'id_rsa', ['-t', 'rsa', '-b', '3072']);
    const human = pki(['inspect', `${rsa}.pub`]);
    expect(human.stdout).toMatch(/OpenSSH public key\n\s+Type\s+ssh-rsa \(3072 bits\)/);
  });

  it('an expired certificate shows how long ago it expired', () => {
    const dir = sshHome();
    const keys = tempDir('pki-ssh-keys-');
    const key = userKey(keys, 'old', ['-t', 'ed25519']);
    const r = pki(['ssh', 'sign', '--dir', dir, '--user', '--principal', 'x', '--not-before', '2020-01-01T00:00:00Z', '--not-after', '2020-01-02T00:00:00Z', `${key}.pub`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: the certificate expired already/);
    expect(pki(['inspect', `${key}-cert.pub`]).stdout).toMatch(/\(expired \d+d \d+h ago\)/);
  });
});
