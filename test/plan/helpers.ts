import { sampleSeedArgs } from '../../src/cli/demo-command.js';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RequestLogEntry } from '../../src/emulator/index.js';
import type { Plan } from '../../src/plan/plan-model.js';
import { ROOT, type CliResult } from '../helpers/run-cli.js';
import { runMain } from '../helpers/run-main.js';

/** The Contoso sample export and every seed file it needs (paths relative to the repository). */
export const CONTOSO_SOURCE = ['--source', 'fixtures/contoso'];
export const CONTOSO_SEEDS = sampleSeedArgs('fixtures/contoso');
export const CONTOSO = [...CONTOSO_SOURCE, ...CONTOSO_SEEDS];

/** The bundled emulator tenant (fixtures/contoso/tenant.json), parsed. */
export interface ContosoTenant {
  tenant: { id: string };
  users: { id: string; userPrincipalName: string; methods?: Record<string, unknown[]> }[];
  groups: { id: string; displayName: string; members: string[] }[];
  hardwareOathDevices: { id: string; serialNumber: string; assignedTo?: { id: string } | null }[];
  [k: string]: unknown;
}

export function contosoTenant(): ContosoTenant {
  return JSON.parse(readFileSync(join(ROOT, 'fixtures/contoso/tenant.json'), 'utf8')) as ContosoTenant;
}

export function userId(tenant: ContosoTenant, upn: string): string {
  const u = tenant.users.find((x) => x.userPrincipalName.toLowerCase() === upn.toLowerCase());
  if (!u) throw new Error(`${upn} is not in the tenant file`);
  return u.id;
}

/** Runs `mfa-migrate plan ARGS --graph-url URL`, in this process. */
export function runPlan(url: string, args: string[], opts: { env?: Record<string, string | undefined> } = {}): Promise<CliResult> {
  return runMain(['plan', ...args, '--graph-url', url], opts);
}

/** Runs a JSON plan (phone numbers shown in full) and parses it; fails with the CLI's stderr when it did not succeed. */
export async function planJson(url: string, args: string[] = CONTOSO): Promise<{ plan: Plan; result: CliResult }> {
  const result = await runPlan(url, [...args, '--format', 'json', '--show-phone-numbers']);
  if (result.code !== 0 && result.code !== 2) throw new Error(`plan exited ${result.code}: ${result.stderr}`);
  return { plan: JSON.parse(result.stdout) as Plan, result };
}

/** The plan without its timestamp and Graph root: two plans of the same export and tenant (two emulators) must be equal. */
export function timeless(plan: Plan): Omit<Plan, 'created' | 'graph'> {
  const { created: _created, graph: _graph, ...rest } = plan;
  return rest;
}

/**
 * The Contoso secrets, by the generator rule in fixtures/contoso/CASES.md: the secret of serial S is
 * the first L bytes of sha256("contoso-demo-seed-" + S), or of sha512 for the SHA-512 token.
 */
export function contosoSecret(serial: string, length: number, hash: 'sha256' | 'sha512' = 'sha256'): Buffer {
  return createHash(hash).update(`contoso-demo-seed-${serial}`).digest().subarray(0, length);
}

/** RFC 4648 Base32 without padding, written here so the leak check does not trust the code under test. */
export function base32(bytes: Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

export const CONTOSO_SERIALS = [...Array.from({ length: 14 }, (_, i) => String(20010001 + i)), '20019998', '20019999'];

/**
 * Every text form in which a Contoso secret could leak: Base32 (upper and lower case), hex (both
 * cases) and Base64 (standard and URL-safe) of each serial's secret under both hashes, plus the
 * mobile-app device secrets of devices.csv, the PSKC pre-shared key and the PSKC password.
 * Prefixes are used where every length shares them (10 bytes: 16 Base32 / 20 hex characters;
 * 9 bytes: 12 Base64 characters), so 10-, 20-, 32- and 64-byte seeds are all covered.
 */
export function contosoSecretStrings(): string[] {
  const out = new Set<string>();
  for (const serial of CONTOSO_SERIALS) {
    for (const hash of ['sha256', 'sha512'] as const) {
      const ten = contosoSecret(serial, 10, hash);
      const nine = ten.subarray(0, 9);
      const b32 = base32(ten);
      out.add(b32).add(b32.toLowerCase());
      out.add(ten.toString('hex')).add(ten.toString('hex').toUpperCase());
      out.add(nine.toString('base64')).add(nine.toString('base64url'));
    }
  }
  const devices = readFileSync(join(ROOT, 'fixtures/contoso/devices.csv'), 'utf8').trim().split('\n').slice(1);
  for (const line of devices) {
    const secret = line.split(',')[4]?.trim();
    if (secret) out.add(secret).add(secret.toLowerCase());
  }
  out.add(readFileSync(join(ROOT, 'fixtures/contoso/tokens/psk.hex'), 'utf8').trim());
  out.add(readFileSync(join(ROOT, 'fixtures/contoso/tokens/pskc-password.txt'), 'utf8').trim());
  return [...out];
}

/** The secrets (from contosoSecretStrings) that occur in a text; [] when none does. */
export function leakedSecrets(text: string, secrets: string[]): string[] {
  return secrets.filter((s) => text.includes(s));
}

/**
 * Requests that could change the tenant: anything but a GET, or a $batch holding anything but GETs.
 * A plan must leave this empty.
 */
export function writesIn(log: RequestLogEntry[]): string[] {
  const out: string[] = [];
  for (const e of log) {
    if (/\/\$batch$/.test(e.path.split('?')[0]!) && e.method === 'POST') {
      for (const i of e.items ?? []) if (i.method !== 'GET') out.push(`${i.method} ${i.path} (in ${e.path})`);
    } else if (e.method !== 'GET') out.push(`${e.method} ${e.path}`);
  }
  return out;
}

/** Every operation in a request log: direct requests and $batch items (the envelope itself is no operation). */
export function operations(log: RequestLogEntry[]): RequestLogEntry[] {
  return log.flatMap((e) => (e.items ? e.items : [e]));
}
