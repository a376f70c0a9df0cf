/**
 * The operating system's trust store, one adapter per platform (docs/trust.md):
 *
 *   debian, alpine  /usr/local/share/ca-certificates/<label>.crt, then update-ca-certificates
 *                   (Debian removes with --fresh, which also drops the /etc/ssl/certs links of the file)
 *   rhel            /etc/pki/ca-trust/source/anchors/<label>.crt, then update-ca-trust extract
 *   arch            trust anchor --store <root> / trust anchor --remove <root> (p11-kit names the file)
 *   macos           security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain <root>
 *
 * "Installed" means the root is in the bundle programs read (and, where pki writes a file, that file holds
 * it): a file written without the refresh that follows it is half an install, and install finishes it.
 */
import { existsSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { pemFileHolds } from './bundle.js';
import type { PlatformName } from './platform.js';
import { runChild } from './run-steps.js';
import { TIMEOUT_MS, type TrustRoot, type TrustStep, type TrustStore } from './types.js';

interface AnchorLayout {
  readonly anchorDir: string;
  readonly bundle: string;
  readonly refresh: readonly [string, ...string[]];
  readonly refreshAfterRemove: readonly [string, ...string[]];
  /** Debian's update-ca-certificates links each anchor as /etc/ssl/certs/<name>.pem: a link left behind means a removal was not refreshed. */
  readonly linkDir?: string;
}

const ANCHOR_LAYOUTS: Partial<Record<PlatformName, AnchorLayout>> = {
  debian: {
    anchorDir: '/usr/local/share/ca-certificates',
    bundle: '/etc/ssl/certs/ca-certificates.crt',
    refresh: ['update-ca-certificates'],
    refreshAfterRemove: ['update-ca-certificates', '--fresh'],
    linkDir: '/etc/ssl/certs',
  },
  alpine: {
    anchorDir: '/usr/local/share/ca-certificates',
    bundle: '/etc/ssl/certs/ca-certificates.crt',
    refresh: ['update-ca-certificates'],
    refreshAfterRemove: ['update-ca-certificates'],
  },
  rhel: {
    anchorDir: '/etc/pki/ca-trust/source/anchors',
    bundle: '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
    refresh: ['update-ca-trust', 'extract'],
    refreshAfterRemove: ['update-ca-trust', 'extract'],
  },
};

const ARCH_BUNDLE = '/etc/ca-certificates/extracted/tls-ca-bundle.pem';
const MACOS_KEYCHAIN = '/Library/Keychains/System.keychain';

const refresh = (argv: readonly [string, ...string[]]): TrustStep => ({ kind: 'run', argv, timeoutMs: TIMEOUT_MS.refresh });

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** A distribution that takes anchor files in a folder and a refresh command. */
function anchorFileStore(layout: AnchorLayout, root: TrustRoot, onHost: boolean): TrustStore {
  const path = join(layout.anchorDir, `${root.label}.crt`);
  const link = layout.linkDir ? join(layout.linkDir, `${root.label}.pem`) : undefined;
  const fileThere = () => pemFileHolds(path, root.der);
  return {
    kind: 'system',
    location: path,
    installed: () => (onHost ? fileThere() && pemFileHolds(layout.bundle, root.der) : undefined),
    installSteps: () => {
      const write: TrustStep = { kind: 'write', path, data: root.pem, mode: 0o644, from: root.file, fromIsSame: root.fileIsPem };
      return onHost && fileThere() ? [refresh(layout.refresh)] : [write, refresh(layout.refresh)];
    },
    uninstallSteps: () => {
      if (onHost && !existsSync(path) && !(link && isLink(link))) return [];
      return [{ kind: 'remove', path }, refresh(layout.refreshAfterRemove)];
    },
  };
}

/** Arch: p11-kit's trust tool stores the anchor under a name of its own and refreshes the extracted bundles itself. */
function archStore(root: TrustRoot, onHost: boolean): TrustStore {
  return {
    kind: 'system',
    location: ARCH_BUNDLE,
    installed: () => (onHost ? pemFileHolds(ARCH_BUNDLE, root.der) : undefined),
    installSteps: () => [{ kind: 'run', argv: ['trust', 'anchor', '--store', root.file], timeoutMs: TIMEOUT_MS.refresh }],
    uninstallSteps: () => [{ kind: 'run', argv: ['trust', 'anchor', '--remove', root.file], timeoutMs: TIMEOUT_MS.refresh }],
  };
}

/** macOS: the System keychain, the root trusted for every use (-r trustRoot), for all users (-d). */
function macosStore(root: TrustRoot, onHost: boolean): TrustStore {
  return {
    kind: 'system',
    location: MACOS_KEYCHAIN,
    installed: () => {
      if (!onHost) return undefined;
      const r = runChild(['security', 'find-certificate', '-a', '-Z', MACOS_KEYCHAIN], TIMEOUT_MS.security);
      return r.status === 0 && r.stdout.toUpperCase().includes(root.sha1);
    },
    installSteps: () => [{ kind: 'run', argv: ['security', 'add-trusted-cert', '-d', '-r', 'trustRoot', '-k', MACOS_KEYCHAIN, root.file], timeoutMs: TIMEOUT_MS.security }],
    uninstallSteps: () => [
      { kind: 'run', argv: ['security', 'remove-trusted-cert', '-d', root.file], timeoutMs: TIMEOUT_MS.security },
      { kind: 'run', argv: ['security', 'delete-certificate', '-Z', root.sha1, MACOS_KEYCHAIN], timeoutMs: TIMEOUT_MS.security },
    ],
  };
}

/** The system store of `platform`; `onHost` false: another platform's, whose state cannot be read here (its steps are printed only). */
export function systemStore(platform: PlatformName, root: TrustRoot, onHost: boolean): TrustStore {
  const layout = ANCHOR_LAYOUTS[platform];
  if (layout) return anchorFileStore(layout, root, onHost);
  return platform === 'arch' ? archStore(root, onHost) : macosStore(root, onHost);
}
