import type { TenantSize } from './state.js';

/**
 * Graph's throttling for identity and access resources, as documented:
 *  - resource units (RU) per application+tenant: S 3,500 / M 5,000 / L 8,000 per 10 s;
 *  - writes per application+tenant: 3,000 per 150 s;
 *  - writes per tenant (all applications): 18,000 per 300 s.
 * Graph describes a token bucket; the emulator models each budget as a bucket refilled in full at the end of a
 * fixed window that opens with the first request after the previous one closed. Only requests that fit are
 * charged. A refused request gets Retry-After = time until its window closes, and the application is then
 * refused (per scope) until that Retry-After has passed, even if the window reopened in between.
 * --time-scale K divides every window, and so every Retry-After, by K.
 */
export const RU_LIMITS: Record<TenantSize, number> = { S: 3500, M: 5000, L: 8000 };
export const RU_WINDOW_MS = 10_000;
export const APP_WRITE_LIMIT = 3000;
export const APP_WRITE_WINDOW_MS = 150_000;
export const TENANT_WRITE_LIMIT = 18_000;
export const TENANT_WRITE_WINDOW_MS = 300_000;

export interface ThrottleLimits {
  resourceUnits: number;
  appWrites: number;
  tenantWrites: number;
}

export type ThrottleReason = 'ResourceUnitLimitExceeded' | 'WriteLimitExceeded';

/**
 * limitPercentage: the load the application attempted in the current RU window (admitted or not) as a share of
 * its budget, when over 0.8 (x-ms-throttle-limit-percentage); above 1.0 when requests were refused.
 */
export type ThrottleDecision =
  | { allowed: true; limitPercentage?: number }
  | { allowed: false; retryAfterMs: number; scope: string; reason: ThrottleReason; limitPercentage?: number };

class Window {
  start = -Infinity;
  used = 0;
  constructor(
    readonly limit: number,
    readonly lengthMs: number,
  ) {}

  roll(now: number): void {
    if (now >= this.start + this.lengthMs) {
      this.start = now;
      this.used = 0;
    }
  }

  get end(): number {
    return this.start + this.lengthMs;
  }
}

interface AppBudget {
  ru: Window;
  /** Resource units attempted (admitted or refused) in a window of the RU window's length: the load Graph reports. */
  load: Window;
  writes: Window;
  /** The app may not send anything before this time (the Retry-After a refused RU request was given). */
  blockedUntil: number;
  blockedScope: string;
  blockedReason: ThrottleReason;
  /** The app may not write before this time. */
  writesBlockedUntil: number;
  writesBlockedScope: string;
}

export class Throttle {
  readonly #apps = new Map<string, AppBudget>();
  readonly #tenantWrites: Window;
  readonly #ruWindowMs: number;
  readonly #appWriteWindowMs: number;

  constructor(
    readonly tenantId: string,
    readonly limits: ThrottleLimits,
    readonly timeScale: number,
    /** Rounds a wait to what the Retry-After header will say, in ms (the block lasts that long). */
    readonly announce: (ms: number) => number,
  ) {
    this.#ruWindowMs = RU_WINDOW_MS / timeScale;
    this.#appWriteWindowMs = APP_WRITE_WINDOW_MS / timeScale;
    this.#tenantWrites = new Window(limits.tenantWrites, TENANT_WRITE_WINDOW_MS / timeScale);
  }

  static limitsFor(size: TenantSize): ThrottleLimits {
    return { resourceUnits: RU_LIMITS[size], appWrites: APP_WRITE_LIMIT, tenantWrites: TENANT_WRITE_LIMIT };
  }

