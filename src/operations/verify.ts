/** Issue 11: being written. */
export {};
