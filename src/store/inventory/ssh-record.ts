/**
 * OpenSSH certificate → inventory record (kind 'ssh'), and back to what a KRL needs. The stored `pem` is
 * the certificate line itself, so the signing CA of every record is known even after `pki ssh init --force`.
 */
import { sha256Fingerprint } from '../../core/x509/fingerprint.js';
import { decodeSshCertificate, type SshCertificate } from '../../core/ssh/index.js';
import { normalizeSerial } from '../../core/x509/serial.js';
import type { CertificateRecord, NewCertificateRecord } from './index.js';

/** The inventory form of an SSH serial: upper-case hex, like X.509 serials. */
export function sshSerialKey(serial: bigint | string): string {
  return normalizeSerial(BigInt(serial).toString(16));
}

/** The record of a certificate line just written to `certificatePath` (null when not kept on disk). */
export function sshCertificateRecord(line: string, certificatePath: string | null): NewCertificateRecord {
  const cert = decodeSshCertificate(line);
  return {
    kind: 'ssh',
    serial: sshSerialKey(cert.serial),
    // What the certificate is for, as the CN is for X.509: its principals ('*' = any principal).
    subject: cert.principals.length > 0 ? cert.principals.join(',') : '*',
    sans: { dns: [], ip: [], email: [], uri: [] },
    profile: cert.certType === 'user' ? 'ssh-user' : 'ssh-host',
    issuer: `SSH ${cert.certType} CA ${cert.signatureKeyFingerprint}`,
    notBefore: cert.validAfter.toISOString(),
    // "forever" is never issued by pki; store the far end so date comparisons still work.
    notAfter: cert.validBefore === 'forever' ? '9999-12-31T23:59:59.000Z' : cert.validBefore.toISOString(),
    fingerprintSha256: sha256Fingerprint(cert.raw.blob),
    certificatePath,
    keyPath: null,
    pem: line,
    keyId: cert.keyId,
  };
}

/** The decoded certificate of a stored SSH record. */
export function decodeSshRecord(record: Pick<CertificateRecord, 'pem'>): SshCertificate {
  return decodeSshCertificate(record.pem);
}
