/**
 * /metrics for `pki serve`: Prometheus text exposition (format 0.0.4, `promtool check metrics` clean) of
 *   pki_http_requests_total{endpoint,status}             counter: requests answered (408/431/400 of cut-off or malformed requests included)
 *   pki_http_request_duration_seconds{endpoint}          histogram: time from the request to the answer
 *   pki_certificates_issued_total{source}                counter: certificates issued (acme, renew, listener)
 *   pki_issuance_duration_seconds{source}                histogram: time to issue one
 *   pki_serve_start_time_seconds                         gauge: when this process started serving
 * and the gauges other roles set (pki_ocsp_cache_age_seconds, pki_crl_next_update_timestamp_seconds, the
 * listener certificate's notAfter). Kept in memory; a restart starts the counters again, as Prometheus
 * expects of a counter. Label values are fixed words from the code (endpoints, sources), never user input.
 */
import type { ServeMetrics } from './types.js';

const ISSUANCE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const REQUEST_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

interface Histogram {
  count: number;
  sum: number;
  readonly buckets: number[];
}

function histogram(bounds: readonly number[]): Histogram {
  return { count: 0, sum: 0, buckets: bounds.map(() => 0) };
}

function observe(h: Histogram, bounds: readonly number[], seconds: number): void {
  h.count++;
  h.sum += seconds;
  bounds.forEach((b, i) => {
    if (seconds <= b) h.buckets[i]!++;
  });
}

const escape = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function renderHistogram(lines: string[], name: string, label: string, bounds: readonly number[], series: ReadonlyMap<string, Histogram>): void {
  for (const [value, h] of [...series].sort(([a], [b]) => a.localeCompare(b))) {
    const l = `${label}="${escape(value)}"`;
    bounds.forEach((b, i) => lines.push(`${name}_bucket{${l},le="${b}"} ${h.buckets[i]}`));
    lines.push(`${name}_bucket{${l},le="+Inf"} ${h.count}`, `${name}_sum{${l}} ${h.sum}`, `${name}_count{${l}} ${h.count}`);
  }
}

export function createMetrics(startedAt: Date = new Date()): ServeMetrics {
  const requests = new Map<string, { endpoint: string; status: number; n: number }>();
  const durations = new Map<string, Histogram>();
  const issuance = new Map<string, Histogram>();
  // name → help and its series by rendered label set ('' when unlabelled).
  const gauges = new Map<string, { help: string; series: Map<string, number> }>([
    ['pki_serve_start_time_seconds', { help: 'When this pki serve process started, Unix time.', series: new Map([['', startedAt.getTime() / 1000]]) }],
  ]);
  return {
    observeRequest(endpoint, status, seconds) {
      const key = `${endpoint}\u0000${status}`;
      const entry = requests.get(key) ?? { endpoint, status, n: 0 };
      entry.n++;
      requests.set(key, entry);
      const h = durations.get(endpoint) ?? histogram(REQUEST_BUCKETS);
      observe(h, REQUEST_BUCKETS, seconds);
      durations.set(endpoint, h);
    },
    observeIssuance(source, seconds) {
      const h = issuance.get(source) ?? histogram(ISSUANCE_BUCKETS);
      observe(h, ISSUANCE_BUCKETS, seconds);
      issuance.set(source, h);
    },
    setGauge(name, help, value, labels = {}) {
      const gauge = gauges.get(name) ?? { help, series: new Map<string, number>() };
      const rendered = Object.entries(labels).map(([k, v]) => `${k}="${escape(v)}"`).join(',');
      gauge.series.set(rendered && `{${rendered}}`, value);
      gauges.set(name, gauge);
    },
    render() {
      const lines = ['# HELP pki_http_requests_total HTTP requests answered, by endpoint and status.', '# TYPE pki_http_requests_total counter'];
      for (const r of [...requests.values()].sort((a, b) => a.endpoint.localeCompare(b.endpoint) || a.status - b.status)) {
        lines.push(`pki_http_requests_total{endpoint="${escape(r.endpoint)}",status="${r.status}"} ${r.n}`);
      }
      lines.push('# HELP pki_http_request_duration_seconds Time from a request to its answer, by endpoint.', '# TYPE pki_http_request_duration_seconds histogram');
      renderHistogram(lines, 'pki_http_request_duration_seconds', 'endpoint', REQUEST_BUCKETS, durations);
      lines.push('# HELP pki_certificates_issued_total Certificates issued by this server, by source.', '# TYPE pki_certificates_issued_total counter');
      for (const [source, h] of [...issuance].sort(([a], [b]) => a.localeCompare(b))) lines.push(`pki_certificates_issued_total{source="${source}"} ${h.count}`);
      lines.push('# HELP pki_issuance_duration_seconds Time to issue one certificate, by source.', '# TYPE pki_issuance_duration_seconds histogram');
      renderHistogram(lines, 'pki_issuance_duration_seconds', 'source', ISSUANCE_BUCKETS, issuance);
      for (const [name, g] of [...gauges].sort(([a], [b]) => a.localeCompare(b))) {
        lines.push(`# HELP ${name} ${g.help}`, `# TYPE ${name} gauge`);
        for (const [labels, value] of [...g.series].sort(([a], [b]) => a.localeCompare(b))) lines.push(`${name}${labels} ${value}`);
      }
      return `${lines.join('\n')}\n`;
    },
  };
}
