/**
 * Terminal-safe text: the one escaping function for names that come from requests, certificates, the
 * inventory or file names (issue 9 point 14). Its own module without imports, so that cli/errors.ts can use
 * it without loading chalk on every command.
 */

/**
 * Characters a terminal acts on instead of showing: C0 controls (ESC starts escape sequences, CR
 * overwrites the line, BEL rings), DEL, C1 controls (U+009B is a one-character CSI), the line and paragraph
 * separators, and the bidirectional embeddings, overrides and isolates that reorder what follows (Trojan
 * Source, CVE-2021-42574).
 */
const TERMINAL_CONTROLS = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from a request, certificate, inventory or file name, made safe to print on a terminal: every
 * character in TERMINAL_CONTROLS becomes `\xHH` or `\u{HHHH}`; everything else (backslashes, RFC 4514
 * escapes, UTF-8) is kept as is.
 */
export function escapeControls(text: string): string {
  return text.replace(TERMINAL_CONTROLS, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

/** The same set without C0, which JSON.stringify already escapes. */
const TERMINAL_CONTROLS_OUTSIDE_C0 = /[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * JSON.stringify with DEL, C1 controls, U+2028/2029 and bidi controls written as \uXXXX too (JSON.stringify
 * escapes only C0): the same JSON value when parsed, and safe to show on a terminal.
 */
export function jsonText(value: unknown, indent?: number): string {
  return String(JSON.stringify(value, null, indent)).replace(TERMINAL_CONTROLS_OUTSIDE_C0, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
