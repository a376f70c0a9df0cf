/**
 * Issue 11, point 1 (name constraints along a path, RFC 5280 §4.2.1.10, §6.1.3 (b)/(c)): checkPathNameConstraints
 * on paths made with the core API (DNS and IP constraints, as `pki init --permit-…` writes them) and with openssl
 * (email, URI, directoryName and registeredID constraints, a 16-octet IPv4-mapped SAN, a self-issued
 * intermediate with a SAN, an unreadable extension). DNS and IP verdicts are compared with `openssl verify`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { checkPathNameConstraints } from '../../../src/core/verify/path-name-constraints.js';
import type { CheckOutcome } from '../../../src/core/verify/types.js';
import type { CertificateFields } from '../../../src/core/x509/certificate-fields.js';
import { NO_NAME_CONSTRAINTS } from '../../../src/core/x509/name-constraints.js';
import { runPeer } from '../../helpers/peers.js';
import { makeCa, makeLeaf, makeRoot, opensslCert, workDir, writePem, type TestCert } from './sub-check-fixtures.js';

let dir: string;
let root: TestCert;
/** Permits example.com and 10.0.0.0/8, fd00::/8; excludes bad.example.com, 10.9.0.0/16. */
let constrained: TestCert;
beforeAll(() => {
  dir = workDir();
  root = makeRoot('nc test root');
  constrained = makeCa(root, 'pki Intermediate CA', {
    nameConstraints: { ...NO_NAME_CONSTRAINTS, permittedDns: ['example.com'], excludedDns: ['bad.example.com'], permittedIp: ['10.0.0.0/8', 'fd00::/8'], excludedIp: ['10.9.0.0/16'] },
  });
});

const fields = (...certs: TestCert[]): CertificateFields[] => certs.map((c) => c.fields);

function failure(outcome: CheckOutcome) {
  if (outcome.ok) throw new Error(`expected a failure, got ok: ${outcome.detail}`);
  return outcome.failure;
}

/** openssl verify's verdict on leaf ← intermediates… ← root (the certificates are valid now). */
function opensslVerifies(leaf: TestCert, intermediates: TestCert[], anchor: TestCert): boolean {
  const id = Math.random().toString(36).slice(2);
  const args = ['verify', '-x509_strict', '-CAfile', writePem(dir, `${id}-root.crt`, 'CERTIFICATE', anchor.der)];
  intermediates.forEach((c, i) => args.push('-untrusted', writePem(dir, `${id}-int${i}.crt`, 'CERTIFICATE', c.der)));
  return runPeer('openssl', [...args, writePem(dir, `${id}-leaf.crt`, 'CERTIFICATE', leaf.der)]).status === 0;
}

