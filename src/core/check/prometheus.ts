/**
 * The node_exporter textfile of `pki check --prometheus FILE` (Prometheus text exposition format 0.0.4).
 * Metric and label names are x509-certificate-exporter's (enix/x509-certificate-exporter v3.21.0,
 * internal/collector.go and internal/exporter.go getLabels; docs/check.md lists them), so its alert rules
 * — `x509_cert_not_after - time() < 14 * 24 * 3600` — work on pki's file unchanged; pki's own series are
 * prefixed `pki_`.
 */
import type { CheckItem, CheckNote } from './states.js';

/** Label value escaping of the text format: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\\' ? '\\\\' : c === '"' ? '\\"' : '\\n'));
}

/** HELP text escaping: backslash and line feed (quotes stay as they are). */
function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === '\\' ? '\\\\' : '\\n'));
}

/**
 * RFC 4514 text as formatDistinguishedName writes it (the inventory's subject and issuer columns) back to
 * attributes, in encoded order (the text has the last RDN first). `\c` and `\HH` escapes are undone; a
 * `#hex` value stays as it is.
 */
export function parseDistinguishedName(text: string): { type: string; value: string }[] {
  const out: { type: string; value: string }[][] = [[]];
  let type = '';
  let value = '';
  let inValue = false;
  const flush = () => {
    if (type || value) out[out.length - 1]!.push({ type: type.trim(), value });
    type = '';
    value = '';
    inValue = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      const hex = text.slice(i + 1, i + 3);
      if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
        value += String.fromCharCode(parseInt(hex, 16));
        i += 2;
      } else value += text[++i];
    } else if (!inValue && c === '=') inValue = true;
    else if (inValue && (c === ',' || c === '+')) {
      flush();
      if (c === ',') out.push([]);
    } else if (inValue) value += c;
    else type += c;
  }
  flush();
  return out.reverse().flat();
}

/** The DN fields x509-certificate-exporter labels, in its order. */
const DN_FIELDS = ['C', 'ST', 'L', 'O', 'OU', 'CN'] as const;

/**
 * `<prefix>_C` … `<prefix>_CN` as Go's pkix.Name fills them: the first value of C, ST (province), L, O and
 * OU in encoded order, the last CN. Absent fields get no label (as x509-certificate-exporter v3 does).
 */
function dnLabels(prefix: string, dn: string, into: Map<string, string>): void {
  const attributes = parseDistinguishedName(dn);
  for (const field of DN_FIELDS) {
    const matching = attributes.filter((a) => a.type === field);
    const chosen = field === 'CN' ? matching[matching.length - 1] : matching[0];
    if (chosen) into.set(`${prefix}_${field}`, chosen.value);
  }
}

/** The decimal form of a hex serial, as Go's big.Int String() (x509-certificate-exporter's serial_number) writes it. */
export function decimalSerial(hex: string): string {
  return BigInt(`0x${hex || '0'}`).toString(10);
}

function labelText(labels: Map<string, string>): string {
  const names = [...labels.keys()].filter((k) => labels.get(k) !== '').sort();
  return `{${names.map((k) => `${k}="${escapeLabelValue(labels.get(k)!)}"`).join(',')}}`;
}

function fileLabels(path: string | null, into: Map<string, string>): void {
  if (path === null) return;
  into.set('filename', path.slice(path.lastIndexOf('/') + 1));
  into.set('filepath', path);
}

/** The DN label names in their sort order (labelText's order): C < CN < L < O < OU < ST. */
const DN_FIELDS_SORTED = ['C', 'CN', 'L', 'O', 'OU', 'ST'] as const;

/** A cache this large holds every issuer of a CA home; unique subjects are not worth keeping. */
const DN_CACHE_LIMIT = 1024;

/**
 * The `issuer_*` or `subject_*` labels of a DN, as one `name="value"` list in label-name order (dnLabels
 * and labelText, without their Map and sort: this runs for every certificate's subject). Cached by DN text,
 * up to DN_CACHE_LIMIT: 100,000 certificates share one issuer, while their subjects are mostly unique.
 */
