import { Command } from 'commander';
import { settlementToCsv, settlementToJson } from '../../billing/settlement.js';
import { BillingReports } from '../../accounting/billing-reports.js';
import { withStoreOptions, type StoreCommandOptions } from '../cli-context.js';
import { usageError } from '../cli-error.js';
import type { CliIo } from '../cli-io.js';
import { commandAction } from '../command-action.js';
import { formatInstant, formatTable } from '../format-table.js';
import { periodOf, showMoney } from './accounting-cli-values.js';

interface SettlementOptions extends StoreCommandOptions {
  operator?: string;
  period?: string;
  csv?: boolean;
}

/** `siprelay settlement show --operator acme --period 2026-11 [--csv|--json]` (issue 4, item 7). */
export function settlementCommand(io: CliIo): Command {
  const settlement = new Command('settlement').description('what the relay owes each application-server operator: gross, fee, net');
  settlement.addCommand(
    withStoreOptions(new Command('show').description("show an operator's settlement for a period (default: this month, UTC)"))
      .requiredOption('--operator <operator>', 'the operator of the application servers (see `appserver list`)')
      .option('--period <period>', 'month 2026-11, ISO week 2026-W45 or day 2026-11-05')
      .option('--csv', 'print CSV (RFC 4180)')
      .action(
        commandAction(io, async (ctx, o: SettlementOptions) => {
          if (o.csv && o.json) throw usageError('give at most one of --csv and --json');
          const period = periodOf(o.period);
          const s = await new BillingReports(await ctx.openStore()).settlement(o.operator!, period);
          if (o.csv) {
            io.stdout.write(settlementToCsv(s));
            return;
          }
          if (o.json) {
            io.stdout.write(settlementToJson(s, 2) + '\n');
            return;
          }
          const lines = formatTable(s.lines, [
            { header: 'INSTANT', value: (l) => formatInstant(l.at) },
            { header: 'KIND', value: (l) => l.reference.type },
            { header: 'REFERENCE', value: (l) => l.reference.id },
            { header: 'GROSS', value: (l) => showMoney(l.gross) },
            { header: 'FEE', value: (l) => showMoney(l.fee) },
            { header: 'NET', value: (l) => showMoney(l.net) },
          ]);
          const totals =
            s.totals.length === 0
              ? 'total: nothing\n'
              : s.totals
                  .map((t) => `total: gross ${showMoney(t.gross)}, fee ${showMoney(t.fee)}, net ${showMoney(t.net)} (${t.sessions} sessions, ${t.charges} charges)\n`)
                  .join('');
          io.stdout.write(`settlement ${s.period.label} of ${s.operatorId}\n${lines}${totals}`);
        }),
      ),
  );
  return settlement;
}
