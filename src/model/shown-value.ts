/**
 * A value from an input file, for a message: quoted as it is, unless it could be key material
 * (16 or more Base32, hex or Base64 characters with nothing else, spaces between groups aside; hex
 * bytes with separators, `31:32:33:...`; or anything over 80
 * characters), which a field in the wrong place of a seed file can hold. Secrets never reach
 * messages, even misplaced ones.
 */
export function shownValue(value: string): string {
  const v = value.trim();
  // Written in groups (`JBSW Y3DP ...`, `31:32:33...`), it is still key material.
  const grouped = /^[A-Za-z0-9+/=_-]{16,}$/.test(v.replace(/\s+/g, '')) || /^(?:[0-9a-f]{2}[:.\s-]){7,}[0-9a-f]{2}$/i.test(v);
  if (v.length > 80 || grouped) return `(a value of ${v.length} characters, not shown: it could be a secret)`;
  return JSON.stringify(v);
}
