/**
 * `pki db rebuild` with several CAs (issue 14): after the inventory is lost, the certificates of every
 * issuing CA — the default intermediate, a `pki ca add` CA, a trust domain's, and a key `pki ca rotate`
 * retired — come back with the CA they belong to, and the revocations of each CA's CRL go back on that
 * CRL only, which openssl checks after the next `pki crl`.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCa, pki } from '../helpers/cli.js';
import { requirePeer, runPeer } from '../helpers/peers.js';

let dir = '';
const ok = (args: string[], env?: NodeJS.ProcessEnv) => {
  const r = pki([...args, '--dir', dir], env ? { env } : {});
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
};
const serialOf = (file: string) => runPeer('openssl', ['x509', '-in', file, '-noout', '-serial']).stdout.trim().replace('serial=', '');
const crlText = (file: string) => runPeer('openssl', ['crl', '-in', join(dir, file), '-noout', '-text']).stdout;
type Row = { serial: string; ca: string; trustDomain: string | null; status: string; certificatePath: string | null };

const leaf = (service: string, name = 'client') => join(dir, 'services', service, 'main', 'certs', `${name}.crt`);

beforeAll(() => {
  requirePeer('openssl');
  dir = initCa();
  ok(['ca', 'add', 'apps', '--no-password', '--insecure']);
  ok(['generate', 'old', 'main']); // issued by the default key that is rotated away below
  ok(['ca', 'rotate']);
  ok(['generate', 'web', 'main']);
  ok(['generate', 'cache', 'main', '--ca', 'apps']);
  ok(['generate', 'redis', 'main', '--trust-domain', 'kv', '--no-password', '--insecure']);
  for (const service of ['web', 'cache', 'redis']) ok(['revoke', leaf(service)]);
}, 120_000);

describe('pki db rebuild with several CAs', () => {
  it('recovers every CA’s certificates with their CA, and each CRL’s revocations onto that CA’s CRL', () => {
    const before = (JSON.parse(ok(['list', '--all', '--json'])) as Row[]).filter((r) => r.certificatePath?.includes('/services/'));
    rmSync(join(dir, 'db'), { recursive: true, force: true });
    ok(['db', 'rebuild']);
    const after = JSON.parse(ok(['list', '--all', '--json'])) as Row[];
    const pick = (rows: Row[]) => rows.filter((r) => r.certificatePath?.includes('/services/')).map((r) => [r.certificatePath, r.ca, r.trustDomain, r.status]).sort();
    expect(pick(after)).toEqual(pick(before));
    const of = (path: string) => after.find((r) => r.certificatePath === path)!;
    expect(of(leaf('old'))).toMatchObject({ ca: 'default', trustDomain: null, status: 'valid' }); // the retired key's leaf
    expect(of(leaf('cache'))).toMatchObject({ ca: 'apps', status: 'revoked' });
    expect(of(leaf('redis'))).toMatchObject({ trustDomain: 'kv', status: 'revoked' });
    // Re-published from the rebuilt inventory: each revocation on its own CA's CRL only.
    ok(['crl']);
    ok(['crl', '--ca', 'apps']);
    ok(['crl', '--trust-domain', 'kv']);
    const lists = (file: string, path: string) => crlText(file).includes(`Serial Number: ${serialOf(path)}`);
    expect([lists('crl/intermediate_ca.crl', leaf('web')), lists('crl/apps.crl', leaf('web')), lists('domains/kv/crl/intermediate_ca.crl', leaf('web'))]).toEqual([true, false, false]);
    expect([lists('crl/intermediate_ca.crl', leaf('cache')), lists('crl/apps.crl', leaf('cache'))]).toEqual([false, true]);
    expect([lists('crl/intermediate_ca.crl', leaf('redis')), lists('domains/kv/crl/intermediate_ca.crl', leaf('redis'))]).toEqual([false, true]);
  });
});
