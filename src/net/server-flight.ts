/**
 * What the server sent during the handshake, read from the bytes captured off the wire: the negotiated
 * version and suite, the certificates exactly as presented, and whether (and from which CAs) it asked for a
 * client certificate. TLS 1.2 sends all of it in the clear; TLS 1.3 encrypts everything after ServerHello
 * with the server handshake traffic secret (the 'keylog' line SERVER_HANDSHAKE_TRAFFIC_SECRET). Pure.
 */
import { ContentType, splitRecords } from './tls-records.js';
import { HandshakeType, TLS13, parseCertificateMessage, parseCertificateRequest, parseServerHello, splitHandshakeMessages, type HandshakeMessage } from './handshake-messages.js';
import { openRecord, trafficKeys } from './tls13-decrypt.js';

export interface ServerFlight {
  readonly version: number;
  readonly cipherSuite: number;
  /** DER, in the order the server sent them. */
  readonly certificates: readonly Uint8Array[];
  /** DER distinguished names of the CertificateRequest (empty: any CA), or null when the server asked for none. */
  readonly certificateRequest: { readonly authorities: readonly Uint8Array[] } | null;
  /** The server's Finished (1.3) or ServerHelloDone (1.2) was read: the flight is complete. */
  readonly complete: boolean;
}

/** Collects handshake messages from successive handshake fragments (a message may span records). */
class MessageStream {
  #pending: Uint8Array = new Uint8Array(0);
  readonly messages: HandshakeMessage[] = [];

  push(fragment: Uint8Array): void {
    const joined = Buffer.concat([this.#pending, fragment]);
    const { messages, rest } = splitHandshakeMessages(joined);
    this.messages.push(...messages);
    this.#pending = rest;
  }
}

/** The server handshake traffic secret out of Node's keylog lines (NSS key log format). */
export function serverHandshakeSecret(keylog: readonly string[]): Buffer | undefined {
  for (const line of keylog) {
    const [label, , secret] = line.trim().split(' ');
    if (label === 'SERVER_HANDSHAKE_TRAFFIC_SECRET' && secret) return Buffer.from(secret, 'hex');
  }
  return undefined;
}

/**
 * Reads the server's flight out of `received` (every byte the server sent, from its first record on).
 * `secret` is needed for TLS 1.3; without it the encrypted part stays unread (no certificates, no request).
 */
export function readServerFlight(received: Uint8Array, secret: Uint8Array | undefined): ServerFlight {
  const plain = new MessageStream();
  const encrypted = new MessageStream();
  let hello: ReturnType<typeof parseServerHello> | undefined;
  let sequence = 0;
  for (const record of splitRecords(received)) {
    if (record.type === ContentType.changeCipherSpec && hello && hello.version !== TLS13) break; // 1.2: encrypted from here
    if (record.type === ContentType.handshake) {
      plain.push(record.fragment);
      const last = plain.messages.filter((m) => m.type === HandshakeType.serverHello).at(-1);
      if (last) hello = parseServerHello(last.body);
    } else if (record.type === ContentType.applicationData && hello?.version === TLS13 && !hello.helloRetryRequest) {
      if (encrypted.messages.some((m) => m.type === HandshakeType.finished)) break; // application traffic keys from here
      const keys = secret ? trafficKeys(hello.cipherSuite, secret) : undefined;
      if (!keys) break;
      const inner = openRecord(keys, sequence++, record.header, record.fragment);
      if (inner.type === ContentType.handshake) encrypted.push(inner.content);
      else break; // an alert: the handshake ends here
    }
  }
  if (!hello) throw new Error('no ServerHello in the bytes the server sent');
  const messages = hello.version === TLS13 ? encrypted.messages : plain.messages;
  const certificate = messages.find((m) => m.type === HandshakeType.certificate);
  const request = messages.find((m) => m.type === HandshakeType.certificateRequest);
  const end = hello.version === TLS13 ? HandshakeType.finished : HandshakeType.serverHelloDone;
  return {
    version: hello.version,
    cipherSuite: hello.cipherSuite,
    certificates: certificate ? parseCertificateMessage(certificate.body, hello.version) : [],
    certificateRequest: request ? { authorities: parseCertificateRequest(request.body, hello.version) } : null,
    complete: messages.some((m) => m.type === end),
  };
}
