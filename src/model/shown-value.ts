/**
 * A value from an input file, for a message: quoted as it is, unless it could be key material
 * (a run of 16 or more Base32, hex or Base64 characters with nothing else, or anything over 80
 * characters), which a field in the wrong place of a seed file can hold. Secrets never reach
 * messages, even misplaced ones.
 */
export function shownValue(value: string): string {
  const v = value.trim();
  if (v.length > 80 || /^[A-Za-z0-9+/=_-]{16,}$/.test(v)) return `(a value of ${v.length} characters, not shown: it could be a secret)`;
  return JSON.stringify(v);
}
