/**
 * Extracts from Microsoft's Graph v1.0 CSDL (`clean_v10_metadata/cleanMetadata.xml` of
 * microsoftgraph/msgraph-metadata, copied to ../shared/graph-metadata/v1.0-cleanMetadata.xml) the part the
 * contract tests need: the entity sets and singletons this tool's paths start from, every type reachable from
 * them by up to MAX_DEPTH navigation steps, with their base and derived types, the complex and enum types of
 * their properties, and the actions and functions bound to them. Writes fixtures/graph-contract/v1.0-schema.json:
 *   npm run build && node dist/test/contract/extract-v1-schema.js --write [CSDL]
 * v1-schema.test.ts checks that the committed file is what this produces (when the CSDL is at hand).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SaxesParser } from 'saxes';
import { packageRoot } from '../../src/io/package-root.js';
import { elementType, type EnumModel, type OperationModel, type PropertyModel, type SchemaModel, type StructuredTypeModel } from './schema-model.js';

/** Where this tool's Graph paths start. */
export const ROOTS = ['users', 'groups', 'organization', 'domains', 'policies', 'directoryObjects', 'contacts', 'directory'];
/**
 * Navigation steps from a root the extract follows (users/{id}/authentication/phoneMethods is two), plus one
 * for contained navigation properties at the last step.
 */
export const MAX_DEPTH = 2;
export const SCHEMA_FILE = join(packageRoot(), 'fixtures', 'graph-contract', 'v1.0-schema.json');
const CSDL_NAME = join('shared', 'graph-metadata', 'v1.0-cleanMetadata.xml');

/** The CSDL: MFA_GRAPH_CSDL, else ../shared/graph-metadata/... beside the package or any folder above it. */
export function findCsdl(): string | undefined {
  if (process.env['MFA_GRAPH_CSDL']) return process.env['MFA_GRAPH_CSDL'];
  for (let dir = dirname(packageRoot()); ; dir = dirname(dir)) {
    if (existsSync(join(dir, CSDL_NAME))) return join(dir, CSDL_NAME);
    if (dirname(dir) === dir) return undefined;
  }
}

interface Csdl {
  types: Map<string, StructuredTypeModel>;
  enums: Map<string, EnumModel>;
  operations: (OperationModel & { name: string })[];
  container: Map<string, { type: string; collection: boolean }>;
}

/** Reads the whole CSDL (types by full name, aliases resolved). */
export function parseCsdl(xml: string): Csdl {
  const csdl: Csdl = { types: new Map(), enums: new Map(), operations: [], container: new Map() };
  const aliases = new Map<string, string>();
  const parser = new SaxesParser({ xmlns: false });
  let namespace = '';
  let structured: StructuredTypeModel | undefined;
  let enumType: EnumModel | undefined;
  let operation: (OperationModel & { name: string; params: [string, PropertyModel][] }) | undefined;
  const raw: { fix: () => void }[] = [];
  // Alias-qualified names (graph.user) are resolved once every schema's alias is known.
  const full = (name: string): string => {
    const inner = elementType(name);
    if (inner) return `Collection(${full(inner)})`;
    const dot = name.indexOf('.');
    const alias = dot > 0 ? aliases.get(name.slice(0, dot)) : undefined;
    return alias ? `${alias}${name.slice(dot)}` : name;
  };
  parser.on('opentag', (tag) => {
    const a = tag.attributes as Record<string, string>;
    switch (tag.name) {
      case 'Schema':
        namespace = a['Namespace']!;
        if (a['Alias']) aliases.set(a['Alias'], namespace);
        break;
      case 'EntityType':
      case 'ComplexType': {
        const t: StructuredTypeModel = { kind: tag.name === 'EntityType' ? 'entity' : 'complex', base: a['BaseType'] ?? null, abstract: a['Abstract'] === 'true', open: a['OpenType'] === 'true', properties: {}, navigation: {} };
        csdl.types.set(`${namespace}.${a['Name']}`, t);
        raw.push({ fix: () => (t.base = t.base ? full(t.base) : null) });
        structured = t;
        break;
      }
      case 'Property':
        if (structured) {
          const p: PropertyModel = { type: a['Type']!, nullable: a['Nullable'] !== 'false' };
          structured.properties[a['Name']!] = p;
          raw.push({ fix: () => (p.type = full(p.type)) });
        }
        break;
      case 'NavigationProperty':
        if (structured) {
          const n = { type: a['Type']!, containsTarget: a['ContainsTarget'] === 'true' };
          structured.navigation[a['Name']!] = n;
          raw.push({ fix: () => (n.type = full(n.type)) });
        }
        break;
      case 'EnumType':
        enumType = { flags: a['IsFlags'] === 'true', members: [] };
        csdl.enums.set(`${namespace}.${a['Name']}`, enumType);
        break;
      case 'Member':
        enumType?.members.push(a['Name']!);
        break;
      case 'Action':
      case 'Function':
        if (a['IsBound'] === 'true') operation = { kind: tag.name === 'Action' ? 'action' : 'function', name: a['Name']!, bindingType: '', parameters: {}, params: [] };
        break;
      case 'Parameter':
        operation?.params.push([a['Name']!, { type: a['Type']!, nullable: a['Nullable'] !== 'false' }]);
        break;
      case 'EntitySet':
        csdl.container.set(a['Name']!, { type: a['EntityType']!, collection: true });
        break;
      case 'Singleton':
        csdl.container.set(a['Name']!, { type: a['Type']!, collection: false });
        break;
    }
  });
  parser.on('closetag', (tag) => {
    if (tag.name === 'EntityType' || tag.name === 'ComplexType') structured = undefined;
    if (tag.name === 'EnumType') enumType = undefined;
    if ((tag.name === 'Action' || tag.name === 'Function') && operation) {
      const [binding, ...rest] = operation.params;
      const op = { kind: operation.kind, name: operation.name, bindingType: binding?.[1].type ?? '', parameters: Object.fromEntries(rest) };
      csdl.operations.push(op);
      raw.push({
        fix: () => {
          op.bindingType = full(op.bindingType);
          for (const p of Object.values(op.parameters)) p.type = full(p.type);
        },
      });
      operation = undefined;
    }
  });
  parser.write(xml.replace(/^\uFEFF/, '')).close();
  for (const r of raw) r.fix();
  for (const entry of csdl.container.values()) entry.type = full(entry.type);
  return csdl;
}

