import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditEvent, AuditLog } from './audit-log.js';
import type { Requester } from './lockout.js';
import type { ShimMetrics } from './metrics.js';
import type { SourceBudget } from './source-budget.js';
import { StateContentionError, type Verdict, type Verifier } from './verifier.js';

export interface GateRequest {
  /** The user name to look up. */
  user: string;
  /** The name as the client sent it, where the front end looks up another (a RADIUS client's strip-realm=, default-domain=). */
  sentAs?: string;
  code: string;
  who: Requester;
  /** The front end's name for the caller, for the audit log (a TCP address, a RADIUS client's name). */
  client: string;
  /** The failure budget of the caller's sources (per RADIUS client, or the HTTP one). */
  budget: SourceBudget;
  /** The answer must not tell whether the user exists (verifier.ts VerifyOptions): RADIUS, unless its client asks for the reasons. */
  conceal?: boolean;
}

export type GateOutcome =
  | { kind: 'verdict'; verdict: Verdict }
  /** The source spent its failure budget: refused without checking the code. */
  | { kind: 'refused'; retryAfterSeconds: number }
  /** The state cannot be read or written (journal failed, database unreachable). */
  | { kind: 'unavailable' }
  /** Other nodes kept changing the user's state while this one decided: nothing decided, try again. */
  | { kind: 'busy' };

/** The audit line's `user_sent`, where the name looked up is not the one sent. */
const sent = (req: GateRequest): { userSent?: string } => (req.sentAs !== undefined ? { userSent: req.sentAs } : {});

/** How the gate learns whether to try the state besides whether it is healthy. */
export interface GateStateHooks {
  /**
   * Whether a verification may try the state (default: healthy). It may while an outage of the
   * shared state is on trial: unhealthy until a change commits, which only a request can make.
   */
  accepting?: () => boolean;
  /**
   * Whether an outage of the state is open, even one on trial or quiet (default: not healthy): a
   * concealed answer for a name whose state is never read is then "unavailable", as a real user's
   * would be (verifier.ts stateInDoubt).
   */
  inOutage?: () => boolean;
  /** A request answered as lost state (counted into the outage's end line). */
  onUnavailable?: () => void;
}

/**
 * The one verification path of every front end (HTTP /v1/verify and RADIUS): health, the source's
 * failure budget, the verifier (rules, state, lock-out), then metrics and the audit log. A front end
 * only parses its protocol and renders the outcome.
 */
export class VerifyGate {
  constructor(
    private readonly verifier: Verifier,
    private readonly metrics: ShimMetrics,
    private readonly audit: AuditLog,
    private readonly healthy: () => boolean,
    private readonly hooks: GateStateHooks = {},
  ) {}

  /** Whether verifications can be made now (state and audit log up): what a front end's health check says. */
  get up(): boolean {
    return this.healthy();
  }

  async verify(req: GateRequest): Promise<GateOutcome> {
    if (!(this.hooks.accepting ?? this.healthy)()) {
      this.metrics.internalError();
      this.hooks.onUnavailable?.();
      return { kind: 'unavailable' };
    }
    // A place in the budget is taken before the code is checked and held until the verdict, so that
    // requests in flight at once count against it (source-budget.ts).
    const reserved = req.budget.reserve(req.who.source);
    const budget = reserved instanceof Promise ? await reserved : reserved;
    if (budget.kind === 'refused') {
      // Counted, not audited per request: a flood would flood the log.
      this.metrics.sourceRefused();
      return { kind: 'refused', retryAfterSeconds: budget.retryAfterSeconds };
    }
    let verdict: Verdict;
    try {
      // No answer before the state change it caused is durable (the verifier resolves only then).
      verdict = await this.verifier.verify(req.user, req.code, req.who, {
        conceal: req.conceal === true,
        stateInDoubt: req.conceal === true && (this.hooks.inOutage ?? (() => !this.healthy()))(),
      });
    } catch (err) {
      budget.settle(false);
      if (err instanceof StateContentionError) {
        // A contended compare-and-set, not an outage: counted and audited as its own reason.
        this.metrics.busy();
        this.audit.write({ event: 'verify', user: req.user, ...sent(req), client: req.client, source: req.who.source, result: 'reject', reason: 'busy', serial: null });
        return { kind: 'busy' };
      }
      this.metrics.internalError();
      this.hooks.onUnavailable?.();
      this.audit.write({ event: 'verify', user: req.user, ...sent(req), client: req.client, source: req.who.source, result: 'reject', reason: 'state_unavailable', serial: null });
      return { kind: 'unavailable' };
    }
    budget.settle(verdict.failure);
    if (budget.delayMs > 0 && verdict.result === 'reject') await sleep(budget.delayMs);
    const line: AuditEvent = {
      event: 'verify',
      user: verdict.user?.username ?? req.user,
      ...sent(req),
      client: req.client,
      source: req.who.source,
      result: verdict.result,
      reason: verdict.lockScope === 'source' ? 'locked_out_source' : verdict.reason,
      serial: verdict.serial ?? null,
    };
    if (verdict.result === 'accept') {
      // No accept is answered before its audit line is written. If it cannot be, the answer is the
      // refusal for a lost audit log, and the code stays used up (the state change is durable
      // already; undoing it would reopen a replay): the user types the next code. The log keeps a
      // line saying so, in the accept's place.
      const written = await this.audit.writeAccept(line);
      if (!written) {
        this.metrics.internalError();
        return { kind: 'unavailable' };
      }
    } else {
      this.audit.write(line);
    }
    this.metrics.verdict(verdict.result, verdict.reason);
    return { kind: 'verdict', verdict };
  }

  /** A request a front end could not make sense of (no code checked): counted and audited like any verification. */
  malformed(req: { client: string; source?: string; user?: string; detail?: string }): void {
    this.metrics.verdict('reject', 'malformed');
    this.audit.write({
      event: 'verify',
      ...(req.user !== undefined ? { user: req.user } : {}),
      client: req.client,
      ...(req.source !== undefined ? { source: req.source } : {}),
      result: 'reject',
      reason: 'malformed',
      serial: null,
      ...(req.detail !== undefined ? { detail: req.detail } : {}),
    });
  }
}
