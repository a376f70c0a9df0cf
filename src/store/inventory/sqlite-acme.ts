/** The SQLite implementation of the ACME store (store/inventory/acme.ts): schema v7. Placeholder until it lands (issue 13). */
export {};
