import type { OathAlgorithm, OathType } from '../model/export-data.js';
import type { Secret } from '../model/secret.js';
import type { OtpCache } from './otp-cache.js';

/**
 * One OATH token as the shim holds it in memory: the seed and its parameters, plus the mutable
 * verification state that the state journal persists.
 */
export interface ShimToken {
  serial: string;
  type: OathType;
  algorithm: OathAlgorithm;
  digits: number;
  /** The device appends a Luhn check digit to each code: a code is `digits` + 1 digits (PSKC CheckDigits). */
  checkDigit?: true;
  /** TOTP step in seconds; null for HOTP. */
  period: number | null;
  secret: Secret;
  /** secret.fingerprint(): tells a re-imported seed from a changed one. */
  fingerprint: string;
  manufacturer?: string;
  model?: string;
  /** The seed file it came from (for the operator; never the secret). */
  source?: string;
  /** HOTP: the next counter value expected (the last accepted one + 1), up to 2^64 - 1. Null for TOTP. */
  counter: bigint | null;
  /** TOTP: the last accepted time step; codes for this step or earlier are replays. Null until the first accept. */
  lastStep: number | null;
  /** TOTP: learned clock drift of the token in time steps (token step - server step). */
  drift: number;
  /** Recently computed OTP values (memory only, never persisted). */
  otpCache?: OtpCache;
}

export interface ShimUser {
  /** The username as exported (display and audit). */
  username: string;
  /** Lookup key: see userKey(). */
  key: string;
  tokens: ShimToken[];
  /** The user's group in MFA Server (users.csv user_group), for per-group RADIUS reply attributes. */
  group?: string;
  /** Consecutive failed verifications (all sources). */
  fails: number;
  /** When the user was locked out (ms since the epoch), or null. */
  lockedAt: number | null;
  /** The failures since the last success, per source (end-user address): see lockout.ts. */
  sources: SourceFailures;
  /** Bumped on every change of the user's state: the compare-and-set of the local state. */
  version: number;
}

/** Failures per source (end-user address) since the user's last success, with the time of the latest. */
export type SourceFailures = Record<string, { fails: number; at: number }>;

/**
 * Users are matched by ASCII user name (UPN), case-insensitively, ignoring surrounding spaces and
 * tabs (issue 17 item 19). Only A-Z fold to a-z: String.prototype.toLowerCase() folds the Kelvin sign
 * (U+212A) to "k" and other look-alikes too, so a request for "\u212Aate@contoso.com" would reach
 * kate@contoso.com. Entra UPNs are ASCII; `shim import` refuses other names (isAsciiUserName), so a
 * non-ASCII name in a request is simply no stored user.
 */
export function userKey(username: string): string {
  return username.replace(/^[ \t]+|[ \t]+$/g, '').replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

/** Printable ASCII without spaces: what the shim takes as a user name. */
export function isAsciiUserName(username: string): boolean {
  return /^[\x21-\x7e]+$/.test(userKey(username));
}

/** The verification state of a token, as the journal records it. */
export interface TokenState {
  counter: bigint | null;
  lastStep: number | null;
  drift: number;
}

/** The lock-out state of a user, as the journal records it. */
export interface UserState {
  fails: number;
  lockedAt: number | null;
  sources: SourceFailures;
}
