/** Issue 14: placeholder for the use case of `pki ca-renew`; filled in by its slice. */
export {};
