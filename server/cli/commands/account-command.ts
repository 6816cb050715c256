import { Command } from 'commander';
import type { Account } from '../../store/account-repository.js';
import { storeError } from '../../store/store-error.js';
import { withStoreOptions, type StoreCommandOptions } from '../cli-context.js';
import { usageError } from '../cli-error.js';
import type { CliIo } from '../cli-io.js';
import { commandAction } from '../command-action.js';
import { formatInstant, formatTable } from '../format-table.js';
import { billingUserOf, moneyOf, showMoney } from './accounting-cli-values.js';

interface AccountOptions extends StoreCommandOptions {
  domain?: string;
  prepaid?: boolean;
  postpaid?: boolean;
  balance?: string[];
  creditLimit?: string[];
  currency?: string;
  note?: string;
  kind?: string;
}

function describeAccount(a: Account): string {
  if (a.creditMode === 'prepaid') return `${a.account}: prepaid, balance ${showMoney({ amount: a.balance, currency: a.currency })}`;
  if (a.creditMode === 'postpaid') {
    const limit = showMoney({ amount: a.creditLimit ?? 0, currency: a.currency });
    const position = a.balance > 0 ? `in credit ${showMoney({ amount: a.balance, currency: a.currency })}` : `owes ${showMoney({ amount: -a.balance, currency: a.currency })}`;
    return `${a.account}: postpaid, credit limit ${limit}, ${position}`;
  }
  return `${a.account}: ${a.kind} account in ${a.currency}`;
}

/**
 * `siprelay account set alice --prepaid --balance 20.00 EUR`,
 * `account set bob --postpaid --credit-limit 100.00 EUR`,
 * `account topup alice 10.00 EUR`, `account show alice`, `account list`.
 */
export function accountCommand(io: CliIo): Command {
  const account = new Command('account').description("users' credit: prepaid balances and postpaid credit limits");

  account.addCommand(
    withStoreOptions(new Command('set').description("open a user's account or change its terms"))
      .argument('<user>', 'username, or username@domain')
      .option('--domain <domain>', 'SIP domain of the user (default: the first configured domain)')
      .option('--prepaid', 'the user pays in first and spends the balance')
      .option('--postpaid', 'the user pays afterwards, up to a credit limit')
      .option('--balance <amount...>', 'set the balance, e.g. 20.00 EUR')
      .option('--credit-limit <amount...>', 'the postpaid credit limit, e.g. 100.00 EUR')
      .option('--currency <code>', 'currency of the account when no amount names it')
      .option('--note <text>', 'why, for the account history')
      .action(
        commandAction(io, async (ctx, o: AccountOptions, user: string) => {
          if (Boolean(o.prepaid) === Boolean(o.postpaid)) throw usageError('give exactly one of --prepaid and --postpaid');
          if (o.prepaid && o.creditLimit) throw usageError('--credit-limit is for --postpaid accounts');
          if (o.postpaid && !o.creditLimit) throw usageError('a --postpaid account needs --credit-limit <amount> <currency>');
          const balance = o.balance ? moneyOf(o.balance, '--balance', o.currency) : undefined;
          const limit = o.creditLimit ? moneyOf(o.creditLimit, '--credit-limit', o.currency ?? balance?.currency) : undefined;
          const currency = limit?.currency ?? balance?.currency ?? o.currency;
          if (!currency) throw usageError('name the currency: --balance 20.00 EUR, --credit-limit 100.00 EUR or --currency EUR');
          if (balance && limit && balance.currency !== limit.currency) throw usageError('--balance and --credit-limit must be in one currency');
          const userId = billingUserOf(ctx, user, o.domain);
          const store = await ctx.openStore();
          const at = userId.lastIndexOf('@');
          if (!(await store.subscribers.find(userId.slice(0, at), userId.slice(at + 1)))) throw storeError('STORE_ERR_NOT_FOUND', `no user ${userId}`);
          const a = o.prepaid
            ? await store.accounts.setUser(userId, { mode: 'prepaid', currency, balance: balance?.amount }, o.note ?? null)
            : await store.accounts.setUser(userId, { mode: 'postpaid', currency, creditLimit: limit!.amount, balance: balance?.amount }, o.note ?? null);
          ctx.print(describeAccount(a), a);
        }),
      ),
  );

  account.addCommand(
    withStoreOptions(new Command('topup').description("add money paid in by a user (prepaid balance up, postpaid debt down)"))
      .argument('<user>', 'username, or username@domain')
      .argument('<amount...>', 'the amount and its currency, e.g. 10.00 EUR')
      .option('--domain <domain>', 'SIP domain of the user (default: the first configured domain)')
      .option('--note <text>', 'why, for the account history')
      .action(
        commandAction(io, async (ctx, o: AccountOptions, user: string, amount: string[]) => {
          const money = moneyOf(amount, 'amount');
          if (money.amount <= 0) throw usageError('amount: a top-up is more than zero');
          const a = await (await ctx.openStore()).accounts.topUp(billingUserOf(ctx, user, o.domain), money, o.note ?? null);
          ctx.print(describeAccount(a), a);
        }),
      ),
  );

  account.addCommand(
    withStoreOptions(new Command('show').description("show a user's account and its history"))
      .argument('<user>', 'username, or username@domain')
      .option('--domain <domain>', 'SIP domain of the user (default: the first configured domain)')
      .action(
        commandAction(io, async (ctx, o: AccountOptions, user: string) => {
          const store = await ctx.openStore();
          const userId = billingUserOf(ctx, user, o.domain);
          const a = await store.accounts.findUser(userId);
          if (!a) throw storeError('STORE_ERR_NOT_FOUND', `user ${userId} has no account`);
          const history = await store.accounts.adjustments(a.account);
          ctx.print(
            describeAccount(a) +
              '\n' +
              formatTable(history, [
                { header: 'AT', value: (j) => formatInstant(j.at) },
                { header: 'CHANGE', value: (j) => j.kind },
                { header: 'AMOUNT', value: (j) => (j.amount === null ? null : showMoney({ amount: j.amount, currency: j.currency })) },
                { header: 'BALANCE', value: (j) => showMoney({ amount: j.balanceAfter, currency: j.currency }) },
                { header: 'NOTE', value: (j) => j.note },
              ]),
            { account: a, adjustments: history },
          );
        }),
      ),
  );

  account.addCommand(
    withStoreOptions(new Command('list').description('list accounts: users, operators, the relay'))
      .option('--kind <kind>', 'user, operator or relay')
      .action(
        commandAction(io, async (ctx, o: AccountOptions) => {
          if (o.kind !== undefined && o.kind !== 'user' && o.kind !== 'operator' && o.kind !== 'relay') {
            throw usageError('--kind takes user, operator or relay');
          }
          const list = await (await ctx.openStore()).accounts.list({ kind: o.kind });
          ctx.print(
            formatTable<Account>(list, [
              { header: 'ACCOUNT', value: (a) => a.account },
              { header: 'MODE', value: (a) => a.creditMode },
              { header: 'BALANCE', value: (a) => (a.kind === 'user' ? showMoney({ amount: a.balance, currency: a.currency }) : null) },
              { header: 'CREDIT LIMIT', value: (a) => (a.creditLimit === null ? null : showMoney({ amount: a.creditLimit, currency: a.currency })) },
              { header: 'UPDATED', value: (a) => formatInstant(a.updatedAt) },
            ]),
            list,
          );
        }),
      ),
  );
  return account;
}
