/**
 * The use cases as a library (`import { generateWithCa, CaHome } from 'pki-ca-manager/operations'`): what
 * each `pki` command does, callable from a program with typed values in and typed results out — the same
 * functions the CLI calls (docs/architecture.md). A CA home is opened with `CaHome.open(dir, options)`; a
 * passphrase arrives as a PassphraseSource callback, never from argv or a TTY.
 */
export { CaHome, type PassphraseSource } from '../store/ca-home.js';
export type { NewKeyProtection, NewKeyProtectionSource } from './key-protection.js';
export { DEFAULT_CA, initCa, type InitRequest, type InitResult } from './init.js';
export { DEFAULT_KEY_SPEC } from '../core/keys/keys.js';
export { generateBundle, type GenerateRequest, type GenerateResult } from './generate.js';
export { generateWithCa, type GenerateWithCaRequest, type GenerateWithCaResult } from './generate-init.js';
export { signCsrs, type SignRequest, type SignResult } from './sign.js';
export { renewCertificate, type RenewCertificateRequest, type RenewCertificateResult } from './renew-certificate.js';
export { renewAll, type RenewAllRequest, type RenewAllResult } from './renew-all.js';
export { revokeCertificate, type RevokeRequest, type RevokeResult } from './revoke.js';
export { publishCrls, type PublishCrlRequest, type PublishCrlResult } from './publish-crl.js';
export { listCertificates, type ListRequest, type ListResult } from './list.js';
export { rebuildInventory, type RebuildResult } from './rebuild.js';
export { exportOpensslIndex, type ExportIndexRequest, type ExportIndexResult } from './export-index.js';
export { initSshCas, type SshInitRequest, type SshInitResult } from './ssh-init.js';
export { signSshCertificate, type SshSignRequest, type SshSignResult } from './ssh-sign.js';
export { revokeSshCertificates, type SshRevokeRequest, type SshRevokeResult } from './ssh-revoke.js';
export { publishSshKrl } from './ssh-krl.js';
export { verifyCertificateFile, type VerifyRequest, type VerifyReport } from './verify.js';
export { inspectTls, type InspectTlsRequest, type InspectTlsResult } from './inspect-tls.js';
export { exportCertificate, type ExportRequest, type ExportResult, type ExportFormat, type ExportSource } from './export.js';
export { checkCertificates, type CheckRequest, type CheckReport } from './check.js';
export { parseWindows, type CheckItem, type CheckNote, type CheckState, type CheckSummary, type CheckWindows } from '../core/check/states.js';
export { nagiosStatusLine } from '../core/check/nagios.js';
export { prometheusTextfile } from '../core/check/prometheus.js';
