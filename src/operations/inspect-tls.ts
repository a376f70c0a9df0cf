/**
 * `pki inspect --tls`: what a TLS server presents — the certificates as sent, protocol, cipher, ALPN, the
 * client-certificate request with its CA names, a stapled OCSP response — and the `pki verify` verdict for
 * that host (chain = the presented certificates, leaf first; purpose server). Every input is checked before
 * the connection is made; the connection itself is src/net/'s.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { PkiError } from '../core/errors.js';
import { encodePem } from '../core/der/pem.js';
import { inspectCertificate, type CertificateReport } from '../core/inspect/certificate.js';
import { chainCommonNames } from '../core/verify/chain-names.js';
import { validateCertificatePath } from '../core/verify/path-validation.js';
import type { PathValidationResult } from '../core/verify/types.js';
import { formatDistinguishedName } from '../core/x509/name-decoder.js';
import { parseDuration } from '../core/x509/validity.js';
import { summariseOcspResponse, type OcspSummary } from '../net/ocsp-response.js';
import { STARTTLS_PROTOCOLS, type StartTlsProtocol } from '../net/starttls.js';
import { probeTls, type TlsProbeRequest } from '../net/tls-probe.js';
import { parseTlsTarget, targetText } from '../net/tls-target.js';
import { readBytes } from '../store/fs/read-file.js';
import { loadTrustRoots, readCertificateFile } from '../store/trust-roots.js';
import { isIP } from 'node:net';

export interface InspectTlsRequest {
  /** HOST:PORT, [IPv6]:PORT or https://host[:port]. */
  readonly target: string;
  /** SNI name; default the target host unless it is an IP literal. It is also the name the verdict is for. */
  readonly servername?: string;
  readonly clientCertificate?: { readonly certFile: string; readonly keyFile: string };
  /** --roots files; empty: the default anchors (CA home root, else the system bundle). */
  readonly rootFiles: readonly string[];
  readonly homeDir: string;
  /** A duration (`5s`). */
  readonly timeout: string;
  readonly starttls?: string;
  /** false with --no-verify: no verdict is computed. */
  readonly verify: boolean;
}

export interface InspectTlsResult {
  readonly target: { readonly host: string; readonly port: number; readonly servername: string | null; readonly starttls: StartTlsProtocol | null };
  readonly protocol: string;
  readonly cipher: { readonly name: string; readonly openssl: string };
  readonly alpn: string | null;
  /** As `pki inspect` describes them, leaf first, in the order the server sent them. */
  readonly certificates: CertificateReport[];
  /** Whether the server asked for a client certificate, and the CA names it sent (empty: any CA); null: not readable (see `note`). */
  readonly clientCertificateRequest: { readonly requested: boolean | null; readonly authorities: string[] };
  /** Why the handshake could not be read byte by byte (the chain is then Node's view of it), or null. */
  readonly note: string | null;
  /** Subject of the client certificate pki had to offer (--cert), or null. */
  readonly clientCertificate: string | null;
  readonly ocsp: OcspSummary | null;
  /** null with --no-verify. `name` is the host or IP the leaf was checked for. */
  readonly verification: { readonly name: string; readonly roots: readonly string[]; readonly result: PathValidationResult; readonly names: readonly string[] } | null;
}

function parseStartTls(value: string | undefined): StartTlsProtocol | undefined {
  if (value === undefined) return undefined;
  if ((STARTTLS_PROTOCOLS as readonly string[]).includes(value)) return value as StartTlsProtocol;
  throw new PkiError('ERR_INVALID_OPTION', `--starttls "${value}" is not a protocol pki speaks`, { hint: `use one of: ${STARTTLS_PROTOCOLS.join(', ')}` });
}

