/** Issue 14: placeholder for the use case of `pki ca-rotate`; filled in by its slice. */
export {};
