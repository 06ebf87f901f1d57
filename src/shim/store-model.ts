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
  /** TOTP step in seconds; null for HOTP. */
  period: number | null;
  secret: Secret;
  /** secret.fingerprint(): tells a re-imported seed from a changed one. */
  fingerprint: string;
  manufacturer?: string;
  model?: string;
  /** The seed file it came from (for the operator; never the secret). */
  source?: string;
  /** HOTP: the next counter value expected (the last accepted one + 1). Null for TOTP. */
  counter: number | null;
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
  /** Consecutive failed verifications. */
  fails: number;
  /** When the user was locked out (ms since the epoch), or null. */
  lockedAt: number | null;
}

/** Users are matched case-insensitively, ignoring surrounding white space (UPNs are case-insensitive). */
export function userKey(username: string): string {
  return username.trim().toLowerCase();
}

/** The verification state of a token, as the journal records it. */
export interface TokenStatePatch {
  counter: number | null;
  lastStep: number | null;
  drift: number;
}

/** The lock-out state of a user, as the journal records it. */
export interface UserStatePatch {
  fails: number;
  lockedAt: number | null;
}
