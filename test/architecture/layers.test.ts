import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/io/package-root.js';

/** Every TypeScript file under src/, with the src/ folders it imports from (relative imports only). */
function importGraph(): { file: string; folder: string; imports: { folder: string; target: string }[]; text: string }[] {
  const src = join(packageRoot(), 'src');
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith('.ts')) files.push(join(dir, e.name));
    }
  };
  walk(src);
  return files.map((path) => {
    const text = readFileSync(path, 'utf8');
    const imports = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'|import\('(\.[^']+)'\)/g)].map((m) => {
      const target = relative(src, resolve(dirname(path), (m[1] ?? m[2])!));
      return { folder: target.split('/')[0]!, target };
    });
    const file = relative(src, path);
    return { file, folder: file.split('/')[0]!, imports, text };
  });
}

const graph = importGraph();
const importsOf = (folder: string) => graph.filter((f) => f.folder === folder).flatMap((f) => f.imports.map((i) => ({ file: f.file, ...i })));

/** The layering of docs/architecture.md: data flows source -> mapping -> plan -> apply, graph/ alone speaks Graph. */
describe('the layers (docs/architecture.md)', () => {
  it('sees the source tree (so the rules below can fail)', () => {
    expect(graph.length).toBeGreaterThan(100);
    expect(importsOf('apply').some((i) => i.folder === 'graph')).toBe(true);
  });

  it('source and mapping import neither graph, apply, app nor cli', () => {
    for (const folder of ['source', 'mapping']) {
      expect(importsOf(folder).filter((i) => ['graph', 'apply', 'app', 'cli', 'plan', 'emulator', 'shim'].includes(i.folder))).toEqual([]);
    }
  });

  it('plan imports neither apply, app nor cli, and no Graph client', () => {
    expect(importsOf('plan').filter((i) => ['apply', 'app', 'cli', 'graph', 'emulator', 'shim'].includes(i.folder))).toEqual([]);
  });

  it('graph imports only the model and io: it knows Graph, not the migration', () => {
    expect(importsOf('graph').filter((i) => !['graph', 'model', 'io'].includes(i.folder))).toEqual([]);
  });

  it('apply works from the plan, not by applying mapping rules again, and never reaches the CLI', () => {
    expect(importsOf('apply').filter((i) => ['mapping', 'app', 'cli', 'emulator', 'shim', 'source'].includes(i.folder) && !i.target.startsWith('source/seeds/secret-encoding'))).toEqual([]);
  });

  it('nothing imports cli but cli', () => {
    expect(graph.filter((f) => f.folder !== 'cli').flatMap((f) => f.imports.filter((i) => i.folder === 'cli').map((i) => `${f.file} -> ${i.target}`))).toEqual([]);
  });

  it('product code imports the emulator only from its two commands', () => {
    const users = graph.filter((f) => f.folder !== 'emulator').flatMap((f) => f.imports.filter((i) => i.folder === 'emulator').map(() => f.file));
    expect([...new Set(users)].sort()).toEqual(['cli/demo-command.ts', 'cli/emulator-command.ts']);
  });

  it('no file outside graph/ and emulator/ holds a Graph path', () => {
    const graphPath = /['`"](?:[^'`"\n]*)\/(?:users|groups|policies|directory|organization|domains|\$batch)(?:[/?(][^'`"\n]*)?['`"]/;
    const offenders = graph
      .filter((f) => f.folder !== 'graph' && f.folder !== 'emulator')
      .flatMap((f) =>
        f.text
          .split('\n')
          .map((line, i) => ({ line: line.replace(/\/\/.*$/, ''), n: i + 1 }))
          .filter(({ line }) => !/^\s*(\*|\/\*)/.test(line) && !/^\s*import /.test(line) && graphPath.test(line))
          .map(({ n, line }) => `${f.file}:${n}: ${line.trim()}`),
      );
    expect(offenders).toEqual([]);
  });
});
