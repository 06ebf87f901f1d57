import { describe, expect, it } from 'vitest';
import { readCsvRows } from '../../../src/source/seeds/seed-csv-rows.js';
import { tempDir } from './seed-test-helpers.js';

describe('seed CSV rows', () => {
  const tmp = tempDir();

  /**
   * Files made from a seeded generator: rows marked R0, R1, ... at the start of their first line,
   * quoted cells holding LF, CRLF and CR, spaces around quotes, blank, blank-looking and comment
   * lines between rows, the last line with or without a line break. Each row's line is the physical
   * line its marker is on.
   */
  it('each row is at the line it starts on, whatever the line breaks inside cells and the lines skipped before it', async () => {
    let state = 7;
    const pick = (n: number): number => (state = (state * 1103515245 + 12345) % 2147483648) % n;
    const br = (): string => ['\n', '\r\n', '\r'][pick(3)]!;
    for (let file = 0; file < 100; file++) {
      let text = '';
      const rows = 1 + pick(6);
      for (let r = 0; r < rows; r++) {
        text += ['', br(), `# a comment "${br()}`, ` \t${br()}`][pick(4)];
        const cells = [`R${r}`, ...[0, 1].map(() => ['plain', `"q${br()}x"`, ` "a${br()}${br()}b" `, '', '"p"\t'][pick(5)])];
        text += cells.join(',') + (r === rows - 1 && pick(2) === 0 ? '' : br());
      }
      const physical = text.split(/\r\n|\r|\n/);
      const path = tmp.file(`rows-${file}.csv`, text);
      const got: [string, number][] = [];
      for await (const row of readCsvRows(path, ',', undefined, { comments: true })) got.push([row.cells[0]!, row.line]);
      expect(got, JSON.stringify(text)).toEqual(got.map(([id]) => [id, physical.findIndex((l) => l.startsWith(`${id},`)) + 1]));
      expect(got).toHaveLength(rows);
    }
  });
});
