import { Command } from 'commander';
import { OPEN_SESSION_STATES, type SessionRecord, type SessionState } from '../../store/session-repository.js';
import { withStoreOptions, type StoreCommandOptions } from '../cli-context.js';
import { usageError } from '../cli-error.js';
import type { CliIo } from '../cli-io.js';
import { commandAction } from '../command-action.js';
import { formatInstant, formatTable } from '../format-table.js';
import { billingUserOf, showMoney } from './accounting-cli-values.js';

interface SessionsOptions extends StoreCommandOptions {
  live?: boolean;
  user?: string;
  domain?: string;
  operator?: string;
  service?: string;
  state?: string;
  limit?: string;
}

const STATES: readonly SessionState[] = ['attempt', 'answered', 'established', 'ended', 'failed', 'cancelled'];

/** `siprelay sessions list [--live] [--user alice] [--operator acme] [--service wine] [--state ended] [--limit 100]`. */
export function sessionsCommand(io: CliIo): Command {
  const sessions = new Command('sessions').description('session records: attempts, live and ended sessions');
  sessions.addCommand(
    withStoreOptions(new Command('list').description('list session records, newest first'))
      .option('--live', 'only sessions not ended yet (attempts, answered, established)')
      .option('--user <user>', 'of this user (username or username@domain)')
      .option('--domain <domain>', 'SIP domain of --user (default: the first configured domain)')
      .option('--operator <operator>', 'of this application-server operator')
      .option('--service <service>', 'of this service')
      .option('--state <states>', `comma-separated: ${STATES.join(', ')}`)
      .option('--limit <n>', 'at most this many (default 100)')
      .action(
        commandAction(io, async (ctx, o: SessionsOptions) => {
          let states: SessionState[] | undefined;
          if (o.state !== undefined) {
            const list = o.state.split(',');
            if (!list.every((s) => (STATES as readonly string[]).includes(s))) throw usageError(`--state takes ${STATES.join(', ')}`);
            states = list as SessionState[];
          }
          if (o.live) states = (states ?? [...OPEN_SESSION_STATES]).filter((s) => OPEN_SESSION_STATES.includes(s));
          if (o.limit !== undefined && !/^[1-9]\d{0,4}$/.test(o.limit)) throw usageError('--limit takes an integer from 1 to 10000');
          const store = await ctx.openStore();
          const list = await store.sessions.list({
            userId: o.user === undefined ? undefined : billingUserOf(ctx, o.user, o.domain),
            operator: o.operator,
            service: o.service,
            states,
            limit: o.limit === undefined ? 100 : Math.min(10_000, Number(o.limit)),
          });
          ctx.print(
            formatTable<SessionRecord>(list, [
              { header: 'ID', value: (s) => s.id },
              { header: 'STATE', value: (s) => s.state },
              { header: 'USER', value: (s) => s.userId },
              { header: 'SERVICE', value: (s) => s.service },
              { header: 'APPSERVER', value: (s) => s.appServer },
              { header: 'STARTED', value: (s) => formatInstant(s.startedAt ?? s.requestedAt) },
              { header: 'DURATION', value: (s) => (s.durationMs === null ? null : `${(s.durationMs / 1000).toFixed(1)} s`) },
              { header: 'ENDED BY', value: (s) => s.endedBy ?? (s.sipStatus === null ? null : String(s.sipStatus)) },
              { header: 'AMOUNT', value: (s) => (s.amount ? showMoney(s.amount) : null) },
            ]),
            list,
          );
        }),
      ),
  );
  return sessions;
}
