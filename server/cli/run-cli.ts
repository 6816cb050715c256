import { readFileSync } from 'node:fs';
import { CommanderError, Command } from 'commander';
import { isStoreError } from '../store/store-error.js';
import { CliError, CliExitCodes } from './cli-error.js';
import { processIo, type CliIo } from './cli-io.js';
import { accountCommand } from './commands/account-command.js';
import { apiKeyCommand } from './commands/apikey-command.js';
import { appServerCommand } from './commands/appserver-command.js';
import { billCommand } from './commands/bill-command.js';
import { keysCommand } from './commands/keys-command.js';
import { migrateCommand } from './commands/migrate-command.js';
import { serveCommand } from './commands/serve-command.js';
import { sessionsCommand } from './commands/sessions-command.js';
import { settlementCommand } from './commands/settlement-command.js';
import { userCommand } from './commands/user-command.js';

/** The `siprelay` command tree, writing to `io`. A fresh one per run: commander keeps parse state. */
export function createProgram(io: CliIo): Command {
  const program = new Command('siprelay')
    .description('SIP relay: authentication, session management and billing for application services')
    .version(packageVersion(), '-V, --version')
    // Also accepted before the command name: `siprelay --database sqlite:x.db user list`.
    .option('-c, --config <file>', 'configuration file (default: $SIPRELAY_CONFIG, else built-in defaults)')
    .option('--database <url>', 'database URL, overriding the configuration');
  program.addCommand(serveCommand(io));
  program.addCommand(userCommand(io));
  program.addCommand(appServerCommand(io));
  program.addCommand(apiKeyCommand(io));
  program.addCommand(keysCommand(io));
  program.addCommand(migrateCommand(io));
  program.addCommand(sessionsCommand(io));
  program.addCommand(billCommand(io));
  program.addCommand(settlementCommand(io));
  program.addCommand(accountCommand(io));

  // Every command reports through io, and errors come back to runCli instead of exiting.
  const configure = (cmd: Command) => {
    cmd.exitOverride().showSuggestionAfterError().showHelpAfterError('(add --help for usage)').configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
    cmd.commands.forEach(configure);
  };
  configure(program);
  return program;
}

/**
 * Runs the CLI with `argv` (the arguments after the program name) and
 * returns the exit status: 0 done, 1 the command failed, 2 the command line
 * or configuration is wrong. Errors are printed to `io.stderr` as
 * `error: <message>`, or as JSON with `--json`.
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const program = createProgram(io);
  const json = argv.includes('--json');
  const report = (code: string, message: string) => {
    // Configuration errors already read `config error: …`, one line per problem.
    const text = message.startsWith('config error:') ? message : `error: ${message}`;
    io.stderr.write(json ? JSON.stringify({ error: { code, message } }) + '\n' : `${text}\n`);
  };
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return CliExitCodes.OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander has already printed its message (or the help).
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return CliExitCodes.OK;
      return CliExitCodes.USAGE;
    }
    if (e instanceof CliError) {
      report(e.code, e.message);
      return e.exitCode;
    }
    if (isStoreError(e)) {
      report(e.code, e.message);
      return CliExitCodes.FAILED;
    }
    report('CLI_ERR_INTERNAL', e instanceof Error ? (e.stack ?? e.message) : String(e));
    return CliExitCodes.FAILED;
  }
}

/** The version in package.json, found from the sources (server/cli) or the build (dist/server/cli). */
function packageVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'siprelay' && pkg.version) return pkg.version;
    } catch {
      // Not at this depth; try the next.
    }
  }
  return '0.0.0';
}
