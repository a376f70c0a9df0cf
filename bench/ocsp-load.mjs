#!/usr/bin/env node
/**
 * The load generator of bench/ocsp.mjs (one process of several): `node bench/ocsp-load.mjs URL CONNECTIONS
 * SECONDS FILE…` keeps CONNECTIONS clients busy for SECONDS, each POSTing the request files round-robin
 * (application/ocsp-request, HTTP/1.1, keep-alive), one request at a time per client, and prints one JSON
 * line: responses, non-200 answers, errors, reconnects, and a latency histogram in 10 µs buckets.
 *
 * Raw sockets rather than node:http's client: the requests are pre-built bytes and a response is read by
 * its Content-Length, so the generator costs a fraction of the CPU node:http does — on a 2-core machine the
 * load generator competes with the server it measures. A server that closes the connection after each
 * answer (OpenSSL's responder speaks HTTP/1.0) is reconnected to, and the reconnect counted.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';

const [url, connections, seconds, ...files] = process.argv.slice(2);
const target = new URL(url);
const port = Number(target.port);
const requests = files.map((f) => {
  const body = readFileSync(f);
  const head = `POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: application/ocsp-request\r\nContent-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
});
const histogram = new Map();
let responses = 0;
let non200 = 0;
let errors = 0;
let reconnects = 0;
let next = 0;
const end = Date.now() + Number(seconds) * 1000;

function client() {
  return new Promise((resolve) => {
    let socket = null;
    let buffer = Buffer.alloc(0);
    let started = 0n;
    let closeAfter = false;
    const send = () => {
      if (Date.now() >= end) {
        const last = socket;
        socket = null;
        last?.destroy();
        resolve();
        return;
      }
      if (!socket || socket.destroyed) open();
      started = process.hrtime.bigint();
      socket.write(requests[next++ % requests.length]);
    };
    const open = () => {
      if (closeAfter) reconnects++;
      closeAfter = false;
      buffer = Buffer.alloc(0);
      const s = connect(port, target.hostname);
      s.setNoDelay(true);
      s.on('data', (d) => {
        if (s !== socket) return;
        buffer = buffer.length ? Buffer.concat([buffer, d]) : d;
        const headEnd = buffer.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const head = buffer.subarray(0, headEnd).toString('latin1');
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffer.length < headEnd + 4 + length) return;
        buffer = buffer.subarray(headEnd + 4 + length);
        if (head.startsWith('HTTP/1.0') || /\r\nconnection:\s*close/i.test(head)) socket = null; // its close is expected
        const us10 = Math.round(Number(process.hrtime.bigint() - started) / 10_000);
        histogram.set(us10, (histogram.get(us10) ?? 0) + 1);
        responses++;
        if (!head.startsWith('HTTP/1.1 200') && !head.startsWith('HTTP/1.0 200')) non200++;
        closeAfter = socket === null;
        send();
      });
      const lost = () => {
        if (s !== socket) return;
        errors++; // closed or failed with a request in flight
        socket = null;
        setImmediate(send);
      };
      s.on('error', lost);
      s.on('close', lost);
      socket = s;
    };
    send();
  });
}

await Promise.all(Array.from({ length: Number(connections) }, client));
process.stdout.write(`${JSON.stringify({ responses, non200, errors, reconnects, histogram: [...histogram] })}\n`);
