import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SidecarConfigError } from './sidecar-config-error.js';

const port = z.int({ error: 'expected an integer port' }).min(0, { error: 'must be 0..65535' }).max(65535, { error: 'must be 0..65535' });
const positiveMs = z.int({ error: 'expected a whole number of ms' }).min(1, { error: 'must be at least 1' });
const httpUrl = z.string({ error: 'expected an http(s) URL' }).refine((s) => /^https?:\/\/[^\s]+$/i.test(s) && URL.canParse(s), { error: 'expected an http(s) URL' });

/** One service the sidecar registers and routes to the application. */
const serviceSchema = z.strictObject({
  /** The service name: registered as `sip:<name>@<domain>`. */
  name: z.string({ error: 'expected a service name' }).regex(/^[A-Za-z0-9._~!$&'()*+,;=-]+$/, { error: 'expected a service name (the user part of a SIP URI)' }),
  /** Admission control: sessions at once; default no limit. */
  maxSessions: z.int({ error: 'expected an integer' }).min(1, { error: 'must be at least 1' }).optional(),
  /** Answer when full: 486 (default) or 503. */
  whenFull: z.union([z.literal(486), z.literal(503)], { error: 'expected 486 or 503' }).optional(),
  /** Retry-After seconds when full. */
  retryAfter: z.int({ error: 'expected seconds' }).min(0, { error: 'must not be negative' }).optional(),
});

/**
 * The sidecar's configuration file (YAML), validated with a message naming
 * the bad key. docs/sdk.md lists every key.
 *
 * @example
 * ```ts
 * const result = sidecarConfigSchema.safeParse(parsedYaml);
 * ```
 */
export const sidecarConfigSchema = z.strictObject({
  /** The relay: `sip:host:port;transport=tcp` or `ws://host:port/sip`. */
  relay: z.string({ error: 'expected the relay address, e.g. sip:127.0.0.1:5060;transport=tcp' }).min(1, { error: 'must not be empty' }),
  /** The SIP domain of the services. */
  domain: z.string({ error: 'expected a SIP domain' }).regex(/^[A-Za-z0-9.-]+$/, { error: 'expected a SIP domain such as portal.test' }),
  credentials: z.strictObject(
    {
      username: z.string({ error: 'expected the account name' }).min(1, { error: 'must not be empty' }),
      /** The password; or `passwordFile`, or the SIPRELAY_APPSERVER_PASSWORD environment variable. */
      password: z.string({ error: 'expected a string' }).min(1, { error: 'must not be empty' }).optional(),
      passwordFile: z.string({ error: 'expected a file path' }).min(1, { error: 'must not be empty' }).optional(),
    },
    { error: 'expected { username, password }' },
  ),
  /** The relay's /.well-known/jwks.json; derived from a ws:// relay when absent. */
  jwksUrl: httpUrl.optional(),
  /** When set, tokens must carry this issuer. */
  tokenIssuer: z.string({ error: 'expected a string' }).optional(),
  /** The application the sidecar asks for decisions. */
  app: z.strictObject(
    {
      /** Base URL: the sidecar POSTs to `<url>/siprelay/admit`, `/siprelay/change`, `/siprelay/end`. */
      url: httpUrl,
      /** Time the application has to answer one call, ms. Default 5 000. */
      timeoutMs: positiveMs.default(5000),
      /** Extra headers on every call to the application (an API key of its own). */
      headers: z.record(z.string(), z.string({ error: 'expected a string' })).default({}),
    },
    { error: 'expected { url }' },
  ),
  /** The local HTTP API the application calls (charges, end, transfer). */
  api: z
    .strictObject({
      /** Address to bind. Default 127.0.0.1: the API is for the application beside it. */
      host: z.string({ error: 'expected a host' }).default('127.0.0.1'),
      /** Port; 0 picks one. Default 7070. */
      port: port.default(7070),
      /** When set, every API request needs `Authorization: Bearer <token>`. */
      token: z.string({ error: 'expected a string' }).min(16, { error: 'must be at least 16 characters' }).optional(),
    })
    .default({ host: '127.0.0.1', port: 7070 }),
  services: z.array(serviceSchema, { error: 'expected a list of services' }).min(1, { error: 'must name at least one service' }),
  /** This side's SIP listener. */
  sip: z
    .strictObject({
      host: z.string({ error: 'expected a host' }).optional(),
      port: port.optional(),
      advertisedHost: z.string({ error: 'expected a host' }).optional(),
    })
    .default({}),
  /** How to answer clients that send SDP: auto, multipart, call-info or none. */
  sdpAnswer: z.enum(['auto', 'multipart', 'call-info', 'none'], { error: 'expected auto, multipart, call-info or none' }).default('auto'),
  /** Currency of charge items that name none. */
  defaultCurrency: z.string({ error: 'expected an ISO 4217 code' }).regex(/^[A-Z]{3}$/, { error: 'expected an ISO 4217 code such as EUR' }).optional(),
  log: z
    .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: 'expected a pino log level' }).default('info') })
    .default({ level: 'info' }),
});

