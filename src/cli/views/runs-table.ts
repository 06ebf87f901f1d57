import type { StateDirRuns } from '../../app/runs.js';
import { cliCommand } from '../../model/command-line.js';
import { printable } from '../../model/printable.js';
import { PLAN_FILE_VERSION } from '../../plan/plan-file.js';
import type { RunSummary } from '../../apply/journal.js';

/** `runs --format json`: every run of every folder looked in, newest first. */
export function runsJson(all: readonly StateDirRuns[]): unknown[] {
  return all
    .flatMap((d) => d.runs.map((r) => ({ ...r, state_dir: d.stateDir })))
    .sort((a, b) => b.started.localeCompare(a.started) || b.id.localeCompare(a.id));
}

/** `runs`: a table with a header row, per state folder; folders left out say why. */
export function renderRunsTable(all: readonly StateDirRuns[]): string {
  const out: string[] = [];
  for (const d of all) {
    if (d.refused) {
      out.push(`${d.stateDir}: left out: ${d.refused}`, '');
      continue;
    }
    out.push(`${d.stateDir}:`);
    if (d.holder && !d.holder.runId) out.push(`  in use by ${d.holder.operation} (pid ${d.holder.pid} of ${d.holder.user}@${d.holder.host}, since ${d.holder.started}), preparing its run`);
    if (d.runs.length === 0) {
      out.push(...(d.runsBelow ? runsBelowLines(d.runsBelow).map((l) => `  ${l}`) : ['  no runs']), '');
      continue;
    }
    const stateOf = new Map(d.runs.map((r) => [r.id, r.state]));
    // A rollback not completed (interrupted, partial, running) is named with its state: "rolled back" alone overstated it.
    const by = (id: string) => (stateOf.get(id) === 'completed' ? id : `${id} (${stateOf.get(id) ?? 'not listed'})`);
    const rows = d.runs.map((r) => {
      const c = r.counts;
      const link = r.rollback_of ? `rollback of ${r.rollback_of}` : r.rolled_back_by.length ? `rolled back by ${r.rolled_back_by.map(by).join(', ')}` : '';
      // Sent with no answer journaled (a crash): counted as pending, and said, since a resume reads them back first.
      const unknown = r.state !== 'unreadable' && c.started > 0 ? `${c.started} of the pending sent, outcome unknown` : '';
      const notes = [laterBuildNote(r), link, unknown, r.problem ?? ''].filter(Boolean).join('; ');
      return [
        r.id,
        r.kind,
        r.state,
        r.tenant ? `${r.tenant.displayName} (${r.tenant.id})` : '-',
        r.graph ?? '-',
        r.started || '-',
        r.state === 'unreadable' ? '-' : `${c.done}/${c.failed}/${c.skipped}/${c.pending + c.started}`,
        notes,
      ];
    });
    const head = ['RUN', 'KIND', 'STATE', 'TENANT', 'GRAPH', 'STARTED', 'DONE/FAILED/SKIPPED/PENDING', 'NOTES'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const r of [head, ...rows]) out.push(`  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`.trimEnd());
    out.push('');
  }
  if (all.length === 0) out.push('No state folders yet (no run has been made).');
  return `${out.map((l) => printable(l)).join('\n')}\n`;
}

/** A later build's run, said first: the commands that would act on it refuse it, and its counts are read by this build. */
function laterBuildNote(r: RunSummary): string {
  const l = r.later_build;
  if (!l) return '';
  const by = l.tool_version ? `mfa-migrate ${l.tool_version}` : 'a later mfa-migrate';
  const started = l.run === r.id ? `started by ${by}` : `undoes run ${l.run}, started by ${by}`;
  return `a later build's run (${started}, plan format ${l.plan_format}; this one reads up to ${PLAN_FILE_VERSION}): finish, report and verify it with that build or a later one`;
}

/** A folder given one level too high: no runs of its own, its tenant folders' runs, and the commands that list them. */
export function runsBelowLines(below: NonNullable<StateDirRuns['runsBelow']>): string[] {
  return [
    `no runs in this folder itself, but its tenant folder(s) hold runs (--state-dir names one tenant's folder); list them with:`,
    ...below.dirs.map((d) => `  ${cliCommand(['runs', '--state-dir', d])}`),
    ...(below.stateBase ? [`  ${cliCommand(['runs'])}   (every tenant folder of the state base)`] : []),
  ];
}
