/**
 * Upgrading a plain connection to TLS before the handshake, for servers that speak TLS only after a
 * protocol-specific request: PostgreSQL's SSLRequest (protocol docs §55.2.10 "SSL Session Encryption") and
 * SMTP's STARTTLS (RFC 3207). The byte formats are pure functions; `startTls` runs the exchange on a socket,
 * every read bounded in size (the deadline is the caller's: it destroys the socket).
 */
import type { Socket } from 'node:net';
import { PkiError } from '../core/errors.js';

export type StartTlsProtocol = 'postgres' | 'smtp';
export const STARTTLS_PROTOCOLS: readonly StartTlsProtocol[] = ['postgres', 'smtp'];

/** SSLRequest: Int32 length 8, Int32 code 80877103 (1234 << 16 | 5679). */
export function postgresSslRequest(): Buffer {
  const out = Buffer.alloc(8);
  out.writeInt32BE(8, 0);
  out.writeInt32BE(80877103, 4);
  return out;
}

/** An SMTP reply (RFC 5321 §4.2): `250-…` lines continue it, `250 …` ends it. */
export interface SmtpReply {
  readonly code: number;
  readonly lines: readonly string[];
  /** Bytes of the buffer the reply used. */
  readonly length: number;
}

/** The first complete reply at the start of `buffer`, or undefined while it is still arriving. Throws on a line that is not a reply. */
export function parseSmtpReply(buffer: Uint8Array): SmtpReply | undefined {
  const text = Buffer.from(buffer).toString('latin1');
  const lines: string[] = [];
  let offset = 0;
  for (;;) {
    const end = text.indexOf('\n', offset);
    if (end < 0) return undefined;
    const line = text.slice(offset, end).replace(/\r$/, '');
    offset = end + 1;
    const m = /^(\d{3})([ -])(.*)$/.exec(line) ?? /^(\d{3})()$/.exec(line);
    if (!m) throw new Error(`not an SMTP reply: ${JSON.stringify(line.slice(0, 80))}`);
    lines.push(m[3] ?? '');
    if (m[2] !== '-') return { code: Number(m[1]), lines, length: offset };
  }
}

/** A server greeting or reply is at most this long (RFC 5321 limits lines to 512; EHLO lists a few dozen). */
const MAX_REPLY_BYTES = 64 * 1024;

/** Reads from `socket` until `parse` returns a value; refuses more than MAX_REPLY_BYTES. */
function readSome<T>(socket: Socket, where: string, parse: (buffer: Buffer) => T | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onEnd);
    };
    const fail = (message: string) => {
      cleanup();
      reject(new PkiError('ERR_STARTTLS', `${where}: ${message}`, { hint: 'check --starttls against the service on that port' }));
    };
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length > MAX_REPLY_BYTES) return fail('the server sent more than 64 KiB without an answer pki understands');
      let value: T | undefined;
      try {
        value = parse(buffer);
      } catch (e) {
        return fail((e as Error).message);
      }
      if (value === undefined) return;
      cleanup();
      socket.pause();
      resolve(value);
    };
    const onEnd = () => fail('the server closed the connection before TLS started');
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', onEnd);
    socket.resume();
  });
}

async function postgres(socket: Socket, where: string): Promise<void> {
  socket.write(postgresSslRequest());
  const answer = await readSome(socket, where, (b) => (b.length >= 1 ? b[0]! : undefined));
  if (answer === 0x53) return; // 'S': go on with the TLS handshake
  if (answer === 0x4e) throw new PkiError('ERR_STARTTLS', `${where}: PostgreSQL answered the SSLRequest with N: the server does not accept TLS`, { hint: 'set ssl = on in postgresql.conf' });
  throw new PkiError('ERR_STARTTLS', `${where}: not a PostgreSQL server (it answered the SSLRequest with byte 0x${answer.toString(16).padStart(2, '0')})`, { hint: 'check the port, or drop --starttls postgres' });
}

async function smtp(socket: Socket, where: string): Promise<void> {
  const expect = async (code: number, what: string) => {
    const reply = await readSome(socket, where, parseSmtpReply);
    if (reply.code !== code) throw new PkiError('ERR_STARTTLS', `${where}: the SMTP server answered ${what} with ${reply.code} ${reply.lines[0] ?? ''}`.trim(), { hint: 'check that the server offers STARTTLS' });
    return reply;
  };
  await expect(220, 'the connection');
  socket.write('EHLO pki.invalid\r\n');
  const ehlo = await expect(250, 'EHLO');
  if (!ehlo.lines.some((l) => /^STARTTLS\b/i.test(l))) throw new PkiError('ERR_STARTTLS', `${where}: the SMTP server does not offer STARTTLS`, { hint: 'enable STARTTLS on the server, or connect to its implicit-TLS port (465)' });
  socket.write('STARTTLS\r\n');
  await expect(220, 'STARTTLS');
}

/** Runs the plain-text exchange that precedes the handshake. */
export function startTls(socket: Socket, protocol: StartTlsProtocol, where: string): Promise<void> {
  return protocol === 'postgres' ? postgres(socket, where) : smtp(socket, where);
}
