import { addTo } from '../model/add-to.js';
import { randomBytes } from 'node:crypto';
import { entraTokenFit } from '../model/entra-oath.js';
import type { OathSeed } from '../model/export-data.js';
import { STORE_FORMAT, STORE_VERSION, type RetiredToken, type StoreDocument, type StoredToken, type StoredUser } from './store-file.js';
import { isAsciiUserName, userKey, type ShimToken, type ShimUser } from './store-model.js';
import { MAX_COUNTER, MAX_DIGITS, MIN_DIGITS } from '../otp/hotp.js';

/** What the import needs from the export: the users (users.csv) and the seeds matched to them. */
export interface ImportInput {
  users: { username: string; enabled: boolean; group?: string }[];
  tokens: { seed: OathSeed; user?: string }[];
}

export interface ImportOptions {
  /** Import tokens of users disabled in MFA Server (default: no; the user stays known, with no token). */
  includeDisabled?: boolean;
  now?: Date;
}

/** The store being replaced, with its current state (journal applied). */
export interface PreviousStore {
  storeId: string;
  generation: number;
  createdAt?: string;
  users: Map<string, ShimUser>;
  tokens: Map<string, ShimToken>;
  /** Tokens earlier imports removed, with their state. */
  retired?: readonly RetiredToken[];
}

export type TokenChange = 'added' | 'kept' | 'reset';

export interface ImportedToken {
  serial: string;
  type: 'totp' | 'hotp';
  algorithm: string;
  digits: number;
  /** The device appends a Luhn check digit to each code. */
  checkDigit?: true;
  period: number | null;
  change: TokenChange;
  /** False for tokens Entra cannot take (HOTP, 8 digits, SHA-512, ...): only the shim verifies them. */
  entraCapable: boolean;
}

/** What the import did; holds serials and usernames, never a secret. */
export interface ImportSummary {
  generation: number;
  users: number;
  tokens: number;
  byKind: Record<string, number>;
  perUser: { username: string; tokens: ImportedToken[] }[];
  added: number;
  kept: number;
  reset: number;
  /** Imported tokens Entra cannot take. */
  shimOnly: number;
  removed: string[];
  skipped: { serial: string; source: string; line?: number; reason: string }[];
}

/**
 * Builds the next store from the export. A token keeps its counters and replay state when it is the
 * same token as before (same serial, same secret fingerprint, same type and period); a changed seed
 * starts afresh. A kept HOTP counter never moves backwards, even if the seed file carries a lower one.
 * Users keep their fail counter and lock-out.
 */
