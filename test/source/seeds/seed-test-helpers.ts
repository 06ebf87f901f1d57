import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll } from 'vitest';
import type { OathSeed } from '../../../src/model/export-data.js';
import { ProblemList, type Problem } from '../../../src/model/problem.js';
import { readSeedFile, type SeedReadOptions } from '../../../src/source/seeds/read-seed-files.js';

export const FIXTURES = resolve(import.meta.dirname, '../../../fixtures');

export function seedsFixture(name: string): string {
  return join(FIXTURES, 'seeds', name);
}

export function contosoToken(name: string): string {
  return join(FIXTURES, 'contoso', 'tokens', name);
}

export interface ReadResult {
  seeds: OathSeed[];
  problems: Problem[];
  /** Every problem serialised: what a report or log could ever show. */
  text: string;
}

export async function read(path: string, opts: SeedReadOptions = {}): Promise<ReadResult> {
  const list = new ProblemList();
  const seeds = await readSeedFile(path, opts, list);
  return { seeds, problems: list.items, text: JSON.stringify(list.items) };
}

export function bySerial(seeds: OathSeed[]): Map<string, OathSeed> {
  return new Map(seeds.map((s) => [s.serial, s]));
}

export function codes(problems: Problem[]): string[] {
  return problems.map((p) => `${p.severity}:${p.code}`);
}

/** A temporary folder for files written by a test file; removed after it. */
export function tempDir(): { file(name: string, content: string | Buffer): string } {
  const dir = mkdtempSync(join(tmpdir(), 'seed-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    file(name, content) {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    },
  };
}

/** The secret in the encodings a leak could take. */
export function secretForms(bytes: Buffer): string[] {
  return [bytes.toString('hex'), bytes.toString('hex').toUpperCase(), bytes.toString('base64')];
}

/** One KeyPackage with a TOTP key whose Key element holds `policy` (a Policy, or the drafts' dates) after its Data, on three lines. */
export function policyKeyPackage(serial: string, id: string, policy: string, seed: string, manufacturer = 'V'): string {
  return `<KeyPackage><DeviceInfo><Manufacturer>${manufacturer}</Manufacturer><SerialNo>${serial}</SerialNo></DeviceInfo>
<Key Id="${id}" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp"><AlgorithmParameters><ResponseFormat Length="6" Encoding="DECIMAL"/></AlgorithmParameters>
<Data><Secret><PlainValue>${seed}</PlainValue></Secret><TimeInterval><PlainValue>30</PlainValue></TimeInterval></Data>${policy}</Key></KeyPackage>\n`;
}

/** A PSKC document of these key packages, the first starting on line 3. */
export function pskcContainer(...packages: string[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">\n${packages.join('')}</KeyContainer>\n`;
}