/** The types reachable from ROOTS within MAX_DEPTH navigation steps, with everything their bodies can hold. */
export function extractSchema(csdl: Csdl, source: string): SchemaModel {
  const derived = new Map<string, string[]>();
  for (const [name, t] of csdl.types) if (t.base) derived.set(t.base, [...(derived.get(t.base) ?? []), name]);
  // A type reached as a root, property or navigation target brings its derived types (a body or a collection
  // may hold any of them); a type reached only as another's base does not (every entity derives from entity).
  const depthOf = new Map<string, number>();
  const polymorphicAt = new Map<string, number>();
  const enums = new Set<string>();
  const queue: [string, number, boolean][] = [];
  const visit = (type: string, depth: number, polymorphic = true): void => {
    const name = elementType(type) ?? type;
    if (csdl.enums.has(name)) return void enums.add(name);
    if (!csdl.types.has(name)) return;
    const seen = (depthOf.get(name) ?? Infinity) <= depth && (!polymorphic || (polymorphicAt.get(name) ?? Infinity) <= depth);
    if (seen) return;
    depthOf.set(name, Math.min(depthOf.get(name) ?? Infinity, depth));
    if (polymorphic) polymorphicAt.set(name, Math.min(polymorphicAt.get(name) ?? Infinity, depth));
    queue.push([name, depth, polymorphic]);
  };
  const roots: SchemaModel['roots'] = {};
  for (const root of ROOTS) {
    const entry = csdl.container.get(root);
    if (!entry) throw new Error(`the CSDL has no entity set or singleton '${root}'`);
    roots[root] = entry;
    visit(entry.type, 0);
  }
  const operations = csdl.operations;
  while (queue.length > 0) {
    const [name, depth, polymorphic] = queue.shift()!;
    const t = csdl.types.get(name)!;
    if (t.base) visit(t.base, depth, false);
    if (polymorphic) for (const d of derived.get(name) ?? []) visit(d, depth);
    for (const p of Object.values(t.properties)) visit(p.type, depth);
    // One step further for contained navigation (a configuration's includeTargets): bodies carry those inline.
    for (const n of Object.values(t.navigation)) if (depth < MAX_DEPTH || (depth === MAX_DEPTH && n.containsTarget)) visit(n.type, depth + 1);
    for (const op of operations) if ((elementType(op.bindingType) ?? op.bindingType) === name) for (const p of Object.values(op.parameters)) visit(p.type, depth);
  }
  const included = [...depthOf.keys()].sort();
  const kept = new Set(included);
  const schemaOps: SchemaModel['operations'] = {};
  for (const op of operations) {
    if (!kept.has(elementType(op.bindingType) ?? op.bindingType)) continue;
    const { name, ...rest } = op;
    (schemaOps[name] ??= []).push(rest);
  }
  return {
    source,
    roots,
    types: Object.fromEntries(included.map((n) => [n, csdl.types.get(n)!])),
    enums: Object.fromEntries([...enums].sort().map((n) => [n, csdl.enums.get(n)!])),
    operations: Object.fromEntries(Object.keys(schemaOps).sort().map((k) => [k, schemaOps[k]!])),
  };
}

export const SOURCE =
  `Microsoft Graph v1.0 CSDL (microsoftgraph/msgraph-metadata clean_v10_metadata/cleanMetadata.xml), roots ${ROOTS.join(', ')}, ` +
  `navigation depth ${MAX_DEPTH}; regenerate: npm run build && node dist/test/contract/extract-v1-schema.js --write`;

/** The extract as JSON, one type, enum or operation a line (so a change of the CSDL shows as a readable diff). */
export function schemaText(csdlPath: string): string {
  const schema = extractSchema(parseCsdl(readFileSync(csdlPath, 'utf8')), SOURCE);
  const section = (entries: Record<string, unknown>) =>
    `{\n${Object.entries(entries).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(',\n')}\n}`;
  return `{\n"source": ${JSON.stringify(schema.source)},\n"roots": ${section(schema.roots)},\n"types": ${section(schema.types)},\n"enums": ${section(schema.enums)},\n"operations": ${section(schema.operations)}\n}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--write')) {
  const csdl = process.argv.find((a, i) => i > 1 && a !== '--write') ?? findCsdl();
  if (!csdl) throw new Error(`cannot find ${CSDL_NAME}: pass its path or set MFA_GRAPH_CSDL`);
  writeFileSync(SCHEMA_FILE, schemaText(csdl));
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}
