/**
 * Named certificate profiles (pki.json "profiles", validated by store/config.ts) resolved into what a leaf
 * is issued with. A profile starts from a built-in one (profiles.ts): its own name's when it overrides
 * `server`, `client` or `peer`, else `server`; every field it sets replaces the built-in's.
 */
import { PkiError } from '../errors.js';
import { resolveKeySpec, type KeyDescription, type KeySpec } from '../keys/keys.js';
import { parseSans, type San, type SubjectName } from './names.js';
import { isLeafProfileName, LEAF_PROFILE_NAMES, PROFILES, type LeafProfileName, type Profile } from './profiles.js';
import type { ExtKeyUsage, KeyUsage } from './usages.js';

/** Subject attributes a profile sets on every certificate it issues (the CN stays the certificate's own). */
export interface ProfileSubject {
  readonly O?: string | undefined;
  readonly OU?: string | undefined;
  readonly C?: string | undefined;
  readonly ST?: string | undefined;
  readonly L?: string | undefined;
}

/** One profile as pki.json writes it. */
export interface ProfileConfig {
  readonly keyUsage?: readonly KeyUsage[] | undefined;
  readonly extKeyUsage?: readonly ExtKeyUsage[] | undefined;
  readonly notAfter?: string | undefined;
  readonly kty?: 'EC' | 'RSA' | 'OKP' | undefined;
  readonly crv?: 'P-256' | 'P-384' | 'Ed25519' | undefined;
  readonly size?: number | undefined;
  readonly subject?: ProfileSubject | undefined;
  readonly sans?: readonly string[] | undefined;
  readonly requiredSanPatterns?: readonly string[] | undefined;
  readonly crlDistributionPoints?: readonly string[] | undefined;
  readonly ocspUrls?: readonly string[] | undefined;
  readonly caIssuersUrls?: readonly string[] | undefined;
}

export type ProfileSource = 'built-in' | 'pki.json' | 'pki.json, overriding the built-in';

/** A profile ready to issue with. Undefined URL lists and lifetime mean "pki.json's top-level value". */
export interface LeafProfile {
  readonly name: string;
  readonly source: ProfileSource;
  /** What the inventory's profile column records: server, client or peer, from the extended key usages. */
  readonly role: LeafProfileName;
  readonly x509: Profile;
  readonly notAfter: string | undefined;
  readonly keySpec: KeySpec | undefined;
  readonly subject: ProfileSubject;
  readonly sans: readonly San[];
  readonly requiredSanPatterns: readonly string[];
  readonly crlDistributionPoints: readonly string[] | undefined;
  readonly ocspUrls: readonly string[] | undefined;
  readonly caIssuersUrls: readonly string[] | undefined;
}

/** The usages that make a certificate a CA: refused in a profile (pki issues CAs only with `pki init`). */
export const CA_ONLY_KEY_USAGES: readonly KeyUsage[] = ['keyCertSign', 'cRLSign'];

type Profiles = Readonly<Record<string, ProfileConfig>> | undefined;

/** The built-in names and pki.json's, sorted: what an unknown-profile error lists. */
export function knownProfileNames(profiles: Profiles): string[] {
  return [...new Set([...LEAF_PROFILE_NAMES, ...Object.keys(profiles ?? {})])].sort();
}

export function unknownProfileError(name: string, profiles: Profiles): PkiError {
  return new PkiError('ERR_USAGE', `unknown profile "${name}"; known profiles: ${knownProfileNames(profiles).join(', ')}`, {
    hint: 'pick one of them, or define it under "profiles" in pki.json (docs/configuration.md)',
  });
}

/** server+client auth → peer, server → server, client → client; null for neither. */
export function roleOfExtKeyUsage(eku: readonly ExtKeyUsage[]): LeafProfileName | null {
  const server = eku.includes('serverAuth');
  const client = eku.includes('clientAuth');
  return server && client ? 'peer' : server ? 'server' : client ? 'client' : null;
}

