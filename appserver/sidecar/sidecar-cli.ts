import { Command, CommanderError } from 'commander';
import { pino } from 'pino';
import { SidecarConfigError } from './sidecar-config-error.js';
import { loadSidecarConfig } from './sidecar-config.js';
import { startSidecar, type RunningSidecar } from './sidecar.js';

/**
 * What the sidecar command reads and writes (the process's, or a test's).
 *
 * @example
 * ```ts
 * await runSidecarCli(['sidecar', '-c', file], { stdout, stderr, env: {}, stopSignal: stopped });
 * ```
 */
export interface SidecarCliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Resolves when the process is asked to stop (SIGTERM, SIGINT). */
  readonly stopSignal: Promise<unknown>;
  /** Called once the sidecar is up (tests use it to reach the API). */
  onStarted?(sidecar: RunningSidecar): void;
}

/**
 * `siprelay-appserver sidecar --config sidecar.yaml`: runs the SDK as its
 * own process for an application in any language (docs/sdk.md, sidecar
 * mode), until SIGTERM or SIGINT. Returns the exit status: 0 stopped
 * cleanly, 1 it failed (the relay refused or could not be reached), 2 the
 * command line or configuration is wrong.
 *
 * @example
 * ```ts
 * process.exitCode = await runSidecarCli(process.argv.slice(2), processSidecarIo());
 * ```
 */
export async function runSidecarCli(argv: readonly string[], io: SidecarCliIo): Promise<number> {
  let status = 0;
  const program = new Command('siprelay-appserver')
    .description('siprelay application-server SDK as a process: sidecar mode')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  program
    .command('sidecar')
    .description('register services with the relay and ask an HTTP application for decisions')
    .requiredOption('-c, --config <file>', 'sidecar configuration (YAML)')
    .exitOverride()
    .action(async (o: { config: string }) => {
      let config;
      try {
        config = loadSidecarConfig(o.config, io.env);
      } catch (e) {
        if (e instanceof SidecarConfigError) {
          io.stderr.write(`${e.message}\n`);
          status = 2;
          return;
        }
        throw e;
      }
      const logger = pino({ level: config.log.level, base: { service: 'siprelay-appserver' } }, io.stdout);
      let sidecar: RunningSidecar;
      try {
        sidecar = await startSidecar(config, { logger });
      } catch (e) {
        logger.error({ err: e }, 'sidecar could not start');
        status = 1;
        return;
      }
      io.onStarted?.(sidecar);
      await io.stopSignal;
      logger.info('stopping');
      await sidecar.close();
      logger.info('stopped');
    });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    io.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  return status;
}

/**
 * The running process's streams and environment, with SIGTERM and SIGINT as the stop signal.
 *
 * @example
 * ```ts
 * await runSidecarCli(process.argv.slice(2), processSidecarIo());
 * ```
 */
export function processSidecarIo(): SidecarCliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    stopSignal: new Promise((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    }),
  };
}