/**
 * The sidecar's configuration, every default filled in.
 *
 * @example
 * ```ts
 * const config: SidecarConfig = loadSidecarConfig('sidecar.yaml', process.env);
 * ```
 */
export type SidecarConfig = z.infer<typeof sidecarConfigSchema>;

/**
 * Validates a parsed configuration (from YAML or an object) and resolves the
 * password (`password`, `passwordFile`, or `env.SIPRELAY_APPSERVER_PASSWORD`).
 * Throws {@link SidecarConfigError} naming each bad key.
 *
 * @example
 * ```ts
 * const config = parseSidecarConfig({ relay: 'sip:127.0.0.1:5060;transport=tcp', domain: 'portal.test',
 *   credentials: { username: 'wineshop', password: 'wineshop-secret' }, jwksUrl: 'http://127.0.0.1:8080/.well-known/jwks.json',
 *   app: { url: 'http://127.0.0.1:3000' }, services: [{ name: 'wine' }] });
 * ```
 */
export function parseSidecarConfig(input: unknown, env: Readonly<Record<string, string | undefined>> = {}): SidecarConfig & { credentials: { password: string } } {
  const result = sidecarConfigSchema.safeParse(input ?? {});
  if (!result.success) {
    const lines = result.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(file)'}: ${i.message}`);
    throw new SidecarConfigError(`sidecar config error:\n  ${lines.join('\n  ')}`);
  }
  const config = result.data;
  let password = config.credentials.password;
  if (password === undefined && config.credentials.passwordFile !== undefined) {
    try {
      password = readFileSync(config.credentials.passwordFile, 'utf8').split(/\r?\n/)[0];
    } catch (e) {
      throw new SidecarConfigError(`sidecar config error:\n  credentials.passwordFile: cannot read ${config.credentials.passwordFile}: ${(e as Error).message}`);
    }
  }
  password ??= env.SIPRELAY_APPSERVER_PASSWORD;
  if (!password) throw new SidecarConfigError('sidecar config error:\n  credentials.password: give password, passwordFile, or SIPRELAY_APPSERVER_PASSWORD');
  if (config.jwksUrl === undefined && !/^wss?:\/\//i.test(config.relay)) {
    throw new SidecarConfigError('sidecar config error:\n  jwksUrl: required for a sip: relay (http://<relay>/.well-known/jwks.json)');
  }
  const names = config.services.map((s) => s.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new SidecarConfigError(`sidecar config error:\n  services: ${dup} is listed twice`);
  return { ...config, credentials: { ...config.credentials, password } };
}

/**
 * Reads and validates a YAML sidecar configuration file.
 *
 * @example
 * ```ts
 * const config = loadSidecarConfig('sidecar.yaml', process.env);
 * ```
 */
export function loadSidecarConfig(file: string, env: Readonly<Record<string, string | undefined>> = {}): SidecarConfig & { credentials: { password: string } } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SidecarConfigError(`cannot read the sidecar config ${file}: ${(e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (e) {
    throw new SidecarConfigError(`${file} is not valid YAML: ${(e as Error).message}`);
  }
  return parseSidecarConfig(parsed, env);
}
