#!/usr/bin/env node
/**
 * The load generator of bench/ocsp.mjs (one process of several): `node bench/ocsp-load.mjs URL CONNECTIONS
 * SECONDS FILE…` keeps CONNECTIONS clients busy for SECONDS, each POSTing the request files round-robin
 * (application/ocsp-request) over a keep-alive http.Agent, one request at a time per client, and prints
 * one JSON line: responses, non-200 answers, errors, and a latency histogram in 10 µs buckets.
 */
import { Agent, request } from 'node:http';
import { readFileSync } from 'node:fs';

const [url, connections, seconds, ...files] = process.argv.slice(2);
const target = new URL(url);
const bodies = files.map((f) => readFileSync(f));
const agent = new Agent({ keepAlive: true, maxSockets: Number(connections) });
const histogram = new Map();
let responses = 0;
let non200 = 0;
let errors = 0;
let next = 0;
const end = Date.now() + Number(seconds) * 1000;

function one() {
  return new Promise((resolve) => {
    const body = bodies[next++ % bodies.length];
    const started = process.hrtime.bigint();
    const req = request(
      { agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { 'Content-Type': 'application/ocsp-request', 'Content-Length': body.length } },
      (res) => {
        res.on('data', () => {});
        res.on('end', () => {
          const us10 = Math.round(Number(process.hrtime.bigint() - started) / 10_000);
          histogram.set(us10, (histogram.get(us10) ?? 0) + 1);
          responses++;
          if (res.statusCode !== 200) non200++;
          resolve();
        });
      },
    );
    req.on('error', () => {
      errors++;
      resolve();
    });
    req.end(body);
  });
}

async function client() {
  while (Date.now() < end) await one();
}

await Promise.all(Array.from({ length: Number(connections) }, client));
agent.destroy();
process.stdout.write(`${JSON.stringify({ responses, non200, errors, histogram: [...histogram] })}\n`);