describe('DNS and IP constraints (pki init --permit-dns/--exclude-dns/--permit-ip/--exclude-ip)', () => {
  it.each<[string, { cn?: string; sans?: string[] }]>([
    ['permitted name', { cn: 'api', sans: ['api.example.com'] }],
    ['the permitted domain itself', { sans: ['example.com'] }],
    ['wildcard under the permitted domain', { sans: ['*.api.example.com'] }],
    ['permitted IPv4 and IPv6', { sans: ['api.example.com', '10.1.2.3', 'fd00::5'] }],
    ['CN that is no host name, no SAN', { cn: 'alice' }],
    ['CN-only leaf inside', { cn: 'db.example.com' }],
    ['CN outside but SANs present (the CN is not a name then)', { cn: 'db.other.org', sans: ['db.example.com'] }],
  ])('ok: %s (openssl agrees)', (_name, spec) => {
    const leaf = makeLeaf(constrained, spec);
    const outcome = checkPathNameConstraints(fields(leaf, constrained, root));
    expect(outcome).toMatchObject({ ok: true, name: 'nameConstraints', detail: 'every name below CN=pki Intermediate CA is within its name constraints' });
    expect(opensslVerifies(leaf, [constrained], root)).toBe(true);
  });

  it.each<[string, { cn?: string; sans?: string[] }, string, boolean]>([
    ['DNS outside', { cn: 'db', sans: ['db.other.org'] }, 'db.other.org is outside the permitted DNS names of CN=pki Intermediate CA (example.com)', false],
    ['DNS excluded wins over permitted', { cn: 'x', sans: ['x.bad.example.com'] }, 'x.bad.example.com is within the excluded DNS names of CN=pki Intermediate CA (bad.example.com)', false],
    ['wildcard covering an excluded name', { cn: 'w', sans: ['*.example.com'] }, '', true],
    ['IPv4 outside', { cn: 'ip', sans: ['api.example.com', '192.168.1.1'] }, '192.168.1.1 is outside the permitted IP addresses of CN=pki Intermediate CA (10.0.0.0/8, fd00::/8)', false],
    ['IPv4 excluded', { cn: 'ip', sans: ['10.9.3.4'] }, '10.9.3.4 is within the excluded IP addresses of CN=pki Intermediate CA (10.9.0.0/16)', false],
    ['IPv6 outside', { cn: 'ip6', sans: ['2001:db8::1'] }, '2001:db8::1 is outside the permitted IP addresses of CN=pki Intermediate CA (10.0.0.0/8, fd00::/8)', false],
    ['CN-only leaf outside', { cn: 'db.other.org' }, 'db.other.org (the common name, read as a host name: the certificate has no SAN) is outside the permitted DNS names of CN=pki Intermediate CA (example.com)', false],
  ])('fails: %s', (name, spec, message, excludedWildcard) => {
    if (excludedWildcard) {
      // *.example.com stands for bad.example.com too: excluded (openssl checks it only as the literal string).
      const ca = makeCa(root, 'wild CA', { nameConstraints: { ...NO_NAME_CONSTRAINTS, excludedDns: ['bad.example.com'] } });
      const leaf = makeLeaf(ca, spec);
      const f = failure(checkPathNameConstraints(fields(leaf, ca, root)));
      expect([f.code, f.message]).toEqual(['ERR_NAME_CONSTRAINTS', '*.example.com is within the excluded DNS names of CN=wild CA (bad.example.com)']);
      return;
    }
    const leaf = makeLeaf(constrained, spec);
    const f = failure(checkPathNameConstraints(fields(leaf, constrained, root)));
    expect(f.code).toBe('ERR_NAME_CONSTRAINTS');
    expect(f.message).toBe(message);
    expect(f.certificate).toBe(spec.cn !== undefined ? `CN=${spec.cn}` : '');
    expect(f.hint).toMatch(/name constraints/);
    expect(opensslVerifies(leaf, [constrained], root), name).toBe(false);
  });

  it('a form without permitted subtrees is unconstrained (DNS-only constraints leave IP SANs alone)', () => {
    const ca = makeCa(root, 'dns-only CA', { nameConstraints: { ...NO_NAME_CONSTRAINTS, permittedDns: ['example.com'] } });
    expect(checkPathNameConstraints(fields(makeLeaf(ca, { sans: ['a.example.com', '192.168.1.1'] }), ca, root)).ok).toBe(true);
  });

  it("the trust anchor's constraints apply to every certificate below it (as openssl and Go apply them)", () => {
    const ncRoot = makeRoot('constrained root', { nameConstraints: { ...NO_NAME_CONSTRAINTS, permittedDns: ['example.com'] } });
    const plain = makeCa(ncRoot, 'plain CA');
    const leaf = makeLeaf(plain, { cn: 'db', sans: ['db.other.org'] });
    expect(failure(checkPathNameConstraints(fields(leaf, plain, ncRoot))).message).toBe('db.other.org is outside the permitted DNS names of CN=constrained root (example.com)');
    expect(opensslVerifies(leaf, [plain], ncRoot)).toBe(false);
  });

  it('constraints of two CAs both apply (the intersection)', () => {
    const ncRoot = makeRoot('constrained root 2', { nameConstraints: { ...NO_NAME_CONSTRAINTS, permittedDns: ['example.com', 'example.org'] } });
    const ca = makeCa(ncRoot, 'org CA', { nameConstraints: { ...NO_NAME_CONSTRAINTS, permittedDns: ['example.org'] } });
    expect(checkPathNameConstraints(fields(makeLeaf(ca, { sans: ['a.example.org'] }), ca, ncRoot)).ok).toBe(true);
    expect(failure(checkPathNameConstraints(fields(makeLeaf(ca, { sans: ['a.example.com'] }), ca, ncRoot))).message).toBe('a.example.com is outside the permitted DNS names of CN=org CA (example.org)');
  });

  it('a 16-octet IPv4-mapped SAN is held to IPv4 constraints', () => {
    const leaf = opensslCert(dir, constrained, '/CN=mapped', ['subjectAltName = DNS:m.example.com, IP:::ffff:10.9.0.1']);
    expect(failure(checkPathNameConstraints(fields(leaf, constrained, root))).message).toBe('::ffff:a09:1 is within the excluded IP addresses of CN=pki Intermediate CA (10.9.0.0/16)');
  });

  it('no constraints in the path', () => {
    const ca = makeCa(root, 'free CA');
    expect(checkPathNameConstraints(fields(makeLeaf(ca, { sans: ['any.where'] }), ca, root))).toEqual({ ok: true, name: 'nameConstraints', detail: 'no name constraints in the path' });
  });
});

