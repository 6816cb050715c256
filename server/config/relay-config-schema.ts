import { z } from 'zod';
import { DEFAULT_DATABASE_URL, parseDatabaseUrl } from '../store/database-url.js';
import { domainSchema, hostSchema, intAtLeast, nonEmptyString, portSchema } from './config-values.js';
import { listenerConfigSchema, type ListenerConfig } from './listener-config.js';
import { DEFAULT_ROUTING_RULES, routingRuleSchema } from './routing-rule-config.js';
import { serviceConfigSchema, staticTargetSchema } from './service-config.js';

/**
 * The relay's configuration: what a YAML file, environment variables and
 * flags may set (docs/operations.md lists every key with its default).
 * Every object is strict, so a misspelt key is an error rather than a
 * silently ignored setting. Nested sections use `prefault({})` so that
 * their own defaults apply when the section is left out.
 */

const throttleSchema = (d: { slowAfter: number; blockAfter: number }) =>
  z
    .strictObject({
      /** Failures within the window after which each answer is delayed. */
      slowAfter: intAtLeast(1).default(d.slowAfter),
      /** How long a slowed answer waits. */
      slowDelayMs: intAtLeast(0).default(1000),
      /** Failures within the window after which requests are refused. */
      blockAfter: intAtLeast(1).default(d.blockAfter),
      /** How long a block lasts. */
      blockSeconds: intAtLeast(1).default(300),
    })
    .refine((t) => t.slowAfter <= t.blockAfter, { error: 'slowAfter must not exceed blockAfter', path: ['slowAfter'] })
    .prefault({});

const authSchema = z
  .strictObject({
    /** Digest realm; default: the domain the request is addressed to. */
    realm: nonEmptyString.optional(),
    /** Challenge order: SIP.js reads the first and knows only MD5, so MD5 leads (issue 3). */
    algorithms: z
      .array(z.enum(['MD5', 'SHA-256'], { error: 'expected MD5 or SHA-256' }), { error: 'expected a list' })
      .min(1, { error: 'must name at least one algorithm' })
      .refine((a) => new Set(a).size === a.length, { error: 'must not repeat an algorithm' })
      .default(['MD5', 'SHA-256']),
    /**
     * Repeat the first challenge after the others: JsSIP keeps only the last
     * WWW-Authenticate it reads, SIP.js only the first, and both know only
     * MD5 (docs/authentication.md).
     */
    repeatFirstChallenge: z.boolean({ error: 'expected true or false' }).default(true),
    /** How long a nonce is accepted before `stale=true` (RFC 7616 §3.3). */
    nonceLifetimeSeconds: intAtLeast(1).default(300),
    /**
     * Key that signs nonces so any node can check them. Default: random
     * per process (nonces then fail over a restart or between nodes, and
     * clients simply retry with a fresh one). Set it for a cluster.
     */
    nonceSecret: z.string({ error: 'expected a string' }).min(32, { error: 'must be at least 32 characters' }).optional(),
    throttle: z
      .strictObject({
        /** Failures older than this are forgotten. */
        windowSeconds: intAtLeast(1).default(900),
        /** Counted per username and source address together, so nobody can lock a real user out. */
        perUserAndAddress: throttleSchema({ slowAfter: 3, blockAfter: 10 }),
        /** Counted per source address, against guessing across many usernames. */
        perAddress: throttleSchema({ slowAfter: 20, blockAfter: 100 }),
      })
      .prefault({}),
  })
  .prefault({});

const DEFAULT_LISTENERS: ListenerConfig[] = [
  { transport: 'udp', host: '127.0.0.1', port: 5060 },
  { transport: 'tcp', host: '127.0.0.1', port: 5060 },
  { transport: 'ws', path: '/sip' },
];