/** The profile `name` (a built-in, possibly overridden, or pki.json's); an unknown name lists the known ones. */
export function resolveLeafProfile(profiles: Profiles, name: string): LeafProfile {
  const own = profiles !== undefined && Object.hasOwn(profiles, name) ? profiles[name] : undefined;
  if (own === undefined && !isLeafProfileName(name)) throw unknownProfileError(name, profiles);
  const base = PROFILES[isLeafProfileName(name) ? name : 'server'];
  const c: ProfileConfig = own ?? {};
  const extKeyUsage = c.extKeyUsage ?? base.extKeyUsage;
  const role = roleOfExtKeyUsage(extKeyUsage);
  // store/config.ts refuses such a profile; reaching here means a caller skipped validation.
  if (role === null) throw new PkiError('ERR_INVALID_CONFIG', `profile "${name}" allows neither serverAuth nor clientAuth`);
  const x509: Profile = {
    name,
    isCA: false,
    pathLen: null,
    keyUsage: c.keyUsage ?? base.keyUsage,
    // A profile that lists its key usages gets exactly those; the built-ins add keyEncipherment for RSA keys.
    keyEnciphermentForRsa: c.keyUsage === undefined && base.keyEnciphermentForRsa,
    extKeyUsage,
    defaultNotAfter: c.notAfter ?? base.defaultNotAfter,
  };
  const keyGiven = c.kty !== undefined || c.crv !== undefined || c.size !== undefined;
  return {
    name,
    source: own === undefined ? 'built-in' : isLeafProfileName(name) ? 'pki.json, overriding the built-in' : 'pki.json',
    role,
    x509,
    notAfter: c.notAfter,
    keySpec: keyGiven ? resolveKeySpec(c) : undefined,
    subject: c.subject ?? {},
    sans: parseSans(c.sans ?? []),
    requiredSanPatterns: c.requiredSanPatterns ?? [],
    crlDistributionPoints: c.crlDistributionPoints,
    ocspUrls: c.ocspUrls,
    caIssuersUrls: c.caIssuersUrls,
  };
}

/** `subject` with the profile's attributes set (an already-encoded subject — a renewal's — is kept as it is). */
export function applyProfileSubject(subject: SubjectName, profile: Pick<LeafProfile, 'subject'>): SubjectName {
  if (subject.encoded) return subject;
  const s = profile.subject;
  const out: { -readonly [K in keyof SubjectName]: SubjectName[K] } = { ...subject };
  if (s.O !== undefined) out.organization = s.O;
  if (s.OU !== undefined) out.organizationalUnit = s.OU;
  if (s.C !== undefined) out.country = s.C;
  if (s.ST !== undefined) out.state = s.ST;
  if (s.L !== undefined) out.locality = s.L;
  return out;
}

/** `sans` followed by the profile's extra names it lacks. */
export function withProfileSans(sans: readonly San[], profile: Pick<LeafProfile, 'sans'>): San[] {
  const have = new Set(sans.map((s) => `${s.type}:${s.value.toLowerCase()}`));
  return [...sans, ...profile.sans.filter((s) => !have.has(`${s.type}:${s.value.toLowerCase()}`))];
}

/** A requiredSanPatterns entry as a RegExp: `*` stands for one or more characters, the rest is literal; case-insensitive. */
export function sanPatternRegExp(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.+');
  return new RegExp(`^${body}$`, 'i');
}

/** Refuses SANs outside the profile's requiredSanPatterns (every SAN must match one; no SAN at all is refused too). */
export function checkRequiredSanPatterns(sans: readonly San[], profile: Pick<LeafProfile, 'name' | 'requiredSanPatterns'>): void {
  const patterns = profile.requiredSanPatterns;
  if (patterns.length === 0) return;
  const regexps = patterns.map(sanPatternRegExp);
  const outside = sans.filter((s) => !regexps.some((r) => r.test(s.value))).map((s) => s.value);
  if (outside.length === 0 && sans.length > 0) return;
  const what = sans.length === 0 ? 'the certificate would carry no SAN' : `SAN ${outside.join(', ')} matches none`;
  throw new PkiError('ERR_POLICY', `${what} of profile "${profile.name}"'s requiredSanPatterns (${patterns.join(', ')})`, {
    hint: 'issue it only for names matching them, or choose another --profile',
  });
}

/** Refuses a request key that is not the profile's kty/crv (or an RSA key smaller than its size). */
export function checkProfileKey(key: KeyDescription, profile: Pick<LeafProfile, 'name' | 'keySpec'>): void {
  const want = profile.keySpec;
  if (want === undefined) return;
  const fits = want.kty === 'RSA' ? key.type === 'RSA' && key.size >= want.size : key.type === want.kty && 'curve' in key && key.curve === want.crv;
  if (fits) return;
  const wanted = want.kty === 'RSA' ? `RSA of at least ${want.size} bits` : `${want.kty} ${want.crv}`;
  const got = key.type === 'RSA' ? `RSA ${key.size}` : `${key.type} ${key.curve}`;
  throw new PkiError('ERR_POLICY', `the request's key is ${got}; profile "${profile.name}" takes ${wanted}`, { hint: 'create the request with such a key, or choose another --profile' });
}