function dnFragment(prefix: 'issuer' | 'subject', dn: string, cache: Map<string, string>): string {
  let fragment = cache.get(dn);
  if (fragment === undefined) {
    const attributes = parseDistinguishedName(dn);
    fragment = '';
    for (const field of DN_FIELDS_SORTED) {
      // The first value, and the last for CN (as dnLabels chooses them); an empty value gets no label.
      let chosen = '';
      for (const a of attributes) {
        if (a.type !== field) continue;
        chosen = a.value;
        if (field !== 'CN') break;
      }
      if (chosen !== '') fragment += `${fragment ? ',' : ''}${prefix}_${field}="${escapeLabelValue(chosen)}"`;
    }
    if (cache.size < DN_CACHE_LIMIT) cache.set(dn, fragment);
  }
  return fragment;
}

/**
 * The label set of an X.509 certificate: filename, filepath, issuer_*, serial_number, subject_* — in that
 * order, which is also the names' sort order, so the text is assembled without sorting.
 */
export function certificateLabels(
  item: Pick<CheckItem, 'path' | 'serial' | 'subject' | 'issuer'>,
  caches: { issuer: Map<string, string>; subject: Map<string, string> } = { issuer: new Map(), subject: new Map() },
): string {
  const parts: string[] = [];
  if (item.path !== null) {
    parts.push(`filename="${escapeLabelValue(item.path.slice(item.path.lastIndexOf('/') + 1))}"`, `filepath="${escapeLabelValue(item.path)}"`);
  }
  const issuer = dnFragment('issuer', item.issuer, caches.issuer);
  if (issuer) parts.push(issuer);
  if (item.serial !== null) parts.push(`serial_number="${decimalSerial(item.serial)}"`);
  const subject = dnFragment('subject', item.subject, caches.subject);
  if (subject) parts.push(subject);
  return `{${parts.join(',')}}`;
}

/**
 * The textfile as chunks of bytes: 100,000 certificates make ~100 MB in four families. Each line's strings
 * (family name, the certificate's label text, its value) are encoded straight into the current 256 KiB
 * chunk, so the text exists once as bytes, in ~400 chunks the store writes as they are (writev): no
 * concatenation and no object per line (per-line Buffers cost most of a second of garbage collection at
 * 100,000; docs/performance.md, W7).
 */
class Pieces {
  readonly parts: Uint8Array[] = [];
  private chunk = Buffer.allocUnsafe(CHUNK);
  private used = 0;
  text(s: string): void {
    // A UTF-16 code unit takes at most 3 bytes of UTF-8, so a string that fits is never cut.
    if (s.length * 3 > this.chunk.length - this.used) {
      this.seal();
      if (s.length * 3 > CHUNK) {
        this.parts.push(Buffer.from(s, 'utf8'));
        return;
      }
      this.chunk = Buffer.allocUnsafe(CHUNK);
      this.used = 0;
    }
    this.used += this.chunk.write(s, this.used, 'utf8');
  }
  /** The chunks written so far, the last one cut to its length. */
  result(): Uint8Array[] {
    this.seal();
    return this.parts;
  }
  private seal(): void {
    if (this.used > 0) this.parts.push(this.chunk.subarray(0, this.used));
    this.chunk = this.chunk.subarray(this.used);
    this.used = 0;
  }
}

const CHUNK = 256 * 1024;

function header(out: Pieces, name: string, help: string): void {
  out.text(`# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} gauge\n`);
}

/** One family over the X.509 certificates: `name{labels} value` per certificate whose value is not null. */
function certificateFamily(out: Pieces, name: string, help: string, certificates: readonly Encoded[], value: (e: Encoded) => string | null): void {
  header(out, name, help);
  for (const e of certificates) {
    const v = value(e);
    if (v === null) continue;
    out.text(name);
    out.text(e.labels);
    out.text(v);
  }
}