const relayConfigObject = z.strictObject({
  /** SIP domains the relay serves; the first is the default for the CLI. */
  domains: z
    .array(domainSchema, { error: 'expected a list of domains' })
    .min(1, { error: 'must name at least one domain' })
    .default(['portal.test']),
  listeners: z.array(listenerConfigSchema, { error: 'expected a list of listeners' }).default(DEFAULT_LISTENERS),
  http: z
    .strictObject({
      host: hostSchema.default('127.0.0.1'),
      port: portSchema.default(8080),
      /** The address browsers use, when not http://<host>:<port> (proxy in front). */
      publicUrl: z.url({ error: 'expected an absolute URL' }).optional(),
    })
    .prefault({}),
  database: z
    .strictObject({
      /** `sqlite:<path>`, `sqlite::memory:` or `postgres://…`. */
      url: z
        .string({ error: 'expected a database URL' })
        .superRefine((url, ctx) => {
          try {
            parseDatabaseUrl(url);
          } catch (e) {
            ctx.addIssue({ code: 'custom', message: e instanceof Error ? e.message : String(e) });
          }
        })
        .default(DEFAULT_DATABASE_URL),
      /** PostgreSQL schema; default the URL's `?schema=` or `public`. */
      schema: z
        .string({ error: 'expected a schema name' })
        .regex(/^[a-z_][a-z0-9_]{0,62}$/, { error: 'expected a lower-case SQL identifier' })
        .optional(),
      /** Most PostgreSQL connections. */
      poolSize: intAtLeast(1).default(10),
      /** How long SQLite waits for another process's write lock. */
      busyTimeoutMs: intAtLeast(0).default(5000),
    })
    .prefault({}),
  services: z.array(serviceConfigSchema, { error: 'expected a list of services' }).default([]),
  routing: z
    .strictObject({
      rules: z.array(routingRuleSchema, { error: 'expected a list of rules' }).prefault(DEFAULT_ROUTING_RULES),
    })
    .prefault({}),
  staticTargets: z.array(staticTargetSchema, { error: 'expected a list of targets' }).default([]),
  /** OPTIONS health probes of application servers (docs/protocol.md, "The directory"). */
  directory: z
    .strictObject({
      /** Probe period of an application server that answers. */
      probeIntervalSeconds: intAtLeast(1).default(30),
      /** Probe period of one that does not (down), until it answers again. */
      probeRetryIntervalSeconds: intAtLeast(1).default(5),
      /** A probe without a final answer after this long marks its application server down. */
      probeTimeoutSeconds: intAtLeast(1).default(5),
    })
    .prefault({}),
  auth: authSchema,
  /** The proxy core (docs/proxy.md). */
  proxy: z
    .strictObject({
      /**
       * Key of the Record-Route tokens (flow tokens and dialog stamps).
       * Default: made once and kept in the store (`relay_settings`), so
       * dialogs carry on over a restart. Set it for a cluster whose nodes
       * do not share a store, or to rotate it.
       */
      recordRouteSecret: z.string({ error: 'expected a string' }).min(32, { error: 'must be at least 32 characters' }).optional(),
    })
    .prefault({}),
  /** Session supervision: restart recovery, shutdown, full services (docs/sessions.md). */
  sessions: z
    .strictObject({
      /**
       * After a restart, how long a rebuilt session may stay silent (no
       * in-dialog request, its sides not both answering the relay's
       * OPTIONS) before it is ended as `interrupted`.
       */
      recoveryGraceSeconds: intAtLeast(1).default(60),
      /**
       * When a caller's connection (a browser's WebSocket) closes, how long
       * its sessions wait for it to come back on a new connection before
       * they are ended as `interrupted`, billed up to the moment it closed.
       */
      flowLossGraceSeconds: intAtLeast(0).default(30),
      /** On SIGTERM, how long requests in flight may take to finish before live sessions are ended. */
      shutdownGraceSeconds: intAtLeast(0).default(5),
      /** On SIGTERM, how long the relay waits for both sides to answer its BYEs before it closes. */
      shutdownByeWaitSeconds: intAtLeast(0).default(5),
      /** Retry-After of the 503 sent while shutting down and for a service at its `maxSessions`. */
      busyRetryAfterSeconds: intAtLeast(0).default(30),
    })
    .prefault({}),
  tokens: z
    .strictObject({
      /** Algorithm of signing keys the relay creates. */
      algorithm: z.enum(['EdDSA', 'ES256'], { error: 'expected EdDSA or ES256' }).default('EdDSA'),
      /** Lifetime of the tokens given to application servers. */
      lifetimeSeconds: intAtLeast(1).default(3600),
      /** How long a retired key stays in the JWKS; must exceed the token lifetime. */
      retiredKeyPublishSeconds: intAtLeast(1).default(86_400),
    })
    .refine((t) => t.retiredKeyPublishSeconds > t.lifetimeSeconds, {
      error: 'must exceed tokens.lifetimeSeconds, or tokens signed by a retired key stop verifying early',
      path: ['retiredKeyPublishSeconds'],
    })
    .prefault({}),
  /** SIP timers (RFC 3261 §17.1.1.1, table 4); tests shrink them. */
  timers: z
    .strictObject({
      t1Ms: intAtLeast(1).default(500),
      t2Ms: intAtLeast(1).default(4000),
      t4Ms: intAtLeast(1).default(5000),
      /** Proxy timer C (RFC 3261 §16.6 step 11): more than 3 minutes. */
      timerCSeconds: intAtLeast(181).default(185),
      /** Min-SE the relay accepts and sends (RFC 4028 §5: at least 90). */
      minSessionExpiresSeconds: intAtLeast(90).default(90),
    })
    .refine((t) => t.t1Ms <= t.t2Ms, { error: 'must not exceed timers.t2Ms', path: ['t1Ms'] })
    .prefault({}),
  limits: z
    .strictObject({
      /** Largest SIP message accepted on any transport. */
      maxMessageBytes: intAtLeast(256).default(65_535),
      /** Most header lines in one message. */
      maxHeaders: intAtLeast(16).default(256),
      /** Most stream connections (TCP, TLS, WS, WSS) open at once. */
      maxConnections: intAtLeast(1).default(10_000),
      /** Most stream connections from one address. */
      maxConnectionsPerAddress: intAtLeast(1).default(100),
      /** A stream connection with no traffic and no registration is closed after this. */
      connectionIdleSeconds: intAtLeast(1).default(600),
      /** Most application servers one request forks to. */
      maxBranchesPerRequest: intAtLeast(1).default(16),
      /** Most live sessions of one user; null for no limit. */
      maxSessionsPerUser: intAtLeast(1).nullable().default(null),
    })
    .prefault({}),
  admin: z
    .strictObject({
      /** Bearer token of the HTTP admin API; without one the admin API is off. */
      token: z.string({ error: 'expected a string' }).min(16, { error: 'must be at least 16 characters' }).optional(),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z
        .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
          error: 'expected one of: fatal, error, warn, info, debug, trace, silent',
        })
        .default('info'),
    })
    .prefault({}),
  /** Run the demo: seeded users, demo application servers, portal. */
  demo: z.boolean({ error: 'expected true or false' }).default(false),
});

