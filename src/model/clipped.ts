/** How much of a value a message quotes: a whole UPN (at most 113 characters), not a screenful. */
const MAX_SHOWN = 120;

/**
 * A value quoted in a message, cut to its first characters when long, with its length said: a cell
 * of 5,000 digits (a column pasted into one cell) made a message of 5,000 characters. Cut by code
 * point, so a character outside the BMP is never halved.
 */
export function clipped(text: string, max = MAX_SHOWN): string {
  if (text.length <= max) return text;
  const points = Array.from(text);
  if (points.length <= max) return text;
  return `${points.slice(0, max - 24).join('')}... (${points.length} characters)`;
}
