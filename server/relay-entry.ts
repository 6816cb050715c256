import type { Logger } from 'pino';
import type { RelayConfig } from './config/relay-config-schema.js';
import type { Store } from './store/store.js';

/** What `siprelay serve` hands the relay besides configuration and store. */
export interface StartRelayOptions {
  /** The process logger, at the configured level. */
  readonly logger: Logger;
}

/** A started relay, as `serve` sees it. */
export interface RunningRelay {
  /**
   * Clean shutdown (issue 3, item 1): stop accepting, finish or end what is
   * in flight. Resolves when stopped. Called on SIGTERM and SIGINT.
   */
  stop(): Promise<void>;
  /** Settles when the relay has stopped, by `stop()` or on its own. */
  readonly done: Promise<void>;
}

/**
 * PLACEHOLDER until the relay core is wired in: the lead replaces this file
 * (or points `serve` at `server/relay.ts`). `serve` has already validated
 * the configuration, migrated the store, written the configured services
 * into it and made sure a signing key is active; it closes the store after
 * `done` settles.
 */
export async function startRelay(config: RelayConfig, store: Store, options: StartRelayOptions): Promise<RunningRelay> {
  options.logger.warn(
    { domains: config.domains, dialect: store.dialect },
    'relay core not wired yet',
  );
  return { stop: async () => undefined, done: Promise.resolve() };
}
