import { Command, Option } from 'commander';
import type { SigningAlgorithm, SigningKey } from '../../store/signing-key-repository.js';
import { withStoreOptions, type StoreCommandOptions } from '../cli-context.js';
import type { CliIo } from '../cli-io.js';
import { commandAction } from '../command-action.js';
import { formatInstant, formatTable } from '../format-table.js';

interface KeysOptions extends StoreCommandOptions {
  algorithm?: SigningAlgorithm;
}

function status(k: SigningKey, active: string | undefined): string {
  if (k.kid === active) return 'active';
  if (k.retiredAt !== null) return 'retired';
  return k.activatedAt === null ? 'pending' : 'superseded';
}

/** `siprelay keys rotate|list`: the relay's JWT signing keys (issue 3, item 7). */
export function keysCommand(io: CliIo): Command {
  const keys = new Command('keys').description("manage the relay's token signing keys");

  keys.addCommand(
    withStoreOptions(
      new Command('rotate').description('make a new signing key active; the old one stays published for a while'),
    )
      .addOption(
        new Option('--algorithm <alg>', 'key algorithm (default: tokens.algorithm of the configuration)').choices([
          'EdDSA',
          'ES256',
        ]),
      )
      .action(
        commandAction(io, async (ctx, o: KeysOptions) => {
          const store = await ctx.openStore();
          const key = await store.signingKeys.rotate({ algorithm: o.algorithm ?? ctx.config.tokens.algorithm });
          ctx.print(`active signing key ${key.kid} (${key.algorithm})`, { kid: key.kid, algorithm: key.algorithm, publicJwk: key.publicJwk });
        }),
      ),
  );

  keys.addCommand(
    withStoreOptions(new Command('list').description('list signing keys (public parts only)')).action(
      commandAction(io, async (ctx) => {
        const store = await ctx.openStore();
        const all = await store.signingKeys.all();
        const active = (await store.signingKeys.active())?.kid;
        ctx.print(
          formatTable<SigningKey>(all, [
            { header: 'KID', value: (k) => k.kid },
            { header: 'ALG', value: (k) => k.algorithm },
            { header: 'STATUS', value: (k) => status(k, active) },
            { header: 'CREATED', value: (k) => formatInstant(k.createdAt) },
            { header: 'RETIRED', value: (k) => formatInstant(k.retiredAt) },
          ]),
          all.map((k) => ({
            kid: k.kid,
            algorithm: k.algorithm,
            status: status(k, active),
            publicJwk: k.publicJwk,
            createdAt: k.createdAt,
            activatedAt: k.activatedAt,
            retiredAt: k.retiredAt,
          })),
        );
      }),
    ),
  );
  return keys;
}