  #budget(appId: string): AppBudget {
    let b = this.#apps.get(appId);
    if (!b) {
      b = {
        ru: new Window(this.limits.resourceUnits, this.#ruWindowMs),
        load: new Window(this.limits.resourceUnits, this.#ruWindowMs),
        writes: new Window(this.limits.appWrites, this.#appWriteWindowMs),
        blockedUntil: -Infinity,
        blockedScope: '',
        blockedReason: 'ResourceUnitLimitExceeded',
        writesBlockedUntil: -Infinity,
        writesBlockedScope: '',
      };
      this.#apps.set(appId, b);
    }
    return b;
  }

  /** Decides on one request of `appId` costing `resourceUnits` (and one write when `isWrite`), charging it if allowed. */
  check(appId: string, resourceUnits: number, isWrite: boolean, now: number): ThrottleDecision {
    const b = this.#budget(appId);
    b.load.roll(now);
    b.load.used += resourceUnits;
    const decision = this.#decide(b, appId, resourceUnits, isWrite, now);
    // Graph: "1.2 indicates 20% of the incoming requests are throttled"; it reports 0.8 to 1.8.
    const share = b.load.used / b.load.limit;
    return share > 0.8 ? { ...decision, limitPercentage: Math.min(1.8, Math.floor(share * 10) / 10) } : decision;
  }

  #decide(b: AppBudget, appId: string, resourceUnits: number, isWrite: boolean, now: number): ThrottleDecision {
    if (now < b.blockedUntil - RETRY_TOLERANCE_MS) {
      return { allowed: false, retryAfterMs: b.blockedUntil - now, scope: b.blockedScope, reason: b.blockedReason };
    }
    if (isWrite && now < b.writesBlockedUntil - RETRY_TOLERANCE_MS) {
      return { allowed: false, retryAfterMs: b.writesBlockedUntil - now, scope: b.writesBlockedScope, reason: 'WriteLimitExceeded' };
    }
    b.ru.roll(now);
    if (b.ru.used + resourceUnits > b.ru.limit) {
      const wait = this.announce(b.ru.end - now);
      b.blockedUntil = now + wait;
      b.blockedScope = `Tenant_Application/ReadWrite/${appId}/${this.tenantId}`;
      b.blockedReason = 'ResourceUnitLimitExceeded';
      return { allowed: false, retryAfterMs: wait, scope: b.blockedScope, reason: b.blockedReason };
    }
    if (isWrite) {
      b.writes.roll(now);
      this.#tenantWrites.roll(now);
      const appFull = b.writes.used + 1 > b.writes.limit;
      const tenantFull = this.#tenantWrites.used + 1 > this.#tenantWrites.limit;
      if (appFull || tenantFull) {
        const end = Math.max(appFull ? b.writes.end : -Infinity, tenantFull ? this.#tenantWrites.end : -Infinity);
        const wait = this.announce(end - now);
        b.writesBlockedUntil = now + wait;
        b.writesBlockedScope = appFull ? `Tenant_Application/Write/${appId}/${this.tenantId}` : `Tenant/Write/${appId}/${this.tenantId}`;
        return { allowed: false, retryAfterMs: wait, scope: b.writesBlockedScope, reason: 'WriteLimitExceeded' };
      }
      b.writes.used += 1;
      this.#tenantWrites.used += 1;
    }
    b.ru.used += resourceUnits;
    return { allowed: true };
  }
}

/**
 * Graph's request cost in resource units: base cost (GET users 2, members 3, transitiveMembers 5, any other
 * GET 1; any write 1), $select -1, $expand +1, $top below 20 -1, never below 1.
 */
export function resourceUnitCost(method: string, readCost: number | undefined, query: URLSearchParams): number {
  if (method !== 'GET') return 1;
  let cost = readCost ?? 1;
  if (query.has('$select')) cost -= 1;
  if (query.has('$expand')) cost += 1;
  const top = query.get('$top');
  if (top !== null && Number(top) < 20) cost -= 1;
  return Math.max(1, cost);
}

/** Requests this close to the announced time are not early: absorbs timer and float rounding on the client. */
export const RETRY_TOLERANCE_MS = 1;

/**
 * The wait (whole ms) a Retry-After announces for a real wait of `ms`: at time scale 1 whole seconds rounded up
 * (as Graph sends them), otherwise milliseconds rounded up. The emulator refuses the app until then.
 */
export function announcedWaitMs(ms: number, timeScale: number): number {
  if (timeScale === 1) return Math.max(1, Math.ceil(ms / 1000)) * 1000;
  return Math.max(1, Math.ceil(ms));
}

/**
 * Retry-After as sent: integer seconds at time scale 1; with a time scale, seconds with up to three decimals
 * (e.g. "0.125"), which clients that parse the header as a number (the Graph SDKs do) can honour exactly.
 */
export function retryAfterHeader(ms: number, timeScale: number): string {
  return String(announcedWaitMs(ms, timeScale) / 1000);
}
