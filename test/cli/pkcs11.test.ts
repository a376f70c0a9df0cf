/**
 * Issue 14, point 2 / "Done means" 3: CA keys on a PKCS#11 token, proven against SoftHSM2 started by the
 * test (its own softhsm2.conf and token folder, SOFTHSM2_CONF in the children's environment).
 *
 * - `pki init --kms` makes pki-root and pki-intermediate on the token; pkcs11-tool lists them as private
 *   (absent without a login), sensitive and never extractable, and their public keys are the certificates';
 *   the CA home holds no key file, no PEM private key and not the PIN.
 * - Leaves from `pki generate` and `pki sign`, both CRLs and a `pki ca renew`ed intermediate verify with
 *   OpenSSL; P-384 and RSA token keys too. `pki serve` answers OCSP (good, revoked) with a responder
 *   certificate the token's intermediate signed, and openssl ocsp verifies the responses.
 * - `pki ssh init --kms` + `pki ssh sign`: ssh-keygen -L names the user CA's fingerprint as the signer,
 *   and ssh-keygen -Y verify accepts a signature made with the certificate under that CA (not the host CA).
 * - A wrong PIN, a pin-value in the URI, an unknown token or module: one line, the exit code, nothing
 *   written, the PIN never echoed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, pki, snapshotTree, tempDir } from '../helpers/cli.js';
import { peer, requirePeer, runPeer } from '../helpers/peers.js';
import { startPkiServe } from '../helpers/serve.js';

const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const PIN = '735194';
const SO_PIN = '86420135';

let root = '';
let env: NodeJS.ProcessEnv = {};
let pinFile = '';
let home = '';

/** The --kms URI of token `label`, PIN read from `pin`. */
const kmsUri = (label: string, pin = pinFile) => `pkcs11:token=${label}?module-path=${MODULE}&pin-source=file:${pin}`;
const run = (args: readonly string[]) => pki(args, { env });

/** A fresh SoftHSM2 token labelled `label` in the test's token folder. */
function initToken(label: string): void {
  peer('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', PIN, '--so-pin', SO_PIN]);
}

