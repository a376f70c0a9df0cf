/**
 * Builds test certificate chains and CRLs with the openssl CLI (`openssl req -new`, `openssl ca` with
 * crafted extension sections, `openssl ca -revoke/-gencrl`) in a temp folder, so the chains pki verifies
 * were made by a tool other than pki.
 *
 * Dates: GnuTLS 3.7's `certtool --verify` has no --attime and validates at the wall clock, so every date is
 * an offset in days from one instant `now` taken when the factory is made (`openssl ca -startdate/-enddate`,
 * `-crl_lastupdate/-crl_nextupdate`), and the verifiers run at `now` (pki `time`, openssl `-attime`) or a
 * few seconds after it (certtool). Verdicts therefore never depend on the day the test runs.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { PEER_RUN_MS, requirePeer } from '../helpers/peers.js';

export type KeyAlgorithm = 'rsa' | 'rsa1024' | 'p256' | 'p384' | 'p521' | 'ed25519';

/** `openssl req -newkey` arguments: the key and its CSR in one run. */
const NEWKEY: Record<KeyAlgorithm, string[]> = {
  rsa: ['-newkey', 'rsa:2048'],
  rsa1024: ['-newkey', 'rsa:1024'],
  p256: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  p384: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'],
  p521: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-521'],
  ed25519: ['-newkey', 'ed25519'],
};

/** `openssl ca` settings: one database folder per issuer (CHAIN_DB), random serials, any subject. */
const CA_CONFIG = `[ca]
default_ca = CA_default
[CA_default]
dir = $ENV::CHAIN_DB
database = $dir/index.txt
new_certs_dir = $dir
rand_serial = yes
crlnumber = $dir/crlnumber
default_md = default
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none
[policy_any]
commonName = optional
organizationName = optional
[crl_ext]
authorityKeyIdentifier = keyid:always
`;

const REQ_CONFIG = '[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = placeholder\n';

const DAY_MS = 86_400_000;

/** Extension sections used by most certificates; a certificate adds or replaces lines. */
export const EXT = {
  root: ['basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign', 'subjectKeyIdentifier = hash'],
  ca: ['basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign', 'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid:always'],
  leaf: ['basicConstraints = critical,CA:FALSE', 'keyUsage = critical,digitalSignature', 'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid:always'],
};

export interface IssueOptions {
  /** `/CN=…/O=…` as `openssl ca -subj` takes it. */
  readonly subject: string;
  /** Key name (see `key`). */
  readonly key: string;
  /** Name of the issuing certificate, or `self` for a self-signed one (signed with `key`). */
  readonly issuer: string;
  /** Lines of the extension section. */
  readonly ext: readonly string[];
  /** Validity as day offsets from `now`: notBefore = now + from, notAfter = now + to. */
  readonly from: number;
  readonly to: number;
  /** Signature digest (`-md`); default: openssl's for the key (SHA-256 for RSA and P-256, none for Ed25519). */
  readonly md?: string;
  /** RSA-PSS signature instead of PKCS#1 v1.5. */
  readonly pss?: boolean;
}

