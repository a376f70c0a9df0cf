import { afterEach, describe, expect, it } from 'vitest';
import { runSshKeygen } from './ssh-keygen.js';

describe('ssh-keygen helper', () => {
  const savedPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  it('fails naming the Debian package when ssh-keygen is missing', () => {
    process.env.PATH = '/nonexistent';
    expect(() => runSshKeygen(['-?'])).toThrow(/Debian package openssh-client/);
  });
});
