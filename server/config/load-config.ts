import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from './config-error.js';
import { configLeaves, envName, objectShapes, schemasAt, valueKind, type ValueKind } from './config-schema-walk.js';
import { relayConfigSchema, type RelayConfig } from './relay-config-schema.js';

/** Settings given as command-line flags; each overrides file and environment. */
export interface ConfigFlags {
  /** `--database <url>` → `database.url` */
  database?: string;
  /** `--domain <domain>` (repeatable) → `domains` */
  domains?: string[];
  /** `--http-host <host>` → `http.host` */
  httpHost?: string;
  /** `--http-port <port>` → `http.port` */
  httpPort?: string | number;
  /** `--log-level <level>` → `log.level` */
  logLevel?: string;
  /** `--admin-token <token>` → `admin.token` */
  adminToken?: string;
  /** `--demo` → `demo`, and `config/demo.yaml` when no file is named */
  demo?: boolean;
  /** `--set <path>=<value>` (repeatable): any key, e.g. `listeners[0].port=5070`, `timers.t1Ms=100`. */
  set?: string[];
}

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** YAML file; default `$SIPRELAY_CONFIG`, else `config/demo.yaml` in demo mode, else none (defaults only). */
  file?: string;
  /**
   * Environment; only `SIPRELAY_*` variables are read. One that looks like a
   * misspelt configuration variable is an error; others are ignored. Default none.
   */
  env?: Readonly<Record<string, string | undefined>>;
  flags?: ConfigFlags;
  /** Check that certificate and key files are readable. Default true. */
  checkFiles?: boolean;
}

const NAMED_FLAGS: { flag: string; key: keyof ConfigFlags; path: (string | number)[] }[] = [
  { flag: '--database', key: 'database', path: ['database', 'url'] },
  { flag: '--domain', key: 'domains', path: ['domains'] },
  { flag: '--http-host', key: 'httpHost', path: ['http', 'host'] },
  { flag: '--http-port', key: 'httpPort', path: ['http', 'port'] },
  { flag: '--log-level', key: 'logLevel', path: ['log', 'level'] },
  { flag: '--admin-token', key: 'adminToken', path: ['admin', 'token'] },
  { flag: '--demo', key: 'demo', path: ['demo'] },
];

/** Environment variables read besides the configuration keys. */
export const CONFIG_FILE_ENV = 'SIPRELAY_CONFIG';

/** Every environment variable that sets a key, with the key path. */
export const CONFIG_ENV_VARIABLES: ReadonlyMap<string, { path: readonly string[]; kind: ValueKind }> = new Map(
  configLeaves(relayConfigSchema).map((leaf) => [envName(leaf.path), leaf]),
);

/** Top-level keys as they start environment variable names: `HTTP`, `STATIC_TARGETS`… */
const CONFIG_SECTIONS: ReadonlySet<string> = new Set([...CONFIG_ENV_VARIABLES.values()].map((l) => envName(l.path.slice(0, 1)).slice('SIPRELAY_'.length)));

