/**
 * A JSON text walked character by character, for what JSON.parse does not tell: where a text it
 * refuses breaks when V8's message gives no position (`Unexpected token '/'` for a comment where a
 * value belongs), and the keys an object gives twice (JSON.parse keeps the last in silence, so
 * `"reportingCode": 0, "reportingCode": 5` reads as 5). Iterative: a deeply nested file cannot
 * overflow the stack. Hand-written because the library for this, jsonc-parser 3.3, recurses (a
 * 200,000-deep array throws RangeError) and places some errors elsewhere than V8 (`tru` at its
 * start); tested against JSON.parse as the oracle.
 */

/** A key an object gives a second time: its JSON path, and where both are. */
export interface DuplicateJsonKey {
  key: string;
  /** The value's JSON path (`$.company.fraudAlert.reportingCode`). */
  path: string;
  /** Offset of the second key's opening quote. */
  offset: number;
  /** Offset of the first one's. */
  firstOffset: number;
}

export interface JsonScan {
  /** Offset of the first character the text breaks at (its length when it ends too soon); absent when it is JSON. */
  errorAt?: number;
  /** The keys given twice, in text order, up to where it breaks. */
  duplicates: DuplicateJsonKey[];
}

interface Frame {
  array: boolean;
  /** The container's own JSON path. */
  path: string;
  /** Object: key -> offset of its first occurrence. */
  keys: Map<string, number>;
  /** Array: elements so far. */
  index: number;
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
const ESCAPES = new Set([...'"\\/bfnrt'].map((c) => c.charCodeAt(0)));

export function scanJson(text: string): JsonScan {
  const n = text.length;
  const duplicates: DuplicateJsonKey[] = [];
  const stack: Frame[] = [];
  let i = 0;
  /** The JSON path of the value to be read next. */
  let valuePath = '$';
  const skipSpace = (): void => {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
  };
  /** Reads the string at i (its opening quote): the offset after it, or the error's as -offset - 1. */
  const readString = (): number => {
    let j = i + 1;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === 0x22) return j + 1;
      if (c < 0x20) return -j - 1;
      if (c === 0x5c) {
        const e = text.charCodeAt(j + 1);
        if (e === 0x75) {
          for (let k = j + 2; k < j + 6; k++) if (k >= n || !isHex(text.charCodeAt(k))) return -Math.min(k, n) - 1;
          j += 6;
        } else if (ESCAPES.has(e)) j += 2;
        else return -Math.min(j + 1, n) - 1;
      } else j++;
    }
    return -n - 1;
  };
  /** Reads the number at i: the offset after it, or the error's as -offset - 1. */
  const readNumber = (): number => {
    let j = i;
    if (text.charCodeAt(j) === 0x2d) j++;
    if (text.charCodeAt(j) === 0x30) j++;
    else if (isDigit(text.charCodeAt(j))) while (isDigit(text.charCodeAt(j))) j++;
    else return -j - 1;
    if (text.charCodeAt(j) === 0x2e) {
      j++;
      if (!isDigit(text.charCodeAt(j))) return -j - 1;
      while (isDigit(text.charCodeAt(j))) j++;
    }
    if (text.charCodeAt(j) === 0x65 || text.charCodeAt(j) === 0x45) {
      j++;
      if (text.charCodeAt(j) === 0x2b || text.charCodeAt(j) === 0x2d) j++;
      if (!isDigit(text.charCodeAt(j))) return -j - 1;
      while (isDigit(text.charCodeAt(j))) j++;
    }
    return j;
  };
  /** Reads `"key" :` at i (space skipped before), records it, and sets the path of its value; -offset - 1 on an error. */
  const readKey = (frame: Frame): number => {
    if (text.charCodeAt(i) !== 0x22) return -i - 1;
    const start = i;
    const end = readString();
    if (end < 0) return end;
    const key = JSON.parse(text.slice(start, end)) as string;
    i = end;
    skipSpace();
    if (text.charCodeAt(i) !== 0x3a) return -i - 1;
    i++;
    valuePath = `${frame.path}.${key}`;
    const first = frame.keys.get(key);
    if (first === undefined) frame.keys.set(key, start);
    else duplicates.push({ key, path: valuePath, offset: start, firstOffset: first });
    return 0;
  };
  const broken = (at: number): JsonScan => ({ errorAt: Math.min(at, n), duplicates });

  // Each pass reads one value (a scalar whole, or a container's opening), then what follows it.
  for (;;) {
    skipSpace();
    const c = text.charCodeAt(i);
    if (c === 0x7b || c === 0x5b) {
      const array = c === 0x5b;
      i++;
      skipSpace();
      if (text.charCodeAt(i) === (array ? 0x5d : 0x7d)) {
        i++;
      } else {
        const frame: Frame = { array, path: valuePath, keys: new Map(), index: 0 };
        stack.push(frame);
        if (array) {
          valuePath = `${frame.path}[0]`;
          continue;
        }
        const key = readKey(frame);
        if (key < 0) return broken(-key - 1);
        continue;
      }
    } else if (c === 0x22) {
      const end = readString();
      if (end < 0) return broken(-end - 1);
      i = end;
    } else if (c === 0x2d || isDigit(c)) {
      const end = readNumber();
      if (end < 0) return broken(-end - 1);
      i = end;
    } else {
      const word = c === 0x74 ? 'true' : c === 0x66 ? 'false' : c === 0x6e ? 'null' : undefined;
      if (word === undefined) return broken(i);
      for (let k = 0; k < word.length; k++, i++) if (text[i] !== word[k]) return broken(i);
    }
    // After a value: the next element or key, or the containers it closes.
    for (;;) {
      skipSpace();
      const frame = stack[stack.length - 1];
      if (!frame) return i < n ? broken(i) : { duplicates };
      const d = text.charCodeAt(i);
      if (d === (frame.array ? 0x5d : 0x7d)) {
        i++;
        stack.pop();
        continue;
      }
      if (d !== 0x2c) return broken(i);
      i++;
      if (frame.array) {
        valuePath = `${frame.path}[${++frame.index}]`;
      } else {
        skipSpace();
        const key = readKey(frame);
        if (key < 0) return broken(-key - 1);
      }
      break;
    }
  }
}

/** A text offset as a 1-based line and column (lines end at `\n`). */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: before.length - before.lastIndexOf('\n') };
}