describe('self-issued certificates (RFC 5280 §6.1.3 (b))', () => {
  it('a self-issued intermediate (key rollover) is exempt; the same certificate under another name is not', () => {
    const rollover = opensslCert(dir, constrained, '/CN=pki Intermediate CA', ['subjectAltName = DNS:other.org'], { ca: true });
    const leaf = makeLeaf(rollover, { sans: ['a.example.com'] });
    expect(checkPathNameConstraints(fields(leaf, rollover, constrained, root)).ok).toBe(true);
    const renamed = opensslCert(dir, constrained, '/CN=sub CA', ['subjectAltName = DNS:other.org'], { ca: true });
    const f = failure(checkPathNameConstraints(fields(makeLeaf(renamed, { sans: ['a.example.com'] }), renamed, constrained, root)));
    expect([f.message, f.certificate]).toEqual(['other.org is outside the permitted DNS names of CN=pki Intermediate CA (example.com)', 'CN=sub CA']);
  });

  it('a self-issued leaf is checked all the same', () => {
    const leaf = makeLeaf(constrained, { cn: 'pki Intermediate CA', sans: ['db.other.org'] });
    expect(Buffer.from(leaf.fields.issuerDer).equals(leaf.fields.subjectDer)).toBe(true);
    expect(failure(checkPathNameConstraints(fields(leaf, constrained, root))).code).toBe('ERR_NAME_CONSTRAINTS');
  });
});

