import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/**
 * Reads a JSON document whose top level is an object, a chunk at a time, without holding it:
 * each element of the array under `streamKey` is parsed on its own and handed to `onElement`,
 * the values under `skipKeys` are passed over, and every other top-level value is parsed and
 * returned. Also returns the sha256 of the bytes read.
 *
 * A plan for 100,000 users is over 100 MB of JSON; JSON.parse of the whole would need several
 * times that in memory, and the streaming JSON libraries tried (stream-json) parse token by
 * token at a few MB/s. This scanner only finds where values begin and end (strings, escapes and
 * nesting; JSON's structural characters are ASCII, so UTF-8 bytes need no decoding) and lets
 * JSON.parse do the rest, which keeps it at disk speed.
 */
export async function streamJsonObject(
  path: string,
  streamKey: string,
  skipKeys: ReadonlySet<string>,
  onElement: (value: unknown, index: number) => void,
): Promise<{ rest: Record<string, unknown>; sha256: string }> {
  const hash = createHash('sha256');
  const rest: Record<string, unknown> = {};
  // Scanner state.
  let depth = 0;
  let inString = false;
  let escaped = false;
  let started = false;
  /** At depth 1: reading a key (before ':') or a value. */
  let expectKey = true;
  let key = '';
  let keyParts: Buffer[] = [];
  let keyStart = -1;
  /** The top-level value being read: its key and whether it is kept, streamed or skipped. */
  let mode: 'keep' | 'stream' | 'skip' | undefined;
  /** Bytes of the value (or array element) being captured, across chunks. */
  let parts: Buffer[] = [];
  let captureStart = -1;
  let capturing = false;
  let index = 0;
  let offset = 0;

  const startCapture = (i: number) => {
    capturing = true;
    captureStart = i;
    parts = [];
  };
  const endCapture = (chunk: Buffer, end: number): string => {
    parts.push(chunk.subarray(captureStart, end));
    capturing = false;
    const text = Buffer.concat(parts).toString('utf8');
    parts = [];
    return text;
  };
  const fail = (pos: number, what: string): never => {
    throw new Error(`${path}: not valid JSON at byte ${pos + 1} (${what})`);
  };
  const parse = (text: string, what: string, pos: number): unknown => {
    try {
      return JSON.parse(text);
    } catch (err) {
      return fail(pos, `${what}: ${(err as Error).message}`);
    }
  };

  for await (const data of createReadStream(path)) {
    const chunk = data as Buffer;
    hash.update(chunk);
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      const c = chunk[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 0x5c /* \ */) escaped = true;
        else if (c === 0x22 /* " */) {
          inString = false;
          if (depth === 1 && expectKey) {
            keyParts.push(chunk.subarray(keyStart, i + 1));
            key = JSON.parse(Buffer.concat(keyParts).toString('utf8')) as string;
            keyParts = [];
            keyStart = -1;
          }
        }
        continue;
      }
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
      if (!started) {
        if (c !== 0x7b /* { */) fail(offset + i, 'the document is not an object');
        started = true;
        depth = 1;
        continue;
      }
      if (depth === 0) fail(offset + i, 'data after the end of the document');
      if (depth === 1) {
        if (expectKey) {
          if (c === 0x22) {
            inString = true;
            keyStart = i;
          } else if (c === 0x3a /* : */) {
            expectKey = false;
            mode = key === streamKey ? 'stream' : skipKeys.has(key) ? 'skip' : 'keep';
          } else if (c === 0x2c /* , */) {
            // between members
          } else if (c === 0x7d /* } */) {
            depth = 0;
          } else fail(offset + i, 'a key was expected');
          continue;
        }
        // The first byte of a top-level value.
        if (mode === 'stream') {
          if (c !== 0x5b /* [ */) fail(offset + i, `"${streamKey}" is not an array`);
          depth = 2;
          continue;
        }
        if (mode === 'keep') startCapture(i);
        if (c === 0x7b || c === 0x5b) depth = 2;
        else if (c === 0x22) {
          inString = true;
          depth = 1.5; // a top-level string value: ends with its closing quote
        } else depth = 1.25; // a number, true, false or null: ends before ',' or '}'
        continue;
      }
      if (depth === 1.25) {
        if (c === 0x2c || c === 0x7d) {
          if (mode === 'keep') rest[key] = parse(endCapture(chunk, i).trim(), key, offset + i);
          expectKey = true;
          depth = c === 0x7d ? 0 : 1;
        }
        continue;
      }
      if (depth === 1.5) {
        // The closing quote of a top-level string was just passed (the string branch above).
        if (mode === 'keep') rest[key] = parse(endCapture(chunk, i), key, offset + i);
        expectKey = true;
        depth = 1;
        i--; // this byte (',' or '}') is read again at depth 1
        continue;
      }
      // Inside a top-level array or object value (depth >= 2).
      if (mode === 'stream' && depth === 2) {
        if (c === 0x5d /* ] */) {
          if (capturing) onElement(parse(endCapture(chunk, i).trim(), `${streamKey}[${index}]`, offset + i), index++);
          depth = 1;
          expectKey = true;
          continue;
        }
        if (c === 0x2c) {
          if (capturing) onElement(parse(endCapture(chunk, i).trim(), `${streamKey}[${index}]`, offset + i), index++);
          else fail(offset + i, `an empty element in "${streamKey}"`);
          continue;
        }
        if (!capturing) startCapture(i);
      }
      if (c === 0x22) inString = true;
      else if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        depth--;
        if (depth === 1) {
          if (mode === 'keep') rest[key] = parse(endCapture(chunk, i + 1), key, offset + i);
          expectKey = true;
        }
      }
    }
    if (capturing) {
      parts.push(chunk.subarray(captureStart));
      captureStart = 0;
    }
    if (keyStart >= 0) {
      keyParts.push(chunk.subarray(keyStart));
      keyStart = 0;
    }
    offset += n;
  }
  if (!started || depth !== 0 || inString) fail(offset, 'the document ends early');
  return { rest, sha256: hash.digest('hex') };
}
