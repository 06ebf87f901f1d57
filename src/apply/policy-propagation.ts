import type { HardwareOathPolicyReading } from '../graph/policy-reader.js';

/** What an activation refused the way the policy's propagation refuses does: waits until `until`, or fails saying why. */
export type PolicyWait = { until: number } | { failure: string };

export interface PolicyPropagationOptions {
  /** --policy-propagation-wait, in ms: how long after the policy changed a refused activation is tried again. */
  waitMs: number;
  /** When this run (or the run it resumes) enabled the HardwareOath method; undefined when it did not. */
  enabledByRun: () => number | undefined;
  /** Reads the policy (graph/: the method's state and the policy's lastModifiedDateTime). */
  read: () => Promise<HardwareOathPolicyReading>;
  /** How long one reading answers for every refusal before the policy is read again (about one retry round). */
  freshMs: number;
  now?: () => number;
}

const minutes = (ms: number) => `${Math.round((ms / 60_000) * 10) / 10}`;
const utc = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/**
 * Whether an activation Graph refused may be waiting for the hardware OATH policy to reach its user
 * ("up to a 20-minute delay ... Allow an hour"), whoever enabled the method: this run, an earlier plan,
 * or an admin in the portal minutes ago. The policy is read (once a retry round, for all refusals):
 * - disabled, no wait mends the refusal: it fails naming the policy (enable it, then resume);
 * - enabled, the wait counts from the latest change known: this run's enable, or the policy's
 *   lastModifiedDateTime (assumed to move with a method's configuration, as the emulator's does;
 *   Graph does not document it: docs/apply.md says what a resume does if not); with neither, from the run's
 *   first such refusal. Once --policy-propagation-wait has passed since, the refusal fails saying so.
 */
export class PolicyPropagation {
  private reading?: { at: number; value: Promise<HardwareOathPolicyReading> };
  /** This pass's first refusal with the method enabled: what the wait counts from when nothing dates the change. */
  private firstRefusalAt?: number;
  private readonly now: () => number;

  constructor(private readonly opts: PolicyPropagationOptions) {
    this.now = opts.now ?? Date.now;
  }

  async judge(): Promise<PolicyWait> {
    const now = this.now();
    const byRun = this.opts.enabledByRun();
    let policy: HardwareOathPolicyReading;
    try {
      policy = await this.read(now);
    } catch (err) {
      // Unread, the run's own enable still dates the change.
      if (byRun !== undefined && now < byRun + this.opts.waitMs) return { until: byRun + this.opts.waitMs };
      return { failure: `the authentication methods policy could not be read to tell whether HardwareOath is still propagating: ${(err as Error).message}` };
    }
    if (!policy.enabled) {
      return { failure: 'the authentication methods policy has the HardwareOath method disabled, and Graph activates no hardware token until it is enabled: enable it (Entra takes up to 20 minutes to apply it) and resume' };
    }
    this.firstRefusalAt ??= now;
    const dated = Math.max(byRun ?? -Infinity, policy.lastModified ?? -Infinity);
    const from = Number.isFinite(dated) ? dated : this.firstRefusalAt;
    const until = from + this.opts.waitMs;
    if (now < until) return { until };
    const since = byRun !== undefined && byRun >= dated ? `this run enabled it at ${utc(byRun)}` : policy.lastModified !== undefined ? `the policy last changed at ${utc(policy.lastModified)}` : `the first refusal at ${utc(from)}`;
    return {
      failure: `the authentication methods policy has HardwareOath enabled, and ${since}, ${minutes(now - from)} minutes ago: the --policy-propagation-wait of ${minutes(this.opts.waitMs)} minutes is over (resume with a longer one if the method was enabled later than that)`,
    };
  }

  /** One reading serves every refusal of a retry round; a failed one is not kept. */
  private read(now: number): Promise<HardwareOathPolicyReading> {
    if (this.reading && now - this.reading.at < this.opts.freshMs) return this.reading.value;
    const value = this.opts.read();
    const reading = { at: now, value };
    this.reading = reading;
    value.catch(() => {
      if (this.reading === reading) this.reading = undefined;
    });
    return value;
  }
}
