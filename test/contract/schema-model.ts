/**
 * Microsoft Graph's schema as the contract checker needs it: entity and complex types with their properties
 * and navigation properties, enum types, bound actions and functions, and the entity sets and singletons
 * paths start from. The v1.0 model is extracted from Microsoft's CSDL (fixtures/graph-contract/v1.0-schema.json,
 * made by extract-v1-schema.ts); the beta model is built from @microsoft/microsoft-graph-types-beta
 * (beta-types.ts), which has no paths.
 *
 * Type references are full names (`microsoft.graph.user`), primitive types `Edm.String` and the like, and
 * collections `Collection(microsoft.graph.x)`.
 */
export interface PropertyModel {
  type: string;
  /** False when the schema says the value cannot be null. */
  nullable: boolean;
}

export interface NavigationModel {
  type: string;
  /** Contained entities are addressed under their parent. */
  containsTarget: boolean;
}

export interface StructuredTypeModel {
  kind: 'entity' | 'complex';
  base: string | null;
  abstract: boolean;
  /** Open types take properties the schema does not list. */
  open: boolean;
  properties: Record<string, PropertyModel>;
  navigation: Record<string, NavigationModel>;
}

export interface EnumModel {
  flags: boolean;
  members: string[];
}

export interface OperationModel {
  kind: 'action' | 'function';
  /** The binding parameter's type (a type name, or Collection(...) for an operation on a collection). */
  bindingType: string;
  /** The parameters after the binding parameter. */
  parameters: Record<string, PropertyModel>;
}

export interface SchemaModel {
  /** Where the model comes from. */
  source: string;
  /** Entity sets (`collection`: true) and singletons the paths start from. */
  roots: Record<string, { type: string; collection: boolean }>;
  types: Record<string, StructuredTypeModel>;
  enums: Record<string, EnumModel>;
  /** Bound operations by name; several may share a name (bound to different types). */
  operations: Record<string, OperationModel[]>;
}

const COLLECTION = /^Collection\((.+)\)$/;

/** The element type of a collection type, or undefined for a single-valued one. */
export function elementType(type: string): string | undefined {
  return COLLECTION.exec(type)?.[1];
}

/** A type and its base types, nearest first. */
export function typeChain(schema: SchemaModel, name: string): StructuredTypeModel[] {
  const out: StructuredTypeModel[] = [];
  for (let t = schema.types[name]; t; t = t.base ? schema.types[t.base] : undefined) out.push(t);
  return out;
}

/** True when `derived` is `base` or derives from it. */
export function derivesFrom(schema: SchemaModel, derived: string, base: string): boolean {
  for (let name: string | null = derived; name; name = schema.types[name]?.base ?? null) if (name === base) return true;
  return false;
}

export function findProperty(schema: SchemaModel, type: string, name: string): PropertyModel | undefined {
  for (const t of typeChain(schema, type)) if (t.properties[name]) return t.properties[name];
  return undefined;
}

export function findNavigation(schema: SchemaModel, type: string, name: string): NavigationModel | undefined {
  for (const t of typeChain(schema, type)) if (t.navigation[name]) return t.navigation[name];
  return undefined;
}
