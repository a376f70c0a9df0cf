/**
 * Issue 12 "Done means" 1, the Java half: a Java 17 TLS client compiled here (javac) loads a .p12 pki wrote
 * as its KeyStore and our root as its truststore (a PKCS12 truststore made by keytool -importcert), then
 * completes a mutual-TLS handshake with hostname verification against `openssl s_server -Verify 1
 * -verify_return_error` serving our server bundle, and reads the server's HTTP answer. With a .p12 from
 * another CA the server refuses the client certificate and the client fails.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCa, tempDir } from '../helpers/cli.js';
import { peer, requirePeer, runPeer } from '../helpers/peers.js';
import { startServer, type Server } from '../helpers/process.js';
import { generateBundle, pemBlocks, writeP12, writePasswordFile, type Bundle } from './p12-fixtures.js';

const PASSWORD = 'java-keystore-password';
const work = tempDir('pki-p12-java-');
const passFile = writePasswordFile(join(work, 'store.pass'), PASSWORD);

/** The client: KeyStore and truststore from PKCS12 files, HTTPS hostname checks, one GET. */
const CLIENT_JAVA = `
import java.io.*;
import java.nio.file.*;
import java.security.KeyStore;
import javax.net.ssl.*;

public class P12Client {
  static KeyStore load(String file, char[] password) throws Exception {
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = new FileInputStream(file)) { store.load(in, password); }
    return store;
  }

  public static void main(String[] args) throws Exception {
    String host = args[0];
    int port = Integer.parseInt(args[1]);
    char[] password = Files.readString(Path.of(args[3])).strip().toCharArray();
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(load(args[2], password), password);
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(load(args[4], password));
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(host, port)) {
      socket.setSoTimeout(30000);
      SSLParameters parameters = socket.getSSLParameters();
      parameters.setEndpointIdentificationAlgorithm("HTTPS");
      socket.setSSLParameters(parameters);
      socket.startHandshake();
      OutputStream out = socket.getOutputStream();
      out.write("GET / HTTP/1.0\\r\\n\\r\\n".getBytes("US-ASCII"));
      out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), "US-ASCII"));
      System.out.println("status: " + in.readLine());
      System.out.println("protocol: " + socket.getSession().getProtocol());
      System.out.println("client: " + ((java.security.cert.X509Certificate) socket.getSession().getLocalCertificates()[0]).getSubjectX500Principal());
    }
  }
}
`;

let server: Bundle;
let serverProcess: Server | undefined;
let classes: string;
let truststore: string;
let home: string;

beforeAll(async () => {
  for (const p of ['java', 'javac', 'keytool', 'openssl']) requirePeer(p);
  home = initCa();
  server = generateBundle(home, 'javatls', 'ec');
  classes = join(work, 'classes');
  writeFileSync(join(work, 'P12Client.java'), CLIENT_JAVA);
  peer('javac', ['-d', classes, join(work, 'P12Client.java')]);
  truststore = join(work, 'truststore.p12');
  peer('keytool', ['-importcert', '-noprompt', '-alias', 'pki-root', '-file', server.rootFile, '-keystore', truststore, '-storetype', 'PKCS12', '-storepass:file', passFile]);
  const [leaf, intermediate] = pemBlocks(server.chainFile);
  const pem = (der: Buffer) => `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
  writeFileSync(join(work, 'leaf.crt'), pem(leaf!));
  writeFileSync(join(work, 'intermediate.crt'), pem(intermediate!));
  serverProcess = await startServer({
    program: requirePeer('openssl'),
    // -quiet: s_server would end on the EOF of its empty stdin otherwise; -www answers the GET.
    args: (port) => ['s_server', '-accept', `127.0.0.1:${port}`, '-quiet', '-www', '-cert', join(work, 'leaf.crt'), '-cert_chain', join(work, 'intermediate.crt'), '-key', server.keyFile, '-CAfile', server.rootFile, '-Verify', '1', '-verify_return_error'],
  });
});

afterAll(async () => {
  await serverProcess?.stop();
});

function javaClient(p12: string) {
  return runPeer('java', ['-cp', classes, 'P12Client', 'localhost', String(serverProcess!.port), p12, passFile, truststore]);
}

describe('a Java TLS client with a pki .p12 as its KeyStore', () => {
  it.each(['ec', 'rsa'] as const)('completes an mTLS handshake with an %s client key and our root as truststore', async (kt) => {
    const client = generateBundle(home, `javaclient-${kt}`, kt, 'client');
    const p12 = join(work, `client-${kt}.p12`);
    await writeP12(client, p12, PASSWORD);
    const r = javaClient(p12);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('status: HTTP/1.0 200 ok');
    expect(r.stdout).toMatch(/protocol: TLSv1\.[23]/);
    expect(r.stdout).toContain('client: CN=client');
  });

  it('fails when the server does not trust the .p12 client certificate (another CA)', async () => {
    const other = generateBundle(initCa(), 'stranger', 'ec', 'client');
    const p12 = join(work, 'stranger.p12');
    await writeP12(other, p12, PASSWORD);
    const r = javaClient(p12);
    expect(r.status).not.toBe(0);
    expect(r.stdout).not.toContain('200 ok');
    // the server's verdict, as an alert: the client did not give up on its own
    // JDK 17.0.19 names the alert first: "SSLHandshakeException: (unknown_ca) Received fatal alert: unknown_ca".
    expect(r.stderr).toMatch(/SSLHandshakeException: (\(unknown_ca\) )?Received fatal alert: unknown_ca/);
  });
});
