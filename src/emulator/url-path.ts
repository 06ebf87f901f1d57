/**
 * A Graph URL path after the version, as segments. OData's key syntax is understood: `users('$x@y.com')` is
 * the segments `users` and `$x@y.com` (single quotes doubled inside a key stand for one), and the key is marked
 * so that it only ever binds to a parameter: a UPN starting with `$` can be addressed that way, while
 * `users/$x@y.com` is an unknown segment, as in Graph.
 */
export interface PathSegments {
  segments: string[];
  /** Indexes of segments that came from key syntax. */
  keys: ReadonlySet<number>;
}

const KEY_SEGMENT = /^([^()']+)\('((?:[^']|'')*)'\)$/;

export function parsePath(path: string): PathSegments {
  const raw = path.replace(/^\//, '').split('/');
  if (raw.length > 1 && raw[raw.length - 1] === '') raw.pop();
  const segments: string[] = [];
  const keys = new Set<number>();
  for (const part of raw) {
    const decoded = safeDecode(part);
    const key = KEY_SEGMENT.exec(decoded);
    if (key) {
      segments.push(key[1]!);
      keys.add(segments.length);
      segments.push(key[2]!.replace(/''/g, "'"));
    } else {
      segments.push(decoded);
    }
  }
  return { segments, keys };
}

export function safeDecode(segment: string): string {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
