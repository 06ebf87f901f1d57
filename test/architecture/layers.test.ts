import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import type * as TypeScript from 'typescript';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/io/package-root.js';

// Required, not imported: an ESM import of the 9 MB compiler costs about 0.3 s more of CPU (Node scans it for its exports).
const ts = createRequire(import.meta.url)('typescript') as typeof TypeScript;

interface SourceFile {
  file: string;
  folder: string;
  imports: { folder: string; target: string }[];
  /** Module loads the check cannot follow (a computed dynamic import or require). */
  unchecked: string[];
  /** The file's string and template literal texts, with their lines (import specifiers excluded). */
  strings: { text: string; line: number }[];
}

/**
 * Every TypeScript file under src/, parsed by the TypeScript compiler (not matched by a regular
 * expression, which quotes, line breaks and template literals get past): its relative module
 * references of every kind (import and export from, import type, import(), typeof import(),
 * import = require(), require() and createRequire(...)()), and its string literals.
 */
function sourceFiles(): SourceFile[] {
  const src = join(packageRoot(), 'src');
  const paths: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith('.ts')) paths.push(join(dir, e.name));
    }
  };
  walk(src);
  return paths.map((path) => analyse(src, path, readFileSync(path, 'utf8')));
}

/** One file's module references and string literals (`path` under `src`). */
function analyse(src: string, path: string, text: string): SourceFile {
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const file = relative(src, path);
  const imports: SourceFile['imports'] = [];
  const unchecked: string[] = [];
  const strings: SourceFile['strings'] = [];
  const specifiers = new Set<TypeScript.Node>();
  const lineOf = (n: TypeScript.Node) => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
  const reference = (spec: TypeScript.Node | undefined, at: TypeScript.Node) => {
    if (spec && (ts.isStringLiteral(spec) || ts.isNoSubstitutionTemplateLiteral(spec))) {
      specifiers.add(spec);
      if (spec.text.startsWith('.')) {
        const target = relative(src, resolve(dirname(path), spec.text));
        imports.push({ folder: target.split('/')[0]!, target });
      }
    } else {
      unchecked.push(`${file}:${lineOf(at)}`);
    }
  };
  // require, and every name bound to a createRequire(...) (or called on the spot: createRequire(...)(path)).
  const requires = new Set(['require']);
  const bind = (node: TypeScript.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer && ts.isCallExpression(node.initializer) && ts.isIdentifier(node.initializer.expression) && node.initializer.expression.text === 'createRequire') requires.add(node.name.text);
    ts.forEachChild(node, bind);
  };
  bind(sf);
  const isRequire = (callee: TypeScript.Expression) =>
    (ts.isIdentifier(callee) && requires.has(callee.text)) || (ts.isCallExpression(callee) && ts.isIdentifier(callee.expression) && callee.expression.text === 'createRequire');
  const visit = (node: TypeScript.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) {
      if (node.moduleSpecifier) reference(node.moduleSpecifier, node);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      reference(node.moduleReference.expression, node);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      reference(node.argument.literal, node);
    } else if (ts.isCallExpression(node) && (node.expression.kind === ts.SyntaxKind.ImportKeyword || isRequire(node.expression))) {
      reference(node.arguments[0], node);
    } else if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) && !specifiers.has(node)) {
      strings.push({ text: node.text, line: lineOf(node) });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return { file, folder: file.split('/')[0]!, imports, unchecked, strings };
}

const files = sourceFiles();
const importsOf = (folder: string) => files.filter((f) => f.folder === folder).flatMap((f) => f.imports.map((i) => ({ file: f.file, ...i })));

/**
 * A Graph path or address: Graph's host, a version segment, a Graph collection after a slash, a
 * user's /authentication/ methods, $batch. (The plan's own target names, such as
 * `hardwareOathMethods/SERIAL`, are modelled on Graph's names but are not paths.)
 */
