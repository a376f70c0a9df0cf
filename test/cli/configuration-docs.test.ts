/**
 * Issue 9, point 17: every pki.json field is documented in docs/configuration.md (the file the config
 * errors point to), and `pki init --help` says where the CRL distribution points and OCSP URLs go and
 * what they do.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/store/config.js';
import { pki } from '../helpers/cli.js';

/** A pki.json with every field set; parsed, it also carries every default the schema fills in. */
const FULL = {
  version: 1,
  name: 'acme',
  key: { kty: 'EC', crv: 'P-256', size: 2048 },
  validity: { root: '10y', intermediate: '5y', leaf: '90d' },
  maxSans: 100,
  clockSkew: '1m',
  crl: { distributionPoints: ['http://pki.example.com/intermediate_ca.crl'], nextUpdate: '7d', rootNextUpdate: '1y' },
  ocsp: { urls: ['http://ocsp.example.com'] },
  nameConstraints: { permittedDns: ['example.com'], excludedDns: [], permittedIp: [], excludedIp: [], permittedEmail: [], permittedUri: [] },
};

function fieldPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => fieldPaths(v, prefix ? `${prefix}.${k}` : k));
}

describe('docs/configuration.md', () => {
  const doc = readFileSync(resolve(import.meta.dirname, '../../docs/configuration.md'), 'utf8');

  it('has a row for every pki.json field the schema accepts', () => {
    const config = parseConfig(JSON.stringify({ ...FULL, key: { kty: 'RSA', size: 2048 } }), 'pki.json');
    const paths = new Set([...fieldPaths(FULL), ...fieldPaths(config)]);
    expect(paths.size).toBeGreaterThanOrEqual(20);
    const undocumented = [...paths].filter((p) => !doc.includes(`| \`${p}\` |`));
    expect(undocumented).toEqual([]);
  });

  it('describes the root CRL ceremony and the chain file', () => {
    expect(doc).toMatch(/pki crl --root/);
    expect(doc).toMatch(/ssl_crl\s+\S*chain\.crl\.pem/);
    expect(doc).toMatch(/ssl_crl_file = '\S*chain\.crl\.pem'/);
  });
});

describe('pki init --help', () => {
  it('documents crl.distributionPoints, crl.nextUpdate, crl.rootNextUpdate and ocsp.urls, and points to docs/configuration.md', () => {
    const r = pki(['init', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/"distributionPoints": \[.*\].*stamped as CRL Distribution Points/);
    expect(r.stdout).toMatch(/"ocsp": \{ "urls": \[.*\] \}\s+stamped as Authority Information Access \(OCSP\)/);
    expect(r.stdout).toMatch(/"rootNextUpdate": "1y"/);
    expect(r.stdout).toMatch(/docs\/configuration\.md/);
    expect(r.stdout).toMatch(/chain\.crl\.pem/);
  });
});
