import { EXIT } from '../model/exit-code.js';
import { UserError } from '../model/user-error.js';

/**
 * What a mask leaves where digits were: a character that never stands in a number (`*`, `•`, `●`,
 * `…`), or a run of two or more `X`, `x` or `#` (a mask hides several digits). One `x` or `X` is an
 * extension's mark (`+1 4255550101x123`), and `-`, `(`, `)`, `.` and `ext.` are the formatting of a
 * number stored before Graph held them in one shape: neither is a mask, and a tenant whose legacy
 * numbers are so written is not refused for them.
 */
const MASK = /[*•●∙…]|[Xx#]{2,}/;

/**
 * Whether Graph showed a phone number masked. Graph's list methods doc says "The authentication
 * administrator only sees masked phone numbers", and does not say how they are masked; see MASK.
 * A masked number cannot be compared, kept or put back.
 */
export function isMaskedPhoneNumber(phoneNumber: unknown): boolean {
  return typeof phoneNumber === 'string' && MASK.test(phoneNumber);
}

/** Why Graph shows numbers masked, and what to do: said by every refusal, and by doctor. */
export const MASKED_PHONES_WHY = 'the signed-in account sees masked phone numbers (an Authentication Administrator does)';
export const MASKED_PHONES_FIX = 'sign in as a Privileged Authentication Administrator, or use an application with UserAuthenticationMethod.Read.All (docs/permissions.md)';

/**
 * Graph answered a user's phone number masked: the signed-in account sees masked numbers (an
 * Authentication Administrator does). Reading on would plan updates of numbers that are right, and
 * keep masked numbers as what a rollback puts back. Names the user and the phone type, never the number.
 */
export class MaskedPhoneError extends UserError {
  constructor(
    readonly upn: string,
    readonly phoneType: string,
    /** What became of the command's writes, where it has any (apply, rollback). */
    readonly outcome?: string,
  ) {
    super(`Graph showed ${upn}'s ${phoneType} phone number masked: ${MASKED_PHONES_WHY}, so numbers in the tenant cannot be compared, kept or put back. To go on, ${MASKED_PHONES_FIX}${outcome ? `; ${outcome}` : ''}`, EXIT.error);
  }

  /** The same refusal, saying what the command sent before it (nothing, or a run's earlier waves). */
  after(outcome: string): MaskedPhoneError {
    return new MaskedPhoneError(this.upn, this.phoneType, outcome);
  }
}

/**
 * A rejection handler for a read that may meet a masked number: a MaskedPhoneError is thrown again
 * saying what became of the command's writes (`outcome`), any other error as it was.
 */
export function rethrowMaskedAfter(outcome: string): (err: unknown) => never {
  return (err) => {
    throw err instanceof MaskedPhoneError ? err.after(outcome) : err;
  };
}

/** Graph's phone methods of a list (`/methods` or `/phoneMethods`): the first masked one's type, or none. */
export function maskedPhoneIn(list: unknown): string | undefined {
  for (const m of (list as { value?: unknown[] } | null)?.value ?? []) {
    const item = m as Record<string, unknown> | null;
    if (!item || !('phoneNumber' in item)) continue;
    if (isMaskedPhoneNumber(item.phoneNumber)) return String(item.phoneType ?? 'unknown');
  }
  return undefined;
}
