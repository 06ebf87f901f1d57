import type { Writable } from 'node:stream';
import { TEXT_CHUNK } from '../io/text-chunks.js';

/**
 * Writes a JSON object whose large arrays are written element by element, in chunks, with
 * backpressure: a 100,000-token report never exists as one string in memory. The output is
 * valid JSON, with top-level fields on their own lines and one array element per line.
 */
export async function writeJsonStreamed(out: Writable, value: Record<string, unknown>): Promise<void> {
  let buf = '';
  const flush = async () => {
    if (out.destroyed) return;
    const chunk = buf;
    buf = '';
    if (!out.write(chunk)) await drained(out);
  };
  buf += '{\n';
  const keys = Object.keys(value).filter((k) => value[k] !== undefined);
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k]!;
    const v = value[key];
    buf += `  ${JSON.stringify(key)}: `;
    if (Array.isArray(v) && v.length > 0) {
      buf += '[\n';
      for (let i = 0; i < v.length; i += GROUP) {
        buf += `    ${elementLines(v.slice(i, i + GROUP))}${i + GROUP < v.length ? ',' : ''}\n`;
        // Awaited only when a chunk is full: an await per element would cost a microtask each.
        if (buf.length >= TEXT_CHUNK) await flush();
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

/** Writes text made a piece at a time (planJsonChunks), waiting whenever the stream asks: never all of it at once. */
export async function writeChunks(out: Writable, chunks: Iterable<string>): Promise<void> {
  for (const chunk of chunks) {
    // A stream that failed (a full disk) takes nothing more: what follows the output (a --report) is still done.
    if (out.destroyed) return;
    if (!out.write(chunk)) await drained(out);
  }
}

/**
 * The stream asks for a pause: until it drains, or fails or closes (a full disk: it never drains,
 * and a command waiting for it ended with its --report unwritten, a review found).
 */
function drained(out: Writable): Promise<void> {
  if (out.destroyed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      out.off('error', done);
      resolve();
    };
    out.once('drain', done);
    out.once('close', done);
    out.once('error', done);
  });
}

/** Elements serialised together: one JSON.stringify call per group costs far less than one per element. */
const GROUP = 256;
const ELEMENT_BREAK = '},\n    {"';

/**
 * The elements as JSON, one per line, joined by `,\n    `. A group of flat records (objects of
 * primitives, each with a first key) is serialised in one call and broken into lines where one
 * record ends and the next begins: `},{"` cannot occur inside a JSON string, whose every `"` is
 * escaped. Anything else is serialised element by element.
 */
function elementLines(elements: readonly unknown[]): string {
  if (elements.every(isFlatRecord)) return JSON.stringify(elements).slice(1, -1).replaceAll('},{"', ELEMENT_BREAK);
  return elements.map((e) => JSON.stringify(e)).join(',\n    ');
}

function isFlatRecord(e: unknown): boolean {
  if (e === null || typeof e !== 'object' || Array.isArray(e)) return false;
  let keys = 0;
  for (const k in e) {
    const v = (e as Record<string, unknown>)[k];
    if (v !== null && typeof v === 'object') return false;
    keys++;
  }
  return keys > 0;
}
