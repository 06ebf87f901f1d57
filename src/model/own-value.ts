/**
 * A lookup table's value for a key taken from a file, the command line or a request: own keys only,
 * so that `constructor`, `toString` or `__proto__` are unknown keys, not Object.prototype's members.
 */
export function ownValue<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
