/** OCSP (RFC 6960) requests and responses, pure. Placeholder until the responder lands (issue 13). */
export {};
