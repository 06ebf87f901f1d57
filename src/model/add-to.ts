/**
 * Adds `value` to the list `map` holds for `key`, pushing onto the list in place: a copy of the list
 * for every entry (`map.set(key, [...list, value])`) is quadratic in the list's length, and made a
 * 100,000-user rollback's summary take 50 s grouping its not-reversible objects by reason.
 */
export function addTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
