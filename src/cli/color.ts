/**
 * Whether to colour output for a stream: only on a terminal, never with NO_COLOR set (any value,
 * no-color.org) or --no-color given (commander sets `color: false`).
 */
export function useColor(opts: { color?: boolean }, stream: { isTTY?: boolean } = process.stdout): boolean {
  return stream.isTTY === true && opts.color !== false && !process.env.NO_COLOR;
}