function otherFamily(out: Pieces, name: string, help: string, lines: Iterable<string | null>): void {
  header(out, name, help);
  for (const line of lines) if (line !== null) out.text(line);
}

interface Encoded {
  readonly item: CheckItem;
  /** `{…}`, the certificate's label text. */
  readonly labels: string;
  /** ` <seconds>\n`. */
  readonly notBefore: string;
  readonly notAfter: string;
}

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/** The whole textfile, as bytes (prometheusTextfilePieces concatenated). */
export function prometheusTextfile(items: readonly CheckItem[], notes: readonly CheckNote[], now: Date): Uint8Array {
  return Buffer.concat(prometheusTextfilePieces(items, notes, now));
}

/**
 * The whole textfile, as pieces of bytes in order. Every family is written even when empty (HELP and TYPE
 * only), so a dashboard can tell "no certificates" from "no file". Values are whole Unix seconds.
 */
export function prometheusTextfilePieces(items: readonly CheckItem[], notes: readonly CheckNote[], now: Date): Uint8Array[] {
  const caches = { issuer: new Map<string, string>(), subject: new Map<string, string>() };
  const x509: Encoded[] = items
    .filter((i) => i.type === 'x509')
    .map((item) => ({
      item,
      labels: certificateLabels(item, caches),
      notBefore: ` ${seconds(item.notBefore)}\n`,
      notAfter: ` ${seconds(item.notAfter!)}\n`,
    }));
  const out = new Pieces();
  certificateFamily(out, 'x509_cert_not_before', "Indicates the certificate's not before timestamp", x509, (e) => e.notBefore);
  certificateFamily(out, 'x509_cert_not_after', "Indicates the certificate's not after timestamp", x509, (e) => e.notAfter);
  certificateFamily(out, 'x509_cert_expired', 'Indicates if the certificate is expired', x509, (e) => (e.item.state === 'EXPIRED' ? ' 1\n' : ' 0\n'));
  otherFamily(out, 'x509_read_errors', 'Indicates the number of read failure(s)', [`x509_read_errors ${notes.filter((n) => n.readError).length}\n`]);
  certificateFamily(
    out,
    'pki_certificate_renewal_due',
    'Whether the certificate is past the renewal threshold of pki renew --all (1) or not (0); inventory certificates only',
    x509,
    (e) => (e.item.renewalDue === null ? null : e.item.renewalDue ? ' 1\n' : ' 0\n'),
  );
  otherFamily(
    out,
    'pki_ssh_cert_not_after',
    "The OpenSSH certificate's valid-before timestamp (certificates of pki's SSH CAs, from the inventory)",
    items
      .filter((i) => i.type === 'ssh')
      .map((i) => {
        const l = new Map<string, string>([['principals', i.subject], ['cert_type', i.profile === 'ssh-host' ? 'host' : 'user']]);
        fileLabels(i.path, l);
        if (i.serial !== null) l.set('serial_number', i.serial);
        return `pki_ssh_cert_not_after${labelText(l)} ${seconds(i.notAfter!)}\n`;
      }),
  );
  otherFamily(
    out,
    'pki_crl_next_update_timestamp_seconds',
    "The published CRL's nextUpdate: relying parties that check it refuse it from then on",
    items
      .filter((i) => i.type === 'crl')
      .map((i) => {
        if (i.notAfter === null) return null;
        const l = new Map<string, string>();
        fileLabels(i.path, l);
        dnLabels('issuer', i.issuer, l);
        if (i.serial !== null) l.set('crl_number', i.serial);
        return `pki_crl_next_update_timestamp_seconds${labelText(l)} ${seconds(i.notAfter)}\n`;
      }),
  );
  otherFamily(out, 'pki_check_last_run_timestamp_seconds', 'When pki check wrote this file', [`pki_check_last_run_timestamp_seconds ${Math.floor(now.getTime() / 1000)}\n`]);
  return out.result();
}
