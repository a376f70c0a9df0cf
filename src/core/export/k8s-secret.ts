/**
 * A `kubernetes.io/tls` Secret for `pki export --k8s-secret` (issue 12): pure rendering, YAML written by
 * hand (a fixed shape; every string double-quoted, so no YAML type guessing) or the same object for --json.
 * Annotations use cert-manager's names so its users' tooling reads them; pki.dev/* are pki's own.
 */
import { PkiError } from '../errors.js';

export interface K8sSecretInput {
  readonly name: string;
  readonly namespace?: string;
  /** PEM: leaf + intermediate, the private key, the root. */
  readonly tlsCrt: string;
  readonly tlsKey: string;
  readonly caCrt: string;
  readonly commonName: string;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly issuerName: string;
  readonly serial: string;
  readonly notAfter: Date;
}

export interface K8sSecret {
  readonly apiVersion: 'v1';
  readonly kind: 'Secret';
  readonly type: 'kubernetes.io/tls';
  readonly metadata: { name: string; namespace?: string; labels: Record<string, string>; annotations: Record<string, string> };
  readonly data: { 'tls.crt': string; 'tls.key': string; 'ca.crt': string };
}

const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Kubernetes object names (and namespaces: labels, ≤ 63) are DNS-1123 subdomains, ≤ 253 characters. */
export function assertDns1123(value: string, what: string, max = 253): void {
  if (value.length === 0 || value.length > max || !DNS1123.test(value)) {
    throw new PkiError('ERR_INVALID_NAME', `${what} "${value}" is not a valid Kubernetes name`, { hint: `lower-case letters, digits, "-" and ".", at most ${max} characters` });
  }
}

const b64 = (pem: string) => Buffer.from(pem, 'utf8').toString('base64');

export function buildK8sSecret(input: K8sSecretInput): K8sSecret {
  assertDns1123(input.name, 'Secret name');
  if (input.namespace !== undefined) assertDns1123(input.namespace, 'namespace', 63);
  const annotations: Record<string, string> = {
    'cert-manager.io/common-name': input.commonName,
    'cert-manager.io/alt-names': input.dnsNames.join(','),
    'cert-manager.io/ip-sans': input.ipAddresses.join(','),
    'cert-manager.io/issuer-name': input.issuerName,
    'cert-manager.io/issuer-kind': 'pki',
    'pki.dev/serial': input.serial,
    'pki.dev/not-after': input.notAfter.toISOString(),
  };
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: {
      name: input.name,
      ...(input.namespace !== undefined ? { namespace: input.namespace } : {}),
      labels: { 'app.kubernetes.io/managed-by': 'pki' },
      annotations,
    },
    data: { 'tls.crt': b64(input.tlsCrt), 'tls.key': b64(input.tlsKey), 'ca.crt': b64(input.caCrt) },
  };
}

/** JSON string syntax is valid YAML double-quoted syntax, so JSON.stringify quotes every scalar safely. */
const q = (s: string) => JSON.stringify(s);

export function renderK8sSecretYaml(secret: K8sSecret): string {
  const m = secret.metadata;
  const map = (o: Record<string, string>) => Object.entries(o).map(([k, v]) => `    ${q(k)}: ${q(v)}`);
  return [
    `apiVersion: ${q(secret.apiVersion)}`,
    `kind: ${q(secret.kind)}`,
    `type: ${q(secret.type)}`,
    'metadata:',
    `  name: ${q(m.name)}`,
    ...(m.namespace !== undefined ? [`  namespace: ${q(m.namespace)}`] : []),
    '  labels:',
    ...map(m.labels),
    '  annotations:',
    ...map(m.annotations),
    'data:',
    ...Object.entries(secret.data).map(([k, v]) => `  ${q(k)}: ${q(v)}`),
    '',
  ].join('\n');
}
