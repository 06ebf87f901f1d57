import type { MfaUser, MobileDevice, OathSeed } from '../model/export-data.js';
import { entraTokenFit } from '../model/entra-oath.js';
import { ProblemList, type ProblemCode, type Where } from '../model/problem.js';
import { serialKey } from '../model/serial.js';
import { shownValue } from '../model/shown-value.js';
import { seedLeftOutReason, seedsLeftOut } from './seed-left-out.js';
import { nearSerialHint, nearSerials } from './near-serial.js';

/** A seed and the export user it belongs to (username as written in users.csv), if any. */
export interface TokenAssignment {
  seed: OathSeed;
  user?: string;
  /** How the seed was joined to the user. */
  via?: 'users.csv' | 'seed-file';
}

/** Entra's cap on OATH tokens plus Authenticator registrations per user. */
export const ENTRA_DEVICE_LIMIT = 5;

export interface CrossCheckInput {
  users: MfaUser[];
  devices: MobileDevice[];
  seeds: OathSeed[];
  usersFile: string;
  devicesFile: string;
  /** Whether any seed file was given: changes the seed-missing hint. */
  seedFilesGiven: boolean;
  /**
   * users.csv was refused as a whole (its own error says why): a device's or a token's user is then
   * not known to be missing, and no row of devices.csv nor seed is warned about as one whose user is
   * not there (a black-box test saw a seed-unassigned warning for each of the sample's 13 seeds).
   */
  usersUnread?: boolean;
  /** Lower-cased username -> position in `users`, when the reader already built it. */
  usersByName?: ReadonlyMap<string, number>;
  /** serialKey(serial) -> position in `seeds` (each serial once), when the seed reader already built it. */
  seedsBySerial?: ReadonlyMap<string, number>;
}

/**
 * The rules that need more than one file: joins users to seeds through oath_token_serial (or the
 * user a seed file names), and checks what Entra will not take.
 */
export function crossCheck(input: CrossCheckInput, problems: ProblemList): TokenAssignment[] {
  const join = new TokenJoin(input);
  return join.finish(input.seeds, input.seedsBySerial ?? firstSeedBySerial(input.seeds), input.devices, problems);
}

/**
 * crossCheck, in steps: advance() joins what can be joined with the seeds read so far (seeds are
 * only ever appended, each serial once), so that the main thread does most of the work while it
 * waits for the seed worker; finish() joins the rest and reports. The result and the problems, in
 * their order, are crossCheck's however the seeds were split: a user joins in the first step whose
 * seeds hold their serial (all users of a serial in the same step, in user order), a seed is
 * checked once every user that could claim it has had the chance, and the problems of users are
 * put back in user order at the end.
 */
export class TokenJoin {
  readonly #input: Omit<CrossCheckInput, 'seeds' | 'devices' | 'seedsBySerial'>;
  readonly #usersByName: ReadonlyMap<string, number>;
  /** Users with a serial not found yet; undefined before the first step (all users with a serial). */
  #pending: number[] | undefined;
  /** Seed position -> its assignment through users.csv. */
  readonly #assigned: (TokenAssignment | undefined)[] = [];
  /** User position -> OATH tokens assigned to that user. */
  readonly #tokensPerUser: Uint32Array;
  readonly #tokens: TokenAssignment[] = [];
  /** Seeds [0, #seedsChecked) have their token. */
  #seedsChecked = 0;
  /** Problems of users (with the user's position, to be put in user order) and of seeds (in seed order). */
  readonly #userProblems = new ProblemList();
  readonly #problemUsers: number[] = [];
  readonly #seedProblems = new ProblemList();

  constructor(input: Omit<CrossCheckInput, 'seeds' | 'devices' | 'seedsBySerial'>) {
    this.#input = input;
    // This runs over 100,000s of users and seeds, where each Map operation costs a cache miss or
    // two: per-user counts live in arrays by user position, and the users reader's index is reused.
    this.#usersByName = input.usersByName ?? new Map(input.users.map((u, i) => [u.username.toLowerCase(), i]));
    this.#tokensPerUser = new Uint32Array(input.users.length);
  }

