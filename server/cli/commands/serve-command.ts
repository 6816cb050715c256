import { Command, Option } from 'commander';
import { pino, type Logger } from 'pino';
import { configFileFor } from '../../config/load-config.js';
import { startDemo } from '../../demo/start-demo.js';
import { startRelay } from '../../relay.js';
import { redactDatabaseUrl } from '../../store/database-url.js';
import { CliContext, type StoreCommandOptions } from '../cli-context.js';
import type { CliIo } from '../cli-io.js';
import { syncConfigServices } from '../sync-config-services.js';

interface ServeOptions extends StoreCommandOptions {
  demo?: boolean;
  domain?: string[];
  httpHost?: string;
  httpPort?: string;
  logLevel?: string;
  adminToken?: string;
  set?: string[];
}

/** Collects a repeatable option; no default, so help shows none. */
const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** Signals that ask for a clean shutdown. */
const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * `siprelay serve`: validate the configuration, open and migrate the store,
 * write the configured services into it, make sure a signing key exists,
 * start the relay, and on SIGTERM or SIGINT stop it and close the store.
 */
export function serveCommand(io: CliIo): Command {
  return new Command('serve')
    .description('run the relay')
    .option('-c, --config <file>', 'configuration file (default: $SIPRELAY_CONFIG; config/demo.yaml with --demo)')
    .option('--demo', 'run the demo: demo users, application servers and portal')
    .option('--database <url>', 'database URL (sqlite:<path> or postgres://…)')
    .option('--domain <domain>', 'a SIP domain to serve (repeat for several; replaces the configured list)', collect)
    .option('--http-host <host>', 'address of the HTTP server')
    .option('--http-port <port>', 'port of the HTTP server')
    .addOption(
      new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    )
    .option('--admin-token <token>', 'bearer token of the admin API (prefer SIPRELAY_ADMIN__TOKEN)')
    .option('--set <key=value>', 'set any configuration key, e.g. --set timers.t1Ms=100 (repeatable)', collect)
    .action(async (_local: ServeOptions, command: Command) => {
      const o = command.optsWithGlobals<ServeOptions>();
      const ctx = new CliContext(
        io,
        { config: o.config },
        {
          demo: o.demo,
          database: o.database,
          domains: o.domain,
          httpHost: o.httpHost,
          httpPort: o.httpPort,
          logLevel: o.logLevel,
          adminToken: o.adminToken,
          set: o.set,
        },
        true,
      );
      try {
        const config = ctx.config;
        const logger = pino({ level: config.log.level, base: { service: 'siprelay' } }, io.stdout);
        const file = configFileFor({ file: o.config, env: io.env, flags: { demo: o.demo } });
        logger.info({ file: file ?? null, demo: config.demo }, 'configuration loaded');
        const store = await ctx.openStore();
        logStore(logger, config.database.url, store.migrationReport.applied);
        const services = await syncConfigServices(config, store);
        if (services.written.length > 0) logger.info({ services: services.written }, 'services written to the store');
        if (services.notConfigured.length > 0) {
          logger.warn({ services: services.notConfigured }, 'services in the store that the configuration no longer defines');
        }
        const key = await store.signingKeys.ensureActive({ algorithm: config.tokens.algorithm });
        logger.info({ kid: key.kid, algorithm: key.algorithm }, 'token signing key');

        // Signals are taken from before the relay starts: one that comes while it starts (it logs
        // `relay started` before it returns) stops it as soon as it is up, rather than killing it mid-way.
        let stopRelay: (() => void) | undefined;
        let signalled = false;
        const onSignal = (signal: NodeJS.Signals) => {
          logger.info({ signal }, 'shutting down');
          signalled = true;
          stopRelay?.();
        };
        for (const s of SHUTDOWN_SIGNALS) process.on(s, onSignal);
        try {
          const relay = config.demo ? await startDemo(config, store, { logger }) : await startRelay(config, store, { logger });
          stopRelay = () => void relay.stop().catch((e: unknown) => logger.error({ err: e }, 'error while stopping'));
          if (signalled) stopRelay();
          await relay.done;
        } finally {
          for (const s of SHUTDOWN_SIGNALS) process.off(s, onSignal);
        }
        logger.info('stopped');
      } finally {
        await ctx.close();
      }
    });
}

function logStore(logger: Logger, url: string, applied: readonly string[]): void {
  logger.info({ database: redactDatabaseUrl(url), migrationsApplied: applied }, 'store open');
}