/** The demo configuration shipped with siprelay. */
export function demoConfigFile(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  // Works from the sources (server/config) and from the build (dist/server/config).
  while (!existsSync(join(dir, 'config', 'demo.yaml'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('config/demo.yaml not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return join(dir, 'config', 'demo.yaml');
}

/** The file {@link loadConfig} reads for these options, if any. */
export function configFileFor(options: LoadConfigOptions): string | undefined {
  if (options.file) return options.file;
  const fromEnv = options.env?.[CONFIG_FILE_ENV];
  if (fromEnv) return fromEnv;
  if (options.flags?.demo || /^(1|true|yes|on)$/i.test(options.env?.SIPRELAY_DEMO ?? '')) return demoConfigFile();
  return undefined;
}

/**
 * Builds the relay configuration: defaults, then the YAML file, then
 * `SIPRELAY_*` environment variables, then flags, each overriding the one
 * before; then validates the whole.
 *
 * @throws ConfigError naming every bad or unknown key with where its value came from.
 */
export function loadConfig(options: LoadConfigOptions = {}): RelayConfig {
  const raw: Record<string, unknown> = {};
  const origins = new Map<string, string>();
  const issues: ConfigIssue[] = [];

  const file = configFileFor(options);
  if (file !== undefined) {
    const data = readConfigFile(file);
    Object.assign(raw, data);
    recordOrigins(data, [], `from file ${file}`, origins);
  }

  for (const [name, text] of Object.entries(options.env ?? {})) {
    if (!name.startsWith('SIPRELAY_') || name === CONFIG_FILE_ENV || text === undefined || text === '') continue;
    const leaf = CONFIG_ENV_VARIABLES.get(name);
    const source = `from environment variable ${name}`;
    if (!leaf) {
      // A misspelt configuration variable is an error; other SIPRELAY_*
      // variables (test and tool settings) are none of our business.
      const hint = suggest(name, [...CONFIG_ENV_VARIABLES.keys(), CONFIG_FILE_ENV]);
      const section = name.slice('SIPRELAY_'.length).split('__')[0];
      if (hint !== '' || (name.includes('__') && CONFIG_SECTIONS.has(section))) {
        issues.push({ path: name, message: `is not a configuration variable${hint}`, source: 'environment' });
      }
      continue;
    }
    applyText(raw, leaf.path, leaf.kind, text, source, name, origins, issues);
  }

  const flags = options.flags ?? {};
  for (const f of NAMED_FLAGS) {
    const value = flags[f.key];
    if (value === undefined || (Array.isArray(value) && value.length === 0)) continue;
    const source = `from flag ${f.flag}`;
    if (typeof value === 'string' && f.key === 'httpPort') {
      applyText(raw, f.path, 'number', value, source, f.flag, origins, issues);
    } else {
      setPath(raw, f.path, value);
      origins.set(formatPath(f.path), source);
    }
  }
  for (const assignment of flags.set ?? []) {
    const eq = assignment.indexOf('=');
    const source = `from flag --set ${assignment}`;
    const path = eq > 0 ? parsePath(assignment.slice(0, eq)) : undefined;
    if (!path) {
      issues.push({ path: '--set', message: `"${assignment}" is not <key.path>=<value>`, source: 'flag' });
      continue;
    }
    const schemas = schemasAt(relayConfigSchema, path);
    if (schemas.length === 0) {
      issues.push({ path: formatPath(path), message: 'is not a configuration key', source });
      continue;
    }
    const indexProblem = materializeLists(raw, path);
    if (indexProblem) {
      issues.push({ path: formatPath(path), message: indexProblem, source });
      continue;
    }
    applyText(raw, path, valueKind(schemas[0]), assignment.slice(eq + 1), source, formatPath(path), origins, issues);
  }

  if (issues.length > 0) throw new ConfigError('CONFIG_ERR_INVALID', issues);

  const result = relayConfigSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    throw new ConfigError('CONFIG_ERR_INVALID', result.error.issues.flatMap((i) => toConfigIssues(i, origins)));
  }
  const config = result.data;
  if (options.checkFiles !== false) checkFiles(config, origins);
  return config;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new ConfigError('CONFIG_ERR_FILE', [{ path: file, message: `cannot be read: ${reason}`, source: 'configuration file' }]);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      'CONFIG_ERR_SYNTAX',
      doc.errors.map((e) => ({
        path: e.linePos ? `${file}:${e.linePos[0].line}:${e.linePos[0].col}` : file,
        message: e.message.split('\n')[0],
        source: 'YAML syntax',
      })),
    );
  }
  const data: unknown = doc.toJS();
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError('CONFIG_ERR_SYNTAX', [
      { path: file, message: 'the top level must be a mapping of keys to values', source: 'YAML' },
    ]);
  }
  return data as Record<string, unknown>;
}

/** Remembers which source set each path, so an error can say where a bad value came from. */
function recordOrigins(value: unknown, path: (string | number)[], source: string, origins: Map<string, string>): void {
  origins.set(formatPath(path), source);
  if (Array.isArray(value)) value.forEach((v, i) => recordOrigins(v, [...path, i], source, origins));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) recordOrigins(v, [...path, k], source, origins);
  }
}

function applyText(
  raw: Record<string, unknown>,
  path: readonly (string | number)[],
  kind: ValueKind,
  text: string,
  source: string,
  name: string,
  origins: Map<string, string>,
  issues: ConfigIssue[],
): void {
  let value: unknown;
  try {
    value = parseText(kind, text);
  } catch (e) {
    issues.push({ path: name, message: (e as Error).message, source });
    return;
  }
  // A new value replaces whatever was below it.
  const prefix = formatPath(path);
  for (const k of [...origins.keys()]) if (k.startsWith(prefix + '.') || k.startsWith(prefix + '[')) origins.delete(k);
  recordOrigins(value, [...path], source, origins);
  setPath(raw, path, value);
}

/** Reads a text value (environment variable, flag) as the key's type expects. */
export function parseText(kind: ValueKind, text: string): unknown {
  switch (kind) {
    case 'number':
      // `null` clears a limit that may be null; anything else not numeric is
      // left as text so the schema reports it with its own message.
      if (text.trim() === 'null') return null;
      return /^-?\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : text;
    case 'boolean':
      if (/^(true|1|yes|on)$/i.test(text)) return true;
      if (/^(false|0|no|off)$/i.test(text)) return false;
      return text;
    case 'string-list':
      return text.startsWith('[') ? parseJson(text) : text.split(',').map((s) => s.trim()).filter((s) => s !== '');
    case 'json':
      return parseJson(text);
    default:
      return text;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`expected JSON (${(e as Error).message})`);
  }
}

/**
 * Before `--set listeners[1].port=…` changes one entry of a list the file
 * did not give, copies in the default list, so the other entries keep their
 * defaults. Returns a message when an index is past the end of its list.
 */
