import { Command } from 'commander';
import { billToCsv, billToJson } from '../../billing/bill.js';
import { BillingReports } from '../../accounting/billing-reports.js';
import { withStoreOptions, type StoreCommandOptions } from '../cli-context.js';
import { usageError } from '../cli-error.js';
import type { CliIo } from '../cli-io.js';
import { commandAction } from '../command-action.js';
import { formatInstant, formatTable } from '../format-table.js';
import { billingUserOf, periodOf, showMoney } from './accounting-cli-values.js';

interface BillOptions extends StoreCommandOptions {
  user?: string;
  domain?: string;
  period?: string;
  csv?: boolean;
}

/** `siprelay bill show --user alice --period 2026-11 [--csv|--json]` (issue 4, item 7). */
export function billCommand(io: CliIo): Command {
  const bill = new Command('bill').description("users' bills: one per user and period, sessions and charges");
  bill.addCommand(
    withStoreOptions(new Command('show').description("show a user's bill for a period (default: this month, UTC)"))
      .requiredOption('--user <user>', 'username, or username@domain')
      .option('--domain <domain>', 'SIP domain of the user (default: the first configured domain)')
      .option('--period <period>', 'month 2026-11, ISO week 2026-W45 or day 2026-11-05')
      .option('--csv', 'print CSV (RFC 4180) for spreadsheets and accounting tools')
      .action(
        commandAction(io, async (ctx, o: BillOptions) => {
          if (o.csv && o.json) throw usageError('give at most one of --csv and --json');
          const period = periodOf(o.period);
          const userId = billingUserOf(ctx, o.user!, o.domain);
          const b = await new BillingReports(await ctx.openStore()).bill(userId, period);
          if (o.csv) {
            io.stdout.write(billToCsv(b));
            return;
          }
          if (o.json) {
            io.stdout.write(billToJson(b, 2) + '\n');
            return;
          }
          const lines = formatTable(b.lines, [
            { header: 'INSTANT', value: (l) => formatInstant(l.at) },
            { header: 'KIND', value: (l) => l.kind },
            { header: 'SERVICE', value: (l) => l.service },
            { header: 'REFERENCE', value: (l) => (l.kind === 'session' ? l.sessionId : l.chargeId) },
            { header: 'DESCRIPTION', value: (l) => (l.kind === 'session' ? `${l.description}, ${l.billableSeconds} s billed` : l.description) },
            { header: 'AMOUNT', value: (l) => showMoney(l.amount) },
          ]);
          const totals = b.totals.length === 0 ? 'total: nothing\n' : b.totals.map((t) => `total: ${showMoney(t)}\n`).join('');
          io.stdout.write(`bill ${b.period.label} of ${b.userId}\n${lines}${totals}`);
        }),
      ),
  );
  return bill;
}
