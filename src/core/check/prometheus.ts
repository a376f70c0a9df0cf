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

/** The label set of an X.509 certificate: filename, filepath, issuer_*, serial_number, subject_*. */
export function certificateLabels(item: Pick<CheckItem, 'path' | 'serial' | 'subject' | 'issuer'>): string {
  const labels = new Map<string, string>();
  fileLabels(item.path, labels);
  if (item.serial !== null) labels.set('serial_number', decimalSerial(item.serial));
  dnLabels('issuer', item.issuer, labels);
  dnLabels('subject', item.subject, labels);
  return labelText(labels);
}

function family(out: string[], name: string, help: string, samples: Iterable<string>): void {
  out.push(`# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} gauge\n`);
  for (const sample of samples) out.push(sample);
}

function* samples<T>(entries: readonly T[], line: (entry: T) => string | null): Iterable<string> {
  for (const entry of entries) {
    const text = line(entry);
    if (text !== null) yield text;
  }
}

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/**
 * The whole textfile. Every family is written even when empty (HELP and TYPE only), so a dashboard can
 * tell "no certificates" from "no file". Values are whole Unix seconds.
 */
export function prometheusTextfile(items: readonly CheckItem[], notes: readonly CheckNote[], now: Date): string {
  const x509 = items.filter((i) => i.type === 'x509');
  const labels = x509.map((i) => certificateLabels(i));
  const indexed = x509.map((item, i) => ({ item, labels: labels[i]! }));
  const out: string[] = [];
  family(out, 'x509_cert_not_before', "Indicates the certificate's not before timestamp", samples(indexed, (e) => `x509_cert_not_before${e.labels} ${seconds(e.item.notBefore)}\n`));
  family(out, 'x509_cert_not_after', "Indicates the certificate's not after timestamp", samples(indexed, (e) => `x509_cert_not_after${e.labels} ${seconds(e.item.notAfter!)}\n`));
  family(out, 'x509_cert_expired', 'Indicates if the certificate is expired', samples(indexed, (e) => `x509_cert_expired${e.labels} ${e.item.state === 'EXPIRED' ? 1 : 0}\n`));
  family(out, 'x509_read_errors', 'Indicates the number of read failure(s)', [`x509_read_errors ${notes.filter((n) => n.readError).length}\n`]);
  family(
    out,
    'pki_certificate_renewal_due',
    'Whether the certificate is past the renewal threshold of pki renew --all (1) or not (0); inventory certificates only',
    samples(indexed, (e) => (e.item.renewalDue === null ? null : `pki_certificate_renewal_due${e.labels} ${e.item.renewalDue ? 1 : 0}\n`)),
  );
  const ssh = items.filter((i) => i.type === 'ssh');
  family(
    out,
    'pki_ssh_cert_not_after',
    "The OpenSSH certificate's valid-before timestamp (certificates of pki's SSH CAs, from the inventory)",
    samples(ssh, (i) => {
      const l = new Map<string, string>([['principals', i.subject], ['cert_type', i.profile === 'ssh-host' ? 'host' : 'user']]);
      fileLabels(i.path, l);
      if (i.serial !== null) l.set('serial_number', i.serial);
      return `pki_ssh_cert_not_after${labelText(l)} ${seconds(i.notAfter!)}\n`;
    }),
  );
  const crls = items.filter((i) => i.type === 'crl');
  family(
    out,
    'pki_crl_next_update_timestamp_seconds',
    "The published CRL's nextUpdate: relying parties that check it refuse it from then on",
    samples(crls, (i) => {
      if (i.notAfter === null) return null;
      const l = new Map<string, string>();
      fileLabels(i.path, l);
      dnLabels('issuer', i.issuer, l);
      if (i.serial !== null) l.set('crl_number', i.serial);
      return `pki_crl_next_update_timestamp_seconds${labelText(l)} ${seconds(i.notAfter)}\n`;
    }),
  );
  family(out, 'pki_check_last_run_timestamp_seconds', 'When pki check wrote this file', [`pki_check_last_run_timestamp_seconds ${Math.floor(now.getTime() / 1000)}\n`]);
  return out.join('');
}
