/** The PKCS#7 content types and PKCS#12 bag and attribute OIDs (RFC 7292, RFC 2985) the writer and the reader share. */
export const OID_DATA = '1.2.840.113549.1.7.1';
export const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
export const OID_ENCRYPTED_DATA = '1.2.840.113549.1.7.6';
export const OID_KEY_BAG = '1.2.840.113549.1.12.10.1.1';
export const OID_SHROUDED_KEY_BAG = '1.2.840.113549.1.12.10.1.2';
export const OID_CERT_BAG = '1.2.840.113549.1.12.10.1.3';
export const OID_SAFE_CONTENTS_BAG = '1.2.840.113549.1.12.10.1.6';
export const OID_X509_CERTIFICATE = '1.2.840.113549.1.9.22.1';
export const OID_FRIENDLY_NAME = '1.2.840.113549.1.9.20';
export const OID_LOCAL_KEY_ID = '1.2.840.113549.1.9.21';
