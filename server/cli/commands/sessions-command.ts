import { Command } from 'commander';
import { OPEN_SESSION_STATES, type SessionRecord, type SessionState } from '../../store/session-repository.js';
import { withStoreOptions, type CliContext, type StoreCommandOptions } from '../cli-context.js';
import { CliError, CliExitCodes, usageError } from '../cli-error.js';
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

interface EndOptions extends StoreCommandOptions {
  reason?: string;
  url?: string;
}

/**
 * `siprelay sessions list [--live] [--user alice] [--operator acme] [--service wine] [--state ended] [--limit 100]`
 * and `siprelay session end <sessionId> [--reason TEXT] [--url URL]` (`session` and `sessions` are the same command).
 */
export function sessionsCommand(io: CliIo): Command {
  const sessions = new Command('sessions').alias('session').description('session records: attempts, live and ended sessions; end a live one');
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
  sessions.addCommand(
    withStoreOptions(new Command('end').description("end a live session through the running relay: BYE to both sides, recorded as ended by the operator"))
      .argument('<sessionId>', 'the relay session id (siprelay sessions list --live)')
      .option('--reason <text>', 'why: kept in the record and sent in the BYEs\' Reason header')
      .option('--url <url>', "the relay's HTTP address (default: http.publicUrl, else http://<http.host>:<http.port> of the configuration)")
      .action(
        commandAction(io, async (ctx, o: EndOptions, sessionId: string) => {
          if (o.reason !== undefined && (o.reason.trim() === '' || o.reason.length > 200)) throw usageError('--reason takes 1 to 200 characters');
          const token = ctx.config.admin.token;
          if (token === undefined) {
            throw new CliError(
              "admin.token is not configured, so the relay's admin API is off: set admin.token (SIPRELAY_ADMIN__TOKEN) for the relay and for this command",
              CliExitCodes.USAGE,
              'CLI_ERR_NO_ADMIN_TOKEN',
            );
          }
          const base = relayHttpUrl(ctx, o.url);
          const url = `${base}/admin/v1/sessions/${encodeURIComponent(sessionId)}/end`;
          let response: Response;
          try {
            response = await fetch(url, {
              method: 'POST',
              headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
              body: JSON.stringify(o.reason === undefined ? {} : { reason: o.reason }),
              signal: AbortSignal.timeout(15_000),
            });
          } catch (e) {
            const cause = (e as { cause?: { code?: string; message?: string } }).cause;
            const why = cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
            throw new CliError(`the relay is not reachable at ${base} (${why}): is it running?`, CliExitCodes.FAILED, 'CLI_ERR_RELAY_UNREACHABLE');
          }
          const body = (await response.json().catch(() => undefined)) as
            | { session?: { endedBy?: string; endReason?: string }; byes?: { caller: number; callee: number } | null; error?: { code?: string; message?: string } }
            | undefined;
          if (response.status === 404 && body?.error?.code === 'HTTP_ERR_NOT_FOUND') {
            throw new CliError(`no live session ${sessionId} (unknown, not answered yet, or ended already)`, CliExitCodes.FAILED, 'CLI_ERR_NOT_FOUND');
          }
          if (!response.ok) {
            const code = body?.error?.code ?? `HTTP_${response.status}`;
            throw new CliError(`the relay refused: ${response.status} ${body?.error?.message ?? response.statusText} (${code})`, CliExitCodes.FAILED, code);
          }
          const byes = body?.byes;
          const lines = [
            `session ${sessionId} ended by the operator: ${body?.session?.endReason ?? o.reason ?? 'ended by the operator'}`,
            byes ? `BYE answered: caller ${byes.caller}, callee ${byes.callee}` : 'BYE sent to both sides; not answered yet',
          ];
          ctx.print(lines.join('\n'), body);
        }),
      ),
  );
  return sessions;
}

/** `--url`, else the configuration's public URL, else its HTTP listener (a wildcard address read as loopback). */
function relayHttpUrl(ctx: CliContext, flag: string | undefined): string {
  const text = flag ?? ctx.config.http.publicUrl;
  if (text !== undefined) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw usageError(`--url: expected an absolute http(s) URL, got ${text}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`--url: expected an http(s) URL, got ${text}`);
    return url.origin + url.pathname.replace(/\/+$/, '');
  }
  const { host, port } = ctx.config.http;
  const h = host === '0.0.0.0' ? '127.0.0.1' : host === '::' || host === '[::]' ? '[::1]' : host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${h}:${port}`;
}