const GRAPH_PATH = /graph\.microsoft\.com|\/(?:v1\.0|beta)(?:\/|$)|\/(?:users|groups|policies|directory|organization|domains|me|identity|\$batch)(?:[/?(]|$)|\/authentication\//;

/** The layering of docs/architecture.md: data flows source -> mapping -> plan -> apply, graph/ alone speaks Graph. */
describe('the layers (docs/architecture.md)', () => {
  it('sees the source tree and every kind of module reference (so the rules below can fail)', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(importsOf('apply').some((i) => i.folder === 'graph')).toBe(true);
    // The parser finds what a regular expression missed: double quotes, a dynamic import split over
    // lines, a template literal, typeof import(), createRequire; and a path computed at run time.
    const src = join(packageRoot(), 'src');
    const probe = analyse(
      src,
      join(src, 'source/probe.ts'),
      'import type { A } from "../graph/a.js";\nconst m = await import(\n  `../apply/b.js`);\ntype C = typeof import("../plan/c.js");\nconst r = createRequire(import.meta.url)("../emulator/d.js");\nconst u = "https://graph.microsoft.com/v1.0/users"; // x\nconst p = await import(where);\nconst load = createRequire(import.meta.url);\nload("../cli/e.js");\nload(where);\n',
    );
    expect(probe.imports.map((i) => i.target)).toEqual(['graph/a.js', 'apply/b.js', 'plan/c.js', 'emulator/d.js', 'cli/e.js']);
    expect(probe.strings.filter((t) => GRAPH_PATH.test(t.text))).toEqual([{ text: 'https://graph.microsoft.com/v1.0/users', line: 6 }]);
    expect(probe.unchecked).toEqual(['source/probe.ts:7', 'source/probe.ts:10']);
  });

  it('every module reference is a literal path the check can follow', () => {
    expect(files.flatMap((f) => f.unchecked)).toEqual([]);
  });

  it('source and mapping import neither graph, apply, app nor cli', () => {
    for (const folder of ['source', 'mapping']) {
      expect(importsOf(folder).filter((i) => ['graph', 'apply', 'app', 'cli', 'plan', 'emulator', 'shim'].includes(i.folder))).toEqual([]);
    }
  });

  it('plan imports neither apply, app nor cli, and no Graph client', () => {
    expect(importsOf('plan').filter((i) => ['apply', 'app', 'cli', 'graph', 'emulator', 'shim'].includes(i.folder))).toEqual([]);
  });

  it('graph imports only the model, io and otp (Base32: how Graph takes a secret): it knows Graph, not the migration', () => {
    expect(importsOf('graph').filter((i) => !['graph', 'model', 'io', 'otp'].includes(i.folder))).toEqual([]);
  });

  it('emulator imports only the model, io and otp: it is Graph as the tenant answers it, not our client of it', () => {
    expect(importsOf('emulator').filter((i) => !['emulator', 'model', 'io', 'otp'].includes(i.folder))).toEqual([]);
  });

  it('apply works from the plan, not by applying mapping rules again, and never reaches the CLI', () => {
    expect(importsOf('apply').filter((i) => ['mapping', 'app', 'cli', 'emulator', 'shim', 'source'].includes(i.folder))).toEqual([]);
  });

  it('nothing imports cli but cli', () => {
    expect(files.filter((f) => f.folder !== 'cli').flatMap((f) => f.imports.filter((i) => i.folder === 'cli').map((i) => `${f.file} -> ${i.target}`))).toEqual([]);
  });

  it('product code imports the emulator only from its two commands', () => {
    const users = files.filter((f) => f.folder !== 'emulator').flatMap((f) => f.imports.filter((i) => i.folder === 'emulator').map(() => f.file));
    expect([...new Set(users)].sort()).toEqual(['cli/demo-command.ts', 'cli/emulator-command.ts']);
  });

  it('no file outside graph/ and emulator/ holds a Graph path (in any string or template literal)', () => {
    expect(GRAPH_PATH.test('https://graph.microsoft.com/beta/users/x')).toBe(true);
    expect(GRAPH_PATH.test('/users/${id}/authentication/phoneMethods')).toBe(true);
    const offenders = files
      // The emulator's command documents the emulator's URLs in its --help.
      .filter((f) => f.folder !== 'graph' && f.folder !== 'emulator' && f.file !== 'cli/emulator-command.ts')
      .flatMap((f) => f.strings.filter((s) => GRAPH_PATH.test(s.text)).map((s) => `${f.file}:${s.line}: ${s.text}`));
    expect(offenders).toEqual([]);
  });
});
