import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makePlan } from '../../src/app/plan.js';
import { cutoverStatus } from '../../src/app/status.js';
import { fakeGraph } from '../helpers/graph.js';
import { CONTOSO, contosoRequest, tempDir } from '../helpers/migration.js';

const tmp = tempDir('users-file');
afterAll(() => tmp.cleanup());
const usersFile = (name: string, lines: string[]) => {
  const f = join(tmp.dir, name);
  writeFileSync(f, `${lines.join('\n')}\n`);
  return f;
};

describe('--users names no row of the export has (a black-box test: "0 user(s) in scope", exit 0, nothing said)', () => {
  it('plan and status refuse a file none of whose names is in the export, naming them and how users are named', async () => {
    const g = fakeGraph();
    const none = usersFile('none.txt', ['nobody@contoso.com', 'ghost@contoso.com']);
    await expect(makePlan({ ...contosoRequest(), users: none, graph: g.client({ readOnly: true }) })).rejects.toThrow(
      /^--users .*none\.txt: 2 name\(s\) no row of the export has: nobody@contoso\.com, ghost@contoso\.com \(the file names users by the export's username: one matched by an on-premises name, such as CORP\\alice, is listed by that name, not by its Entra UPN\)$/,
    );
    await expect(cutoverStatus({ source: CONTOSO, users: none, graph: g.client({ readOnly: true }), concurrency: 4 })).rejects.toThrow(/2 name\(s\) no row of the export has/);
  });

  it('plan and status refuse a file that names no user at all (empty, or comments and a header only)', async () => {
    const g = fakeGraph();
    for (const lines of [[], ['username', '# wave 2, to be filled in', '']]) {
      const f = usersFile('empty.txt', lines);
      const says = /^--users .*empty\.txt names no user \(it is empty, or holds only comments and a header\): give a file with one username a line$/;
      await expect(makePlan({ ...contosoRequest(), users: f, graph: g.client({ readOnly: true }) })).rejects.toThrow(says);
      await expect(cutoverStatus({ source: CONTOSO, users: f, graph: g.client({ readOnly: true }), concurrency: 4 })).rejects.toThrow(says);
    }
    expect(g.operations()).toEqual([]);
  });

  it('plan names those it ignores beside the ones it plans', async () => {
    const g = fakeGraph();
    const notes: string[] = [];
    const made = await makePlan({ ...contosoRequest(), users: usersFile('some.txt', ['alice@contoso.com', 'nobody@contoso.com']), graph: g.client({ readOnly: true }), log: (l) => notes.push(l) });
    expect(made.built.plan.users.map((u) => u.user)).toEqual(['alice@contoso.com']);
    expect(notes).toContainEqual(expect.stringMatching(/^Note: --users .*some\.txt: 1 name\(s\) no row of the export has: nobody@contoso\.com .*; they are ignored$/));
  });

  it('status names those it ignores as plan does, once, escaped (a black-box test saw status drop them without a word)', async () => {
    const g = fakeGraph();
    const notes: string[] = [];
    const file = usersFile('status-some.txt', ['alice@contoso.com', 'evil\x1b[31mred@contoso.com']);
    const status = await cutoverStatus({ source: CONTOSO, users: file, graph: g.client({ readOnly: true }), concurrency: 4, log: (l) => notes.push(l) });
    expect(status.users.map((u) => u.user)).toEqual(['alice@contoso.com']);
    expect(notes).toEqual([expect.stringMatching(/^Note: --users .*status-some\.txt: 1 name\(s\) no row of the export has: evil\\u001b\[31mred@contoso\.com .*; they are ignored$/)]);
    const planNotes: string[] = [];
    await makePlan({ ...contosoRequest(), users: file, graph: g.client({ readOnly: true }), log: (l) => planNotes.push(l) });
    expect(planNotes.filter((l) => l.includes('--users'))).toEqual(notes);
  });
});
