import type { MfaUser, MobileDevice, OathSeed } from '../model/export-data.js';
import { entraTokenFit } from '../model/entra-oath.js';
import type { ProblemList } from '../model/problem.js';
import { serialKey } from '../model/serial.js';

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
  const { users, devices, seeds, usersFile, devicesFile } = input;
  // This runs over 100,000s of users and seeds, where each Map operation costs a cache miss or
  // two: per-user counts live in arrays by user position, and the users reader's index is reused.
  const usersByName = input.usersByName ?? new Map(users.map((u, i) => [u.username.toLowerCase(), i]));
  const seedIndexBySerial = input.seedsBySerial ?? firstSeedBySerial(seeds);
  /** Seed position -> its assignment through users.csv. */
  const assigned: (TokenAssignment | undefined)[] = new Array(seeds.length);
  /** User position -> OATH tokens assigned to that user. */
  const tokensPerUser = new Uint32Array(users.length);

  users.forEach((user, u) => {
    if (user.oathTokenSerial === undefined) return;
    const s = seedIndexBySerial.get(serialKey(user.oathTokenSerial));
    if (s === undefined) {
      const hint = input.seedFilesGiven ? 'is in none of the seed files given' : 'has no seed: no seed file was given (--tokens)';
      problems.error('seed-missing', { file: usersFile, line: user.line, field: 'oath_token_serial' }, `${user.username}: token serial ${user.oathTokenSerial} ${hint}`);
      return;
    }
    const seed = seeds[s]!;
    const other = assigned[s];
    if (other) {
      problems.error('token-shared', { file: usersFile, line: user.line, field: 'oath_token_serial' }, `token serial ${seed.serial} is already assigned to ${other.user}; a token belongs to one user only`);
      return;
    }
    if (seed.user !== undefined && seed.user.toLowerCase() !== user.username.toLowerCase()) {
      problems.warning('token-user-mismatch', where(seed, 'user'), `token ${seed.serial} is named for ${seed.user} in the seed file but users.csv gives it to ${user.username}; users.csv wins`);
    }
    assigned[s] = { seed, user: user.username, via: 'users.csv' };
    tokensPerUser[u]!++;
  });

  const tokens: TokenAssignment[] = [];
  seeds.forEach((seed, s) => {
    let t = assigned[s];
    if (!t && seedIndexBySerial.get(serialKey(seed.serial)) !== s) return; // duplicate serial, reported by the reader
    if (!t) {
      const owner = seed.user !== undefined ? usersByName.get(seed.user.toLowerCase()) : undefined;
      if (owner !== undefined) {
        t = { seed, user: users[owner]!.username, via: 'seed-file' };
        tokensPerUser[owner]!++;
      } else {
        t = { seed };
        const why = seed.user !== undefined ? `the seed file names ${seed.user}, who is not in users.csv` : 'no user in users.csv has this serial';
        problems.warning('seed-unassigned', where(seed, 'serial'), `token ${seed.serial} is not assigned: ${why}`);
      }
    }
    const fit = entraTokenFit(seed);
    if (!fit.ok) problems.warning('token-unsupported', where(seed, 'serial'), `token ${seed.serial}: ${fit.reason}`);
    tokens.push(t);
  });

  checkDeviceLimit(users, devices, tokensPerUser, usersByName, devicesFile, problems);
  return tokens;
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
  problems: ProblemList,
): void {
  /** User position -> that user's mobile-app devices, and the first of them (where a problem points). */
  const appsPerUser = new Uint32Array(users.length);
  const firstApp: (MobileDevice | undefined)[] = new Array(users.length);
  for (const d of devices) {
    const u = usersByName.get(d.username.toLowerCase());
    if (u === undefined) {
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
        `${user.username} has ${apps} mobile app device(s) and ${hardware} OATH token(s); Entra allows ${ENTRA_DEVICE_LIMIT} in all, so ${total - ENTRA_DEVICE_LIMIT} will not migrate`,
      );
    }
  });
}

function where(seed: OathSeed, field: string) {
  return { file: seed.source, ...(seed.line !== undefined ? { line: seed.line } : {}), field };
}
