/**
 * The text of a newly created CA, shared by `pki init` and `pki generate --init` (commands do not import
 * each other). The report passed in is the one emit already escaped for the terminal.
 */
import type { InitReport } from '../operations/init.js';

export function createdCaText(name: string, r: InitReport, dir: string, { next }: { next: boolean }): string[] {
  const dirFlag = dir !== './pki' ? ` --dir ${dir}` : '';
  const stopped = r.stopsChaining?.length ?? 0;
  return [
    `Created CA "${name}" in ${r.dir} (${r.key}${r.kms ? ', keys on the PKCS#11 token' : r.keysEncrypted ? ', keys encrypted' : ', KEYS UNENCRYPTED (--insecure)'})`,
    `  root CA          ${r.root.certificate}  (${r.root.subject}, until ${r.root.notAfter.slice(0, 10)})`,
    `  intermediate CA  ${r.intermediate.certificate}  (${r.intermediate.subject}, until ${r.intermediate.notAfter.slice(0, 10)})`,
    `  root fingerprint SHA-256 ${r.root.fingerprintSha256}`,
    `  CRLs             ${r.crl.chain ?? r.crl.intermediate}  (root CRL valid until ${r.crl.rootNextUpdate.slice(0, 10)}: re-sign it before then with "pki crl --root")`,
    '',
    ...(r.kms
      ? [`Both keys are on the token and cannot be exported: ${r.root.key}`, `  and ${r.intermediate.key}; pki.json "kms" names the token (the PIN stays in its pin-source file).`]
      : [
          `${r.root.key} belongs offline: copy it to offline storage (an encrypted USB key, a safe) and delete it here.`,
          'The intermediate CA issues every certificate without it; the root key is needed again only to renew the intermediate.',
        ]),
    // generate --init goes on to issue: no "Next:" line there.
    ...(next ? [`Next: pki generate <service> <variant>${dirFlag}`] : []),
    ...(stopped ? [`${stopped} certificates of the replaced CA no longer chain: run "pki renew --all${dirFlag}" to re-issue them.`] : []),
  ];
}
