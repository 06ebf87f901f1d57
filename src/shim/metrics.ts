import { VERIFY_REASONS, type VerifyReason, type VerifyResult } from './verifier.js';

/** Latency buckets in seconds: fine-grained below 10 ms, where the shim should live. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * Prometheus counters and a latency histogram, kept as plain numbers (a few increments per request;
 * a metrics library's registry would be the larger part of the code for four series).
 */
export class ShimMetrics {
  readonly #verdicts = new Map<string, number>();
  readonly #buckets = new Array<number>(LATENCY_BUCKETS.length).fill(0);
  #latencyCount = 0;
  #latencySum = 0;
  #rateLimited = 0;
  #unauthorized = 0;
  #sourceRefused = 0;
  #internalErrors = 0;
  readonly #started = Date.now() / 1000;

  constructor() {
    for (const reason of VERIFY_REASONS) this.#verdicts.set(`${reason === 'ok' ? 'accept' : 'reject'}|${reason}`, 0);
  }

  verdict(result: VerifyResult, reason: VerifyReason): void {
    const k = `${result}|${reason}`;
    this.#verdicts.set(k, (this.#verdicts.get(k) ?? 0) + 1);
  }

  /** Time from request start to the response being handed to the socket, for every /v1/verify request. */
  latency(seconds: number): void {
    this.#latencyCount++;
    this.#latencySum += seconds;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      if (seconds <= LATENCY_BUCKETS[i]!) {
        this.#buckets[i]!++;
        break;
      }
    }
  }

  rateLimited(): void {
    this.#rateLimited++;
  }

  /** A request refused because its source (end-user address) spent its failure budget. */
  sourceRefused(): void {
    this.#sourceRefused++;
  }

  unauthorized(): void {
    this.#unauthorized++;
  }

  internalError(): void {
    this.#internalErrors++;
  }

  render(gauges: { users: number; tokens: Record<string, number>; lockedUsers: number; healthy: boolean }): string {
    const out: string[] = [];
    out.push('# HELP mfa_shim_verify_requests_total Verification answers by result and reason.');
    out.push('# TYPE mfa_shim_verify_requests_total counter');
    for (const [k, n] of this.#verdicts) {
      const [result, reason] = k.split('|');
      out.push(`mfa_shim_verify_requests_total{result="${result}",reason="${reason}"} ${n}`);
    }
    out.push('# HELP mfa_shim_rate_limited_total Requests refused with 429 by the per-client rate limit.');
    out.push('# TYPE mfa_shim_rate_limited_total counter');
    out.push(`mfa_shim_rate_limited_total ${this.#rateLimited}`);
    out.push('# HELP mfa_shim_source_refused_total Requests refused because their source (end-user address) spent its failure budget.');
    out.push('# TYPE mfa_shim_source_refused_total counter');
    out.push(`mfa_shim_source_refused_total ${this.#sourceRefused}`);
    out.push('# HELP mfa_shim_unauthorized_total Requests refused with 401 (missing or wrong API key).');
    out.push('# TYPE mfa_shim_unauthorized_total counter');
    out.push(`mfa_shim_unauthorized_total ${this.#unauthorized}`);
    out.push('# HELP mfa_shim_internal_errors_total Verifications answered 503 because state could not be persisted.');
    out.push('# TYPE mfa_shim_internal_errors_total counter');
    out.push(`mfa_shim_internal_errors_total ${this.#internalErrors}`);
    out.push('# HELP mfa_shim_verify_duration_seconds Time to answer POST /v1/verify, including the state fsync.');
    out.push('# TYPE mfa_shim_verify_duration_seconds histogram');
    let cumulative = 0;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      cumulative += this.#buckets[i]!;
      out.push(`mfa_shim_verify_duration_seconds_bucket{le="${LATENCY_BUCKETS[i]}"} ${cumulative}`);
    }
    out.push(`mfa_shim_verify_duration_seconds_bucket{le="+Inf"} ${this.#latencyCount}`);
    out.push(`mfa_shim_verify_duration_seconds_sum ${this.#latencySum}`);
    out.push(`mfa_shim_verify_duration_seconds_count ${this.#latencyCount}`);
    out.push('# HELP mfa_shim_users Users in the token store.');
    out.push('# TYPE mfa_shim_users gauge');
    out.push(`mfa_shim_users ${gauges.users}`);
    out.push('# HELP mfa_shim_tokens Tokens in the token store by type.');
    out.push('# TYPE mfa_shim_tokens gauge');
    for (const [type, n] of Object.entries(gauges.tokens)) out.push(`mfa_shim_tokens{type="${type}"} ${n}`);
    out.push('# HELP mfa_shim_locked_users Users currently locked out.');
    out.push('# TYPE mfa_shim_locked_users gauge');
    out.push(`mfa_shim_locked_users ${gauges.lockedUsers}`);
    out.push('# HELP mfa_shim_up 1 while state can be persisted, 0 after a journal write failed.');
    out.push('# TYPE mfa_shim_up gauge');
    out.push(`mfa_shim_up ${gauges.healthy ? 1 : 0}`);
    out.push('# HELP mfa_shim_start_time_seconds Start time of the server (Unix seconds).');
    out.push('# TYPE mfa_shim_start_time_seconds gauge');
    out.push(`mfa_shim_start_time_seconds ${this.#started}`);
    return out.join('\n') + '\n';
  }
}