export function buildStore(input: ImportInput, previous: PreviousStore | undefined, options: ImportOptions = {}): { doc: StoreDocument; summary: ImportSummary } {
  const now = (options.now ?? new Date()).toISOString();
  const users = new Map<string, StoredUser & { disabled: boolean }>();
  for (const u of input.users) {
    if (!isAsciiUserName(u.username)) continue; // its tokens are skipped below, naming it
    const key = userKey(u.username);
    const existing = users.get(key);
    if (existing) {
      existing.disabled &&= !u.enabled;
      continue;
    }
    const before = previous?.users.get(key);
    users.set(key, {
      username: u.username,
      ...(u.group !== undefined && u.group !== '' ? { group: u.group } : {}),
      tokens: [],
      fails: before?.fails ?? 0,
      lockedAt: before?.lockedAt ?? null,
      sources: before?.sources ?? {},
      disabled: !u.enabled,
    });
  }

  const tokens = new Map<string, StoredToken>();
  /** User and secret fingerprint -> the serial of theirs that holds it. */
  const secretHolders = new Map<string, string>();
  const summary: ImportSummary = {
    generation: (previous?.generation ?? 0) + 1,
    users: 0,
    tokens: 0,
    byKind: {},
    perUser: [],
    added: 0,
    kept: 0,
    reset: 0,
    shimOnly: 0,
    removed: [],
    skipped: [],
  };
  const perUser = new Map<string, ImportedToken[]>();
  // Where each seed's state stood, per kind of token it was (type and time step): the previous
  // store's tokens, and those earlier imports took out (`retired`). A code once used stays used.
  const retired = new Map<string, SeedState>();
  for (const r of previous?.retired ?? []) retired.set(seedKey(r), further(retired.get(seedKey(r)), r));
  const previousBySeed = new Map<string, SeedState>();
  for (const t of previous?.tokens.values() ?? []) previousBySeed.set(seedKey(t), further(previousBySeed.get(seedKey(t)), t));

  for (const { seed, user } of input.tokens) {
    const skip = (reason: string): void => {
      const entry: ImportSummary['skipped'][number] = { serial: seed.serial, source: seed.source, reason };
      if (seed.line !== undefined) entry.line = seed.line;
      summary.skipped.push(entry);
    };
    if (user === undefined || user.trim() === '') {
      skip('no user in the export has this token');
      continue;
    }
    if (!isAsciiUserName(user)) {
      skip(`user name ${JSON.stringify(user)} is not a printable ASCII name (UPN): the shim matches ASCII user names only`);
      continue;
    }
    const unsupported = unsupportedReason(seed);
    if (unsupported) {
      skip(unsupported);
      continue;
    }
    if (tokens.has(seed.serial)) {
      skip('serial already imported from another seed');
      continue;
    }
    // One secret under two of a user's serials would take each code twice (once per token's counter):
    // the first serial keeps it (seed files refuse this as secret-duplicate; --force or an API caller
    // could still bring it here).
    const fingerprint = seed.secret.fingerprint();
    const holder = secretHolders.get(`${userKey(user)}\n${fingerprint}`);
    if (holder !== undefined) {
      skip(`the same secret as token ${holder} (one secret under two serials would accept each code twice)`);
      continue;
    }
    const key = userKey(user);
    let owner = users.get(key);
    if (!owner) {
      const before = previous?.users.get(key);
      owner = { username: user, tokens: [], fails: before?.fails ?? 0, lockedAt: before?.lockedAt ?? null, sources: before?.sources ?? {}, disabled: false };
      users.set(key, owner);
    }
    if (owner.disabled && !options.includeDisabled) {
      skip(`user ${owner.username} is disabled in MFA Server (use --include-disabled to import it anyway)`);
      continue;
    }
    // The state this seed had: its serial's own (with what a removed token of the same seed had got
    // to), else the furthest any token of the seed got to (removed, replaced by mistake and put
    // back, moved to another serial, shared). Another token in use with the same seed keeps its own.
    const current = previous?.tokens.get(seed.serial);
    const asKind = seedKey({ fingerprint, type: seed.type, period: seed.type === 'totp' ? (seed.period ?? 30) : null });
    const before = current !== undefined && seedKey(current) === asKind ? further(current, retired.get(asKind)) : further(previousBySeed.get(asKind), retired.get(asKind));
    const { stored } = storedTokenFor(seed, fingerprint, before);
    const change: TokenChange = before !== undefined ? 'kept' : current !== undefined ? 'reset' : 'added';
    tokens.set(seed.serial, stored);
    secretHolders.set(`${key}\n${fingerprint}`, seed.serial);
    owner.tokens.push(seed.serial);
    summary[change]++;
    const kind = `${seed.type.toUpperCase()} ${seed.algorithm.toUpperCase()} ${seed.digits} digits${seed.checkDigit === true ? ' + check digit' : ''}${seed.type === 'totp' ? ` ${stored.period} s` : ''}`;
    summary.byKind[kind] = (summary.byKind[kind] ?? 0) + 1;
    const entraCapable = entraTokenFit(seed).ok;
    if (!entraCapable) summary.shimOnly++;
    const list = perUser.get(key) ?? [];
    list.push({ serial: seed.serial, type: seed.type, algorithm: seed.algorithm, digits: seed.digits, ...(seed.checkDigit === true ? { checkDigit: true as const } : {}), period: stored.period, change, entraCapable });
    perUser.set(key, list);
  }

  if (previous) summary.removed = [...previous.tokens.keys()].filter((serial) => !tokens.has(serial)).sort();
  // The state of every token that is gone (removed, given another seed, another type or time step)
  // goes on: in the tokens that hold its seed now (a code is the seed's, whoever types it), else
  // kept aside for the seed's return. What can protect no code is dropped: a HOTP seed never used, a
  // TOTP one never used or last used over a week ago.
  const holders = new Map<string, StoredToken[]>();
  for (const t of tokens.values()) addTo(holders, seedKey(t), t);
  for (const t of previous?.tokens.values() ?? []) {
    const same = tokens.get(t.serial);
    if (same !== undefined && seedKey(same) === seedKey(t)) continue;
    const heldBy = holders.get(seedKey(t));
    if (heldBy) for (const h of heldBy) advance(h, t);
    else retired.set(seedKey(t), further(retired.get(seedKey(t)), t));
  }
  const nowSeconds = Date.parse(now) / 1000;
  for (const [k, r] of retired) {
    // A TOTP step is the token's own clock: its drift away from the server's.
    const unused = r.type === 'hotp' ? (r.counter ?? 0n) === 0n : r.lastStep === null || (r.lastStep - r.drift + 1) * (r.period ?? 30) < nowSeconds - RETIRED_TOTP_SECONDS;
    if (holders.has(k) || unused) retired.delete(k);
  }
  summary.users = users.size;
  summary.tokens = tokens.size;
  summary.perUser = [...perUser.entries()].map(([key, list]) => ({ username: users.get(key)!.username, tokens: list }));

  const doc: StoreDocument = {
    format: STORE_FORMAT,
    version: STORE_VERSION,
    storeId: previous?.storeId ?? randomBytes(8).toString('hex'),
    gen: summary.generation,
    createdAt: previous?.createdAt ?? now,
    updatedAt: now,
    users: [...users.values()].map(({ disabled: _disabled, ...u }) => u),
    tokens: [...tokens.values()],
    ...(retired.size > 0 ? { retired: [...retired.values()].map(retiredOf).sort((a, b) => (a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0)) } : {}),
  };
  return { doc, summary };
}

