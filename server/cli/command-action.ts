import type { Command } from 'commander';
import { CliContext, type StoreCommandOptions } from './cli-context.js';
import type { CliIo } from './cli-io.js';

/**
 * Makes a commander action that runs `fn` with a {@link CliContext} built
 * from the command's options, and closes the store afterwards whatever
 * happens. Errors propagate to `runCli`, which reports them.
 */
export function commandAction<A extends unknown[], O extends StoreCommandOptions>(
  io: CliIo,
  fn: (ctx: CliContext, options: O, ...args: A) => Promise<void>,
): (...args: unknown[]) => Promise<void> {
  return async (...received: unknown[]) => {
    // commander passes the positional arguments, then the options, then the command.
    const command = received[received.length - 1] as Command;
    // Local options win over the same options given before the command name.
    const options = command.optsWithGlobals<O>();
    const args = received.slice(0, -2) as A;
    const ctx = new CliContext(io, options);
    try {
      await fn(ctx, options, ...args);
    } finally {
      await ctx.close();
    }
  };
}
