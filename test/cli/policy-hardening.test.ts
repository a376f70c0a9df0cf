/**
 * Issue 9 points 12–14 through the CLI: issuance-policy hardening (IPv4-mapped IPv6 SANs, RSA exponents,
 * explicit EC parameters, signature algorithm vs key type, CNs under DNS name constraints, SAN and input
 * caps), key usages and identifiers of issued leaves, and terminal-safe printing of names from requests,
 * certificates and file names. Refusals assert the --json error code, exit 1 and an unchanged CA home.
 */
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { childrenOf, encodingOf, readRootTlv } from '../../src/core/der/reader.js';
import { algorithmIdentifier, integer, nullValue, sequence, tlv } from '../../src/core/der/writer.js';
import { encodeSubjectName } from '../../src/core/x509/names.js';
import { decodePem, encodePem } from '../../src/core/der/pem.js';
import { initCa, pki, snapshotTree, tempDir, type CliResult } from '../helpers/cli.js';
import { peer, runPeer } from '../helpers/peers.js';

let work: string;
beforeAll(() => {
  work = tempDir('pki-hardening-');
});

let counter = 0;
const never = () => join(work, `never-${++counter}.crt`);
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];

/** An openssl request; `newkey` as for openssl req (or `-key FILE`). */
function opensslCsr(subject: string, extra: string[] = [], newkey: string[] = EC): string {
  const name = `req${++counter}`;
  const out = join(work, `${name}.csr`);
  peer('openssl', ['req', '-new', ...newkey, ...(newkey.includes('-key') ? [] : ['-nodes', '-keyout', join(work, `${name}.key`)]), '-out', out, '-subj', subject, ...extra]);
  return out;
}

/** Runs `pki …args --json`: exit 1, the error code, nothing changed in the CA home. */
function expectRefusedWith(dir: string, args: string[], code: string): CliResult {
  const before = snapshotTree(dir);
  const r = pki([...args, '--dir', dir, '--json']);
  expect(r.code, r.stderr).toBe(1);
  expect((JSON.parse(r.stdout) as { error: { code: string } }).error.code, r.stderr).toBe(code);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(snapshotTree(dir)).toBe(before);
  return r;
}

const certText = (file: string) => peer('openssl', ['x509', '-in', file, '-noout', '-text']);

