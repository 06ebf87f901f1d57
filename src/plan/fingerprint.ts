import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** JSON with object keys sorted, so equal values always hash equally. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const o = value as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

/** First 16 hex of sha256 over the canonical JSON of a tenant object's state. */
export function stateFingerprint(value: unknown): string {
  return fingerprintOfCanonical(canonicalJson(value));
}

/** stateFingerprint of a value whose canonical JSON is at hand already. */
export function fingerprintOfCanonical(canonical: string): string {
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/** sha256 over the given files' names and bytes, in order: ties a plan to one export. */
export async function fingerprintFiles(files: { name: string; path: string }[]): Promise<string> {
  return (await hashFiles(files)).fingerprint;
}

/** The fingerprint of the files together, and each file's own sha256 and size, from one read of each. */
export async function hashFiles(files: { name: string; path: string }[]): Promise<{ fingerprint: string; files: { sha256: string; bytes: number }[] }> {
  const hash = createHash('sha256');
  const each: { sha256: string; bytes: number }[] = [];
  for (const f of files) {
    hash.update(`${f.name}\u0000`);
    const own = createHash('sha256');
    let bytes = 0;
    for await (const chunk of createReadStream(f.path)) {
      hash.update(chunk as Buffer);
      own.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    hash.update('\u0000');
    each.push({ sha256: own.digest('hex'), bytes });
  }
  return { fingerprint: hash.digest('hex'), files: each };
}
