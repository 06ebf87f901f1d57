import { TAP_MINUTES } from '../model/tap-lifetime.js';
import type { Finding } from './finding.js';

/** MFA Server's bypass time as a Temporary Access Pass lifetime, and the finding when Graph's range clamped it. */
export interface BypassLifetime {
  minutes: number;
  clamped?: Finding;
}

/**
 * The bypass time in whole minutes (rounded up: a pass never ends before the bypass it replaces would),
 * held within the 10..43200 minutes Graph takes for a TAP lifetime. Clamping changes what users get,
 * so it is said: a pass that outlives a short bypass (info), or ends before a long one would (warning).
 */
export function bypassLifetime(seconds: number): BypassLifetime {
  const wanted = Math.ceil(seconds / 60);
  if (wanted < TAP_MINUTES.min) {
    return {
      minutes: TAP_MINUTES.min,
      clamped: {
        severity: 'info',
        code: 'tap-lifetime-clamped',
        rule: 'POL-TAP-LIFETIME',
        message: `MFA Server's one-time bypass lasts ${seconds} s, less than the ${TAP_MINUTES.min} minutes a Temporary Access Pass lasts at least: its default lifetime is ${TAP_MINUTES.min} minutes, so a pass outlives the bypass it replaces`,
      },
    };
  }
  if (wanted > TAP_MINUTES.max) {
    return {
      minutes: TAP_MINUTES.max,
      clamped: {
        severity: 'warning',
        code: 'tap-lifetime-clamped',
        rule: 'POL-TAP-LIFETIME',
        message: `MFA Server's one-time bypass lasts ${seconds} s (${wanted} minutes), more than the ${TAP_MINUTES.max} minutes (30 days) a Temporary Access Pass may last: its default lifetime is ${TAP_MINUTES.max} minutes, so a pass ends before the bypass it replaces would`,
      },
    };
  }
  return { minutes: wanted };
}
