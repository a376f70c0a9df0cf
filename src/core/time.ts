/**
 * Times as pki writes them outside DER: the compact UTC form, `20260101T120000Z` (ISO 8601 basic format,
 * whole seconds). Sortable as text, and free of the characters file systems and sshd's logs treat
 * specially — for backup file names and SSH key ids.
 */
export function compactTimestamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

