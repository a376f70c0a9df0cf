/** Issue 14: placeholder for the use case of `pki db-migrate`; filled in by its slice. */
export {};
