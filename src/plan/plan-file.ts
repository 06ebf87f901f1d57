import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../io/atomic-file.js';
import type { Plan, UserChange } from './plan-model.js';
import type { PolicyChange } from '../mapping/policy-rules.js';
import { stateFingerprint } from './fingerprint.js';
import type { PskcMacMode } from '../source/seeds/pskc-mac-mode.js';

/** Where the export and seed files were read from, so apply can read the seeds again (never their content). */
export interface PlanSource {
  dir: string;
  tokens: string[];
  pskcKeyFile?: string;
  pskcPasswordFile?: string;
  pskcMac: PskcMacMode;
}

/** A saved plan: the plan, where it came from, and a fingerprint of every tenant object it read. */
export interface PlanFile extends Plan {
  kind: 'mfa-migrate-plan';
  source: PlanSource;
  user_changes: (UserChange & { state_fingerprint: string })[];
  policy_changes: (PolicyChange & { state_fingerprint: string })[];
}

export function toPlanFile(plan: Plan, source: PlanSource): PlanFile {
  return {
    kind: 'mfa-migrate-plan',
    ...plan,
    source,
    policy_changes: plan.policy_changes.map((c) => ({ ...c, state_fingerprint: stateFingerprint(c.before) })),
    user_changes: plan.user_changes.map((c) => ({ ...c, state_fingerprint: stateFingerprint(c.before) })),
  };
}

/**
 * Writes the plan crash-safely: a temporary file in the same folder, fsync, rename. Mode 0600: a
 * plan holds no secret, but it does hold users' phone numbers.
 */
export async function writePlanFile(path: string, file: PlanFile): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`, 0o600);
}

export async function readPlanFile(path: string): Promise<PlanFile> {
  const text = await readFile(path, 'utf8');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not a plan file (${(err as Error).message})`);
  }
  const f = data as Partial<PlanFile>;
  if (f.kind !== 'mfa-migrate-plan' || typeof f.format_version !== 'string') throw new Error(`${path}: not a plan file written by mfa-migrate plan --out`);
  if (f.format_version.split('.')[0] !== '1') throw new Error(`${path}: plan format ${f.format_version} is not supported (major version 1 expected)`);
  return f as PlanFile;
}

