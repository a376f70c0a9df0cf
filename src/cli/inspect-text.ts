/**
 * The human text of `pki inspect` reports, one renderer per kind of object. Shared by `pki inspect FILE`
 * and `pki inspect --tls` (each certificate a server presents is described the same way).
 */
import type { InspectReport } from '../core/inspect/index.js';
import { colors, formatExpiry } from './output.js';

/** The first `max` values, then how many more (a KRL or CRL may hold thousands). */
function firstOf(values: readonly string[], max = 20): string {
  if (values.length === 0) return '—';
  return values.length > max ? `${values.slice(0, max).join(', ')} … and ${values.length - max} more (use --json for all)` : values.join(', ');
}

const list = (values: readonly string[]) => (values.length ? values.join(', ') : '—');

function keyText(key: { type: string; curve?: string; size?: number } | null): string {
  if (!key) return 'unknown (encrypted)';
  return key.type === 'RSA' ? `RSA ${key.size} bits` : `${key.type} ${key.curve ?? ''}`.trim();
}

/** The human form of one report; each kind of object has its renderer below. */
export function renderReport(r: InspectReport, now: Date): string {
  switch (r.type) {
    case 'certificate':
      return renderCertificate(r, now);
    case 'csr':
      return renderCsr(r);
    case 'crl':
      return renderCrl(r, now);
    case 'privateKey':
    case 'publicKey':
      return renderKey(r);
    case 'sshPublicKey':
      return renderSshPublicKey(r);
    case 'sshCertificate':
      return renderSshCertificate(r, now);
    case 'sshKrl':
      return renderKrl(r);
    case 'pkcs12':
      return renderPkcs12(r, now);
  }
}

/** Colours and the aligned `label  value` row every renderer uses. */
function textKit() {
  const c = colors();
  return { c, row: (label: string, value: string) => `  ${c.bold(label.padEnd(22))}${value}` };
}

function renderCertificate(r: Extract<InspectReport, { type: 'certificate' }>, now: Date): string {
  const { c, row } = textKit();
  return [
    `${c.cyan('Certificate')}${r.isCA ? ' (CA)' : ''}`,
    row('Subject', r.subject),
    row('Issuer', r.issuer + (r.selfSigned ? ' (self-signed)' : '')),
    row('Serial', r.serial),
    row('Not before', r.notBefore.replace('T', ' ').replace('.000Z', ' UTC')),
    row('Not after', formatExpiry(r.notAfter, now)),
    row('SANs', list([...r.sans.dns.map((d) => `DNS:${d}`), ...r.sans.ip.map((i) => `IP:${i}`), ...r.sans.email.map((e) => `email:${e}`), ...r.sans.uri.map((u) => `URI:${u}`)])),
    row('Key', keyText(r.key as { type: string })),
    row('Signature algorithm', r.signatureAlgorithm),
    row('Basic constraints', r.isCA ? `CA:TRUE${r.pathLen !== null ? `, pathLen ${r.pathLen}` : ''}` : 'CA:FALSE'),
    row('Key usage', list(r.keyUsage)),
    row('Extended key usage', list(r.extKeyUsage)),
    row('Subject key id', r.subjectKeyIdentifier ?? '—'),
    row('Authority key id', r.authorityKeyIdentifier ?? '—'),
    ...(r.crlDistributionPoints.length ? [row('CRL distribution', list(r.crlDistributionPoints))] : []),
    ...(r.ocsp.length ? [row('OCSP', list(r.ocsp))] : []),
    row('SHA-256 fingerprint', r.fingerprintSha256),
  ].join('\n');
}

function renderCsr(r: Extract<InspectReport, { type: 'csr' }>): string {
  const { c, row } = textKit();
  return [
    c.cyan('Certificate request'),
    row('Subject', r.subject || '—'),
    row('SANs', list([...r.sans.dns, ...r.sans.ip, ...r.sans.email, ...r.sans.uri])),
    row('Key', keyText(r.key as { type: string })),
    row('Signature algorithm', r.signatureAlgorithm),
    row('Signature', r.signatureValid === null ? 'not checked' : r.signatureValid ? 'valid' : c.red('INVALID')),
    ...(r.isCA ? [row('Requests', c.yellow('CA:TRUE'))] : []),
  ].join('\n');
}

