/** OCSP (RFC 6960) requests and responses, pure: CertID matching, request parsing, response building. */
export { CERT_ID_HASHES, certIdMatches, issuerHashes, type CertId, type IssuerHashes } from './cert-id.js';
export { decodeGetRequest, MAX_REQUESTS, OID_OCSP_NONCE, parseOcspRequest, type OcspRequest } from './request.js';
export {
  buildOcspResponse,
  generalizedTime,
  ocspErrorResponse,
  OcspResponseStatus,
  type BasicResponseInput,
  type CertStatus,
  type OcspErrorStatus,
  type OcspSigner,
  type SingleResponse,
} from './response.js';
