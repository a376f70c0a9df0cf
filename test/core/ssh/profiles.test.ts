import { describe, expect, it } from 'vitest';
import { computeSshValidity, SSH_CERTIFICATE_PROFILES } from '../../../src/core/ssh/index.js';

describe('SSH certificate profiles', () => {
  it('user: the five permits, 16h, backdated 5 minutes', () => {
    const profile = SSH_CERTIFICATE_PROFILES.user;
    expect(profile.extensions).toEqual([
      'permit-X11-forwarding',
      'permit-agent-forwarding',
      'permit-port-forwarding',
      'permit-pty',
      'permit-user-rc',
    ]);
    expect(computeSshValidity(profile, new Date('2030-01-01T12:00:00.750Z'))).toEqual({
      validAfter: new Date('2030-01-01T11:55:00Z'),
      validBefore: new Date('2030-01-02T04:00:00Z'),
    });
  });

  it('host: no extensions, 7 days, backdated 5 minutes; lifetime can be overridden', () => {
    const profile = SSH_CERTIFICATE_PROFILES.host;
    expect(profile.extensions).toEqual([]);
    expect(computeSshValidity(profile, new Date('2030-01-01T00:00:00Z'))).toEqual({
      validAfter: new Date('2029-12-31T23:55:00Z'),
      validBefore: new Date('2030-01-08T00:00:00Z'),
    });
    expect(computeSshValidity(profile, new Date('2030-01-01T00:00:00Z'), 3600).validBefore).toEqual(new Date('2030-01-01T01:00:00Z'));
  });
});
