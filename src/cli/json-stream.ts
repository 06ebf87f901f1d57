import type { Writable } from 'node:stream';

/**
 * Writes a JSON object whose large arrays are written element by element, in chunks, with
 * backpressure: a 100,000-token report never exists as one string in memory. The output is
 * valid JSON, with top-level fields on their own lines and one array element per line.
 */
export async function writeJsonStreamed(out: Writable, value: Record<string, unknown>): Promise<void> {
  let buf = '';
  const CHUNK = 1 << 16;
  const flush = async () => {
    const chunk = buf;
    buf = '';
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  };
  buf += '{\n';
  const keys = Object.keys(value).filter((k) => value[k] !== undefined);
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k]!;
    const v = value[key];
    buf += `  ${JSON.stringify(key)}: `;
    if (Array.isArray(v) && v.length > 0) {
      buf += '[\n';
      for (let i = 0; i < v.length; i++) {
        buf += `    ${JSON.stringify(v[i])}${i < v.length - 1 ? ',' : ''}\n`;
        // Awaited only when a chunk is full: an await per element would cost a microtask each.
        if (buf.length >= CHUNK) await flush();
      }
      buf += '  ]';
    } else {
      buf += JSON.stringify(v, null, 2).replace(/\n/g, '\n  ');
    }
    buf += k < keys.length - 1 ? ',\n' : '\n';
  }
  buf += '}\n';
  await flush();
}
