/**
 * Which system trust store this host has, read from the file system (docs/trust.md has the table): the
 * layout a distribution ships decides the commands, not its name.
 */
import { existsSync } from 'node:fs';

export const PLATFORMS = ['debian', 'rhel', 'alpine', 'arch', 'macos'] as const;
export type PlatformName = (typeof PLATFORMS)[number];

export function isPlatformName(text: string): text is PlatformName {
  return (PLATFORMS as readonly string[]).includes(text);
}

/** This host's platform, or undefined when none of the known layouts is there. */
export function detectPlatform(): PlatformName | undefined {
  if (process.platform === 'darwin') return 'macos';
  if (existsSync('/etc/alpine-release')) return 'alpine';
  if (existsSync('/etc/debian_version')) return 'debian'; // Debian, Ubuntu and their derivatives
  if (existsSync('/etc/arch-release')) return 'arch';
  if (existsSync('/etc/pki/ca-trust/source/anchors')) return 'rhel'; // RHEL, Fedora, CentOS, Rocky, Amazon Linux
  if (existsSync('/usr/local/share/ca-certificates')) return 'debian';
  return undefined;
}
