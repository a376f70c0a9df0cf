import { it } from 'vitest';
import { TABLE } from './agreement-table.js';
import { buildChains } from './chains.js';
import { certtoolVerdict, opensslVerdict } from './verdicts.js';
import { tempDir } from '../helpers/cli.js';
it('dump', () => {
  const dir = tempDir('v3a-dump-');
  const c = buildChains(dir, new Date());
  const pem = (n: readonly string[]) => c.factory.pem(n);
  const out: string[] = [];
  TABLE.forEach((r, i) => {
    const q = { leaf: c.factory.cert(r.leaf).path, untrusted: r.untrusted, roots: r.roots, host: r.host, ip: r.ip, purpose: r.purpose, crl: r.crl ? c.crl[r.crl] : undefined, crlCheck: r.crlCheck, time: c.factory.now };
    const o = opensslVerdict(dir, `r${i}`, q, pem);
    const t = certtoolVerdict(dir, `r${i}`, q, pem, pem([r.leaf]));
    out.push(`${r.name} | openssl=${o.verdict} | certtool=${t.verdict}`);
    if (process.env.V) out.push(o.output.split('\n').filter(l => /error/.test(l)).join(' / '), t.output.split('\n').filter(l=>/Output|output/.test(l)).join(' / '));
  });
  console.log(out.join('\n'));
  console.log(dir);
});
