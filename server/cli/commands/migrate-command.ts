import { Command } from 'commander';
import { redactDatabaseUrl } from '../../store/database-url.js';
import { withStoreOptions } from '../cli-context.js';
import type { CliIo } from '../cli-io.js';
import { commandAction } from '../command-action.js';
import { syncConfigServices } from '../sync-config-services.js';

/** `siprelay migrate`: bring the database schema up to date without starting the relay. */
export function migrateCommand(io: CliIo): Command {
  return withStoreOptions(
    new Command('migrate').description('apply pending database migrations and write the configured services'),
  ).action(
    commandAction(io, async (ctx) => {
      const store = await ctx.openStore();
      const services = await syncConfigServices(ctx.config, store);
      const report = store.migrationReport;
      const where = redactDatabaseUrl(ctx.config.database.url);
      const lines =
        report.applied.length === 0
          ? [`${where} is up to date (${report.alreadyApplied.length} migrations)`]
          : [`applied to ${where}:`, ...report.applied.map((m) => `  ${m}`)];
      if (services.written.length > 0) lines.push(`services written: ${services.written.join(', ')}`);
      ctx.print(lines.join('\n'), { database: where, ...report, servicesWritten: services.written });
    }),
  );
}
