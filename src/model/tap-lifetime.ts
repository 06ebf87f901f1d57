/**
 * Temporary Access Pass's lifetimes as Graph documents them: `minimumLifetimeInMinutes` and
 * `maximumLifetimeInMinutes` each 10 to 43,200 (30 days), and `defaultLifetimeInMinutes` "any integer
 * between the minimumLifetimeInMinutes and maximumLifetimeInMinutes". One rule for the plan, which maps
 * MFA Server's bypass time into them, and for the emulator, which refuses a configuration outside them.
 */
export const TAP_MINUTES = { min: 10, max: 43200 } as const;

const MIN = 'minimumLifetimeInMinutes';
const DEFAULT = 'defaultLifetimeInMinutes';
const MAX = 'maximumLifetimeInMinutes';

export interface TapLifetimeProblem {
  property: string;
  message: string;
}

/**
 * Where a TAP configuration's lifetimes break the rule, or undefined. `changed`, the properties a PATCH
 * set, decides which of two values at odds is named: the one just written, as the one to fix.
 * A lifetime the configuration lacks is not compared.
 */
export function tapLifetimeProblem(config: Record<string, unknown>, changed: ReadonlySet<string> = new Set()): TapLifetimeProblem | undefined {
  for (const property of [MIN, DEFAULT, MAX]) {
    const v = config[property];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < TAP_MINUTES.min || v > TAP_MINUTES.max) {
      return { property, message: `must be an integer from ${TAP_MINUTES.min} to ${TAP_MINUTES.max}` };
    }
  }
  const [min, def, max] = [config[MIN], config[DEFAULT], config[MAX]].map((v) => (typeof v === 'number' ? v : undefined));
  if (min !== undefined && max !== undefined && min > max) {
    return changed.has(MIN) && !changed.has(MAX)
      ? { property: MIN, message: `must not exceed ${MAX} (${max})` }
      : { property: MAX, message: `must not be less than ${MIN} (${min})` };
  }
  if (def === undefined) return undefined;
  const below = min !== undefined && def < min;
  const above = max !== undefined && def > max;
  if (!below && !above) return undefined;
  // The default is at fault unless only the bound it breaks was written.
  if (below && changed.has(MIN) && !changed.has(DEFAULT)) return { property: MIN, message: `must not exceed ${DEFAULT} (${def})` };
  if (above && changed.has(MAX) && !changed.has(DEFAULT)) return { property: MAX, message: `must not be less than ${DEFAULT} (${def})` };
  return { property: DEFAULT, message: `must be between ${MIN} (${min ?? TAP_MINUTES.min}) and ${MAX} (${max ?? TAP_MINUTES.max})` };
}
