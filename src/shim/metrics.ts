import { VERIFY_REASONS, type VerifyReason, type VerifyResult } from './verifier.js';

/** Latency buckets in seconds: fine-grained below 10 ms, where the shim should live. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export const RADIUS_DROP_REASONS = ['unknown_client', 'malformed', 'unsupported_code', 'no_message_authenticator', 'bad_message_authenticator', 'unavailable'] as const;

/** A latency histogram (seconds) on LATENCY_BUCKETS. */
class Histogram {
  readonly #buckets = new Array<number>(LATENCY_BUCKETS.length).fill(0);
  #count = 0;
  #sum = 0;

  observe(seconds: number): void {
    this.#count++;
    this.#sum += seconds;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      if (seconds <= LATENCY_BUCKETS[i]!) {
        this.#buckets[i]!++;
        break;
      }
    }
  }

  render(name: string, out: string[]): void {
    let cumulative = 0;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      cumulative += this.#buckets[i]!;
      out.push(`${name}_bucket{le="${LATENCY_BUCKETS[i]}"} ${cumulative}`);
    }
    out.push(`${name}_bucket{le="+Inf"} ${this.#count}`);
    out.push(`${name}_sum ${this.#sum}`);
    out.push(`${name}_count ${this.#count}`);
  }
}

/**
 * Prometheus counters and a latency histogram, kept as plain numbers (a few increments per request;
 * a metrics library's registry would be the larger part of the code for four series).
 */
/** The store's gauges, as /metrics shows them. */
export interface ShimGauges {
  users: number;
  tokens: Record<string, number>;
  /** Null: not known now (the series is left out). */
  lockedUsers: number | null;
  radiusUp?: boolean;
}

