import type { Command } from 'commander';
import { ConfigError } from '../config/config-error.js';
import { loadConfig, type ConfigFlags } from '../config/load-config.js';
import type { RelayConfig } from '../config/relay-config-schema.js';
import { openStore, type OpenedStore } from '../store/open-store.js';
import { CliError, CliExitCodes } from './cli-error.js';
import type { CliIo } from './cli-io.js';

/** Options every store command takes. */
export interface StoreCommandOptions {
  config?: string;
  database?: string;
  json?: boolean;
}

/** Adds `--config`, `--database` and `--json` to a command. */
export function withStoreOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'configuration file (default: $SIPRELAY_CONFIG, else built-in defaults)')
    .option('--database <url>', 'database URL, overriding the configuration (sqlite:<path> or postgres://…)')
    .option('--json', 'print JSON for scripts instead of a table');
}

/**
 * What a command runs with: the configuration (file, environment, flags),
 * where to print, and the store opened on demand and closed afterwards.
 */
export class CliContext {
  private store: OpenedStore | undefined;
  private cachedConfig: RelayConfig | undefined;

  constructor(
    readonly io: CliIo,
    readonly options: StoreCommandOptions,
    private readonly flags: ConfigFlags = {},
    /** Check certificate files too (only `serve` opens listeners). */
    private readonly checkFiles = false,
  ) {}

  /** The validated configuration. @throws CliError with exit status 2 naming the bad key. */
  get config(): RelayConfig {
    if (!this.cachedConfig) {
      try {
        this.cachedConfig = loadConfig({
          file: this.options.config,
          env: this.io.env,
          flags: { ...this.flags, database: this.options.database ?? this.flags.database },
          checkFiles: this.checkFiles,
        });
      } catch (e) {
        if (e instanceof ConfigError) throw new CliError(e.message, CliExitCodes.USAGE, e.code);
        throw e;
      }
    }
    return this.cachedConfig;
  }

  /** The store of the configured database, migrated. */
  async openStore(): Promise<OpenedStore> {
    if (!this.store) {
      const db = this.config.database;
      this.store = await openStore(db.url, { schema: db.schema, poolSize: db.poolSize, busyTimeoutMs: db.busyTimeoutMs });
    }
    return this.store;
  }

  /** Closes the store if it was opened. */
  async close(): Promise<void> {
    await this.store?.close();
    this.store = undefined;
  }

  /** Prints `json` as JSON with `--json`, else the human text. */
  print(human: string, json: unknown): void {
    if (this.options.json) this.io.stdout.write(JSON.stringify(json, null, 2) + '\n');
    else this.io.stdout.write(human.endsWith('\n') ? human : human + '\n');
  }

  /** The default SIP domain: the first configured one. */
  get defaultDomain(): string {
    return this.config.domains[0];
  }
}
