/** Issue 14: placeholder for the use case of `pki ca-rotation`; filled in by its slice. */
export {};
