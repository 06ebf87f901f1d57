/**
 * Milliseconds since an arbitrary start, never moved by a step of the wall clock (NTP, an admin's
 * `date -s`): the clock for intervals kept in memory only (rate limits, source budgets, the RADIUS
 * retransmission window). Wall time (Date.now) stays where a time is persisted, compared across
 * nodes or shown (lock-outs, unlock requests, audit lines) and for TOTP steps. A black-box test
 * stepped the wall clock back 120 s: every known caller was answered 429 for as long.
 */
export const monotonicMs = (): number => performance.now();
