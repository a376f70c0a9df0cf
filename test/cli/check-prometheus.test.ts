/**
 * `pki check --prometheus FILE` (issue 11, Done-means 3): the textfile is accepted by `promtool check
 * metrics` (Debian package prometheus) and served by a real prometheus-node-exporter started here with its
 * textfile collector on 127.0.0.1, scraped with curl: the x509_cert_not_after series carries
 * x509-certificate-exporter's labels (decimal serial_number, subject_CN, issuer_CN, filepath, filename),
 * label values are escaped (a subject with a quote and a backslash), the write is atomic (temp + rename
 * in the same folder, mode 0644).
 */
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pki, tempDir } from '../helpers/cli.js';
import { peer, requirePeer, runPeer } from '../helpers/peers.js';
import { startServer, type Server } from '../helpers/process.js';

const DAY = 86_400_000;
const T0 = Date.parse('2030-01-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const at = (ms: number) => ({ env: { PKI_TEST_NOW: iso(ms) } });

let home: string;
let textDir: string;
let prom: string;
let foreign: string;
let text: string;

beforeAll(() => {
  home = join(tempDir('pki-check-prom-'), 'ca');
  const ok = (args: string[], now: number) => {
    const r = pki(args, at(now));
    if (r.code !== 0) throw new Error(`pki ${args.join(' ')}: ${r.stderr}`);
  };
  ok(['init', '--no-password', '--insecure', '--dir', home], T0 - 200 * DAY);
  ok(['generate', 'sixty', 'main', '--dir', home, '--no-client', '--not-after', iso(T0 + 60 * DAY)], T0);
  ok(['generate', 'gone', 'main', '--dir', home, '--no-client', '--not-after', iso(T0 - DAY)], T0 - 10 * DAY);
  ok(['crl', '--dir', home], T0);
  foreign = tempDir('pki-check-foreign-');
  // A subject with a double quote and a backslash (openssl -subj: `\\` is one backslash).
  peer('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(foreign, 'k.key'), '-subj', '/O=Acme "Q"/CN=odd"name\\\\x', '-days', '3000', '-out', join(foreign, 'odd.pem')]);
  textDir = tempDir('pki-textfile-');
  prom = join(textDir, 'pki.prom');
  const r = pki(['check', '--dir', home, '--quiet', '--prometheus', prom, '--path', foreign], at(T0));
  expect(r.code).toBe(1); // gone is EXPIRED
  text = readFileSync(prom, 'utf8');
});

describe('pki check --prometheus', () => {
  it('writes x509-certificate-exporter series with decimal serials, mode 0644, via a temp file in the same folder', () => {
    const serialHex = peer('openssl', ['x509', '-in', join(home, 'services/sixty/main/certs/sixty.crt'), '-noout', '-serial']).trim().replace('serial=', '');
    const decimal = BigInt(`0x${serialHex}`).toString(10);
    const path = join(home, 'services/sixty/main/certs/sixty.crt');
    expect(text).toContain(
      `x509_cert_not_after{filename="sixty.crt",filepath="${path}",issuer_CN="pki Intermediate CA",serial_number="${decimal}",subject_CN="sixty"} ${(T0 + 60 * DAY) / 1000}\n`,
    );
    expect(text).toMatch(/^x509_cert_expired\{filename="gone\.crt",.*subject_CN="gone"\} 1$/m);
    expect(text).toMatch(/^x509_cert_not_before\{filename="sixty\.crt",/m);
    expect(text).toMatch(/^pki_certificate_renewal_due\{filename="gone\.crt",.*\} 1$/m);
    expect(text).toMatch(/^pki_certificate_renewal_due\{filename="sixty\.crt",.*\} 0$/m);
    expect(text).toMatch(new RegExp(`^pki_crl_next_update_timestamp_seconds\\{crl_number="\\d+",filename="intermediate_ca.crl",.*issuer_CN="pki Intermediate CA"\\} ${(T0 + 7 * DAY) / 1000}$`, 'm'));
    expect(text).toContain(`pki_check_last_run_timestamp_seconds ${T0 / 1000}\n`);
    expect(text).toContain('# TYPE x509_cert_not_after gauge\n');
    expect(text).toContain('x509_read_errors 0\n');
    expect(statSync(prom).mode & 0o777).toBe(0o644);
    expect(readdirSync(textDir)).toEqual(['pki.prom']); // no temp file left behind
    expect(text).not.toMatch(/PRIVATE KEY/);
  });

  it('escapes label values: a quote and a backslash in the subject', () => {
    expect(text).toMatch(/subject_CN="odd\\"name\\\\x"/);
    expect(text).toMatch(/subject_O="Acme \\"Q\\""/);
  });

  it('is accepted by promtool check metrics', () => {
    const r = runPeer('promtool', ['check', 'metrics'], { input: text });
    expect(r.stderr + r.stdout).toBe('');
    expect(r.status).toBe(0);
    // Red check of the peer itself: an unescaped quote is refused.
    const broken = runPeer('promtool', ['check', 'metrics'], { input: text.replace('odd\\"name', 'odd"name') });
    expect(broken.status).not.toBe(0);
  });

  describe('served by prometheus-node-exporter', () => {
    let exporter: Server | undefined;
    afterAll(async () => {
      await exporter?.stop();
    });

    it('its textfile collector exposes the x509_cert_not_after series with their labels', async () => {
      exporter = await startServer({
        program: requirePeer('prometheus-node-exporter'),
        args: (port) => ['--collector.disable-defaults', '--collector.textfile', `--collector.textfile.directory=${textDir}`, `--web.listen-address=127.0.0.1:${port}`],
        ready: /Listening on/,
      });
      const metrics = peer('curl', ['--silent', '--show-error', '--max-time', '10', `http://127.0.0.1:${exporter.port}/metrics`]);
      expect(metrics).toMatch(/^node_textfile_scrape_error 0$/m);
      const line = metrics.split('\n').find((l) => l.startsWith('x509_cert_not_after{') && l.includes('subject_CN="sixty"'));
      expect(line).toBeDefined();
      const labels = Object.fromEntries([...line!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
      expect(labels).toMatchObject({ filename: 'sixty.crt', filepath: join(home, 'services/sixty/main/certs/sixty.crt'), issuer_CN: 'pki Intermediate CA', subject_CN: 'sixty' });
      expect(labels.serial_number).toMatch(/^\d+$/);
      expect(Number(line!.split(' ').pop())).toBe((T0 + 60 * DAY) / 1000);
      expect(metrics).toMatch(/^x509_cert_not_after\{.*subject_CN="odd\\"name\\\\x".*\} \d/m);
      const lastRun = metrics.split('\n').find((l) => l.startsWith('pki_check_last_run_timestamp_seconds '));
      expect(Number(lastRun?.split(' ')[1])).toBe(T0 / 1000);
    });
  });
});

describe('pki check --prometheus: a rerun replaces the file', () => {
  it('rewrites it in place (rename over the old one) with the new run time', () => {
    const dir = tempDir('pki-textfile-rerun-');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'pki.prom');
    pki(['check', '--dir', home, '--quiet', '--prometheus', file], at(T0));
    const first = statSync(file).ino;
    pki(['check', '--dir', home, '--quiet', '--prometheus', file], at(T0 + 3_600_000));
    expect(readFileSync(file, 'utf8')).toContain(`pki_check_last_run_timestamp_seconds ${(T0 + 3_600_000) / 1000}\n`);
    expect(statSync(file).ino).not.toBe(first);
    expect(readdirSync(dir)).toEqual(['pki.prom']);
  });
});