export const relayConfigSchema = relayConfigObject.superRefine(crossChecks);

/** The relay's configuration, validated and with every default filled in. */
export type RelayConfig = z.output<typeof relayConfigObject>;
type Draft = RelayConfig;

/** Checks that span sections: unique names, references between sections, clashing ports. */
function crossChecks(c: Draft, ctx: z.RefinementCtx): void {
  const duplicates = <T>(items: readonly T[], key: (t: T) => string, path: (i: number) => (string | number)[], what: string) => {
    const seen = new Map<string, number>();
    items.forEach((item, i) => {
      const k = key(item);
      const first = seen.get(k);
      if (first === undefined) seen.set(k, i);
      else ctx.addIssue({ code: 'custom', path: path(i), message: `${what} "${k}" is already defined at index ${first}` });
    });
  };
  duplicates(c.domains, (d) => d, (i) => ['domains', i], 'domain');
  duplicates(c.services, (s) => s.name, (i) => ['services', i, 'name'], 'service');

  const services = new Set(c.services.map((s) => s.name));
  const known = services.size > 0 ? `defined services: ${[...services].join(', ')}` : 'no services are defined';
  c.staticTargets.forEach((t, i) => {
    if (!services.has(t.service)) {
      ctx.addIssue({ code: 'custom', path: ['staticTargets', i, 'service'], message: `unknown service "${t.service}" (${known})` });
    }
  });
  c.routing.rules.forEach((r, i) => {
    if (!r.service.includes('${') && !services.has(r.service)) {
      ctx.addIssue({ code: 'custom', path: ['routing', 'rules', i, 'service'], message: `unknown service "${r.service}" (${known})` });
    }
  });

  // Stream sockets (TCP, TLS, WSS and the HTTP server) must not share a port on overlapping addresses.
  type Socket = { path: (string | number)[]; what: string; host: string; port: number; kind: 'udp' | 'stream' };
  const sockets: Socket[] = [{ path: ['http', 'port'], what: 'http', host: c.http.host, port: c.http.port, kind: 'stream' }];
  c.listeners.forEach((l, i) => {
    if (l.transport === 'ws') return;
    sockets.push({ path: ['listeners', i, 'port'], what: `listeners[${i}] (${l.transport})`, host: l.host, port: l.port, kind: l.transport === 'udp' ? 'udp' : 'stream' });
  });
  const wildcard = (h: string) => h === '0.0.0.0' || h === '::' || h === '[::]';
  for (let i = 0; i < sockets.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = sockets[i];
      const b = sockets[j];
      if (a.port === 0 || a.port !== b.port || a.kind !== b.kind) continue;
      if (a.host === b.host || wildcard(a.host) || wildcard(b.host)) {
        ctx.addIssue({ code: 'custom', path: a.path, message: `port ${a.port} on ${a.host} is already used by ${b.what}` });
      }
    }
  }
  const wsPaths = new Map<string, number>();
  c.listeners.forEach((l, i) => {
    if (l.transport !== 'ws') return;
    const first = wsPaths.get(l.path);
    if (first === undefined) wsPaths.set(l.path, i);
    else ctx.addIssue({ code: 'custom', path: ['listeners', i, 'path'], message: `WebSocket path "${l.path}" is already served by listeners[${first}]` });
  });
}