export interface IssuedCertificate {
  readonly name: string;
  /** RFC 4514 text of the subject (`CN=www.example.com`), as pki prints it. */
  readonly subject: string;
  readonly path: string;
  readonly key: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export class ChainFactory {
  readonly dir: string;
  /** The instant every date is relative to, whole seconds. */
  readonly now: Date;
  private readonly keys = new Map<string, string>();
  private readonly certs = new Map<string, IssuedCertificate>();
  private readonly crls = new Map<string, { path: string; thisUpdate: Date; nextUpdate: Date }>();
  private opensslPath: string | undefined;

  constructor(dir: string, now: Date) {
    this.dir = dir;
    this.now = new Date(Math.floor(now.getTime() / 1000) * 1000);
    writeFileSync(join(dir, 'ca.cnf'), CA_CONFIG);
    writeFileSync(join(dir, 'req.cnf'), REQ_CONFIG);
  }

  /** now + days, as a Date. */
  at(days: number): Date {
    return new Date(this.now.getTime() + days * DAY_MS);
  }

  /** Generates a key (once per name) and a CSR for it; returns the key's path. */
  key(name: string, algorithm: KeyAlgorithm): string {
    const existing = this.keys.get(name);
    if (existing) return existing;
    const path = join(this.dir, `${name}.key`);
    this.openssl(['req', '-new', '-config', join(this.dir, 'req.cnf'), ...NEWKEY[algorithm], '-nodes', '-keyout', path, '-subj', '/CN=csr', '-out', join(this.dir, `${name}.csr`)]);
    this.keys.set(name, path);
    return path;
  }

  cert(name: string): IssuedCertificate {
    const c = this.certs.get(name);
    if (!c) throw new Error(`test chain factory: no certificate named ${name}`);
    return c;
  }

  /** Issues certificate `name` (file `<name>.pem`) with `openssl ca`. */
  issue(name: string, o: IssueOptions): IssuedCertificate {
    const keyPath = this.keys.get(o.key);
    if (!keyPath) throw new Error(`test chain factory: no key named ${o.key}`);
    const path = join(this.dir, `${name}.pem`);
    const extFile = join(this.dir, `${name}.ext`);
    writeFileSync(extFile, `[ext]\n${o.ext.join('\n')}\n`);
    const signer = o.issuer === 'self' ? ['-selfsign', '-keyfile', keyPath] : ['-cert', this.cert(o.issuer).path, '-keyfile', this.cert(o.issuer).key];
    const digest = o.md ? ['-md', o.md] : o.pss ? ['-md', 'sha256'] : [];
    const pss = o.pss ? ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:digest'] : [];
    const notBefore = this.at(o.from);
    const notAfter = this.at(o.to);
    this.ca(o.issuer === 'self' ? name : o.issuer, [
      ...signer,
      ...digest,
      ...pss,
      '-in', join(this.dir, `${o.key}.csr`),
      '-subj', o.subject,
      '-startdate', asn1Time(notBefore),
      '-enddate', asn1Time(notAfter),
      '-extfile', extFile,
      '-extensions', 'ext',
      '-out', path,
    ]);
    const subject = o.subject.split('/').filter(Boolean).reverse().join(',');
    const issued = { name, path, subject, key: keyPath, notBefore, notAfter };
    this.certs.set(name, issued);
    return issued;
  }

  /** Marks `certificate` revoked in its issuer's database (the next `crl` of that issuer lists it). */
  revoke(issuer: string, certificate: string, reason = 'keyCompromise'): void {
    const ca = this.cert(issuer);
    this.ca(issuer, ['-cert', ca.path, '-keyfile', ca.key, '-revoke', this.cert(certificate).path, '-crl_reason', reason]);
  }

  /**
   * A CRL of `issuer`'s database, thisUpdate = now + from, nextUpdate = now + to, signed by `signer`
   * (default the issuer itself; another certificate makes a CRL "signed by the wrong key").
   */
  crl(name: string, o: { issuer: string; from: number; to: number; signer?: string }): string {
    const signer = this.cert(o.signer ?? o.issuer);
    const path = join(this.dir, `${name}.crl.pem`);
    const thisUpdate = this.at(o.from);
    const nextUpdate = this.at(o.to);
    this.ca(o.issuer, ['-gencrl', '-cert', signer.path, '-keyfile', signer.key, '-crlexts', 'crl_ext', '-crl_lastupdate', asn1Time(thisUpdate), '-crl_nextupdate', asn1Time(nextUpdate), '-out', path]);
    this.crls.set(name, { path, thisUpdate, nextUpdate });
    return path;
  }

  crlFile(name: string): { path: string; thisUpdate: Date; nextUpdate: Date } {
    const c = this.crls.get(name);
    if (!c) throw new Error(`test chain factory: no CRL named ${name}`);
    return c;
  }

  /** The hex subjectKeyIdentifier of a certificate, `AB:CD:…`, as openssl prints it. */
  subjectKeyId(certificate: string): string {
    const out = this.openssl(['x509', '-in', this.cert(certificate).path, '-noout', '-ext', 'subjectKeyIdentifier']);
    return out.split('\n')[1]!.trim();
  }

  /** The PEM text of certificates, concatenated in the order given. */
  pem(names: readonly string[]): string {
    return names.map((n) => readFileSync(this.cert(n).path, 'utf8')).join('');
  }

  private ca(database: string, args: string[]): void {
    const db = join(this.dir, 'db', database);
    mkdirSync(db, { recursive: true });
    writeFileSync(join(db, 'index.txt'), '', { flag: 'a' });
    if (!existsSync(join(db, 'crlnumber'))) writeFileSync(join(db, 'crlnumber'), '01\n');
    this.openssl(['ca', '-batch', '-notext', '-config', join(this.dir, 'ca.cnf'), ...args], { CHAIN_DB: db });
  }

  private openssl(args: string[], env: Record<string, string> = {}): string {
    // Resolved once: requirePeer probes the search path with a process per folder.
    this.opensslPath ??= requirePeer('openssl');
    const r = spawnSync(this.opensslPath, args, { cwd: this.dir, env: { ...process.env, ...env }, encoding: 'utf8', timeout: PEER_RUN_MS });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr}`);
    return r.stdout;
  }
}

/** UTCTime text for `openssl ca` (YYMMDDHHMMSSZ); the tests' dates stay before 2050. */
function asn1Time(d: Date): string {
  if (d.getUTCFullYear() >= 2050) throw new Error(`test chain factory: ${d.toISOString()} needs GeneralizedTime`);
  return d.toISOString().replace(/^\d\d(\d\d)-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d).*$/, '$1$2$3$4$5$6Z');
}

/** RFC 3339 at seconds precision, as pki's messages and --json print times. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