function materializeLists(raw: Record<string, unknown>, path: readonly (string | number)[]): string | undefined {
  let defaults: unknown;
  // any: walks plain objects and arrays built from YAML/JSON.
  let node: any = raw;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i];
    const next = path[i + 1];
    if (typeof next === 'number' && node[key] === undefined) {
      defaults ??= relayConfigSchema.parse({});
      let d: any = defaults;
      for (const k of path.slice(0, i + 1)) d = d?.[k];
      if (Array.isArray(d)) node[key] = structuredClone(d);
    }
    if (typeof next === 'number') {
      const list: unknown = node[key];
      const length = Array.isArray(list) ? list.length : 0;
      if (next > length) return `index ${next} is past the end of ${formatPath(path.slice(0, i + 1))} (${length} entries)`;
    }
    if (node[key] === null || typeof node[key] !== 'object') return undefined;
    node = node[key];
  }
  return undefined;
}

function setPath(target: Record<string, unknown>, path: readonly (string | number)[], value: unknown): void {
  // any: walks plain objects and arrays built from YAML/JSON.
  let node: any = target;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i];
    if (node[k] === null || typeof node[k] !== 'object') node[k] = typeof path[i + 1] === 'number' ? [] : {};
    node = node[k];
  }
  node[path[path.length - 1]] = value;
}

/** `listeners[1].port` → `['listeners', 1, 'port']`; undefined if malformed. */
export function parsePath(text: string): (string | number)[] | undefined {
  const out: (string | number)[] = [];
  const re = /(?:^|\.)([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\["([^"\]]+)"\]/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < text.length && (m = re.exec(text)) !== null) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push(m[3]);
    pos = re.lastIndex;
  }
  return pos === text.length && out.length > 0 ? out : undefined;
}

/** `['listeners', 1, 'port']` → `listeners[1].port`; odd keys in `["…"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else if (typeof p === 'string' && /^[A-Za-z_][A-Za-z0-9_-]*$/.test(p)) s += s === '' ? p : `.${p}`;
    else s += `[${JSON.stringify(String(p))}]`;
  }
  return s;
}

function sourceOf(path: readonly PropertyKey[], origins: Map<string, string>): string {
  for (let n = path.length; n >= 0; n--) {
    const o = origins.get(formatPath(path.slice(0, n)));
    if (o !== undefined && (n > 0 || path.length === 0)) return o;
  }
  return 'default';
}

function toConfigIssues(issue: z.core.$ZodIssue, origins: Map<string, string>): ConfigIssue[] {
  const path = issue.path;
  if (issue.code === 'unrecognized_keys') {
    const known = objectShapes(schemasAt(relayConfigSchema, path as (string | number)[])[0] ?? relayConfigSchema).flatMap(
      (shape) => Object.keys(shape),
    );
    return issue.keys.map((key) => ({
      path: formatPath([...path, key]),
      message: `unknown key${suggest(key, known.filter((k) => k !== key))}`,
      source: sourceOf([...path, key], origins),
    }));
  }
  return [{ path: formatPath(path), message: describeIssue(issue), source: sourceOf(path, origins) }];
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'invalid_type':
      if (input === undefined) return 'is required';
      // Messages we wrote start with "expected"; zod's own start with "Invalid input".
      if (issue.message.startsWith('expected')) return `${issue.message}, got ${describeValue(input)}`;
      return `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describeValue(input)}`;
    case 'invalid_union':
      if ('discriminator' in issue && issue.discriminator) {
        const options = (issue as { options?: unknown[] }).options ?? [];
        const given = (input as Record<string, unknown> | undefined)?.[issue.discriminator];
        const list = options.map(String).join(', ');
        return given === undefined ? `is required (one of: ${list})` : `expected one of: ${list}, got ${describeValue(given)}`;
      }
      return issue.message.startsWith('expected') ? issue.message : 'has the wrong type';
    case 'invalid_value':
      if (issue.message.startsWith('expected')) return `${issue.message}, got ${describeValue(input)}`;
      return `expected one of: ${issue.values.map(String).join(', ')}, got ${describeValue(input)}`;
    default:
      return issue.message;
  }
}

const EXPECTED: Record<string, string> = {
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
};

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `"${v.length > 40 ? v.slice(0, 40) + '…' : v}"`;
  return `${typeof v} ${String(v)}`;
}

/** ` (did you mean "x"?)` for the closest known name, or nothing. */
function suggest(name: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = k.toLowerCase() === name.toLowerCase() ? 0 : editDistance(k, name);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  const limit = Math.max(2, Math.floor(name.length / 4));
  return best !== undefined && bestDistance <= limit ? ` (did you mean "${best}"?)` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

function checkFiles(config: RelayConfig, origins: Map<string, string>): void {
  const issues: ConfigIssue[] = [];
  config.listeners.forEach((l, i) => {
    if (l.transport !== 'tls' && l.transport !== 'wss') return;
    for (const key of ['cert', 'key'] as const) {
      try {
        accessSync(resolve(l[key]), constants.R_OK);
      } catch {
        const path = ['listeners', i, key];
        issues.push({ path: formatPath(path), message: `cannot read ${l[key]}`, source: sourceOf(path, origins) });
      }
    }
  });
  if (issues.length > 0) throw new ConfigError('CONFIG_ERR_INVALID', issues);
}