export class ShimMetrics {
  readonly #verdicts = new Map<string, number>();
  readonly #latency = new Histogram();
  #rateLimited = 0;
  #unauthorized = 0;
  #sourceRefused = 0;
  #internalErrors = 0;
  #busy = 0;
  readonly #radiusRequests = new Map<string, number>([['access_request', 0], ['status_server', 0]]);
  readonly #radiusResponses = new Map<string, number>([['access_accept', 0], ['access_reject', 0]]);
  readonly #radiusDropped = new Map<string, number>(RADIUS_DROP_REASONS.map((r) => [r, 0]));
  #radiusRetransmissions = 0;
  #radiusSendFailures = 0;
  readonly #radiusLatency = new Histogram();
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
    this.#latency.observe(seconds);
  }

  rateLimited(): void {
    this.#rateLimited++;
  }

  /** A request answered busy: other nodes kept changing the user's state while this one decided. */
  busy(): void {
    this.#busy++;
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

  radiusRequest(kind: 'access_request' | 'status_server'): void {
    this.#radiusRequests.set(kind, (this.#radiusRequests.get(kind) ?? 0) + 1);
  }

  /** An answer sent; `seconds` from datagram to answer for an Access-Request (null for Status-Server). */
  radiusResponse(kind: 'access_accept' | 'access_reject', seconds: number | null): void {
    this.#radiusResponses.set(kind, (this.#radiusResponses.get(kind) ?? 0) + 1);
    if (seconds !== null) this.#radiusLatency.observe(seconds);
  }

  radiusSendFailed(): void {
    this.#radiusSendFailures++;
  }

  /** A datagram dropped without an answer (unknown client, no or a wrong Message-Authenticator, malformed). */
  radiusDropped(reason: string): void {
    this.#radiusDropped.set(reason, (this.#radiusDropped.get(reason) ?? 0) + 1);
  }

  radiusRetransmission(): void {
    this.#radiusRetransmissions++;
  }

  render(gauges: ShimGauges & { healthy: boolean }): string {
    const out: string[] = [];
    out.push('# HELP mfa_shim_verify_requests_total Verification answers by result and reason.');
    out.push('# TYPE mfa_shim_verify_requests_total counter');
    for (const [k, n] of this.#verdicts) {
      const [result, reason] = k.split('|');
      out.push(`mfa_shim_verify_requests_total{result="${result}",reason="${reason}"} ${n}`);
    }
    out.push('# HELP mfa_shim_rate_limited_total Requests refused by a rate limit (HTTP 429, RADIUS Access-Reject).');
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
    out.push('# HELP mfa_shim_busy_total Verifications answered busy: other nodes kept changing the user\'s state while this one decided.');
    out.push('# TYPE mfa_shim_busy_total counter');
    out.push(`mfa_shim_busy_total ${this.#busy}`);
    out.push('# HELP mfa_shim_verify_duration_seconds Time to answer POST /v1/verify, including the state fsync.');
    out.push('# TYPE mfa_shim_verify_duration_seconds histogram');
    this.#latency.render('mfa_shim_verify_duration_seconds', out);
    out.push('# HELP mfa_shim_users Users in the token store.');
    out.push('# TYPE mfa_shim_users gauge');
    out.push(`mfa_shim_users ${gauges.users}`);
    out.push('# HELP mfa_shim_tokens Tokens in the token store by type.');
    out.push('# TYPE mfa_shim_tokens gauge');
    for (const [type, n] of Object.entries(gauges.tokens)) out.push(`mfa_shim_tokens{type="${type}"} ${n}`);
    if (gauges.lockedUsers !== null) {
      out.push('# HELP mfa_shim_locked_users Users whose lock-out is in force (with PostgreSQL state: counted in the database at most every 5 s).');
      out.push('# TYPE mfa_shim_locked_users gauge');
      out.push(`mfa_shim_locked_users ${gauges.lockedUsers}`);
    }
    if (gauges.radiusUp !== undefined) {
      out.push('# HELP mfa_shim_radius_requests_total RADIUS requests handled (retransmissions and dropped datagrams not included).');
      out.push('# TYPE mfa_shim_radius_requests_total counter');
      for (const [code, n] of this.#radiusRequests) out.push(`mfa_shim_radius_requests_total{code="${code}"} ${n}`);
      out.push('# HELP mfa_shim_radius_responses_total RADIUS answers sent, by code.');
      out.push('# TYPE mfa_shim_radius_responses_total counter');
      for (const [code, n] of this.#radiusResponses) out.push(`mfa_shim_radius_responses_total{code="${code}"} ${n}`);
      out.push('# HELP mfa_shim_radius_dropped_total RADIUS datagrams dropped silently, by reason.');
      out.push('# TYPE mfa_shim_radius_dropped_total counter');
      for (const [reason, n] of this.#radiusDropped) out.push(`mfa_shim_radius_dropped_total{reason="${reason}"} ${n}`);
      out.push('# HELP mfa_shim_radius_retransmissions_total Retransmitted requests (RFC 5080): answered from the cache, or dropped while the first is still being verified (its answer goes out once); never verified again.');
      out.push('# TYPE mfa_shim_radius_retransmissions_total counter');
      out.push(`mfa_shim_radius_retransmissions_total ${this.#radiusRetransmissions}`);
      out.push('# HELP mfa_shim_radius_send_failures_total RADIUS answers the socket failed to send (the client retransmits).');
      out.push('# TYPE mfa_shim_radius_send_failures_total counter');
      out.push(`mfa_shim_radius_send_failures_total ${this.#radiusSendFailures}`);
      out.push('# HELP mfa_shim_radius_duration_seconds Time to answer an Access-Request, including the durable state write.');
      out.push('# TYPE mfa_shim_radius_duration_seconds histogram');
      this.#radiusLatency.render('mfa_shim_radius_duration_seconds', out);
      out.push('# HELP mfa_shim_radius_up 1 while the RADIUS socket listens.');
      out.push('# TYPE mfa_shim_radius_up gauge');
      out.push(`mfa_shim_radius_up ${gauges.radiusUp ? 1 : 0}`);
    }
    out.push('# HELP mfa_shim_up 1 while healthy; 0 while the state cannot be read or persisted, the audit log cannot be written, or the RADIUS socket failed (as /healthz says).');
    out.push('# TYPE mfa_shim_up gauge');
    out.push(`mfa_shim_up ${gauges.healthy ? 1 : 0}`);
    out.push('# HELP mfa_shim_start_time_seconds Start time of the server (Unix seconds).');
    out.push('# TYPE mfa_shim_start_time_seconds gauge');
    out.push(`mfa_shim_start_time_seconds ${this.#started}`);
    return out.join('\n') + '\n';
  }
}
