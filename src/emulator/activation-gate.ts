import { DEFAULT_BEHAVIOUR } from './behaviour.js';
import { GraphError } from './graph-error.js';
import type { EmulatorState } from './state.js';
import { retryAfterHeader } from './throttle.js';

/**
 * What stands between a hardware token and its activation besides its code: the HardwareOath method
 * disabled in the policy (the how-to has it enabled first), and, each behind a behaviour switch, the policy
 * still propagating after it was enabled ("up to a 20-minute delay ... Allow an hour") and the admin
 * center's pace of 200 activations per 5 minutes. Times are divided by --time-scale.
 */

export function isHardwareOathEnabled(state: EmulatorState): boolean {
  return state.policy.authenticationMethodConfigurations.some((c) => c.id?.toLowerCase() === 'hardwareoath' && c.state === 'enabled');
}

/** Call around a change of the policy: starts the propagation delay when HardwareOath goes from disabled to enabled. */
export function noteHardwareOathChange(state: EmulatorState, wasEnabled: boolean, now = performance.now()): void {
  if (!wasEnabled && isHardwareOathEnabled(state)) state.hardwareOathEnabledAt = now;
}

/**
 * The tenant file's (or the options') "enabled N seconds before the emulator started": the propagation
 * delay counts from then, and the policy's lastModifiedDateTime is that time (a client may bound its wait by it).
 */
export function noteHardwareOathEnabledBefore(state: EmulatorState, seconds: number, timeScale: number, now = performance.now(), wallClock = Date.now()): void {
  const agoMs = (seconds * 1000) / timeScale;
  state.hardwareOathEnabledAt = now - agoMs;
  state.policy.lastModifiedDateTime = new Date(wallClock - agoMs).toISOString();
}

export const POLICY_NOT_EFFECTIVE_MESSAGE = DEFAULT_BEHAVIOUR.hardwareOathPropagationRefusal.message;

/** Graph's refusal of an activation now, or undefined when it may go ahead (it is then counted against the pace). */
export function activationRefusal(state: EmulatorState, timeScale: number, now = performance.now()): GraphError | undefined {
  const { hardwareOathPropagationSeconds: delay, hardwareOathPropagationRefusal: refusal, activationRateLimit: pace } = state.behaviour;
  // Disabled, the method is refused whatever the delay: Graph does not activate what the policy does not allow.
  if (!isHardwareOathEnabled(state) || (delay > 0 && now < state.hardwareOathEnabledAt + (delay * 1000) / timeScale)) {
    return new GraphError(refusal.status, refusal.code, refusal.message);
  }
  if (pace) {
    const window = state.activationWindow;
    const length = (pace.windowSeconds * 1000) / timeScale;
    if (now >= window.start + length) {
      window.start = now;
      window.count = 0;
    }
    if (window.count >= pace.activations) {
      return new GraphError(
        429,
        'TooManyRequests',
        `At most ${pace.activations} hardware OATH tokens can be activated every ${pace.windowSeconds} seconds. Wait for the time given in the Retry-After header.`,
        { 'Retry-After': retryAfterHeader(window.start + length - now, timeScale) },
      );
    }
    window.count++;
  }
  return undefined;
}
