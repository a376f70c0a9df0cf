/** Certificate path validation: `pki verify`, the verdict of `pki inspect --tls`. */
export { validateCertificatePath } from './path-validation.js';
export { checkHost } from './host-match.js';
export type { HostTarget } from './host-match.js';
export type {
  ChainEntry,
  CheckOutcome,
  CrlCheckMode,
  PathValidationInput,
  PathValidationResult,
  VerifyCheck,
  VerifyCheckName,
  VerifyErrorCode,
  VerifyFailure,
  VerifyPurpose,
} from './types.js';
