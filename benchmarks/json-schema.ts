/**
 * A small validator for the subset of JSON Schema (draft 2020-12) that
 * `result.ts` uses: type (incl. "integer" and "null", single or a list),
 * properties, required, additionalProperties (boolean or a schema), items,
 * minItems, maxItems, enum, const, minimum, maximum, minLength and anyOf.
 * Anything else in a schema is ignored. No dependencies.
 */

export type JsonType = 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null';

export interface JsonSchema {
  $schema?: string;
  $id?: string;
  title?: string;
  description?: string;
  type?: JsonType | readonly JsonType[];
  properties?: Readonly<Record<string, JsonSchema>>;
  required?: readonly string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  enum?: readonly unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  anyOf?: readonly JsonSchema[];
}

function typeOf(value: unknown): JsonType | 'undefined' | 'other' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'object') return typeof value as JsonType;
  return value === undefined ? 'undefined' : 'other';
}

function matchesType(value: unknown, type: JsonType): boolean {
  const actual = typeOf(value);
  if (type === 'number') return (actual === 'number' || actual === 'integer') && Number.isFinite(value as number);
  return actual === type;
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The places where `value` breaks `schema`, as `$.path: message` lines; empty when it validates. */
export function validateJson(schema: JsonSchema, value: unknown, path = '$'): string[] {
  const errors: string[] = [];
  if (schema.anyOf !== undefined) {
    const branches = schema.anyOf.map((branch) => validateJson(branch, value, path));
    if (!branches.some((branch) => branch.length === 0)) {
      errors.push(`${path}: matches none of ${schema.anyOf.length} alternatives (${branches.map((b) => b[0]).join('; ')})`);
    }
  }
  if (schema.type !== undefined) {
    const types: readonly JsonType[] = typeof schema.type === 'string' ? [schema.type] : schema.type;
    if (!types.some((type) => matchesType(value, type))) {
      errors.push(`${path}: expected ${types.join(' or ')}, got ${show(value)}`);
      return errors;
    }
  }
  if (schema.const !== undefined && JSON.stringify(value) !== JSON.stringify(schema.const)) {
    errors.push(`${path}: expected ${show(schema.const)}, got ${show(value)}`);
  }
  if (schema.enum !== undefined && !schema.enum.some((option) => JSON.stringify(option) === JSON.stringify(value))) {
    errors.push(`${path}: expected one of ${schema.enum.map(show).join(', ')}, got ${show(value)}`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${path}: expected ≥ ${schema.minimum}, got ${value}`);
    if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${path}: expected ≤ ${schema.maximum}, got ${value}`);
  }
  if (typeof value === 'string' && schema.minLength !== undefined && value.length < schema.minLength) {
    errors.push(`${path}: expected at least ${schema.minLength} characters, got ${show(value)}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) errors.push(`${path}: expected at least ${schema.minItems} items, got ${value.length}`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errors.push(`${path}: expected at most ${schema.maxItems} items, got ${value.length}`);
    if (schema.items !== undefined) value.forEach((item, i) => errors.push(...validateJson(schema.items as JsonSchema, item, `${path}[${i}]`)));
  }
  if (typeOf(value) === 'object') {
    const record = value as Record<string, unknown>;
    for (const name of schema.required ?? []) {
      if (!(name in record) || record[name] === undefined) errors.push(`${path}: missing required property \`${name}\``);
    }
    for (const [name, item] of Object.entries(record)) {
      if (item === undefined) continue;
      const propertySchema = schema.properties?.[name];
      if (propertySchema !== undefined) errors.push(...validateJson(propertySchema, item, `${path}.${name}`));
      else if (schema.additionalProperties === false) errors.push(`${path}: unexpected property \`${name}\``);
      else if (typeof schema.additionalProperties === 'object') errors.push(...validateJson(schema.additionalProperties, item, `${path}.${name}`));
    }
  }
  return errors;
}
