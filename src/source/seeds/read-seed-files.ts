// PLACEHOLDER until the seed readers land from the `seeds` branch (same exported contract).
import type { OathSeed } from '../../model/export-data.js';
import type { ProblemList } from '../../model/problem.js';

export interface SeedReadOptions {
  pskcKey?: Buffer;
  pskcPassword?: string;
  pskcMac?: 'fail' | 'skip' | 'off';
  maxXmlBytes?: number;
}

export async function readSeedFile(path: string, _opts: SeedReadOptions, problems: ProblemList, display?: string): Promise<OathSeed[]> {
  problems.error('seed-format-unknown', { file: display ?? path }, 'seed file readers are not available in this build');
  return [];
}

export async function readSeedFiles(paths: string[], opts: SeedReadOptions, problems: ProblemList): Promise<OathSeed[]> {
  const all: OathSeed[] = [];
  for (const p of paths) all.push(...(await readSeedFile(p, opts, problems)));
  return all;
}

export function loadPskcKeyFile(path: string): Buffer {
  throw new Error(`${path}: not available in this build`);
}

export function loadPskcPasswordFile(path: string): string {
  throw new Error(`${path}: not available in this build`);
}
