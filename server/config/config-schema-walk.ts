import type { z } from 'zod';

/**
 * Reading the configuration schema itself, so that environment variables,
 * `--set` flags and "did you mean" hints follow the schema instead of a
 * hand-kept list that could drift from it.
 */

/** How a text value (environment variable, flag) becomes a configuration value. */
export type ValueKind = 'string' | 'number' | 'boolean' | 'string-list' | 'json';

/** A schema without optional/default/nullable/pipe wrappers. */
export function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    // any: zod's def is a union over every schema kind; we read only the wrapper fields.
    const def = s.def as any;
    switch (def.type) {
      case 'optional':
      case 'nullable':
      case 'default':
      case 'prefault':
      case 'readonly':
      case 'nonoptional':
        s = def.innerType;
        break;
      case 'pipe':
        // A preprocess is a pipe from a transform; the shape is on the out side.
        s = (def.in.def.type === 'transform' ? def.out : def.in) as z.ZodType;
        break;
      default:
        return s;
    }
  }
}

/** The object shapes `schema` may take (several for a union of objects). */
export function objectShapes(schema: z.ZodType): Record<string, z.ZodType>[] {
  const s = unwrap(schema);
  // any: see unwrap.
  const def = s.def as any;
  if (def.type === 'object') return [def.shape as Record<string, z.ZodType>];
  if (def.type === 'union') return (def.options as z.ZodType[]).flatMap(objectShapes);
  return [];
}

/**
 * The schemas found at `path` (keys and array indexes), following every
 * option of unions; empty when the path leads nowhere.
 */
export function schemasAt(schema: z.ZodType, path: readonly (string | number)[]): z.ZodType[] {
  let current = [schema];
  for (const segment of path) {
    const next: z.ZodType[] = [];
    for (const c of current) {
      const u = unwrap(c);
      // any: see unwrap.
      const def = u.def as any;
      if (typeof segment === 'number') {
        if (def.type === 'array') next.push(def.element);
      } else if (def.type === 'record') {
        next.push(def.valueType);
      } else {
        for (const shape of objectShapes(u)) if (shape[segment]) next.push(shape[segment]);
      }
    }
    current = next;
  }
  return current;
}

/** How to read a text value for a leaf schema. */
export function valueKind(schema: z.ZodType): ValueKind {
  const s = unwrap(schema);
  // any: see unwrap.
  const def = s.def as any;
  switch (def.type) {
    case 'string':
    case 'enum':
    case 'literal':
      return 'string';
    case 'number':
    case 'int':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'array': {
      const el = valueKind(def.element as z.ZodType);
      return el === 'string' ? 'string-list' : 'json';
    }
    default:
      return 'json';
  }
}

/** A leaf of the configuration that an environment variable can set. */
export interface ConfigLeaf {
  readonly path: readonly string[];
  readonly kind: ValueKind;
}

/**
 * Every key outside lists: scalars, lists of strings, and whole lists or
 * mappings given as JSON. Keys inside lists (a listener's port) are set by
 * giving the whole list.
 */
export function configLeaves(schema: z.ZodType, prefix: readonly string[] = []): ConfigLeaf[] {
  const shapes = objectShapes(schema);
  const def = unwrap(schema).def as { type: string };
  if (shapes.length !== 1 || def.type !== 'object') return [{ path: prefix, kind: valueKind(schema) }];
  return Object.entries(shapes[0]).flatMap(([k, v]) => configLeaves(v, [...prefix, k]));
}

/** `perUserAndAddress` → `PER_USER_AND_ADDRESS`, `t1Ms` → `T1_MS`. */
export function upperSnake(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
    .toUpperCase();
}

/** The environment variable for a key path: `SIPRELAY_` + segments joined by `__`. */
export function envName(path: readonly string[]): string {
  return `SIPRELAY_${path.map(upperSnake).join('__')}`;
}
