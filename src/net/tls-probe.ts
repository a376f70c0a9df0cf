/** Issue 11: connecting to a TLS server for pki inspect --tls (being written). */
export {};
