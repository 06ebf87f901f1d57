import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyMadePlan } from '../../src/app/apply.js';
import { makePlan } from '../../src/app/plan.js';
import { rollbackRun } from '../../src/app/rollback.js';
import { sampleSeedArgs } from '../../src/cli/demo-command.js';
import { createInProcessEmulator, type EmulatorOptions, type RecordedRequest } from '../../src/emulator/index.js';
import { connectGraph } from '../../src/graph/connect.js';
import { packageRoot } from '../../src/io/package-root.js';
import { loadPskcKeyFile, loadPskcPasswordFile } from '../../src/source/seeds/pskc-credentials.js';

/** What the workload did, besides the requests: enough to tell it did its job. */
export interface WorkloadResult {
  requests: RecordedRequest[];
  planned: number;
  applied: string;
  rolledBack: string;
}

/**
 * A representative workload of the current client, through the use cases the CLI calls: plan the bundled
 * Contoso sample (every seed file, email methods, pruning, a target group, defaults always set, the
 * cutover: a rollout group, the federation, a campaign group), apply it, roll it back, all against an
 * in-process emulator that records every request the client sends.
 */
export async function runClientWorkload(options: EmulatorOptions = {}): Promise<WorkloadResult> {
  const requests: RecordedRequest[] = [];
  const emu = createInProcessEmulator({ throttle: 'off', ...options, onRequest: (r) => requests.push(r) });
  const connect = (readOnly: boolean) => connectGraph({ graphUrl: emu.url, fetch: emu.fetch, readOnly, concurrency: 4 });
  const sample = join(packageRoot(), 'fixtures', 'contoso');
  const args = sampleSeedArgs(sample);
  const value = (flag: string) => args[args.indexOf(flag) + 1]!;
  const stateDir = mkdtempSync(join(tmpdir(), 'mfa-contract-'));
  try {
    const made = await makePlan({
      source: sample,
      tokens: args.filter((_, i) => args[i - 1] === '--tokens'),
      seeds: { pskcMac: 'fail', pskcKey: loadPskcKeyFile(value('--pskc-key-file')), pskcPassword: loadPskcPasswordFile(value('--pskc-password-file')) },
      pskcKeyFiles: [value('--pskc-key-file')],
      pskcPasswordFiles: [value('--pskc-password-file')],
      targetGroup: 'MFA Migration Wave 1',
      includeEmail: true,
      defaultMethod: 'always',
      prune: true,
      allowMissingSeeds: false,
      rolloutGroups: ['MFA Staged Rollout'],
      federatedMfa: 'reject',
      forceFederation: true,
      campaignGroup: 'MFA Migration Wave 1',
      graph: connect(true),
      concurrency: 4,
    });
    const writer = connect(false);
    const applied = await applyMadePlan(made, { graph: writer, stateDir, batchSize: 10, skipStale: false, concurrency: 4 });
    const rolled = await rollbackRun({ runId: applied.outcome.runId, stateDir, force: false, concurrency: 4, connect: () => writer });
    const summary = made.built.plan.summary;
    return { requests, planned: summary.create + summary.update + summary.delete, applied: applied.outcome.state, rolledBack: rolled.outcome.state };
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** A request's shape: ids, UPNs and serials replaced, so that one call site reads as one line. */
export function requestShape(r: Pick<RecordedRequest, 'method' | 'version' | 'path'>): string {
  const path = decodeURIComponent(r.path)
    .replace(/\('(?:[^']|'')*'\)/g, '({key})')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '{id}')
    .replace(/\/[^/]+@[^/]+(?=\/|$)/g, '/{upn}');
  return `${r.method} ${r.version} ${path}`;
}