  /** Joins users and checks seeds as far as `seeds` (all seeds read so far; `bySerial` indexes them) allows. */
  advance(seeds: readonly OathSeed[], bySerial: ReadonlyMap<string, number>): void {
    const { users } = this.#input;
    const stillPending: number[] = [];
    const joinUser = (u: number): void => {
      const user = users[u]!;
      const s = bySerial.get(serialKey(user.oathTokenSerial!));
      if (s === undefined) {
        stillPending.push(u);
        return;
      }
      const seed = seeds[s]!;
      const other = this.#assigned[s];
      if (other) {
        this.#userProblem(u, 'error', 'token-shared', { file: this.#input.usersFile, line: user.line, field: 'oath_token_serial' }, `token serial ${seed.serial} is already assigned to ${other.user}; a token belongs to one user only`);
        return;
      }
      if (seed.user !== undefined && seed.user.toLowerCase() !== user.username.toLowerCase()) {
        this.#userProblem(u, 'warning', 'token-user-mismatch', where(seed, 'user'), `token ${seed.serial} is named for ${seed.user} in the seed file but users.csv gives it to ${user.username}; users.csv wins`);
      }
      this.#assigned[s] = { seed, user: user.username, via: 'users.csv' };
      this.#tokensPerUser[u]!++;
    };
    if (this.#pending === undefined) {
      for (let u = 0; u < users.length; u++) if (users[u]!.oathTokenSerial !== undefined) joinUser(u);
    } else {
      for (const u of this.#pending) joinUser(u);
    }
    this.#pending = stillPending;

    // Every user that could claim these seeds has now been looked at: their tokens are final.
    for (let s = this.#seedsChecked; s < seeds.length; s++) {
      const seed = seeds[s]!;
      let t = this.#assigned[s];
      if (!t && bySerial.get(serialKey(seed.serial)) !== s) continue; // duplicate serial, reported by the reader
      if (!t) {
        const owner = seed.user !== undefined ? this.#usersByName.get(seed.user.toLowerCase()) : undefined;
        if (owner !== undefined) {
          t = { seed, user: users[owner]!.username, via: 'seed-file' };
          this.#tokensPerUser[owner]!++;
        } else {
          t = { seed };
          // With users.csv unread, not known to be unassigned: its own error is the one to fix.
          if (!this.#input.usersUnread) {
            const why = seed.user !== undefined ? `the seed file names ${shownValue(seed.user)}, who is not in users.csv` : 'no user in users.csv has this serial';
            this.#seedProblems.warning('seed-unassigned', where(seed, 'serial'), `token ${seed.serial} is not assigned: ${why}`);
          }
        }
      }
      const fit = entraTokenFit(seed);
      // One problem code for all (docs/export-format.md), HOTP with a check digit included: fit.code only picks plan's rule (mapping/oath-rules.ts).
      if (!fit.ok) this.#seedProblems.warning('token-unsupported', where(seed, 'serial'), `token ${seed.serial}: ${fit.reason}`);
      this.#tokens.push(t);
    }
    this.#seedsChecked = seeds.length;
  }

  /** Joins the rest against all the seeds, reports into `problems`, and returns every seed's token. */
  finish(seeds: readonly OathSeed[], bySerial: ReadonlyMap<string, number>, devices: MobileDevice[], problems: ProblemList): TokenAssignment[] {
    this.advance(seeds, bySerial);
    const { users, usersFile, seedFilesGiven } = this.#input;
    const hint = seedFilesGiven ? 'is in none of the seed files given' : 'has no seed: no seed file was given (--tokens)';
    const leftOut = seedsLeftOut(problems.items);
    // Built only when some serial found no seed: unassigned seeds by their serial less separators and leading zeros.
    const near = this.#pending!.length > 0 ? nearSerials(this.#tokens.filter((t) => t.user === undefined).map((t) => t.seed)) : new Map();
    for (const u of this.#pending!) {
      const user = users[u]!;
      // Found in a seed file but left out by its reader: where, and why (not "in none of the seed files").
      const why = seedLeftOutReason(user.oathTokenSerial!, leftOut) ?? `token serial ${user.oathTokenSerial} ${hint}${nearSerialHint(user.oathTokenSerial!, near)}`;
      // Nothing is migrated for a user disabled in MFA Server: their missing seed stops no plan (a black-box test), but is said.
      const disabled = user.enabled ? '' : ' (the user is disabled in MFA Server: nothing is migrated for them; the seed is needed if they are enabled again)';
      this.#userProblem(u, user.enabled ? 'error' : 'warning', 'seed-missing', { file: usersFile, line: user.line, field: 'oath_token_serial' }, `${user.username}: ${why}${disabled}`);
    }
    // Users' problems in user order (a user has at most one), then the seeds', as one pass would give them.
    const order = this.#problemUsers.map((u, i) => i).sort((a, b) => this.#problemUsers[a]! - this.#problemUsers[b]! || a - b);
    for (const i of order) problems.items.push(this.#userProblems.items[i]!);
    for (const p of this.#seedProblems.items) problems.items.push(p);
    checkDeviceLimit(users, devices, this.#tokensPerUser, this.#usersByName, this.#input.devicesFile, this.#input.usersUnread === true, problems);
    return this.#tokens;
  }

  #userProblem(u: number, severity: 'error' | 'warning', code: ProblemCode, at: Where, message: string): void {
    this.#userProblems[severity](code, at, message);
    this.#problemUsers.push(u);
  }
}

function firstSeedBySerial(seeds: readonly OathSeed[]): Map<string, number> {
  const index = new Map<string, number>();
  seeds.forEach((s, i) => {
    const key = serialKey(s.serial);
    if (!index.has(key)) index.set(key, i);
  });
  return index;
}

function checkDeviceLimit(
  users: MfaUser[],
  devices: MobileDevice[],
  tokensPerUser: Uint32Array,
  usersByName: ReadonlyMap<string, number>,
  devicesFile: string,
  usersUnread: boolean,
  problems: ProblemList,
): void {
  /** User position -> that user's mobile-app devices, and the first of them (where a problem points). */
  const appsPerUser = new Uint32Array(users.length);
  const firstApp: (MobileDevice | undefined)[] = new Array(users.length);
  for (const d of devices) {
    const u = usersByName.get(d.username.toLowerCase());
    if (u === undefined) {
      if (usersUnread) continue;
      problems.warning('device-unknown-user', { file: devicesFile, line: d.line, field: 'username' }, `${d.username} is not in users.csv; the device is ignored`);
      continue;
    }
    if (appsPerUser[u]!++ === 0) firstApp[u] = d;
  }
  users.forEach((user, u) => {
    const apps = appsPerUser[u]!;
    const hardware = tokensPerUser[u]!;
    const total = apps + hardware;
    if (total > ENTRA_DEVICE_LIMIT) {
      const first = firstApp[u];
      problems.warning(
        'device-limit',
        first ? { file: devicesFile, line: first.line, field: 'username' } : { file: devicesFile, field: 'username' },
        deviceLimitText(user.username, apps, hardware),
      );
    }
  });
}

/**
 * No mobile app registration migrates (APP-REREGISTER: the user registers Authenticator again), so
 * over the limit it is the tokens, or the registrations the user can make again, that fall short
 * (counting the export alone: the plan counts what the tenant holds too).
 */
function deviceLimitText(username: string, apps: number, hardware: number): string {
  const had = `${username} has ${apps} mobile app device(s) and ${hardware} OATH token(s); Entra allows ${ENTRA_DEVICE_LIMIT} in all`;
  const appsDoNot = 'mobile app registrations do not migrate';
  if (hardware >= ENTRA_DEVICE_LIMIT) {
    const tokens = hardware > ENTRA_DEVICE_LIMIT ? `at most ${ENTRA_DEVICE_LIMIT} of the tokens migrate (the plan names the rest)` : `the ${hardware} tokens take every place`;
    return `${had}: ${tokens}, and Authenticator cannot be registered again on any of the ${apps} mobile app devices beside them (${appsDoNot})`;
  }
  const room = ENTRA_DEVICE_LIMIT - hardware;
  return `${had}: ${hardware > 0 ? `the ${hardware === 1 ? 'token migrates' : 'tokens migrate'}, and ` : ''}the user can register Authenticator again on ${room} of the ${apps} mobile app devices at most (${appsDoNot})`;
}

function where(seed: OathSeed, field: string) {
  return { file: seed.source, ...(seed.line !== undefined ? { line: seed.line } : {}), field };
}
