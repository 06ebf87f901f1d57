/**
 * How a run's plan copy whose hash is not the journal's looks when a crash lost it, not an edit: empty
 * (its data never reached the disk, the state a power cut left before the copy was synced), zeros, or
 * cut short (the start of a JSON-lines plan without its closing `end` line). Undefined for any other
 * file: that one was changed. An edit can make either too, but a run's folder is private to its operator,
 * and the advice (put the plan back) is the same.
 */
export function planCopyLoss(bytes: Uint8Array, planFile: string): string | undefined {
  if (bytes.length === 0) return 'is empty (0 bytes)';
  // Blocks allocated but never written read back as zeros.
  if (bytes.every((b) => b === 0)) return `holds only zeros (${bytes.length} bytes)`;
  if (!planFile.endsWith('.jsonl')) return undefined;
  // The start of a plan (any other file is not what a crash leaves of one)...
  const head = Buffer.from(bytes.subarray(0, PLAN_START.length)).toString('latin1');
  if (!PLAN_START.startsWith(head)) return undefined;
  // ...without its closing line near the end (a file that goes on after it was added to, not cut).
  const tail = Buffer.from(bytes.subarray(Math.max(0, bytes.length - 4096))).toString('latin1');
  if (/(^|\n)\{"t":"end",/.test(tail)) return undefined;
  return `is cut short (${bytes.length} bytes, without the plan's closing line)`;
}

/** How every JSON-lines plan file begins (its header line's first key, as plan-file.ts writes it). */
const PLAN_START = '{"kind":"mfa-migrate-plan",';

/** The words for such a copy: a crash loss, what to do, and that the journal is not in question. */
export function planCopyLostText(planFile: string, loss: string, planHash: string): string {
  return `the run's plan copy (${planFile}) ${loss}: lost in a crash (a copy not yet on disk when the power went), not an edit; put the run's plan back there (the file whose sha256 is ${planHash}, the plan applied)`;
}