function pkcs11Tool(args: readonly string[]): string {
  const r = runPeer('pkcs11-tool', ['--module', MODULE, ...args], { env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`pkcs11-tool ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** pkcs11-tool --list-objects blocks: one per object, its header line and its indented fields. */
function listObjects(token: string, login: boolean): { header: string; label: string; access: string; usage: string }[] {
  const out = pkcs11Tool(['--token-label', token, ...(login ? ['--login', '--pin', PIN] : []), '--list-objects']);
  return out
    .split(/\n(?=\S)/)
    .filter((b) => /Object;/.test(b))
    .map((b) => ({
      header: b.split('\n')[0]!,
      label: /^\s*label:\s*(.*)$/m.exec(b)?.[1]?.trim() ?? '',
      access: /^\s*Access:\s*(.*)$/m.exec(b)?.[1]?.trim() ?? '',
      usage: /^\s*Usage:\s*(.*)$/m.exec(b)?.[1]?.trim() ?? '',
    }));
}

/** Every regular file under `dir`. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []));
}

const opensslVerify = (caFile: string, untrusted: string, leaf: string) =>
  runPeer('openssl', ['verify', '-x509_strict', '-CAfile', caFile, '-untrusted', untrusted, leaf]);

/** The SubjectPublicKeyInfo DER of a certificate file's (first) certificate. */
function certificateSpki(certFile: string): Buffer {
  const pem = execFileSync('openssl', ['x509', '-in', certFile, '-noout', '-pubkey'], { encoding: 'utf8' });
  return execFileSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: pem });
}

beforeAll(() => {
  requirePeer('softhsm2-util');
  requirePeer('pkcs11-tool');
  requirePeer('openssl');
  requirePeer('ssh-keygen');
  if (!existsSync(MODULE)) throw new Error(`${MODULE} is missing: apt-get install softhsm2`);
  root = tempDir('pki-p11-');
  const conf = join(root, 'softhsm2.conf');
  execFileSync('mkdir', ['-p', join(root, 'tokens')]);
  writeFileSync(conf, `directories.tokendir = ${join(root, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  env = { SOFTHSM2_CONF: conf };
  process.env.SOFTHSM2_CONF = conf; // for softhsm2-util and pkcs11-tool run through peers.ts
  pinFile = join(root, 'pin');
  writeFileSync(pinFile, `${PIN}\n`, { mode: 0o600 });
  initToken('pki');
  home = join(root, 'home');
  const r = run(['init', '--dir', home, '--name', 'Token Corp', '--kms', kmsUri('pki')]);
  if (r.code !== 0) throw new Error(`pki init --kms failed: ${r.stderr}`);
}, 120_000);

describe('pki init --kms: the CA keys are generated on the token', () => {
  it('pkcs11-tool shows pki-root and pki-intermediate as private, sensitive, never-extractable keys', () => {
    const objects = listObjects('pki', true);
    for (const label of ['pki-root', 'pki-intermediate']) {
      const privateKey = objects.find((o) => o.label === label && o.header.startsWith('Private Key Object; EC'));
      expect(privateKey, `${label} private key`).toBeDefined();
      expect(privateKey!.access.split(', ')).toEqual(expect.arrayContaining(['sensitive', 'always sensitive', 'never extractable', 'local']));
      expect(privateKey!.access).not.toMatch(/(^|, )extractable/);
      expect(privateKey!.usage).toMatch(/\bsign\b/);
      expect(privateKey!.usage).not.toMatch(/decrypt|unwrap|derive/);
      expect(objects.some((o) => o.label === label && o.header.startsWith('Public Key Object; EC'))).toBe(true);
    }
    // CKA_PRIVATE: without a login the token lists the public keys and hides the private ones.
    const anonymous = listObjects('pki', false);
    expect(anonymous.filter((o) => o.header.startsWith('Private Key Object'))).toEqual([]);
    expect(anonymous.filter((o) => o.header.startsWith('Public Key Object')).map((o) => o.label).sort()).toEqual(['pki-intermediate', 'pki-root']);
  });

  it("the certificates carry the token's public keys", () => {
    for (const [label, cert] of [
      ['pki-root', 'root_ca.crt'],
      ['pki-intermediate', 'intermediate_ca.crt'],
    ] as const) {
      const out = join(root, `${label}.der`);
      pkcs11Tool(['--token-label', 'pki', '--read-object', '--type', 'pubkey', '--label', label, '--output-file', out]);
      expect(readFileSync(out).equals(certificateSpki(join(home, 'ca', cert)))).toBe(true);
    }
  });

  it('the CA home holds no key file, no PEM private key and not the PIN; pki.json names the token without a PIN', () => {
    const files = filesUnder(home);
    expect(files.filter((f) => f.endsWith('.key'))).toEqual([]);
    expect(existsSync(join(home, 'ca/root_ca.key')) || existsSync(join(home, 'ca/intermediate_ca.key'))).toBe(false);
    for (const f of files) {
      const text = readFileSync(f).toString('latin1');
      expect(text, f).not.toMatch(/PRIVATE KEY/);
      expect(text.includes(PIN), f).toBe(false);
    }
    const config = JSON.parse(readFileSync(join(home, 'pki.json'), 'utf8')) as { kms?: string };
    expect(config.kms).toBe(kmsUri('pki'));
  });

  it('a second init on the same token is refused (its labels are taken), nothing written', () => {
    const dir = join(root, 'second');
    const line = expectOneLineError(run(['init', '--dir', dir, '--kms', kmsUri('pki')]));
    expect(line).toMatch(/already holds "pki-root" and "pki-intermediate"/);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('signing through the token', () => {
  it('pki generate and pki sign issue leaves whose chains verify with openssl -x509_strict', () => {
    expect(run(['generate', 'redis', 'main', '--dir', home]).code).toBe(0);
    const certs = join(home, 'services/redis/main/certs');
    for (const leaf of ['redis.crt', 'client.crt']) {
      const r = opensslVerify(join(certs, 'ca.crt'), join(certs, leaf), join(certs, leaf));
      expect(r.stdout + r.stderr).toMatch(/: OK$/m);
    }
    const key = join(root, 'web.key');
    const csr = join(root, 'web.csr');
    peer('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-subj', '/CN=web.internal', '-addext', 'subjectAltName=DNS:web.internal', '-out', csr]);
    const leaf = join(root, 'web.crt');
    const signed = run(['sign', csr, '--dir', home, '--out', leaf]);
    expect(signed.code, signed.stderr).toBe(0);
    const r = opensslVerify(join(home, 'ca/root_ca.crt'), join(home, 'ca/intermediate_ca.crt'), leaf);
    expect(r.stdout + r.stderr).toMatch(/: OK$/m);
  });

  it('pki crl and pki crl --root publish CRLs that openssl crl -verify accepts, listing a revoked leaf', () => {
    const leaf = join(home, 'services/redis/main/certs/client.crt');
    expect(run(['revoke', leaf, '--dir', home]).code).toBe(0);
    expect(run(['crl', '--dir', home]).code).toBe(0);
    const crl = join(home, 'crl/intermediate_ca.crl');
    const verified = runPeer('openssl', ['crl', '-in', crl, '-noout', '-verify', '-CAfile', join(home, 'ca/intermediate_ca.crt')]);
    expect(verified.stderr + verified.stdout).toMatch(/verify OK/);
    const serial = execFileSync('openssl', ['x509', '-in', leaf, '-noout', '-serial'], { encoding: 'utf8' }).trim().split('=')[1]!;
    expect(peer('openssl', ['crl', '-in', crl, '-noout', '-text'])).toContain(`Serial Number: ${serial}`);
    // With the CA's CRLs in the chain check, the revoked client fails and the server certificate passes.
    const certs = join(home, 'services/redis/main/certs');
    const withCrl = (file: string) => runPeer('openssl', ['verify', '-x509_strict', '-crl_check_all', '-CRLfile', join(home, 'crl/chain.crl.pem'), '-CAfile', join(certs, 'ca.crt'), '-untrusted', join(certs, file), join(certs, file)]);
    expect(withCrl('client.crt').stdout + withCrl('client.crt').stderr).toMatch(/certificate revoked/);
    expect(withCrl('redis.crt').stdout).toMatch(/: OK$/m);

    const rootCrl = run(['crl', '--root', '--dir', home]);
    expect(rootCrl.code, rootCrl.stderr).toBe(0);
    expect(rootCrl.stdout).not.toMatch(/offline/); // the root key stays on the token: nothing to move
    const rootVerified = runPeer('openssl', ['crl', '-in', join(home, 'crl/root_ca.crl'), '-noout', '-verify', '-CAfile', join(home, 'ca/root_ca.crt')]);
    expect(rootVerified.stderr + rootVerified.stdout).toMatch(/verify OK/);
  });

  it('pki ca renew signs the new intermediate with the root key on the token; a leaf issued afterwards verifies', () => {
    const before = execFileSync('openssl', ['x509', '-in', join(home, 'ca/intermediate_ca.crt'), '-noout', '-serial'], { encoding: 'utf8' });
    const renewed = run(['ca', 'renew', '--dir', home, '--not-after', '4y']);
    expect(renewed.code, renewed.stderr).toBe(0);
    expect(execFileSync('openssl', ['x509', '-in', join(home, 'ca/intermediate_ca.crt'), '-noout', '-serial'], { encoding: 'utf8' })).not.toBe(before);
    expect(run(['generate', 'api', 'main', '--dir', home, '--no-client']).code).toBe(0);
    const certs = join(home, 'services/api/main/certs');
    const r = opensslVerify(join(certs, 'ca.crt'), join(certs, 'api.crt'), join(certs, 'api.crt'));
    expect(r.stdout + r.stderr).toMatch(/: OK$/m);
    expect(filesUnder(home).filter((f) => f.endsWith('.key') && !f.includes('/services/'))).toEqual([]);
  });

  it.each([
    ['p384', ['--kty', 'EC', '--crv', 'P-384'], 'Private Key Object; EC'],
    ['rsa', ['--kty', 'RSA', '--size', '2048'], 'Private Key Object; RSA'],
  ])('token keys of other types (%s) sign leaves that verify', (token, keyFlags, header) => {
    initToken(token);
    const dir = join(root, `home-${token}`);
    const init = run(['init', '--dir', dir, ...keyFlags, '--kms', kmsUri(token)]);
    expect(init.code, init.stderr).toBe(0);
    expect(listObjects(token, true).filter((o) => o.header.startsWith(header)).map((o) => o.label).sort()).toEqual(['pki-intermediate', 'pki-root']);
    expect(run(['generate', 'db', 'main', '--dir', dir, '--no-client']).code).toBe(0);
    const certs = join(dir, 'services/db/main/certs');
    const r = opensslVerify(join(certs, 'ca.crt'), join(certs, 'db.crt'), join(certs, 'db.crt'));
    expect(r.stdout + r.stderr).toMatch(/: OK$/m);
    expect(peer('openssl', ['x509', '-in', join(dir, 'ca/intermediate_ca.crt'), '-noout', '-text'])).toMatch(token === 'rsa' ? /sha256WithRSAEncryption/ : /ecdsa-with-SHA384/);
  });
});

describe('pki serve through the token', () => {
  it("answers OCSP with a responder certificate the token's intermediate signed: good, and revoked for the revoked client", async () => {
    const server = await startPkiServe(home, { http: true, env: { SOFTHSM2_CONF: env.SOFTHSM2_CONF! } });
    try {
      const certs = join(home, 'services/redis/main/certs');
      const ocsp = (leaf: string) => {
        const r = runPeer('openssl', ['ocsp', '-issuer', join(home, 'ca/intermediate_ca.crt'), '-CAfile', join(home, 'ca/root_ca.crt'), '-url', server.ocspUrl, '-cert', join(certs, leaf)]);
        return r.stdout + r.stderr;
      };
      const good = ocsp('redis.crt');
      expect(good).toMatch(/^Response verify OK$/m);
      expect(good).toMatch(/redis\.crt: good$/m);
      const revoked = ocsp('client.crt');
      expect(revoked).toMatch(/^Response verify OK$/m);
      expect(revoked).toMatch(/client\.crt: revoked$/m);
    } finally {
      await server.stop();
    }
  }, 60_000);
});

describe('pki ssh init --kms and ssh sign through the token', () => {
  it('the SSH CA keys are on the token; a certificate ssh sign makes verifies under the user CA', () => {
    const init = run(['ssh', 'init', '--dir', home, '--kms', kmsUri('pki')]);
    expect(init.code, init.stderr).toBe(0);
    const objects = listObjects('pki', true);
    for (const label of ['pki-ssh-user', 'pki-ssh-host']) {
      const key = objects.find((o) => o.label === label && o.header.startsWith('Private Key Object; EC'));
      expect(key?.access.split(', '), label).toEqual(expect.arrayContaining(['sensitive', 'never extractable']));
    }
    const ssh = join(home, 'ssh');
    expect(readdirSync(ssh).sort()).toEqual(['revoked_keys', 'ssh_host_ca_key.pkcs11', 'ssh_host_ca_key.pub', 'ssh_user_ca_key.pkcs11', 'ssh_user_ca_key.pub']);
    for (const f of filesUnder(ssh)) expect(readFileSync(f).toString('latin1')).not.toMatch(/PRIVATE KEY|735194/);

    const key = join(root, 'id_ed25519');
    peer('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'alice', '-f', key]);
    const signed = run(['ssh', 'sign', '--user', '--principal', 'alice', '--dir', home, `${key}.pub`]);
    expect(signed.code, signed.stderr).toBe(0);
    const listing = peer('ssh-keygen', ['-L', '-f', `${key}-cert.pub`]);
    const caFingerprint = peer('ssh-keygen', ['-l', '-f', join(ssh, 'ssh_user_ca_key.pub')]).split(' ')[1]!;
    expect(listing).toContain(`Signing CA: ECDSA ${caFingerprint} (using ecdsa-sha2-nistp256)`);
    expect(listing).toMatch(/Principals:\s+alice/);

    // OpenSSH itself checks the CA's signature: ssh-keygen -Y verify with a cert-authority line.
    const message = join(root, 'message');
    writeFileSync(message, 'signed with a certificate from the token CA\n');
    peer('ssh-keygen', ['-Y', 'sign', '-f', `${key}-cert.pub`, '-n', 'file', message]);
    const verify = (caPub: string) => {
      const allowed = join(root, 'allowed_signers');
      writeFileSync(allowed, `alice cert-authority ${readFileSync(caPub, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
      return runPeer('ssh-keygen', ['-Y', 'verify', '-f', allowed, '-I', 'alice', '-n', 'file', '-s', `${message}.sig`], { input: readFileSync(message) });
    };
    expect(verify(join(ssh, 'ssh_user_ca_key.pub')).status).toBe(0);
    expect(verify(join(ssh, 'ssh_host_ca_key.pub')).status).not.toBe(0);
  });
});

describe('refusals: one line, nothing written, the PIN never shown', () => {
  it('a wrong PIN in the pin file: one line naming the PIN file, exit 1, the home unchanged', () => {
    const before = snapshotTree(home);
    writeFileSync(pinFile, '999999\n');
    try {
      const r = run(['generate', 'web', 'main', '--dir', home]);
      const line = expectOneLineError(r);
      expect(line).toMatch(/the PIN in .*pin is not the user PIN of token "pki"/);
      expect(r.stderr + r.stdout).not.toMatch(/999999|735194/);
      const bob = join(root, 'id_bob');
      peer('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bob', '-f', bob]);
      const ssh = run(['ssh', 'sign', '--user', '--principal', 'bob', '--dir', home, `${bob}.pub`]);
      expect(expectOneLineError(ssh)).toMatch(/PIN/);
    } finally {
      writeFileSync(pinFile, `${PIN}\n`);
    }
    expect(snapshotTree(home)).toBe(before);
    expect(statSync(pinFile).size).toBe(PIN.length + 1);
  });

  it('init with a wrong PIN leaves no CA home behind', () => {
    const bad = join(root, 'bad-pin');
    writeFileSync(bad, '000000\n');
    initToken('spare');
    const dir = join(root, 'wrong-pin-home');
    expect(expectOneLineError(run(['init', '--dir', dir, '--kms', kmsUri('spare', bad)]))).toMatch(/not the user PIN/);
    expect(existsSync(dir)).toBe(false);
    expect(listObjects('spare', true)).toEqual([]);
  });

  it('pin-value in the URI is a usage error (exit 2) that does not echo the PIN', () => {
    const dir = join(root, 'pin-value');
    const r = run(['init', '--dir', dir, '--kms', `pkcs11:token=pki?module-path=${MODULE}&pin-value=864213`]);
    expect(expectOneLineError(r, 2)).toMatch(/pin-value/);
    expect(r.stderr + r.stdout).not.toContain('864213');
    expect(existsSync(dir)).toBe(false);
    const ssh = run(['ssh', 'init', '--dir', dir, '--kms', `pkcs11:token=pki?pin-value=864213&module-path=${MODULE}`]);
    expect(expectOneLineError(ssh, 2)).toMatch(/pin-value/);
    expect(ssh.stderr).not.toContain('864213');
  });

  it.each([
    ['an unknown token', () => kmsUri('nope'), /no token labelled "nope" \(it has .*"pki"/],
    ['a missing module', () => `pkcs11:token=pki?module-path=/usr/lib/nope/libnope.so&pin-source=file:${pinFile}`, /module \/usr\/lib\/nope\/libnope.so does not exist/],
    ['a missing PIN file', () => kmsUri('pki', join(root, 'no-such-pin')), /PIN file .*no-such-pin does not exist/],
    ['an attribute pki does not use', () => `pkcs11:token=pki;slot-id=3?module-path=${MODULE}&pin-source=file:${pinFile}`, /attribute "slot-id"/],
    ['an object name (pki names its keys)', () => `pkcs11:token=pki;object=mine?module-path=${MODULE}&pin-source=file:${pinFile}`, /names the token only/],
  ])('%s: one line, nothing written', (_what, uri, message) => {
    const dir = join(root, 'refused');
    const r = run(['init', '--dir', dir, '--kms', uri()]);
    expect(r.code).not.toBe(0);
    expect(expectOneLineError(r, r.code)).toMatch(message);
    expect(existsSync(dir)).toBe(false);
  });
});
