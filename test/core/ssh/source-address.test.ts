import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatSourceAddressList } from '../../../src/core/ssh/index.js';
import { makeTempDir, runSshKeygen, sshKeygen } from './ssh-keygen.js';

const temp = makeTempDir();
beforeAll(() => {
  sshKeygen(['-q', '-t', 'ed25519', '-N', '', '-f', join(temp.dir, 'ca')]);
  sshKeygen(['-q', '-t', 'ed25519', '-N', '', '-f', join(temp.dir, 'user')]);
});
afterAll(() => temp.cleanup());

/** Whether ssh-keygen -s accepts the value (it validates with the same addr_match_cidr_list sshd uses). */
function sshKeygenAccepts(value: string): boolean {
  const args = ['-q', '-s', join(temp.dir, 'ca'), '-I', 'x', '-n', 'a', '-O', `source-address=${value}`, join(temp.dir, 'user.pub')];
  return runSshKeygen(args).status === 0;
}

describe('formatSourceAddressList (sshd addr_match_cidr_list rules)', () => {
  it.each([
    { input: ['192.0.2.0/24'], out: '192.0.2.0/24' },
    { input: ['192.0.2.7'], out: '192.0.2.7' },
    { input: ['0.0.0.0/0', '::/0'], out: '0.0.0.0/0,::/0' },
    { input: ['2001:db8::/32', ' 10.0.0.0/8 '], out: '2001:db8::/32,10.0.0.0/8' },
    { input: ['2001:db8:0:1::/64'], out: '2001:db8:0:1::/64' },
    { input: ['::ffff:192.0.2.0/120'], out: '::ffff:192.0.2.0/120' },
    { input: ['fe80::1/128'], out: 'fe80::1/128' },
    { input: ['2001:db8::1'], out: '2001:db8::1' },
  ])('accepts $input', ({ input, out }) => {
    expect(formatSourceAddressList(input)).toBe(out);
    expect(sshKeygenAccepts(out)).toBe(true);
  });

  it.each([
    { name: 'empty list', input: [] as string[], ours: true },
    { name: 'host name', input: ['example.com'] },
    { name: 'IPv4 host bits set', input: ['10.0.0.1/8'] },
    { name: 'IPv6 host bits set', input: ['2001:db8::1/32'] },
    { name: 'IPv4-mapped host bits set', input: ['::ffff:192.0.2.1/120'] },
    { name: 'IPv4 prefix too long', input: ['10.0.0.0/33'] },
    { name: 'IPv6 prefix too long', input: ['::/129'] },
    { name: 'non-numeric prefix', input: ['10.0.0.0/x'] },
    { name: 'negative prefix', input: ['10.0.0.0/-1'] },
    { name: 'zone id', input: ['fe80::1%eth0'] },
    { name: 'comma inside an entry', input: ['10.0.0.0/8,10.1.0.0/16'], ours: true },
    { name: 'wildcard', input: ['*'] },
  ])('refuses $name → ERR_INVALID_OPTION', ({ input, ours }) => {
    expect(() => formatSourceAddressList(input)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    // Apart from our list-shape rules, ssh-keygen refuses the same entries.
    if (!ours) expect(sshKeygenAccepts(input.join(','))).toBe(false);
  });
});