describe('key usages of issued leaves (point 13)', () => {
  it('an RSA client leaf carries keyUsage digitalSignature alone; the RSA service (peer) leaf keeps keyEncipherment', () => {
    const dir = initCa(['--kty', 'RSA']);
    const r = pki(['generate', 'redis', 'main', '--dir', dir, '--kty', 'RSA']);
    expect(r.code, r.stderr).toBe(0);
    const folder = join(dir, 'services', 'redis', 'main', 'certs');
    expect(certText(join(folder, 'client.crt'))).toMatch(/Key Usage: critical\s+Digital Signature\n/);
    expect(certText(join(folder, 'redis.crt'))).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment\n/);
    const v = runPeer('openssl', ['verify', '-purpose', 'sslclient', '-CAfile', join(folder, 'ca.crt'), '-untrusted', join(folder, 'client.crt'), join(folder, 'client.crt')]);
    expect(v.stdout, v.stderr).toMatch(/: OK\n$/);
  });

  it('sign --profile client of an RSA request: digitalSignature alone', () => {
    const dir = initCa();
    const out = join(work, 'rsa-client.crt');
    const r = pki(['sign', opensslCsr('/CN=alice', [], ['-newkey', 'rsa:2048']), '--profile', 'client', '--out', out, '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(certText(out)).toMatch(/Key Usage: critical\s+Digital Signature\n/);
  });
  it('a request asking for keyEncipherment under --profile client is refused as beyond the profile (ERR_POLICY)', () => {
    const dir = initCa();
    const csr = opensslCsr('/CN=bob', ['-addext', 'keyUsage=critical,digitalSignature,keyEncipherment'], ['-newkey', 'rsa:2048']);
    const r = expectRefusedWith(dir, ['sign', csr, '--profile', 'client', '--out', never()], 'ERR_POLICY');
    expect(r.stderr).toMatch(/key usage keyEncipherment, beyond the client profile/);
  });
});

/** The request in `csrFile` with its signatureAlgorithm replaced by `algorithm` (DER), signature bytes kept. */
function relabelCsr(csrFile: string, algorithm: Buffer): string {
  const der = decodePem(readFileSync(csrFile, 'utf8'))[0]!.der;
  const [info, , signature] = childrenOf(der, readRootTlv(der));
  const out = join(work, `relabelled-${++counter}.csr`);
  writeFileSync(out, encodePem('CERTIFICATE REQUEST', sequence(encodingOf(der, info!), algorithm, encodingOf(der, signature!))));
  return out;
}

describe('keys and signatures of requests (point 12)', () => {
  let ca: string;
  beforeAll(() => {
    ca = initCa();
  });

  it('an RSA key with public exponent 3 is refused (ERR_WEAK_KEY)', () => {
    const key = join(work, 'e3.key');
    peer('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-pkeyopt', 'rsa_keygen_pubexp:3', '-out', key]);
    const r = expectRefusedWith(ca, ['sign', opensslCsr('/CN=e3.example.com', [], ['-key', key]), '--out', never()], 'ERR_WEAK_KEY');
    expect(r.stderr).toMatch(/RSA public exponent 3 is not allowed/);
  });

  it('an RSA key with an even public exponent (65538) is refused as a weak key, before its signature is looked at', () => {
    const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
    const even = createPublicKey({ key: { ...jwk, e: Buffer.from([0x01, 0x00, 0x02]).toString('base64url') }, format: 'jwk' }).export({ type: 'spki', format: 'der' });
    // No private key exists for an even exponent: the "signature" is random bytes.
    const info = sequence(integer(0), encodeSubjectName({ commonName: 'even.example.com' }), even, tlv(0xa0, Buffer.alloc(0)));
    const file = join(work, 'even.csr');
    writeFileSync(file, encodePem('CERTIFICATE REQUEST', sequence(info, algorithmIdentifier('1.2.840.113549.1.1.11', nullValue()), tlv(0x03, Buffer.concat([Buffer.from([0]), randomBytes(256)])))));
    const r = expectRefusedWith(ca, ['sign', file, '--out', never()], 'ERR_WEAK_KEY');
    expect(r.stderr).toMatch(/RSA public exponent 65538 is not allowed/);
  });

  it('an EC key with explicit curve parameters is refused (ERR_UNSUPPORTED_KEY); the same curve named is signed', () => {
    const key = join(work, 'explicit.key');
    peer('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-pkeyopt', 'ec_param_enc:explicit', '-out', key]);
    const r = expectRefusedWith(ca, ['sign', opensslCsr('/CN=explicit.example.com', [], ['-key', key]), '--out', never()], 'ERR_UNSUPPORTED_KEY');
    expect(r.stderr).toMatch(/explicit parameters, not as a named curve/);
    const named = join(work, 'named.key');
    peer('openssl', ['pkey', '-in', key, '-ec_param_enc', 'named_curve', '-out', named]);
    const ok = pki(['sign', opensslCsr('/CN=named.example.com', [], ['-key', named]), '--out', join(work, 'named.crt'), '--dir', ca]);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it.each([
    ['an RSA request relabelled ecdsa-with-SHA256', ['-newkey', 'rsa:2048'], algorithmIdentifier('1.2.840.10045.4.3.2'), /signed with ecdsa-with-SHA256, which a RSA 2048 key does not sign with/],
    ['an RSA request relabelled Ed25519', ['-newkey', 'rsa:2048'], algorithmIdentifier('1.3.101.112'), /signed with Ed25519, which a RSA 2048 key/],
    ['an EC request relabelled Ed25519', EC, algorithmIdentifier('1.3.101.112'), /signed with Ed25519, which a EC P-256 key/],
  ])('the signature algorithm must fit the key: %s is refused (ERR_CSR_SIGNATURE)', (_name, newkey, algorithm, pattern) => {
    const csr = relabelCsr(opensslCsr('/CN=mismatch.example.com', [], newkey), algorithm);
    const r = expectRefusedWith(ca, ['sign', csr, '--out', never()], 'ERR_CSR_SIGNATURE');
    expect(r.stderr).toMatch(pattern);
  });
});

describe('names (point 12)', () => {
  it('an IPv4-mapped IPv6 SAN is folded to IPv4: an excluded 10.0.0.0/8 covers ::ffff:10.0.0.1 (request and --san)', () => {
    const ca = initCa(['--exclude-ip', '10.0.0.0/8']);
    for (const san of ['::ffff:10.0.0.1', '::ffff:a00:1']) {
      const r = expectRefusedWith(ca, ['sign', opensslCsr('/CN=mapped', ['-addext', `subjectAltName=IP:${san}`]), '--out', never()], 'ERR_NAME_CONSTRAINTS');
      expect(r.stderr).toMatch(/IP address 10\.0\.0\.1 is outside/);
    }
    expectRefusedWith(ca, ['generate', 'mapped', 'main', '--san', '::ffff:10.1.2.3'], 'ERR_NAME_CONSTRAINTS');
    // Unconstrained, the certificate carries the 4-octet address.
    const out = join(work, 'mapped.crt');
    const ok = pki(['sign', opensslCsr('/CN=mapped', ['-addext', 'subjectAltName=IP:::ffff:192.0.2.1']), '--out', out, '--dir', initCa()]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(peer('openssl', ['x509', '-in', out, '-noout', '-ext', 'subjectAltName'])).toMatch(/IP Address:192\.0\.2\.1\n/);
  });

  describe('a CN that looks like a host name is held to the DNS name constraints', () => {
    let ca: string;
    beforeAll(() => {
      ca = initCa(['--permit-dns', 'example.com', '--exclude-dns', 'secret.example.com']);
    });
    it.each([
      ['not a valid host name (an underscore)', '/CN=evil_host.secret.example.com', [] as string[]],
      ['written with ideographic full stops (UTS #46 reads them as dots)', '/CN=www\u3002example\u3002net', ['-utf8']],
      ['outside the constraints even with a DNS SAN inside them', '/CN=www.example.net', ['-addext', 'subjectAltName=DNS:ok.example.com']],
    ])('refused: a CN %s', (_name, subject, extra) => {
      expectRefusedWith(ca, ['sign', opensslCsr(subject, extra), '--out', never()], 'ERR_NAME_CONSTRAINTS');
    });
    it('a CN that is no host name ("Jane Doe", "alice") is still signed', () => {
      for (const cn of ['Jane Doe', 'alice']) {
        const r = pki(['sign', opensslCsr(`/CN=${cn}`, ['-addext', 'subjectAltName=DNS:jane.example.com']), '--profile', 'client', '--out', join(work, `${cn.replace(' ', '-')}.crt`), '--dir', ca]);
        expect(r.code, r.stderr).toBe(0);
      }
    });
  });
});

describe('caps on SANs and on input size (point 12)', () => {
  let ca: string;
  beforeAll(() => {
    ca = initCa();
  });

  it('a request with 101 SANs is refused (ERR_POLICY); 100 are signed', () => {
    const names = (n: number) => Array.from({ length: n }, (_, i) => `DNS:n${i}.example.com`).join(',');
    expectRefusedWith(ca, ['sign', opensslCsr('/CN=many', ['-addext', `subjectAltName=${names(101)}`]), '--out', never()], 'ERR_POLICY');
    const ok = pki(['sign', opensslCsr('/CN=many', ['-addext', `subjectAltName=${names(100)}`]), '--out', join(work, 'hundred.crt'), '--dir', ca]);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('pki.json maxSans applies to generate, sign and --san; a bad value is ERR_INVALID_CONFIG', () => {
    const dir = initCa();
    const config = join(dir, 'pki.json');
    const original = JSON.parse(readFileSync(config, 'utf8')) as Record<string, unknown>;
    writeFileSync(config, JSON.stringify({ ...original, maxSans: 3 }, null, 2));
    // generate's defaults are redis, localhost, 127.0.0.1, ::1: four names.
    expectRefusedWith(dir, ['generate', 'redis', 'main'], 'ERR_POLICY');
    expectRefusedWith(dir, ['sign', opensslCsr('/CN=x', ['-addext', 'subjectAltName=DNS:a.example,DNS:b.example']), '--san', 'c.example', '--san', 'd.example', '--out', never()], 'ERR_POLICY');
    expect(pki(['generate', 'redis', 'main', '--dir', dir, '--no-client', '--san', 'x.example']).code).toBe(1);
    writeFileSync(config, JSON.stringify({ ...original, maxSans: 0 }, null, 2));
    const bad = pki(['sign', opensslCsr('/CN=x'), '--out', never(), '--dir', dir, '--json']);
    expect(bad.code).toBe(1);
    expect((JSON.parse(bad.stdout) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'ERR_INVALID_CONFIG', message: expect.stringMatching(/maxSans: must be from 1 to 10000/) });
  });

  it('a request file over 1 MiB is refused (ERR_INPUT_TOO_LARGE) even when it holds a valid request', () => {
    const csr = opensslCsr('/CN=big.example.com');
    const big = join(work, 'big.csr');
    writeFileSync(big, readFileSync(csr, 'utf8') + '#'.repeat(1024 * 1024));
    expectRefusedWith(ca, ['sign', big, '--out', never()], 'ERR_INPUT_TOO_LARGE');
  });
});

describe('names from requests, certificates and file names are printed with control characters escaped (point 14)', () => {
  /** What a terminal would act on: ESC, BEL, CR, C1 CSI, line/paragraph separators, a bidi override. */
  const RAW_CONTROL = /[\x1b\x07\r\x9b\u2028\u2029\u202e]/;
  let ca: string;
  beforeAll(() => {
    ca = initCa();
  });

  it('a CN holding "\\x1b[31m" and no SAN: sign refuses it on one escaped line; --json keeps the exact text; inspect prints no raw ESC', () => {
    const csr = opensslCsr('/CN=\x1b[31mred\x07', [], EC);
    const r = expectRefusedWith(ca, ['sign', csr, '--out', never()], 'ERR_INVALID_NAME');
    expect(r.stderr).not.toMatch(RAW_CONTROL);
    expect(r.stderr).toContain('\\x1b[31mred\\x07');
    expect((JSON.parse(r.stdout) as { error: { message: string } }).error.message).toContain('\x1b[31mred\x07');
    const human = pki(['inspect', csr]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).not.toMatch(RAW_CONTROL);
  });

  it('a SAN holding ESC and CR: inspect of the request and the refusal of sign print none of them raw', () => {
    const csr = opensslCsr('/CN=san', ['-addext', 'subjectAltName=DNS:a\x1b[2Jb.example,DNS:c\rd.example']);
    const human = pki(['inspect', csr]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain('a\\x1b[2Jb.example');
    expect(human.stdout).not.toMatch(RAW_CONTROL);
    const json = pki(['inspect', csr, '--json']);
    expect((JSON.parse(json.stdout) as { sans: { dns: string[] } }).sans.dns).toEqual(['a\x1b[2Jb.example', 'c\rd.example']);
    const r = expectRefusedWith(ca, ['sign', csr, '--out', never()], 'ERR_INVALID_SAN');
    expect(r.stderr).not.toMatch(RAW_CONTROL);
  });

  it('a certificate with such SANs (signed by another tool): inspect prints them escaped', () => {
    const csr = opensslCsr('/CN=foreign', ['-addext', 'subjectAltName=DNS:x\x1b]0;pwned\x07.example']);
    const cert = join(work, 'foreign.crt');
    peer('openssl', ['x509', '-req', '-in', csr, '-signkey', csr.replace(/\.csr$/, '.key'), '-copy_extensions', 'copyall', '-days', '1', '-out', cert]);
    const human = pki(['inspect', cert]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain('x\\x1b]0;pwned\\x07.example');
    expect(human.stdout).not.toMatch(RAW_CONTROL);
  });

  it('a file name holding ESC: the error names it escaped', () => {
    const r = pki(['inspect', join(work, 'no\x1b[2Jsuch\rfile.crt'), '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(RAW_CONTROL);
    expect(r.stderr).toContain('no\\x1b[2Jsuch\\x0dfile.crt');
    expect((JSON.parse(r.stdout) as { error: { message: string } }).error.message).toContain('no\x1b[2Jsuch\rfile.crt');
  });

  it('a CN with a C1 CSI and a bidi override that pki signs: sign, list and inspect print them escaped; list --json keeps them exactly, as \\u escapes', () => {
    const out = join(work, 'c1\x1b[1mname.crt');
    const csr = opensslCsr('/CN=ok\u009b31m\u202eevil', ['-utf8', '-addext', 'subjectAltName=DNS:c1.example.com']);
    const signed = pki(['sign', csr, '--out', out, '--dir', ca]);
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stdout + signed.stderr).not.toMatch(RAW_CONTROL);
    const list = pki(['list', '--dir', ca]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('CN=ok\\x9b31m\\u{202e}evil');
    expect(list.stdout).not.toMatch(RAW_CONTROL);
    const inspect = pki(['inspect', out]);
    expect(inspect.stdout).not.toMatch(RAW_CONTROL);
    const json = pki(['list', '--dir', ca, '--json']);
    expect(json.stdout).not.toMatch(RAW_CONTROL);
    const subjects = (JSON.parse(json.stdout) as { subject: string }[]).map((r) => r.subject);
    expect(subjects.some((s) => s.includes('\u009b31m\u202eevil'))).toBe(true);
  });
});
