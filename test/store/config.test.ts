import { describe, expect, it } from 'vitest';
import { clockSkewMs, defaultConfig, parseConfig } from '../../src/store/config.js';

const valid = { version: 1, name: 'pki', key: { kty: 'EC', crv: 'P-256' }, validity: { root: '10y', intermediate: '5y', leaf: '90d' } };
const withField = (patch: Record<string, unknown>) => JSON.stringify({ ...valid, ...patch });

function refusal(text: string): string {
  try {
    parseConfig(text, 'pki.json');
  } catch (e) {
    return `${(e as { code: string }).code} ${(e as Error).message}`;
  }
  return 'accepted';
}

describe('pki.json', () => {
  it('accepts what init writes, with defaults filled in', () => {
    const written = defaultConfig('acme', { kty: 'RSA', size: 3072 }, { root: '10y', intermediate: '5y' });
    expect(parseConfig(JSON.stringify(written), 'pki.json')).toEqual(written);
    const withCrl = parseConfig(withField({ crl: {}, nameConstraints: { permittedDns: ['example.com'] } }), 'pki.json');
    expect(withCrl.crl).toEqual({ distributionPoints: [], nextUpdate: '7d' });
    expect(withCrl.nameConstraints?.permittedDns).toEqual(['example.com']);
    expect(withCrl.nameConstraints?.excludedIp).toEqual([]);
    expect(clockSkewMs(withCrl)).toBe(60_000);
    expect(clockSkewMs(parseConfig(withField({ clockSkew: '0s' }), 'pki.json'))).toBe(0);
  });

  it.each([
    ['failNotJson', '{', /is not valid JSON/],
    ['failTopLevel', '[]', /\(top level\): must be an object/],
    ['failVersion', withField({ version: 2 }), /pki\.json: version: must be 1/],
    ['failUnknownField', withField({ extra: true }), /unknown field "extra"/],
    ['failName', withField({ name: '' }), /name: must be 1 to 40 characters/],
    ['failKty', withField({ key: { kty: 'DSA' } }), /key\.kty: must be one of "EC", "RSA", "OKP"/],
    ['failSize', withField({ key: { kty: 'RSA', size: 2048.5 } }), /key\.size: must be an integer/],
    ['failWeakRsa', withField({ key: { kty: 'RSA', size: 1024 } }), /ERR_WEAK_KEY/],
    ['failDuration', withField({ validity: { root: '10y', intermediate: '5y', leaf: 'soon' } }), /validity\.leaf: must be a duration/],
    ['failCrlUrl', withField({ crl: { distributionPoints: ['ftp://x'] } }), /crl\.distributionPoints\.0: must be an http\(s\) URL/],
    ['failTooManyUrls', withField({ ocsp: { urls: Array(5).fill('http://ocsp.example') } }), /ocsp\.urls: must have at most 4 entries/],
    ['failSkew', withField({ clockSkew: '2d' }), /clockSkew: must be a duration from 0s to 1d/],
    ['failConstraintType', withField({ nameConstraints: { permittedDns: 'example.com' } }), /nameConstraints\.permittedDns: must be an array/],
  ])('%s', (_name, text, message) => {
    const outcome = refusal(text);
    expect(outcome).toMatch(/^ERR_(INVALID_CONFIG|WEAK_KEY) /);
    expect(outcome).toMatch(message);
  });
});
