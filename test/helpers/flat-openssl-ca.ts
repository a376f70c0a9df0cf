/**
 * A real flat openssl CA, made the way the usual "eight openssl commands" make one: a self-signed ca.crt
 * from `openssl req -x509`, `openssl ca` with index.txt, serial and newcerts/, two leaves issued from it,
 * one revoked with a reason and a CRL generated. `pki init --import-ca` tests and guides start from it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { peer, runPeer } from './peers.js';

/** The openssl ca configuration of such a CA (relative paths: the commands run in the CA's folder). */
export const FLAT_CA_CONFIG = `[ ca ]
default_ca = CA_default
[ CA_default ]
dir = .
database = $dir/index.txt
new_certs_dir = $dir/newcerts
certificate = $dir/ca.crt
private_key = $dir/ca.key
serial = $dir/serial
default_md = sha256
default_days = 365
default_crl_days = 30
policy = policy_any
unique_subject = no
[ policy_any ]
commonName = supplied
[ server_ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:\${ENV::LEAF}
`;

export interface FlatCa {
  readonly dir: string;
  readonly cert: string;
  readonly key: string;
  readonly index: string;
  /** The passphrase of ca.key ('' when the key is plain). */
  readonly passphrase: string;
  /** The two leaves: web (serial 1000, valid) and db (serial 1001, revoked keyCompromise). */
  readonly leaves: { readonly web: string; readonly db: string };
  readonly crl: string;
}

export interface FlatCaOptions {
  /** How ca.key is written: PKCS#8 encrypted (`genpkey -aes256`), traditional encrypted (`genrsa -traditional -aes256`), or plain EC. */
  readonly key?: 'pkcs8-encrypted' | 'traditional-encrypted' | 'plain-ec';
  readonly subject?: string;
}

function caKey(dir: string, kind: NonNullable<FlatCaOptions['key']>, passphrase: string): void {
  const out = join(dir, 'ca.key');
  if (kind === 'pkcs8-encrypted') peer('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-aes256', '-pass', `pass:${passphrase}`, '-out', out]);
  else if (kind === 'traditional-encrypted') peer('openssl', ['genrsa', '-traditional', '-aes256', '-passout', `pass:${passphrase}`, '-out', out, '2048']);
  else peer('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', out]);
}

/** Builds the CA in `dir` (created) and returns its files. */
export function buildFlatCa(dir: string, options: FlatCaOptions = {}): FlatCa {
  const kind = options.key ?? 'pkcs8-encrypted';
  const passphrase = kind === 'plain-ec' ? '' : 'old ca passphrase';
  const pass = passphrase ? ['-passin', `pass:${passphrase}`] : [];
  mkdirSync(join(dir, 'newcerts'), { recursive: true });
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(join(dir, 'openssl.cnf'), FLAT_CA_CONFIG);
  caKey(dir, kind, passphrase);
  const run = (args: string[], leaf = 'x') => {
    const r = runPeer('openssl', args, { cwd: dir, env: { ...process.env, LEAF: leaf } });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${r.stderr}`);
  };
  run(['req', '-x509', '-new', '-key', 'ca.key', ...pass, '-sha256', '-days', '3650', '-subj', options.subject ?? '/O=Example/CN=Example Root CA', '-out', 'ca.crt']);
  for (const name of ['web', 'db']) {
    run(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-subj', `/CN=${name}.example.com`, '-out', `${name}.csr`]);
    run(['ca', '-batch', '-config', 'openssl.cnf', '-extensions', 'server_ext', ...pass, '-in', `${name}.csr`, '-out', `${name}.crt`], `${name}.example.com`);
  }
  run(['ca', '-config', 'openssl.cnf', ...pass, '-revoke', 'db.crt', '-crl_reason', 'keyCompromise']);
  run(['ca', '-config', 'openssl.cnf', ...pass, '-gencrl', '-out', 'ca.crl']);
  return {
    dir,
    cert: join(dir, 'ca.crt'),
    key: join(dir, 'ca.key'),
    index: join(dir, 'index.txt'),
    passphrase,
    leaves: { web: join(dir, 'web.crt'), db: join(dir, 'db.crt') },
    crl: join(dir, 'ca.crl'),
  };
}
