import { Command, Option } from 'commander';
import { storeError } from '../../store/store-error.js';
import type { Subscriber } from '../../store/subscriber-repository.js';
import { withStoreOptions, type CliContext, type StoreCommandOptions } from '../cli-context.js';
import type { CliIo } from '../cli-io.js';
import { commandAction } from '../command-action.js';
import { formatInstant, formatTable } from '../format-table.js';
import { readPassword, type PasswordSource } from '../read-password.js';

interface UserOptions extends StoreCommandOptions, PasswordSource {
  domain?: string;
  displayName?: string;
  plan?: string;
}

/** `alice@portal.test` → alice in portal.test; `alice` → alice in --domain or the first configured domain. */
function address(ctx: CliContext, user: string, options: UserOptions): { username: string; domain: string } {
  const at = user.lastIndexOf('@');
  if (at > 0) return { username: user.slice(0, at), domain: user.slice(at + 1) };
  return { username: user, domain: options.domain ?? ctx.defaultDomain };
}

function leaf(name: string, description: string): Command {
  return withStoreOptions(new Command(name).description(description)).option(
    '--domain <domain>',
    'SIP domain of the user (default: the first configured domain)',
  );
}

function passwordOptions(cmd: Command): Command {
  return cmd
    .option('--password <password>', 'the password (else prompted, or read from standard input)')
    .addOption(new Option('--password-stdin', 'read the password from the first line of standard input'));
}

/** `siprelay user add|passwd|disable|enable|rm|list` (issue 3, item 3). */
export function userCommand(io: CliIo): Command {
  const user = new Command('user').description('manage the SIP users (subscribers) of the relay');

  user.addCommand(
    passwordOptions(leaf('add', 'create a user; only HA1 digests of the password are stored'))
      .argument('<user>', 'username, or username@domain')
      .option('--display-name <name>', 'name shown to people')
      .option('--plan <plan>', 'tariff plan')
      .action(
        commandAction(io, async (ctx, o: UserOptions, user: string) => {
          const { username, domain } = address(ctx, user, o);
          const store = await ctx.openStore();
          const password = await readPassword(io, o);
          const added = await store.subscribers.add({ username, domain, password, displayName: o.displayName, plan: o.plan });
          ctx.print(`added user ${added.username}@${added.domain}`, added);
        }),
      ),
  );

  user.addCommand(
    passwordOptions(leaf('passwd', "set a user's password"))
      .argument('<user>', 'username, or username@domain')
      .action(
        commandAction(io, async (ctx, o: UserOptions, user: string) => {
          const { username, domain } = address(ctx, user, o);
          const store = await ctx.openStore();
          // Fail on an unknown user before asking for a password.
          if (!(await store.subscribers.find(username, domain))) {
            throw storeError('STORE_ERR_NOT_FOUND', `no user ${username}@${domain.toLowerCase()}`);
          }
          await store.subscribers.setPassword(username, domain, await readPassword(io, o, 'New password'));
          ctx.print(`changed the password of ${username}@${domain.toLowerCase()}`, { username, domain: domain.toLowerCase() });
        }),
      ),
  );

  const simple: [string, string, (ctx: CliContext, u: string, d: string) => Promise<void>, string][] = [
    ['disable', 'refuse every further login of a user', async (c, u, d) => (await c.openStore()).subscribers.disable(u, d), 'disabled'],
    ['enable', 'allow a disabled user to log in again', async (c, u, d) => (await c.openStore()).subscribers.enable(u, d), 'enabled'],
    ['rm', 'delete a user', async (c, u, d) => (await c.openStore()).subscribers.remove(u, d), 'removed'],
  ];
  for (const [name, description, run, done] of simple) {
    user.addCommand(
      leaf(name, description)
        .argument('<user>', 'username, or username@domain')
        .action(
          commandAction(io, async (ctx, o: UserOptions, user: string) => {
            const { username, domain } = address(ctx, user, o);
            await run(ctx, username, domain);
            ctx.print(`${done} user ${username}@${domain.toLowerCase()}`, { username, domain: domain.toLowerCase(), [done]: true });
          }),
        ),
    );
  }

  user.addCommand(
    withStoreOptions(new Command('list').description('list users'))
      .option('--domain <domain>', 'only users of this domain')
      .action(
        commandAction(io, async (ctx, o: UserOptions) => {
          const list = await (await ctx.openStore()).subscribers.list(o.domain ? { domain: o.domain } : {});
          ctx.print(
            formatTable<Subscriber>(list, [
              { header: 'USER', value: (s) => s.username },
              { header: 'DOMAIN', value: (s) => s.domain },
              { header: 'DISPLAY NAME', value: (s) => s.displayName },
              { header: 'PLAN', value: (s) => s.plan },
              { header: 'STATUS', value: (s) => (s.disabled ? 'disabled' : 'enabled') },
              { header: 'CREATED', value: (s) => formatInstant(s.createdAt) },
            ]),
            list,
          );
        }),
      ),
  );
  return user;
}
