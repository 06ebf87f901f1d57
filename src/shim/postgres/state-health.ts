import { describePgError, isConnectionLoss, sqlState } from './pg-error.js';

/** An outage of the shared state begins or ends (for the audit log). */
export type OutageEvent = { kind: 'lost'; reason: string } | { kind: 'back'; seconds: number; refused: number; how: string };

export interface StateHealthOptions {
  /** `--state postgres://...`, as said at the start of each line. */
  where: string;
  /**
   * Whether the database takes the node's writes: resolves, or rejects with why not (pg-state.ts:
   * the node's own batch statement with no request in it, rolled back).
   */
  probe: () => Promise<void>;
  /** How often a lost state is probed (default 1 s). */
  probeMs?: number;
  /** How often a state that seems up is probed, idle or not; also how long a trial runs before /healthz says healthy (default 5 s). */
  heartbeatMs?: number;
  onNotice?: (message: string) => void;
  onOutage?: (event: OutageEvent) => void;
}

interface Outage {
  /** performance.now() at its start: its length is said, never its time, so a wall-clock step cannot skew it. */
  since: number;
  /** The reason last said on stderr: a new one is said once, the same one never again. */
  said: string;
  /** Requests answered state_unavailable since it began (countRefused). */
  refused: number;
  /** The last failure was the connection's: a probe getting through is the proof of its end. */
  connection: boolean;
  /**
   * The last failure was a request's statement the server refused, which no probe has met since:
   * the probe writes no row, so it passes where a full disk (or a trigger) refuses a real change.
   * Its passing then only opens a trial.
   */
  unseen: boolean;
  /** On trial: requests are let through; the outage ends when a change commits (nothing else can see its end). */
  trial: boolean;
  /**
   * On trial a heartbeat with no failure: healthy again for /healthz (an idle node is let back into
   * its load balancer, or no change would ever come to commit), the outage still open: a request
   * refused again for the same reason is the same outage, not a new one said again.
   */
  quiet: boolean;
}

/**
 * Whether the node's state in PostgreSQL can be read and persisted, as /healthz, mfa_shim_up and
 * RADIUS Status-Server say it. A failure opens an outage, said once on stderr (and to onOutage, for
 * the audit log) with its reason; a probe then asks every second, saying a new reason once when it
 * changes (a password changed behind a restart: a black-box test saw only the first error while the
 * server logged 62 refused logins); the end is said once, with how many requests were answered
 * state_unavailable meanwhile. A probe that only connected, or only read, never ends an outage the
 * server's refusal of a write began (a black-box test saw a revoked privilege answered 503 with
 * /healthz ok, and a "reconnected" line per request).
 */
export class StateHealth {
  #outage: Outage | undefined;
  #asking = false;
  #closed = false;
  #heartbeat: NodeJS.Timeout | undefined;
  #probe: NodeJS.Timeout | undefined;
  #trial: NodeJS.Timeout | undefined;

  constructor(private readonly opts: StateHealthOptions) {}

