import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as TypeScript from 'typescript';
import type { PropertyModel, SchemaModel, StructuredTypeModel } from './schema-model.js';

/**
 * The beta schema's types, read from @microsoft/microsoft-graph-types-beta (generated from Graph's beta
 * metadata) with the TypeScript compiler API: each interface is a type `microsoft.graph.<camelName>` with its
 * properties (inherited through `extends`), each union of string literals an enum. The package carries no
 * paths or actions: those come from beta-paths.json. Property types map as: string → Edm.String, number →
 * Edm.Double, boolean → Edm.Boolean, T[] → Collection(T), NullableOption<T> → nullable T.
 */
export const BETA_TYPES_PACKAGE = '@microsoft/microsoft-graph-types-beta';

const camel = (name: string) => name.charAt(0).toLowerCase() + name.slice(1);

/** The package's declarations file, as installed. */
export const betaTypesFile = (): string => createRequire(import.meta.url).resolve(`${BETA_TYPES_PACKAGE}/microsoft-graph.d.ts`);

export function readBetaSchema(dtsPath = betaTypesFile()): SchemaModel {
  // Required when a schema is read, not imported with the module: an ESM import of the 9 MB compiler
  // costs about 0.3 s more of CPU (Node scans it for its exports), and beta-schema-cache.ts reads the
  // schema without the compiler once it has read it.
  const ts = createRequire(import.meta.url)('typescript') as typeof TypeScript;
  const file = ts.createSourceFile(dtsPath, readFileSync(dtsPath, 'utf8'), ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const interfaces = new Map<string, TypeScript.InterfaceDeclaration>();
  const enums: SchemaModel['enums'] = {};
  for (const statement of file.statements) {
    if (ts.isInterfaceDeclaration(statement)) interfaces.set(statement.name.text, statement);
    if (ts.isTypeAliasDeclaration(statement) && ts.isUnionTypeNode(statement.type)) {
      const members = statement.type.types.map((t) => (ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal) ? t.literal.text : undefined));
      if (members.every((m) => m !== undefined)) enums[`microsoft.graph.${camel(statement.name.text)}`] = { flags: false, members: members as string[] };
    }
  }
  const typeName = (node: TypeScript.TypeNode): { type: string; nullable: boolean } => {
    if (ts.isParenthesizedTypeNode(node)) return typeName(node.type);
    if (ts.isUnionTypeNode(node)) {
      const rest = node.types.filter((t) => !(ts.isLiteralTypeNode(t) && t.literal.kind === ts.SyntaxKind.NullKeyword));
      const inner = rest.length === 1 ? typeName(rest[0]!) : { type: 'Edm.Untyped', nullable: false };
      return { type: inner.type, nullable: rest.length < node.types.length || inner.nullable };
    }
    if (ts.isArrayTypeNode(node)) return { type: `Collection(${typeName(node.elementType).type})`, nullable: false };
    if (node.kind === ts.SyntaxKind.StringKeyword) return { type: 'Edm.String', nullable: false };
    if (node.kind === ts.SyntaxKind.NumberKeyword) return { type: 'Edm.Double', nullable: false };
    if (node.kind === ts.SyntaxKind.BooleanKeyword) return { type: 'Edm.Boolean', nullable: false };
    if (ts.isTypeReferenceNode(node) && ts.isIdentifier(node.typeName)) {
      const name = node.typeName.text;
      if (name === 'NullableOption' && node.typeArguments?.[0]) return { type: typeName(node.typeArguments[0]).type, nullable: true };
      const full = `microsoft.graph.${camel(name)}`;
      if (interfaces.has(name) || enums[full]) return { type: full, nullable: false };
    }
    return { type: 'Edm.Untyped', nullable: true };
  };
  const types: Record<string, StructuredTypeModel> = {};
  for (const [name, decl] of interfaces) {
    const base = decl.heritageClauses?.[0]?.types[0]?.expression;
    const properties: Record<string, PropertyModel> = {};
    for (const member of decl.members) {
      if (!ts.isPropertySignature(member) || !member.type) continue;
      const key = ts.isIdentifier(member.name) || ts.isStringLiteral(member.name) ? member.name.text : undefined;
      if (key) properties[key] = typeName(member.type);
    }
    types[`microsoft.graph.${camel(name)}`] = {
      kind: 'complex',
      base: base && ts.isIdentifier(base) ? `microsoft.graph.${camel(base.text)}` : null,
      abstract: false,
      open: false,
      properties,
      navigation: {},
    };
  }
  for (const [name, t] of Object.entries(types)) {
    for (let n: string | null = name; n; n = types[n]?.base ?? null) if (n === 'microsoft.graph.entity') t.kind = 'entity';
  }
  return { source: `${BETA_TYPES_PACKAGE} ${packageVersionOf(dtsPath)}`, roots: {}, types, enums, operations: {} };
}

function packageVersionOf(dtsPath: string): string {
  try {
    return (JSON.parse(readFileSync(dtsPath.replace(/microsoft-graph\.d\.ts$/, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '';
  }
}
