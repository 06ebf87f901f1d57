import type { Problem, Where } from '../model/problem.js';
import { serialKey } from '../model/serial.js';

/**
 * Serials the seed files hold but whose records their readers left out (a PSKC key with a bad MAC or
 * out of its Policy, a CSV row with a bad secret, a code length out of range): each reader puts the
 * serial on the problem that left the record out (Problem.serial), so that a user given the serial is
 * told where it is and why it has no seed, in `validate`, `plan` and `shim import` alike, rather than
 * that no seed file holds it.
 */
export type SeedsLeftOut = ReadonlyMap<string, readonly Problem[]>;

/** Where a problem is that leaves a record out: `where`, with the record's serial, which is how its token's user is told why it has no seed. */
export function leftOutAt(where: Where, serial: string): Where {
  return { ...where, serial };
}

/** The problems that left a record out, by serialKey, in the order found. */
export function seedsLeftOut(problems: readonly Problem[]): SeedsLeftOut {
  const bySerial = new Map<string, Problem[]>();
  for (const p of problems) {
    if (p.serial === undefined) continue;
    const key = serialKey(p.serial);
    const list = bySerial.get(key);
    if (list === undefined) bySerial.set(key, [p]);
    else list.push(p);
  }
  return bySerial;
}

/**
 * Why `serial` has no seed, if a reader left its record out: where the record is and the first problem
 * that left it out (readers never put a secret in a message); any others are counted, being listed
 * with the seed file's problems anyway.
 */
export function seedLeftOutReason(serial: string, leftOut: SeedsLeftOut): string | undefined {
  const problems = leftOut.get(serialKey(serial));
  if (problems === undefined) return undefined;
  const first = problems[0]!;
  const more = problems.length - 1;
  const also = more === 0 ? '' : ` (and ${more} more finding(s) about token ${serial} in the seed files)`;
  return `token serial ${serial} is in ${first.file}${first.line !== undefined ? ` line ${first.line}` : ''}, but its seed was not taken: ${first.message} [${first.code}]${also}`;
}
