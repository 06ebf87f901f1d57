/**
 * The verification rules of the shim. Defaults follow privacyIDEA's /validate/check semantics
 * (docs/shim.md explains each one and where it departs).
 */
export interface ShimRules {
  /** TOTP: time steps accepted on each side of the expected step (the expected step is now + learned drift). */
  totpWindow: number;
  /** HOTP: how many counter values are tried, starting at the stored counter (privacyIDEA's count window). */
  hotpLookAhead: number;
  /** HOTP: how many counter values below the stored counter are recognised as `replayed` rather than `wrong_code`. */
  hotpLookBehind: number;
  /** Consecutive failures that lock a user out. */
  maxFails: number;
  /** Minutes after which a lock-out clears by itself; 0 = only `shim unlock` clears it. */
  lockoutMinutes: number;
}

export const DEFAULT_RULES: Readonly<ShimRules> = Object.freeze({
  totpWindow: 1,
  hotpLookAhead: 10,
  hotpLookBehind: 10,
  maxFails: 10,
  lockoutMinutes: 15,
});

/**
 * How long failures count: the lock-out's length, or 15 minutes where lock-outs never run out. A
 * source's failure budget counts over it (shim-service.ts sourceBudgetRules), and a made-up name's
 * failures are kept in PostgreSQL for it after the last one (a lock-out begins at a failure, so it has
 * run out by then): a bound on the table.
 */
export function failureWindowMs(rules: ShimRules): number {
  return (rules.lockoutMinutes > 0 ? rules.lockoutMinutes : 15) * 60_000;
}

/** Upper bounds that keep one request's work small (each window value is one HMAC). */
const LIMITS: Record<keyof ShimRules, [number, number]> = {
  totpWindow: [0, 10],
  hotpLookAhead: [1, 100],
  hotpLookBehind: [0, 100],
  maxFails: [1, 1000],
  lockoutMinutes: [0, 7 * 24 * 60],
};

/** Checks a rule set; returns the problems as sentences naming the rule (empty when valid). */
export function validateRules(rules: ShimRules): string[] {
  const problems: string[] = [];
  for (const [name, [min, max]] of Object.entries(LIMITS) as [keyof ShimRules, [number, number]][]) {
    const v = rules[name];
    if (!Number.isInteger(v) || v < min || v > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (got ${String(v)})`);
    }
  }
  return problems;
}
