import type { MfaUser, MobileDevice, OathSeed } from '../model/export-data.js';
import { entraTokenFit } from '../model/entra-oath.js';
import type { ProblemList } from '../model/problem.js';

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
}

/**
 * The rules that need more than one file: joins users to seeds through oath_token_serial (or the
 * user a seed file names), and checks what Entra will not take.
 */
export function crossCheck(input: CrossCheckInput, problems: ProblemList): TokenAssignment[] {
  const { users, devices, seeds, usersFile, devicesFile } = input;
  const usersByName = new Map(users.map((u) => [u.username.toLowerCase(), u]));
  const seedBySerial = new Map<string, OathSeed>();
  for (const s of seeds) if (!seedBySerial.has(serialKey(s.serial))) seedBySerial.set(serialKey(s.serial), s);

  const assigned = new Map<OathSeed, TokenAssignment>();
  for (const user of users) {
    if (user.oathTokenSerial === undefined) continue;
    const seed = seedBySerial.get(serialKey(user.oathTokenSerial));
    if (!seed) {
      const hint = input.seedFilesGiven ? 'is in none of the seed files given' : 'has no seed: no seed file was given (--tokens)';
      problems.error('seed-missing', { file: usersFile, line: user.line, field: 'oath_token_serial' }, `${user.username}: token serial ${user.oathTokenSerial} ${hint}`);
      continue;
    }
    const other = assigned.get(seed);
    if (other) {
      problems.error('token-shared', { file: usersFile, line: user.line, field: 'oath_token_serial' }, `token serial ${seed.serial} is already assigned to ${other.user}; a token belongs to one user only`);
      continue;
    }
    if (seed.user !== undefined && seed.user.toLowerCase() !== user.username.toLowerCase()) {
      problems.warning('token-user-mismatch', where(seed, 'user'), `token ${seed.serial} is named for ${seed.user} in the seed file but users.csv gives it to ${user.username}; users.csv wins`);
    }
    assigned.set(seed, { seed, user: user.username, via: 'users.csv' });
  }

  const tokens: TokenAssignment[] = [];
  for (const seed of seeds) {
    let t = assigned.get(seed);
    if (!t && seedBySerial.get(serialKey(seed.serial)) !== seed) continue; // duplicate serial, reported by the reader
    if (!t) {
      const owner = seed.user !== undefined ? usersByName.get(seed.user.toLowerCase()) : undefined;
      if (owner) {
        t = { seed, user: owner.username, via: 'seed-file' };
      } else {
        t = { seed };
        const why = seed.user !== undefined ? `the seed file names ${seed.user}, who is not in users.csv` : 'no user in users.csv has this serial';
        problems.warning('seed-unassigned', where(seed, 'serial'), `token ${seed.serial} is not assigned: ${why}`);
      }
    }
    const fit = entraTokenFit(seed);
    if (!fit.ok) problems.warning('token-unsupported', where(seed, 'serial'), `token ${seed.serial}: ${fit.reason}`);
    tokens.push(t);
  }

  checkDeviceLimit(users, devices, tokens, usersByName, devicesFile, problems);
  return tokens;
}

function checkDeviceLimit(
  users: MfaUser[],
  devices: MobileDevice[],
  tokens: TokenAssignment[],
  usersByName: Map<string, MfaUser>,
  devicesFile: string,
  problems: ProblemList,
): void {
  const tokensPerUser = new Map<string, number>();
  for (const t of tokens) if (t.user !== undefined) tokensPerUser.set(t.user.toLowerCase(), (tokensPerUser.get(t.user.toLowerCase()) ?? 0) + 1);
  const devicesPerUser = new Map<string, MobileDevice[]>();
  for (const d of devices) {
    const key = d.username.toLowerCase();
    if (!usersByName.has(key)) {
      problems.warning('device-unknown-user', { file: devicesFile, line: d.line, field: 'username' }, `${d.username} is not in users.csv; the device is ignored`);
      continue;
    }
    let list = devicesPerUser.get(key);
    if (!list) devicesPerUser.set(key, (list = []));
    list.push(d);
  }
  for (const user of users) {
    const key = user.username.toLowerCase();
    const list = devicesPerUser.get(key) ?? [];
    const hardware = tokensPerUser.get(key) ?? 0;
    const total = list.length + hardware;
    if (total > ENTRA_DEVICE_LIMIT) {
      const first = list[0];
      problems.warning(
        'device-limit',
        first ? { file: devicesFile, line: first.line, field: 'username' } : { file: devicesFile, field: 'username' },
        `${user.username} has ${list.length} mobile app device(s) and ${hardware} OATH token(s); Entra allows ${ENTRA_DEVICE_LIMIT} in all, so ${total - ENTRA_DEVICE_LIMIT} will not migrate`,
      );
    }
  }
}

function where(seed: OathSeed, field: string) {
  return { file: seed.source, ...(seed.line !== undefined ? { line: seed.line } : {}), field };
}

/** Serials compare without surrounding space and case-insensitively (vendors mix `ab12` and `AB12`). */
export function serialKey(serial: string): string {
  return serial.trim().toLowerCase();
}
