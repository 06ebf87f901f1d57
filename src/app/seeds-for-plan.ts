import type { OathSeed } from '../model/export-data.js';
import { formatProblem, ProblemList } from '../model/problem.js';
import { serialKey } from '../model/serial.js';
import { UserError } from '../model/user-error.js';
import type { PlanSource } from '../plan/plan-file.js';
import { loadPskcKeyFile, loadPskcPasswordFile } from '../source/seeds/pskc-credentials.js';
import { readSeedFiles, type SeedReadOptions } from '../source/seeds/read-seed-files.js';

/** Seeds are read again from the files the plan was made from, never from the plan (it holds none). */
export async function seedsForPlan(source: PlanSource, needed: boolean): Promise<Map<string, OathSeed>> {
  if (!needed) return new Map();
  let opts: SeedReadOptions;
  try {
    opts = {
      pskcMac: source.pskcMac as SeedReadOptions['pskcMac'],
      ...(source.pskcKeyFile ? { pskcKey: loadPskcKeyFile(source.pskcKeyFile) } : {}),
      ...(source.pskcPasswordFile ? { pskcPassword: loadPskcPasswordFile(source.pskcPasswordFile) } : {}),
    };
  } catch (err) {
    throw new UserError((err as Error).message);
  }
  const problems = new ProblemList();
  const seeds = await readSeedFiles(source.tokens, opts, problems);
  const fatal = problems.errors.filter((p) => p.code.startsWith('pskc') || p.code === 'file-unreadable' || p.code === 'file-missing' || p.code === 'seed-format-unknown');
  if (fatal.length) throw new UserError(`cannot read the seed files again:\n${fatal.map((p) => `  ${formatProblem(p)}`).join('\n')}`);
  return new Map(seeds.map((s) => [serialKey(s.serial), s]));
}
