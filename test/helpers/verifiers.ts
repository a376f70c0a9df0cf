/**
 * Three independent X.509 path builders for the CA tests (issue 14): OpenSSL (`openssl verify
 * -x509_strict`), GnuTLS (`certtool --verify`) and Go's crypto/x509 (a verifier built here once per test
 * file with the Debian golang-go toolchain). Each gets the trust anchor(s), the intermediate(s) and the
 * leaf as files and answers 'ok' or its error text.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './cli.js';
import { requirePeer } from './peers.js';

/** Go's crypto/x509 Verify: argv roots file, intermediates file, leaf (PEM files, several blocks each allowed); prints "ok" or the error and exits 1. */
const GO_VERIFY = `package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
)

func loadAll(path string) []*x509.Certificate {
	data, err := os.ReadFile(path)
	if err != nil { panic(err) }
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil { break }
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil { panic(err) }
		certs = append(certs, cert)
	}
	return certs
}

func main() {
	roots := x509.NewCertPool()
	for _, c := range loadAll(os.Args[1]) { roots.AddCert(c) }
	inter := x509.NewCertPool()
	for _, c := range loadAll(os.Args[2]) { inter.AddCert(c) }
	_, err := loadAll(os.Args[3])[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil { fmt.Println(err); os.Exit(1) }
	fmt.Println("ok")
}
`;

/** Builds the Go verifier (once per test file: call from beforeAll, with a long timeout) and checks certtool is there. */
export function buildVerifiers(): { verifyEverywhere: typeof verifyEverywhere } {
  const go = requirePeer('go');
  requirePeer('certtool');
  const dir = tempDir();
  writeFileSync(join(dir, 'verify.go'), GO_VERIFY);
  const cache = join(dir, 'gocache');
  mkdirSync(cache);
  goVerifier = join(dir, 'verify');
  execFileSync(go, ['build', '-o', goVerifier, 'verify.go'], { cwd: dir, env: { ...process.env, GOCACHE: cache, GOPATH: join(dir, 'gopath'), GO111MODULE: 'off', HOME: dir } });
  return { verifyEverywhere };
}

let goVerifier = '';

/** The first certificate of a PEM file (a bundle's leaf, before its chain). */
export function firstCertificate(file: string): string {
  const out = `${file}.first.pem`;
  writeFileSync(out, readFileSync(file, 'utf8').split(/(?<=-----END CERTIFICATE-----\n)/)[0]!);
  return out;
}

/**
 * The verdict of each verifier on `leaf` (its first certificate) with `root` as the trust anchors and
 * `intermediate` as the untrusted certificates (files, one or more PEM blocks): 'ok' or the error.
 */
export function verifyEverywhere(root: string, intermediate: string, leaf: string): Record<'openssl' | 'gnutls' | 'go', string> {
  if (!goVerifier) throw new Error('call buildVerifiers() in beforeAll first');
  const openssl = spawnSync('openssl', ['verify', '-x509_strict', '-CAfile', root, '-untrusted', intermediate, leaf], { encoding: 'utf8' });
  const chain = `${leaf}.chain.pem`;
  writeFileSync(chain, readFileSync(leaf, 'utf8').split(/(?<=-----END CERTIFICATE-----\n)/)[0]! + readFileSync(intermediate, 'utf8'));
  const gnutls = spawnSync('certtool', ['--verify', '--load-ca-certificate', root, '--infile', chain], { encoding: 'utf8' });
  const go = spawnSync(goVerifier, [root, intermediate, leaf], { encoding: 'utf8' });
  return {
    openssl: openssl.status === 0 ? 'ok' : openssl.stdout + openssl.stderr,
    gnutls: gnutls.status === 0 && /Chain verification output: Verified/.test(gnutls.stdout) ? 'ok' : gnutls.stdout + gnutls.stderr,
    go: go.status === 0 ? 'ok' : go.stdout + go.stderr,
  };
}
