/** Text gathered before a chunk is handed on: large enough that writing it costs one system call, small beside the whole. */
export const TEXT_CHUNK = 1 << 16;

/**
 * `parts.join(sep)`, handed on a chunk of about TEXT_CHUNK characters at a time: a large output (a
 * report or a saved plan of 100,000 users) is written as it is made, never held whole (nor its
 * UTF-8 copy), while each write still carries many parts. Nothing is yielded for no parts.
 */
export function* joinedChunks(parts: Iterable<string>, sep: string): Generator<string> {
  let buf = '';
  let first = true;
  for (const part of parts) {
    buf += first ? part : sep + part;
    first = false;
    if (buf.length >= TEXT_CHUNK) {
      yield buf;
      buf = '';
    }
  }
  if (buf !== '') yield buf;
}