describe('email, URI and directoryName constraints (made with openssl)', () => {
  let mixed: TestCert;
  beforeAll(() => {
    mixed = opensslCert(dir, root, '/CN=mixed CA', ['nameConstraints = critical,permitted;URI:.example.com,permitted;email:example.com,excluded;email:bad@example.com,permitted;DNS:example.com'], { ca: true });
  });

  it.each<[string, string, string | null]>([
    ['URI under the permitted host', 'URI:spiffe://svc.example.com/ns/redis', null],
    ['URI elsewhere', 'URI:https://other.org/x', 'https://other.org/x is outside the permitted URIs of CN=mixed CA (.example.com)'],
    ['URI without a host', 'URI:urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66', 'urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66 is outside the permitted URIs of CN=mixed CA (.example.com)'],
    ['email at the permitted host', 'email:Ops@Example.COM', null],
    ['email excluded mailbox', 'email:bad@example.com', 'bad@example.com is within the excluded email addresses of CN=mixed CA (bad@example.com)'],
    ['email elsewhere', 'email:ops@other.org', 'ops@other.org is outside the permitted email addresses of CN=mixed CA (example.com)'],
  ])('%s', (_name, san, message) => {
    const leaf = opensslCert(dir, mixed, '/CN=leaf', [`subjectAltName = DNS:a.example.com, ${san}`]);
    const outcome = checkPathNameConstraints(fields(leaf, mixed, root));
    if (message === null) expect(outcome.ok).toBe(true);
    else expect([failure(outcome).code, failure(outcome).message]).toEqual(['ERR_NAME_CONSTRAINTS', message]);
  });

  it('the subject emailAddress is held to email constraints when there is no SAN', () => {
    const leaf = opensslCert(dir, mixed, '/CN=person/emailAddress=ops@other.org', []);
    expect(failure(checkPathNameConstraints(fields(leaf, mixed, root))).message).toBe('ops@other.org is outside the permitted email addresses of CN=mixed CA (example.com)');
  });

  it('directoryName: the subject must lie under a permitted DN (case-insensitive), never under an excluded one', () => {
    const ca = opensslCert(dir, root, '/CN=dn CA', ['nameConstraints = critical,permitted;dirName:dir_ok,excluded;dirName:dir_bad', '[dir_ok]', 'O = Acme', '[dir_bad]', 'O = Acme', 'OU = Lab'], { ca: true });
    expect(checkPathNameConstraints(fields(opensslCert(dir, ca, '/O=ACME/CN=web', ['subjectAltName = DNS:web']), ca, root)).ok).toBe(true);
    const outside = failure(checkPathNameConstraints(fields(opensslCert(dir, ca, '/O=Other/CN=web', ['subjectAltName = DNS:web']), ca, root)));
    expect(outside.message).toBe('CN=web,O=Other is outside the permitted directory names of CN=dn CA (O=Acme)');
    const lab = failure(checkPathNameConstraints(fields(opensslCert(dir, ca, '/O=Acme/OU=Lab/CN=web', ['subjectAltName = DNS:web']), ca, root)));
    expect(lab.message).toBe('CN=web,OU=Lab,O=Acme is within the excluded directory names of CN=dn CA (OU=Lab,O=Acme)');
  });

  it('a form pki cannot check (registeredID) fails closed when a certificate below carries that form', () => {
    const ca = opensslCert(dir, root, '/CN=rid CA', ['nameConstraints = critical,permitted;RID:1.2.3.4,permitted;DNS:example.com'], { ca: true });
    expect(checkPathNameConstraints(fields(opensslCert(dir, ca, '/CN=plain', ['subjectAltName = DNS:a.example.com']), ca, root)).ok).toBe(true);
    const f = failure(checkPathNameConstraints(fields(opensslCert(dir, ca, '/CN=rid', ['subjectAltName = DNS:a.example.com, RID:1.2.3.4']), ca, root)));
    expect([f.code, f.message]).toEqual(['ERR_NAME_CONSTRAINTS', 'pki cannot check names of the form registeredID, and the certificate has one under the registeredID constraints of CN=rid CA']);
  });

  it('an unreadable NameConstraints extension (a 5-octet iPAddress subtree) is refused', () => {
    const ca = opensslCert(dir, root, '/CN=broken CA', ['2.5.29.30 = critical,DER:300ba009300787050a000000ff'], { ca: true });
    const f = failure(checkPathNameConstraints(fields(opensslCert(dir, ca, '/CN=leaf', ['subjectAltName = DNS:a.example.com']), ca, root)));
    expect([f.code, f.message, f.certificate]).toEqual(['ERR_NAME_CONSTRAINTS', 'the name constraints of CN=broken CA cannot be used: an iPAddress subtree has 5 octets, not 8 (IPv4) or 32 (IPv6)', 'CN=broken CA']);
  });
});
