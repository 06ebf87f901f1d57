import type { ProblemList, Where } from '../../model/problem.js';
import { COUNTER_MAX } from './oath-parameters.js';

/**
 * Below this many codes left before RFC 4226's last counter, a HOTP token is warned about: a token
 * pressed a hundred times a day for 27 years uses fewer, so only a damaged or made-up counter is
 * this close to the end.
 */
const COUNTER_HEADROOM = 1_000_000n;

/**
 * Warns about a HOTP counter that leaves no or few codes: the shim never takes the code of the last
 * counter, 2^64 - 1 (the counter after it would pass RFC 4226's 8 bytes), so a token whose counter
 * is there can never verify, and one just below it stops after the codes left.
 */
export function warnIfCounterNearEnd(serial: string, counter: bigint, problems: ProblemList, where: Where): void {
  const left = COUNTER_MAX - counter;
  if (left >= COUNTER_HEADROOM) return;
  const why =
    left === 0n
      ? 'no code of it can ever verify: the counter is at the end of its range, 2^64 - 1 (its code would move the counter past what RFC 4226 holds)'
      : `only ${left} code(s) of it can ever verify, up to the end of the counter's range (2^64 - 1)`;
  problems.warning('value-invalid', where, `HOTP token ${serial} has counter ${counter}: ${why}; check the seed file's counter, or re-enrol the user with a new token`);
}