function renderCrl(r: Extract<InspectReport, { type: 'crl' }>, now: Date): string {
  const { c, row } = textKit();
  return [
    c.cyan('Certificate revocation list'),
    row('Issuer', r.issuer),
    row('CRL number', r.crlNumber ?? '—'),
    row('This update', r.thisUpdate),
    row('Next update', r.nextUpdate ? formatExpiry(r.nextUpdate, now) : '—'),
    row('Signature algorithm', r.signatureAlgorithm),
    row('Revoked', String(r.revokedCount)),
    ...r.revoked.slice(0, 20).map((e) => `    ${e.serial}  ${e.revokedAt}${e.reason ? `  ${e.reason}` : ''}`),
    ...(r.revokedCount > 20 ? [`    … and ${r.revokedCount - 20} more (use --json for all)`] : []),
  ].join('\n');
}

function renderKey(r: Extract<InspectReport, { type: 'privateKey' | 'publicKey' }>): string {
  const { c, row } = textKit();
  return [
    c.cyan(r.type === 'privateKey' ? 'Private key' : 'Public key'),
    row('Key', keyText(r.key as { type: string } | null)),
    ...(r.type === 'privateKey' ? [row('Encrypted', r.encryption ? `yes (${r.encryption.scheme}, ${r.encryption.kdf}${r.encryption.iterations ? ` ${r.encryption.iterations} iterations` : ''}, ${r.encryption.cipher})` : c.yellow('no'))] : []),
    row('Public key SHA-256', r.publicKeyFingerprintSha256 ?? '—'),
  ].join('\n');
}

function renderSshPublicKey(r: Extract<InspectReport, { type: 'sshPublicKey' }>): string {
  const { c, row } = textKit();
  return [
    c.cyan('OpenSSH public key'),
    row('Type', `${r.keyType} (${r.bits} bits)`),
    row('Fingerprint', r.fingerprint),
    ...(r.comment ? [row('Comment', r.comment)] : []),
  ].join('\n');
}

function renderSshCertificate(r: Extract<InspectReport, { type: 'sshCertificate' }>, now: Date): string {
  const { c, row } = textKit();
  return [
    c.cyan(`OpenSSH ${r.certType} certificate`),
    row('Type', r.certificateType),
    row('Key id', r.keyId),
    row('Serial', r.serial),
    row('Principals', r.principals.length ? r.principals.join(', ') : c.yellow('(any)')),
    row('Valid after', r.validAfter.replace('T', ' ').replace('.000Z', ' UTC')),
    row('Valid before', r.validBefore === 'forever' ? 'forever' : `${r.validBefore.replace('T', ' ').replace('.000Z', ' UTC')} ${formatSshRemaining(r.validBefore, now)}`),
    row('Critical options', Object.keys(r.criticalOptions).length ? Object.entries(r.criticalOptions).map(([k, v]) => `${k} ${v}`).join('; ') : '—'),
    row('Extensions', list(r.extensions)),
    row('Public key', `${r.publicKey.keyType} ${r.publicKey.fingerprint}`),
    row('Signing CA', `${r.signingCa.keyType} ${r.signingCa.fingerprint}`),
    row('Signature', `${r.signatureAlgorithm}, ${r.signatureValid ? 'valid' : c.red('INVALID')}`),
  ].join('\n');
}

