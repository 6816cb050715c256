import { Command } from 'commander';
import type { ApiKey } from '../../store/api-key-repository.js';
import { withStoreOptions, type StoreCommandOptions } from '../cli-context.js';
import { usageError } from '../cli-error.js';
import type { CliIo } from '../cli-io.js';
import { commandAction } from '../command-action.js';
import { formatInstant, formatTable } from '../format-table.js';

interface ApiKeyOptions extends StoreCommandOptions {
  appserver?: string;
  admin?: boolean;
  label?: string;
  all?: boolean;
}

/** `siprelay apikey create|list|revoke`: keys for the HTTP API. */
export function apiKeyCommand(io: CliIo): Command {
  const apikey = new Command('apikey').description('manage HTTP API keys of application servers and admins');

  apikey.addCommand(
    withStoreOptions(new Command('create').description('create a key; it is shown once and only its hash is kept'))
      .option('--appserver <name>', 'the key belongs to this application server (charges API)')
      .option('--admin', 'the key is an admin key (admin API)')
      .option('--label <text>', 'a note to tell keys apart')
      .action(
        commandAction(io, async (ctx, o: ApiKeyOptions) => {
          if (Boolean(o.appserver) === Boolean(o.admin)) throw usageError('give exactly one of --appserver <name> and --admin');
          const store = await ctx.openStore();
          const { key, apiKey } = await store.apiKeys.create(
            o.admin ? { kind: 'admin' } : { kind: 'app-server', appServer: o.appserver! },
            { label: o.label ?? null },
          );
          if (!o.json) io.stderr.write('Store this key now: it cannot be shown again.\n');
          ctx.print(key, { key, ...apiKey });
        }),
      ),
  );

  apikey.addCommand(
    withStoreOptions(new Command('list').description('list keys (never the keys themselves)'))
      .option('--all', 'include revoked keys')
      .action(
        commandAction(io, async (ctx, o: ApiKeyOptions) => {
          const keys = await (await ctx.openStore()).apiKeys.list({ includeRevoked: o.all });
          ctx.print(
            formatTable<ApiKey>(keys, [
              { header: 'ID', value: (k) => k.id },
              { header: 'PREFIX', value: (k) => k.prefix },
              { header: 'OWNER', value: (k) => (k.ownerKind === 'admin' ? 'admin' : `appserver ${k.appServer}`) },
              { header: 'LABEL', value: (k) => k.label },
              { header: 'CREATED', value: (k) => formatInstant(k.createdAt) },
              { header: 'REVOKED', value: (k) => formatInstant(k.revokedAt) },
            ]),
            keys,
          );
        }),
      ),
  );

  apikey.addCommand(
    withStoreOptions(new Command('revoke').description('revoke a key at once'))
      .argument('<key>', 'the id or the prefix shown by `apikey list`')
      .action(
        commandAction(io, async (ctx, _o: ApiKeyOptions, key: string) => {
          const revoked = await (await ctx.openStore()).apiKeys.revoke(key);
          ctx.print(`revoked API key ${revoked.id} (${revoked.prefix})`, revoked);
        }),
      ),
  );
  return apikey;
}
