/**
 * validateCertificatePath on what the core API refuses to make, made by openssl: an unknown critical
 * extension, SHA-1 signatures (RSA and ECDSA, and PSS with SHA-1), RSA-1024 keys. Each failing case asserts
 * the code, the failing certificate and that the message names the cause.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { OpensslFolder, RSA_2048, validate, verdict } from './path-fixtures.js';

const EC_P256 = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'] as const;

describe('openssl-made chains', () => {
  const o = new OpensslFolder();
  let rootKey: string;
  let root: Buffer;
  let leafKey: string;
  // openssl 3.0 x509 -req starts validity at the moment of signing: validate an hour later.
  const now = new Date(Date.now() + 3_600_000);
  const underRoot = (name: string, section: string, signing?: readonly string[], key = leafKey) => o.certificate(name, key, section, { name: 'os-root', key: rootKey }, signing);

  beforeAll(() => {
    rootKey = o.key('os-root', RSA_2048);
    leafKey = o.key('os-leaf', EC_P256);
    root = o.certificate('os-root', rootKey, 'ca', 'self');
  });

  it('a baseline leaf from the same openssl root is valid (so each failure below is its own defect)', () => {
    expect(validate({ leaf: underRoot('os-good', 'leaf'), roots: [root], time: now }).error).toBeNull();
  });

  it('an unknown critical extension: ERR_UNKNOWN_CRITICAL_EXTENSION naming its OID', () => {
    const r = validate({ leaf: underRoot('os-crit', 'leaf_unknown_critical'), roots: [root], time: now });
    expect(r.error).toMatchObject({ code: 'ERR_UNKNOWN_CRITICAL_EXTENSION', certificate: 'CN=os-crit', message: 'unknown critical extension 1.3.6.1.4.1.55555.1' });
  });

  it('a critical certificatePolicies extension is tolerated (no policy processing is asked for)', () => {
    expect(verdict(validate({ leaf: underRoot('os-policy', 'leaf_policy_constraints'), roots: [root], time: now }))).toBe('valid');
  });

  it('SHA-1 signatures: ERR_WEAK_ALGORITHM naming the algorithm (RSA, ECDSA, and RSASSA-PSS with SHA-1)', () => {
    const rsa = validate({ leaf: underRoot('os-sha1', 'leaf', ['-sha1']), roots: [root], time: now });
    expect(rsa.error).toMatchObject({ code: 'ERR_WEAK_ALGORITHM', certificate: 'CN=os-sha1' });
    expect(rsa.error!.message).toBe('signed with sha1WithRSAEncryption: SHA-1 signatures are refused (collisions are practical)');

    const pss = validate({ leaf: underRoot('os-pss-sha1', 'leaf', ['-sha1', '-sigopt', 'rsa_padding_mode:pss']), roots: [root], time: now });
    expect(pss.error).toMatchObject({ code: 'ERR_WEAK_ALGORITHM', certificate: 'CN=os-pss-sha1' });
    expect(pss.error!.message).toMatch(/^signed with RSASSA-PSS: RSASSA-PSS with SHA-1 is refused/);

    const ecRootKey = o.key('os-ec-root', EC_P256);
    const ecRoot = o.certificate('os-ec-root', ecRootKey, 'ca', 'self');
    const ecdsa = validate({ leaf: o.certificate('os-ecdsa-sha1', leafKey, 'leaf', { name: 'os-ec-root', key: ecRootKey }, ['-sha1']), roots: [ecRoot], time: now });
    expect(ecdsa.error).toMatchObject({ code: 'ERR_WEAK_ALGORITHM', message: 'signed with ecdsa-with-SHA1: SHA-1 signatures are refused (collisions are practical)' });
  });

  it("the anchor's own SHA-1 self-signature is not judged (as openssl and Go)", () => {
    const oldKey = o.key('os-sha1-root', EC_P256);
    const oldRoot = o.certificate('os-sha1-root', oldKey, 'ca', 'self', ['-sha1']);
    const leaf = o.certificate('os-under-sha1', leafKey, 'leaf', { name: 'os-sha1-root', key: oldKey });
    expect(validate({ leaf, roots: [oldRoot], time: now }).error).toBeNull();
  });

  it('RSA-1024 keys: ERR_WEAK_KEY, for a leaf and for the anchor', () => {
    const weakKey = o.key('os-weak', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024']);
    const r = validate({ leaf: underRoot('os-weak', 'leaf', ['-sha256'], weakKey), roots: [root], time: now });
    expect(r.error).toMatchObject({ code: 'ERR_WEAK_KEY', certificate: 'CN=os-weak', message: "the certificate's RSA key has 1024 bits, fewer than 2048" });

    const weakRoot = o.certificate('os-weak-root', weakKey, 'ca', 'self');
    const leaf = o.certificate('os-under-weak', leafKey, 'leaf', { name: 'os-weak-root', key: weakKey });
    expect(validate({ leaf, roots: [weakRoot], time: now }).error).toMatchObject({ code: 'ERR_WEAK_KEY', certificate: 'CN=os-weak-root' });
  });
});
