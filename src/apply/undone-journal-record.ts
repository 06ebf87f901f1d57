/** What a rollback recorded, when it started, of the apply journal it undoes: its whole lines, the last one's hash. */
export interface UndoneJournalRecord {
  lines: number;
  hash: string;
}

/** How a journal differs from a rollback's record of it: lines taken off its end, or its lines rewritten. */
export type UndoneJournalMismatch = { kind: 'taken-off' | 'rewritten'; reason: string };

/**
 * Whether a journal still begins with what a rollback recorded of it when it started: as many whole
 * lines, the one recorded last with the hash recorded. Lines taken off its end, or rewritten and
 * chained anew, leave a chain that verifies: only the record shows them. One wording for both sides
 * (`runs verify` of the rollback, and of the run it undid): `journal` names the journal ("it"),
 * `recorder` the rollback ("this rollback"). `now.hashAtRecorded`: the hash of the journal's line
 * `recorded.lines`, when it has that many.
 */
export function undoneJournalMismatch(
  now: { lines: number; hashAtRecorded: string | undefined },
  recorded: UndoneJournalRecord,
  words: { journal: string; recorder: string },
): UndoneJournalMismatch | undefined {
  const started = `${words.recorder} recorded ${recorded.lines} line(s), the last with hash ${recorded.hash}, when it started`;
  if (now.lines < recorded.lines) return { kind: 'taken-off', reason: `${words.journal} has ${now.lines} line(s) where ${started}: lines were taken off its end since` };
  if (now.hashAtRecorded !== recorded.hash) return { kind: 'rewritten', reason: `its line ${recorded.lines} has hash ${now.hashAtRecorded}, where ${started}: its lines were rewritten since` };
  return undefined;
}