/** A seed's verification state, and the serial it was last under. */
type SeedState = Pick<ShimToken, 'serial' | 'fingerprint' | 'type' | 'period' | 'counter' | 'lastStep' | 'drift'>;

/** A seed as a kind of token: a HOTP counter means nothing to TOTP, nor a 30 s step to a 60 s one. */
function seedKey(t: Pick<SeedState, 'fingerprint' | 'type' | 'period'>): string {
  return `${t.fingerprint}\n${t.type}\n${t.period ?? ''}`;
}

/** The further of two states of one seed: the higher HOTP counter, the later TOTP step. */
function further(a: SeedState | undefined, b: SeedState): SeedState;
function further(a: SeedState | undefined, b: SeedState | undefined): SeedState | undefined;
function further(a: SeedState | undefined, b: SeedState | undefined): SeedState | undefined {
  if (!a || !b) return a ?? b;
  if (b.type === 'hotp') return (b.counter ?? 0n) > (a.counter ?? 0n) ? b : a;
  return (b.lastStep ?? -1) > (a.lastStep ?? -1) ? b : a;
}

/** Moves a token's state on to where another token of its seed got (never back). */
function advance(token: StoredToken, other: SeedState): void {
  if (token.type === 'hotp') {
    if ((other.counter ?? 0n) > (token.counter ?? 0n)) token.counter = other.counter;
  } else if ((other.lastStep ?? -1) > (token.lastStep ?? -1)) {
    token.lastStep = other.lastStep;
    token.drift = other.drift;
  }
}

function retiredOf(s: SeedState): RetiredToken {
  return { serial: s.serial, fingerprint: s.fingerprint, type: s.type, period: s.period, counter: s.counter, lastStep: s.lastStep, drift: s.drift };
}

/** How long a removed TOTP seed's last step is kept: long after any code of it could verify again. */
const RETIRED_TOTP_SECONDS = 7 * 86_400;

function unsupportedReason(seed: OathSeed): string | undefined {
  if (seed.type !== 'totp' && seed.type !== 'hotp') return `token type ${String(seed.type)} is not OATH TOTP/HOTP`;
  if (!['sha1', 'sha256', 'sha512'].includes(seed.algorithm)) return `hash algorithm ${String(seed.algorithm)} is not supported`;
  if (!Number.isInteger(seed.digits) || seed.digits < MIN_DIGITS || seed.digits > MAX_DIGITS) return `${seed.digits}-digit codes are not supported (${MIN_DIGITS} to ${MAX_DIGITS})`;
  if (seed.type === 'totp' && seed.period !== null && (!Number.isInteger(seed.period) || seed.period <= 0)) return `time step ${seed.period} is not a positive whole number of seconds`;
  if (seed.type === 'hotp' && seedCounter(seed) === undefined) return `counter ${String(seed.counter)} is not a valid HOTP counter (0 to 2^64 - 1)`;
  if (seed.secret.length === 0) return 'the seed is empty';
  return undefined;
}

function storedTokenFor(seed: OathSeed, fingerprint: string, before: Pick<ShimToken, 'fingerprint' | 'type' | 'period' | 'counter' | 'lastStep' | 'drift'> | undefined): { stored: StoredToken; change: TokenChange } {
  const period = seed.type === 'totp' ? (seed.period ?? 30) : null;
  const same = before !== undefined && before.fingerprint === fingerprint && before.type === seed.type && before.period === period;
  const stored: StoredToken = {
    serial: seed.serial,
    type: seed.type,
    algorithm: seed.algorithm,
    digits: seed.digits,
    ...(seed.checkDigit === true ? { checkDigit: true as const } : {}),
    period,
    secret: seed.secret.reveal().toString('base64'),
    fingerprint,
    counter: seed.type === 'hotp' ? maxCounter(seedCounter(seed) ?? 0n, same ? (before.counter ?? 0n) : 0n) : null,
    lastStep: seed.type === 'totp' && same ? before.lastStep : null,
    drift: seed.type === 'totp' ? (same ? before.drift : Math.trunc(seed.timeDrift ?? 0)) : 0,
  };
  if (seed.manufacturer !== undefined) stored.manufacturer = seed.manufacturer;
  if (seed.model !== undefined) stored.model = seed.model;
  stored.source = seed.source;
  return { stored, change: before === undefined ? 'added' : same ? 'kept' : 'reset' };
}


/** The seed file's HOTP counter as a bigint (the readers give a number or, for counters past 2^53, a bigint); undefined if invalid. */
function seedCounter(seed: OathSeed): bigint | undefined {
  const c: unknown = seed.counter;
  if (c === null || c === undefined) return 0n;
  if (typeof c === 'number') return Number.isSafeInteger(c) && c >= 0 ? BigInt(c) : undefined;
  if (typeof c === 'bigint') return c >= 0n && c <= MAX_COUNTER ? c : undefined;
  return undefined;
}

const maxCounter = (a: bigint, b: bigint): bigint => (a > b ? a : b);