/** The client certificate and key as PEM for node:tls, checked to belong together. The key is never in a message. */
function readClientCertificate(certFile: string, keyFile: string): { cert: Uint8Array; key: Uint8Array; subject: string } {
  const certificates = readCertificateFile(certFile, 'the client certificate');
  const keyBytes = readBytes(keyFile, { maxBytes: 1024 * 1024, what: 'the client key' });
  let key: ReturnType<typeof createPrivateKey>;
  const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(keyBytes.toString('latin1'));
  try {
    if (encrypted) throw Object.assign(new Error('encrypted'), { code: 'ERR_MISSING_PASSPHRASE' });
    key = /-----BEGIN/.test(keyBytes.toString('latin1')) ? createPrivateKey(keyBytes) : createPrivateKey({ key: keyBytes, format: 'der', type: 'pkcs8' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_MISSING_PASSPHRASE' || /passphrase|bad decrypt/i.test((e as Error).message)) {
      throw new PkiError('ERR_PASSWORD_REQUIRED', `the client key ${keyFile} is encrypted; pki inspect --tls presents unencrypted client keys only`, {
        hint: 'use the unencrypted key of a test client, or check the server with openssl s_client -cert … -key …',
      });
    }
    throw new PkiError('ERR_MALFORMED_KEY', `${keyFile} is not a private key pki can read (PEM or DER PKCS#8)`, { hint: 'give the key file of the --cert certificate' });
  } finally {
    keyBytes.fill(0);
  }
  if (!new X509Certificate(Buffer.from(certificates[0]!)).checkPrivateKey(key)) {
    throw new PkiError('ERR_KEY_MISMATCH', `the key ${keyFile} does not belong to the certificate ${certFile}`, { hint: 'give the key file issued with that certificate' });
  }
  return {
    cert: Buffer.from(certificates.map((der) => encodePem('CERTIFICATE', der)).join('')),
    key: Buffer.from(key.export({ format: 'pem', type: 'pkcs8' }) as string),
    subject: inspectCertificate(certificates[0]!).subject,
  };
}

/** A CA name as text; one the decoder cannot read is shown by its size rather than failing the run. */
function nameText(dn: Uint8Array): string {
  try {
    return formatDistinguishedName(dn);
  } catch {
    return `(unreadable name, ${dn.length} bytes)`;
  }
}

function ocspOf(response: Uint8Array | null, leaf: CertificateReport | undefined): OcspSummary | null {
  if (!response) return null;
  try {
    return summariseOcspResponse(response, leaf?.serial);
  } catch {
    return { responseStatus: 'unreadable', certStatus: null, serial: null, producedAt: null, thisUpdate: null, nextUpdate: null, revokedAt: null };
  }
}

/**
 * `pki verify`'s hint for an unknown authority names its --untrusted flag; for a server the fix is on the
 * server (send the intermediates) or in --roots. The cause and code stay verify's.
 */
const UNKNOWN_AUTHORITY_HINT =
  "the server's chain does not reach the trust anchors; if it lacks an intermediate, add that to the server's certificate file after the leaf; if the server is from another CA, give --roots with that CA's root";

function forServer(result: PathValidationResult): PathValidationResult {
  if (result.error?.code !== 'ERR_UNKNOWN_AUTHORITY') return result;
  return { ...result, error: { ...result.error, hint: UNKNOWN_AUTHORITY_HINT } };
}

export async function inspectTls(request: InspectTlsRequest, context: { now: Date }): Promise<InspectTlsResult> {
  const target = parseTlsTarget(request.target);
  const timeoutMs = parseDuration(request.timeout);
  const starttls = parseStartTls(request.starttls);
  if (starttls && target.https) throw new PkiError('ERR_INVALID_OPTION', '--starttls does not apply to an https:// target', { hint: 'give HOST:PORT with --starttls' });
  const servername = request.servername ?? (isIP(target.host) ? undefined : target.host);
  const roots = request.verify ? loadTrustRoots(request.rootFiles, request.homeDir) : undefined;
  const client = request.clientCertificate ? readClientCertificate(request.clientCertificate.certFile, request.clientCertificate.keyFile) : undefined;
  const probe: TlsProbeRequest = {
    host: target.host,
    port: target.port,
    ...(servername !== undefined ? { servername } : {}),
    alpn: target.https ? ['h2', 'http/1.1'] : [],
    ...(client ? { clientCertificate: { cert: client.cert, key: client.key } } : {}),
    timeoutMs,
    ...(starttls ? { starttls } : {}),
  };
  const presented = await probeTls(probe, targetText(target));
  if (client) client.key.fill(0);
  const certificates = presented.certificates.map((der) => inspectCertificate(der));
  const name = servername ?? target.host;
  const result = roots
    ? forServer(validateCertificatePath({
          leaf: presented.certificates[0] ?? new Uint8Array(0),
          untrusted: presented.certificates.slice(1),
          roots: roots.certificates,
          host: name,
          purpose: 'server',
          time: context.now,
          crls: [],
          crlCheck: 'none',
        }))
    : null;
  const verification =
    roots && result ? { name, roots: roots.sources, result, names: chainCommonNames(result.chain, [...presented.certificates, ...roots.certificates]) } : null;
  return {
    target: { host: target.host, port: target.port, servername: servername ?? null, starttls: starttls ?? null },
    protocol: presented.protocol,
    cipher: presented.cipher,
    alpn: presented.alpn,
    certificates,
    clientCertificateRequest:
      presented.certificateRequest === 'unknown'
        ? { requested: null, authorities: [] }
        : { requested: presented.certificateRequest !== null, authorities: (presented.certificateRequest?.authorities ?? []).map(nameText) },
    note: presented.unreadable,
    clientCertificate: client?.subject ?? null,
    ocsp: ocspOf(presented.ocspResponse, certificates[0]),
    verification,
  };
}
