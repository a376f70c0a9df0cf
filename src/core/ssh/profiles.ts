/**
 * User and host certificate defaults as data (the shape of smallstep's sshutil templates). The kinds
 * differ only in these values; certificate.ts has no branch on them beyond policy checks.
 */

export type SshCertType = 'user' | 'host';

export interface SshCertificateProfile {
  readonly certType: SshCertType;
  /** Extension names granted by default (PROTOCOL.certkeys "Extensions"). */
  readonly extensions: readonly string[];
  /** Default lifetime from "now". */
  readonly validitySeconds: number;
  /** How far validAfter is set before "now", so a client whose clock runs behind still accepts the cert. */
  readonly backdateSeconds: number;
}

const HOUR = 3600;
const DAY = 24 * HOUR;

/**
 * User: the five permits `ssh-keygen -s` grants by default, so a pki-issued user certificate behaves like
 * a plain key in authorized_keys; 16h covers a working day and forces daily re-issue.
 * Host: no extensions are defined for host certificates; 7d keeps renewal weekly.
 */
export const SSH_CERTIFICATE_PROFILES: { readonly [K in SshCertType]: SshCertificateProfile } = {
  user: {
    certType: 'user',
    extensions: ['permit-X11-forwarding', 'permit-agent-forwarding', 'permit-port-forwarding', 'permit-pty', 'permit-user-rc'],
    validitySeconds: 16 * HOUR,
    backdateSeconds: 5 * 60,
  },
  host: {
    certType: 'host',
    extensions: [],
    validitySeconds: 7 * DAY,
    backdateSeconds: 5 * 60,
  },
};

/**
 * The validity window a profile gives at `now`: [now − backdate, now + lifetime), in whole seconds since
 * SSH certificates count seconds. `lifetimeSeconds` overrides the profile's default.
 */
export function computeSshValidity(
  profile: SshCertificateProfile,
  now: Date,
  lifetimeSeconds: number = profile.validitySeconds,
): { validAfter: Date; validBefore: Date } {
  const nowSeconds = Math.floor(now.getTime() / 1000);
  return {
    validAfter: new Date((nowSeconds - profile.backdateSeconds) * 1000),
    validBefore: new Date((nowSeconds + lifetimeSeconds) * 1000),
  };
}
