/**
 * Which names a wildcard may not cover on its own (RFC 9525 §6.3: a client SHOULD refuse a wildcard whose
 * base is a public suffix). The rule pki applies, without the network or a 10,000-line download:
 *   - a wildcard needs at least two labels after the `*` (`*.com` never matches), and
 *   - those labels may not be one of the common multi-label public suffixes below (`*.co.uk` never matches).
 * This is NOT the full Public Suffix List (publicsuffix.org): `*.some-rare-sld.example-cctld` is honoured
 * even where the PSL would refuse it, and the PSL's private section (`*.github.io`, `*.herokuapp.com`) is
 * deliberately absent — those are real, issued wildcard certificates of the domain's owner.
 */

/** Second-level registries of country-code TLDs where registrations sit one label lower (ICANN section). */
const MULTI_LABEL_PUBLIC_SUFFIXES: ReadonlySet<string> = new Set(
  [
    'ac.uk co.uk gov.uk ltd.uk me.uk net.uk nhs.uk org.uk plc.uk police.uk sch.uk',
    'com.au net.au org.au edu.au gov.au asn.au id.au',
    'co.nz net.nz org.nz govt.nz ac.nz school.nz geek.nz',
    'co.jp ne.jp or.jp ac.jp ad.jp ed.jp go.jp gr.jp lg.jp',
    'co.kr ne.kr or.kr re.kr go.kr ac.kr',
    'com.cn net.cn org.cn gov.cn edu.cn ac.cn',
    'com.hk net.hk org.hk edu.hk gov.hk',
    'com.tw net.tw org.tw edu.tw gov.tw',
    'com.sg net.sg org.sg edu.sg gov.sg',
    'com.my net.my org.my edu.my gov.my',
    'co.in net.in org.in firm.in gen.in ind.in ac.in edu.in gov.in',
    'co.id or.id ac.id go.id web.id',
    'co.th in.th ac.th go.th or.th',
    'com.vn net.vn org.vn edu.vn gov.vn',
    'com.ph net.ph org.ph edu.ph gov.ph',
    'com.pk net.pk org.pk edu.pk gov.pk',
    'co.il org.il net.il ac.il gov.il muni.il',
    'com.tr net.tr org.tr gen.tr biz.tr edu.tr gov.tr',
    'co.za org.za net.za web.za gov.za ac.za',
    'com.br net.br org.br gov.br edu.br art.br blog.br',
    'com.ar net.ar org.ar gob.ar edu.ar',
    'com.mx net.mx org.mx gob.mx edu.mx',
    'com.co net.co org.co gov.co edu.co',
    'com.pe net.pe org.pe gob.pe edu.pe',
    'co.ve com.ve net.ve org.ve',
    'com.ua net.ua org.ua gov.ua in.ua kiev.ua',
    'com.ru net.ru org.ru msk.ru spb.ru',
    'com.pl net.pl org.pl waw.pl',
    'co.at or.at gv.at ac.at',
    'com.es nom.es org.es gob.es edu.es',
    'com.pt org.pt gov.pt edu.pt',
    'com.gr net.gr org.gr gov.gr edu.gr',
    'com.eg net.eg org.eg gov.eg edu.eg',
    'com.sa net.sa org.sa gov.sa edu.sa',
    'co.ke or.ke ne.ke go.ke ac.ke',
    'com.ng net.ng org.ng gov.ng edu.ng',
  ]
    .join(' ')
    .split(' '),
);

/**
 * True when a wildcard `*.<base>` may match: `base` (lower-case A-labels, no trailing dot) has at least
 * two labels and is not one of the listed public suffixes.
 */
export function wildcardBaseAllowed(base: string): boolean {
  const labels = base.split('.');
  if (labels.length < 2 || labels.some((l) => l.length === 0)) return false;
  return !MULTI_LABEL_PUBLIC_SUFFIXES.has(base);
}
