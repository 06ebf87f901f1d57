/**
 * Whether the first bytes of a file are UTF-16 text: a UTF-16 byte-order mark, or, without one, a
 * zero byte in every other position of the first line's ASCII text (Windows tools write "Unicode"
 * so). The export and the seed files are read as UTF-8 only; this lets them say why a file is not,
 * and the hand-written small files (io/file-text.ts) refuse UTF-16 with no mark to decode it by.
 */
export function looksLikeUtf16(head: Uint8Array): boolean {
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) return true;
  const n = Math.min(head.length, 64) & ~1;
  if (n < 4) return false;
  let evenZero = 0;
  let oddZero = 0;
  for (let i = 0; i < n; i += 2) {
    if (head[i] === 0 && head[i + 1] !== 0) evenZero++;
    if (head[i + 1] === 0 && head[i] !== 0) oddZero++;
  }
  // Text, not binary: nearly every pair is one ASCII byte and one zero, on the same side.
  return Math.max(evenZero, oddZero) >= (n / 2) * 0.9;
}
