/** Issue 14: placeholder for the use case of `pki ca-add`; filled in by its slice. */
export {};
