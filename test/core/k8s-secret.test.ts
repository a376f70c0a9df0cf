import { describe, expect, it } from 'vitest';
import { buildK8sSecret, renderK8sSecretYaml } from '../../src/core/export/k8s-secret.js';
import { expectPkiError } from '../helpers/errors.js';

const input = {
  name: 'redis-main-tls',
  tlsCrt: '-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n',
  tlsKey: '-----BEGIN PRIVATE KEY-----\nBBB\n-----END PRIVATE KEY-----\n',
  caCrt: '-----BEGIN CERTIFICATE-----\nCCC\n-----END CERTIFICATE-----\n',
  commonName: 'redis',
  dnsNames: ['redis', 'localhost'],
  ipAddresses: ['127.0.0.1'],
  issuerName: 'pki Intermediate CA',
  serial: '0a1b',
  notAfter: new Date('2027-01-02T03:04:05Z'),
};

describe('k8s Secret rendering', () => {
  it('round-trips data and carries cert-manager annotations', () => {
    const s = buildK8sSecret({ ...input, namespace: 'prod' });
    expect(Buffer.from(s.data['tls.crt'], 'base64').toString()).toBe(input.tlsCrt);
    expect(Buffer.from(s.data['tls.key'], 'base64').toString()).toBe(input.tlsKey);
    expect(Buffer.from(s.data['ca.crt'], 'base64').toString()).toBe(input.caCrt);
    expect(s.metadata.annotations['cert-manager.io/alt-names']).toBe('redis,localhost');
    expect(s.metadata.annotations['pki.dev/not-after']).toBe('2027-01-02T03:04:05.000Z');
    const yaml = renderK8sSecretYaml(s);
    expect(yaml).toContain('type: "kubernetes.io/tls"\n');
    expect(yaml).toContain('  namespace: "prod"\n');
    expect(yaml).toContain(`  "tls.key": "${s.data['tls.key']}"\n`);
    // every value line is a quoted scalar: parse the simple shape back and compare
    const back = Object.fromEntries([...yaml.matchAll(/^ {2}"(tls\.crt|tls\.key|ca\.crt)": "([^"]*)"$/gm)].map((m) => [m[1], m[2]]));
    expect(back).toEqual(s.data);
  });

  it('omits namespace unless given and refuses non-DNS-1123 names', () => {
    expect(renderK8sSecretYaml(buildK8sSecret(input))).not.toContain('namespace');
    expectPkiError(() => buildK8sSecret({ ...input, name: 'Redis_Main' }), 'ERR_INVALID_NAME');
    expectPkiError(() => buildK8sSecret({ ...input, namespace: 'x'.repeat(64) }), 'ERR_INVALID_NAME');
  });
});