function renderKrl(r: Extract<InspectReport, { type: 'sshKrl' }>): string {
  const { c, row } = textKit();
  return [
    c.cyan('OpenSSH key revocation list (KRL)'),
    row('Version', r.version),
    row('Generated', r.generatedAt.replace('T', ' ').replace('.000Z', ' UTC')),
    ...(r.comment ? [row('Comment', r.comment)] : []),
    ...r.certificates.flatMap((cs) => [
      row('Certificates of', cs.ca ? `${cs.ca.keyType} ${cs.ca.fingerprint}` : 'any CA'),
      row('  Revoked serials', firstOf(cs.serials)),
      ...(cs.serialRanges.length ? [row('  Revoked ranges', firstOf(cs.serialRanges.map((x) => `${x.from}-${x.to}`)))] : []),
      row('  Revoked key ids', firstOf(cs.keyIds)),
    ]),
    ...(r.revokedKeys.length ? [row('Revoked keys', firstOf(r.revokedKeys.map((k) => `${k.keyType} ${k.fingerprint}`)))] : []),
    ...(r.revokedFingerprints.length ? [row('Revoked fingerprints', firstOf(r.revokedFingerprints))] : []),
    ...(r.signed ? [row('Signature', c.yellow('signed (OpenSSH 9.4 and later refuse signed KRLs)'))] : []),
  ].join('\n');
}

const BAG_NAMES: Readonly<Record<string, string>> = {
  certificate: 'Certificate bag',
  key: 'Key bag',
  shroudedKey: 'Shrouded key bag',
  crl: 'CRL bag',
  secret: 'Secret bag',
  other: 'Other bag',
};

/** `PBES2, PBKDF2, hmacWithSHA256, AES-256-CBC, 600000 iterations` (openssl pkcs12 -info's words). */
function encryptionText(e: { scheme: string; kdf: string | null; prf: string | null; cipher: string; iterations: number } | null): string {
  if (!e) return 'not encrypted';
  const parts = e.scheme === 'PBES2' ? [e.scheme, e.kdf, e.prf, e.cipher] : [e.scheme];
  return `${parts.filter(Boolean).join(', ')}, ${e.iterations} iterations`;
}

/** Bags, their names and how each is protected; the certificates in brief; the key as type and size only. */
function renderPkcs12(r: Extract<InspectReport, { type: 'pkcs12' }>, now: Date): string {
  const { c, row } = textKit();
  const sub = (label: string, value: string) => `      ${label.padEnd(18)}${value}`;
  const lines = [
    c.cyan(`PKCS#12 file (${r.bytes} bytes)`),
    row('MAC', r.mac ? `${r.mac.algorithm}, ${r.mac.iterations} iterations (verified)` : c.yellow('none: nothing proves the file unaltered')),
  ];
  r.safeContents.forEach((safe, i) => {
    lines.push(row(`SafeContents ${i + 1}`, safe.encryption ? `encrypted: ${encryptionText(safe.encryption)}` : 'not encrypted'));
    for (const bag of safe.bags) {
      const what = bag.certificate?.subject ?? (bag.key ? keyText(bag.key) : bag.bagId);
      lines.push(`    ${c.bold((BAG_NAMES[bag.type] ?? bag.type).padEnd(20))}${what}`);
      if (bag.friendlyName !== null) lines.push(sub('friendlyName', bag.friendlyName));
      if (bag.localKeyId !== null) lines.push(sub('localKeyId', bag.localKeyId));
      if (bag.type === 'shroudedKey') lines.push(sub('Encrypted with', encryptionText(bag.encryption)));
      if (bag.certificate) {
        lines.push(sub('Issuer', bag.certificate.issuer), sub('Serial', bag.certificate.serial), sub('Not after', formatExpiry(bag.certificate.notAfter, now)));
      }
    }
  });
  return lines.join('\n');
}

/** SSH certificates live hours, not years: `(15h 59m left)`, red once expired. */
function formatSshRemaining(validBefore: string, now: Date): string {
  const ms = Date.parse(validBefore) - now.getTime();
  const minutes = Math.floor(Math.abs(ms) / 60_000);
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  const span = d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : `${m}m`;
  return ms <= 0 ? colors().red(`(expired ${span} ago)`) : `(${span} left)`;
}
