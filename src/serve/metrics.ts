/**
 * /metrics for `pki serve`: Prometheus text exposition of requests by endpoint and status, issuance count
 * and latency, and the gauges other roles set (OCSP cache age, CRL nextUpdate). Kept in memory; a restart
 * starts the counters again, as Prometheus expects of a counter.
 */
import type { ServeMetrics } from './types.js';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(): ServeMetrics {
  const requests = new Map<string, number>();
  const issuance = new Map<string, { count: number; sum: number; buckets: number[] }>();
  const gauges = new Map<string, { help: string; value: number }>();
  return {
    observeRequest(endpoint, status) {
      const key = `endpoint="${endpoint}",status="${status}"`;
      requests.set(key, (requests.get(key) ?? 0) + 1);
    },
    observeIssuance(source, seconds) {
      const h = issuance.get(source) ?? { count: 0, sum: 0, buckets: BUCKETS.map(() => 0) };
      h.count++;
      h.sum += seconds;
      BUCKETS.forEach((b, i) => {
        if (seconds <= b) h.buckets[i]!++;
      });
      issuance.set(source, h);
    },
    setGauge(name, help, value) {
      gauges.set(name, { help, value });
    },
    render() {
      const lines = ['# HELP pki_http_requests_total HTTP requests answered, by endpoint and status.', '# TYPE pki_http_requests_total counter'];
      for (const [labels, n] of [...requests].sort()) lines.push(`pki_http_requests_total{${labels}} ${n}`);
      lines.push('# HELP pki_certificates_issued_total Certificates issued by this server.', '# TYPE pki_certificates_issued_total counter');
      for (const [source, h] of issuance) lines.push(`pki_certificates_issued_total{source="${source}"} ${h.count}`);
      lines.push('# HELP pki_issuance_duration_seconds Time to issue one certificate.', '# TYPE pki_issuance_duration_seconds histogram');
      for (const [source, h] of issuance) {
        BUCKETS.forEach((b, i) => lines.push(`pki_issuance_duration_seconds_bucket{source="${source}",le="${b}"} ${h.buckets[i]}`));
        lines.push(`pki_issuance_duration_seconds_bucket{source="${source}",le="+Inf"} ${h.count}`);
        lines.push(`pki_issuance_duration_seconds_sum{source="${source}"} ${h.sum}`, `pki_issuance_duration_seconds_count{source="${source}"} ${h.count}`);
      }
      for (const [name, g] of [...gauges].sort()) lines.push(`# HELP ${name} ${g.help}`, `# TYPE ${name} gauge`, `${name} ${g.value}`);
      return `${lines.join('\n')}\n`;
    },
  };
}
