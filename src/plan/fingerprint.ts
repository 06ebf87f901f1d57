import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/**
 * JSON with object keys sorted, so equal values always hash equally. Built by appending, not by
 * mapping and joining arrays of parts: it runs over every change of every user (the plan, the
 * re-derivation, the pre-flight), and the intermediate arrays were most of its cost.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      // A hole is left empty, as join leaves it.
      if (i in value) out += canonicalJson(value[i]);
    }
    return `${out}]`;
  }
  const o = value as Record<string, unknown>;
  let out = '{';
  for (const k of Object.keys(o).sort()) {
    const v = o[k];
    if (v === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(k)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
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
