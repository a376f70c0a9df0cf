/**
 * dns-01 (RFC 8555 §8.4): a TXT record at `_acme-challenge.<name>` (for a wildcard, the base name) asked of
 * the configured DNS server, else the system's, must hold base64url(SHA-256(keyAuthorization)). A query
 * that fails is a dns problem; records without the value are incorrectResponse naming what was found.
 */
import { Resolver } from 'node:dns/promises';
import { dns01TxtValue } from '../../core/acme/challenge.js';
import { AcmeProblemError } from '../acme/problem.js';
import type { VaContext } from './http-01.js';
import { DNS_TIMEOUT_MS, dnsServerResolver, untilAborted } from './resolve.js';
import { excerpt } from './http-01.js';

export async function validateDns01(ctx: VaContext, identifier: { type: 'dns' | 'ip'; value: string }, keyAuthorization: string): Promise<void> {
  if (identifier.type !== 'dns') throw new AcmeProblemError('malformed', `dns-01 cannot validate the IP identifier ${identifier.value} (RFC 8738 §7)`);
  const name = `_acme-challenge.${identifier.value.replace(/^\*\./, '').toLowerCase().replace(/\.$/, '')}`;
  const server = ctx.settings.resolver;
  const resolver = server ? dnsServerResolver(server) : new Resolver({ timeout: DNS_TIMEOUT_MS, tries: 2 });
  const via = server ? `${server.host}:${server.port}` : 'the system resolver';
  let records: string[][];
  try {
    records = await untilAborted(resolver.resolveTxt(name), ctx.signal, () => resolver.cancel(), `TXT ${name} via ${via}`);
  } catch (error) {
    if (error instanceof AcmeProblemError) throw error;
    const code = (error as { code?: string }).code ?? String(error);
    throw new AcmeProblemError('dns', `TXT ${name} (via ${via}): ${code}`);
  }
  const expected = dns01TxtValue(keyAuthorization);
  const values = records.map((chunks) => chunks.join(''));
  if (values.includes(expected)) return;
  const seen = values.length === 0 ? 'no TXT record' : `${values.length} TXT record(s): ${values.slice(0, 4).map((v) => excerpt(v)).join(', ')}${values.length > 4 ? ', …' : ''}`;
  throw new AcmeProblemError('incorrectResponse', `TXT ${name} (via ${via}) has ${seen}; expected ${JSON.stringify(expected)}`);
}