  /** Starts the heartbeat: an idle node has no statement to fail, so its outage would go unseen (a black-box test). */
  start(): void {
    // A quiet outage is probed as a healthy state is: one the probe can see (the connection lost) is its own.
    this.#heartbeat ??= this.#every(this.opts.heartbeatMs ?? 5000, () => this.#outage === undefined || this.#outage.quiet, {
      passed: () => undefined,
      // An import holding the tables is no failure of the state: verifications wait for it.
      failed: (err) => (sqlState(err) === '55P03' ? undefined : this.failed(err, 'probe')),
    });
  }

  /** No outage, or a quiet one: the state can be read and persisted, as far as can be told (/healthz, mfa_shim_up, Status-Server). */
  get healthy(): boolean {
    return !this.#closed && (this.#outage === undefined || this.#outage.quiet);
  }

  /** Requests may try the database: no outage, or one on trial (they are its test). */
  get accepting(): boolean {
    return !this.#closed && (this.#outage === undefined || this.#outage.trial);
  }

  /** An outage is open (on trial or quiet too), or the state closed. */
  get inOutage(): boolean {
    return this.#closed || this.#outage !== undefined;
  }

  /** A request answered state_unavailable: counted into the outage's end line. */
  countRefused(): void {
    if (this.#outage) this.#outage.refused++;
  }

  /** Probes once now (a start, so a database that takes no writes is said at once, not at the first heartbeat). */
  async probeNow(): Promise<void> {
    if (this.#asking || this.#closed) return;
    this.#asking = true;
    try {
      await this.opts.probe();
      this.#probePassed();
    } catch (err) {
      this.failed(err, 'probe');
    } finally {
      this.#asking = false;
    }
  }

  /** A statement failed: a request's, or the probe's. */
  failed(err: unknown, by: 'request' | 'probe'): void {
    if (this.#closed) return;
    const reason = describePgError(err);
    const connection = isConnectionLoss(err);
    const unseen = by === 'request' && !connection;
    const outage = this.#outage;
    if (!outage) {
      this.#outage = { since: performance.now(), said: reason, refused: 0, connection, unseen, trial: false, quiet: false };
      this.opts.onNotice?.(`${this.opts.where}: ${reason}; answering state_unavailable until it is back`);
      this.opts.onOutage?.({ kind: 'lost', reason });
      this.#startProbe();
      return;
    }
    outage.connection = connection;
    outage.unseen = unseen;
    if (outage.trial) {
      // The trial failed: back to answering at once, and to the probe.
      outage.trial = false;
      outage.quiet = false;
      clearTimeout(this.#trial);
      this.#trial = undefined;
      this.#startProbe();
    }
    if (reason !== outage.said) {
      outage.said = reason;
      this.opts.onNotice?.(`${this.opts.where}: still unavailable: ${reason}`);
    }
  }

  /** A request's change committed: the state is persisted again, whatever the probe says. */
  committed(): void {
    if (this.#outage) this.#back("a verification's change committed");
  }

  close(): void {
    this.#closed = true;
    for (const t of [this.#heartbeat, this.#probe]) clearInterval(t);
    clearTimeout(this.#trial);
  }

  #probePassed(): void {
    const outage = this.#outage;
    if (!outage || outage.trial) return;
    if (!outage.unseen) {
      this.#back(outage.connection ? 'reconnected' : 'the database takes writes again');
      return;
    }
    // The probe cannot see what refused the request: let requests try, and end it only once one
    // change commits. A heartbeat's probe passing with no failure meanwhile turns /healthz healthy
    // (quiet) but ends nothing: with the disk still full, each request apart would otherwise open
    // and end an outage of its own, a "lost" and a "back" line each (a review).
    outage.trial = true;
    this.#stopProbe();
    this.#trial = setTimeout(() => {
      this.#trial = undefined;
      void this.#once().then((err) => {
        if (this.#outage !== outage || !outage.trial) return;
        if (err === undefined) outage.quiet = true;
        else this.failed(err, 'probe');
      });
    }, this.opts.heartbeatMs ?? 5000);
    this.#trial.unref();
  }

  #back(how: string): void {
    const outage = this.#outage;
    if (!outage || this.#closed) return;
    this.#outage = undefined;
    this.#stopProbe();
    clearTimeout(this.#trial);
    this.#trial = undefined;
    const seconds = Math.round((performance.now() - outage.since) / 1000);
    this.opts.onNotice?.(`${this.opts.where}: state is back after ${seconds} s (${how}); ${outage.refused} request(s) were answered state_unavailable meanwhile`);
    this.opts.onOutage?.({ kind: 'back', seconds, refused: outage.refused, how });
  }

  #startProbe(): void {
    // One probe at a time: those still waiting when one gets through would each say it is back (a black-box test saw three).
    this.#probe ??= this.#every(this.opts.probeMs ?? 1000, () => this.#outage !== undefined && !this.#outage.trial, {
      passed: () => this.#probePassed(),
      failed: (err) => this.failed(err, 'probe'),
    });
  }

  #stopProbe(): void {
    clearInterval(this.#probe);
    this.#probe = undefined;
  }

  /** Runs the probe once, unless one is running (resolves with its error, or undefined). */
  async #once(): Promise<unknown> {
    if (this.#asking) return new Promise((resolve) => setTimeout(() => resolve(this.#once()), 50).unref());
    this.#asking = true;
    try {
      await this.opts.probe();
      return undefined;
    } catch (err) {
      return err ?? new Error('the probe failed');
    } finally {
      this.#asking = false;
    }
  }

  /** Every `ms`, while `wanted()`, one probe (never two at once). */
  #every(ms: number, wanted: () => boolean, then: { passed: () => void; failed: (err: unknown) => void }): NodeJS.Timeout {
    const timer = setInterval(() => {
      if (this.#asking || this.#closed || !wanted()) return;
      this.#asking = true;
      this.opts.probe().then(
        () => {
          this.#asking = false;
          if (!this.#closed && wanted()) then.passed();
        },
        (err: unknown) => {
          this.#asking = false;
          if (!this.#closed) then.failed(err ?? new Error('the probe failed'));
        },
      );
    }, ms);
    timer.unref();
    return timer;
  }
}
