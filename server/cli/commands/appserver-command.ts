import { Command, Option } from 'commander';
import type { AppServer, AppServerService } from '../../store/app-server-repository.js';
import { storeError } from '../../store/store-error.js';
import type { OpenedStore } from '../../store/open-store.js';
import { withStoreOptions, type CliContext, type StoreCommandOptions } from '../cli-context.js';
import { usageError } from '../cli-error.js';
import type { CliIo } from '../cli-io.js';
import { commandAction } from '../command-action.js';
import { formatInstant, formatTable } from '../format-table.js';
import { readPassword, type PasswordSource } from '../read-password.js';
import { syncConfigServices } from '../sync-config-services.js';

interface AppServerOptions extends StoreCommandOptions, PasswordSource {
  domain?: string;
  displayName?: string;
  operator?: string;
  weight?: string;
  target?: string;
}

function leaf(name: string, description: string): Command {
  return withStoreOptions(new Command(name).description(description));
}

function passwordOptions(cmd: Command): Command {
  return cmd
    .option('--password <password>', 'the SIP password (else prompted, or read from standard input)')
    .addOption(new Option('--password-stdin', 'read the password from the first line of standard input'));
}

/** Opens the store with the configuration's services written in, so bindings can name them. */
async function storeWithServices(ctx: CliContext): Promise<OpenedStore> {
  const store = await ctx.openStore();
  await syncConfigServices(ctx.config, store);
  return store;
}

/** `siprelay appserver …` (issue 3, item 4): application-server accounts and the services they provide. */
export function appServerCommand(io: CliIo): Command {
  const appserver = new Command('appserver').description('manage application-server accounts and their services');

  appserver.addCommand(
    passwordOptions(leaf('add', 'create an application-server account (SIP credentials stored as HA1 digests)'))
      .argument('<name>', 'unique name; also the SIP username it logs in with')
      .option('--domain <domain>', 'SIP domain of its credentials (default: the first configured domain)')
      .option('--display-name <name>', 'name shown to people')
      .option('--operator <operator>', 'who runs it; settlements are made out to them (default: the name)')
      .action(
        commandAction(io, async (ctx, o: AppServerOptions, name: string) => {
          const store = await ctx.openStore();
          const password = await readPassword(io, o);
          const added = await store.appServers.add({
            name,
            domain: o.domain ?? ctx.defaultDomain,
            password,
            displayName: o.displayName,
            operator: o.operator,
          });
          ctx.print(`added application server ${added.name} (operator ${added.operator})`, added);
        }),
      ),
  );

  appserver.addCommand(
    passwordOptions(leaf('passwd', "set an application server's SIP password"))
      .argument('<name>')
      .action(
        commandAction(io, async (ctx, o: AppServerOptions, name: string) => {
          const store = await ctx.openStore();
          if (!(await store.appServers.find(name))) throw storeError('STORE_ERR_NOT_FOUND', `no application server ${name}`);
          await store.appServers.setPassword(name, await readPassword(io, o, 'New password'));
          ctx.print(`changed the password of application server ${name}`, { name });
        }),
      ),
  );

  const simple: [string, string, (s: OpenedStore, n: string) => Promise<void>, string][] = [
    ['disable', 'stop routing to it and refuse its logins and API keys', (s, n) => s.appServers.disable(n), 'disabled'],
    ['enable', 'route to a disabled application server again', (s, n) => s.appServers.enable(n), 'enabled'],
    ['rm', 'delete an application server with its service bindings and API keys', (s, n) => s.appServers.remove(n), 'removed'],
  ];
  for (const [name, description, run, done] of simple) {
    appserver.addCommand(
      leaf(name, description)
        .argument('<name>')
        .action(
          commandAction(io, async (ctx, _o: AppServerOptions, appServer: string) => {
            await run(await ctx.openStore(), appServer);
            ctx.print(`${done} application server ${appServer}`, { name: appServer, [done]: true });
          }),
        ),
    );
  }

  appserver.addCommand(
    leaf('list', 'list application servers').action(
      commandAction(io, async (ctx) => {
        const store = await ctx.openStore();
        const servers = await store.appServers.list();
        const bindings = await store.appServers.listServices();
        const servicesOf = (name: string) => bindings.filter((b) => b.appServer === name).map((b) => b.service);
        ctx.print(
          formatTable<AppServer>(servers, [
            { header: 'NAME', value: (a) => a.name },
            { header: 'DOMAIN', value: (a) => a.domain },
            { header: 'OPERATOR', value: (a) => a.operator },
            { header: 'STATUS', value: (a) => (a.disabled ? 'disabled' : 'enabled') },
            { header: 'SERVICES', value: (a) => servicesOf(a.name).join(',') },
            { header: 'CREATED', value: (a) => formatInstant(a.createdAt) },
          ]),
          servers.map((a) => ({ ...a, services: servicesOf(a.name) })),
        );
      }),
    ),
  );

  const service = new Command('service').description('attach services to application servers');
  service.addCommand(
    leaf('add', 'record that an application server provides a service (or change its weight and target)')
      .argument('<appserver>', 'application-server name')
      .argument('<service>', 'a service defined in the configuration')
      .option('--weight <n>', 'share of new sessions in balance mode (default 1)')
      .option('--target <uri>', 'fixed SIP URI to send requests to, instead of where it registers')
      .action(
        commandAction(io, async (ctx, o: AppServerOptions, appServer: string, serviceName: string) => {
          const weight = o.weight === undefined ? undefined : Number(o.weight);
          if (weight !== undefined && !/^\d+$/.test(o.weight!)) throw usageError(`--weight must be a positive integer, not "${o.weight}"`);
          const store = await storeWithServices(ctx);
          if (!(await store.services.find(serviceName))) {
            const names = ctx.config.services.map((s) => s.name);
            throw storeError(
              'STORE_ERR_NOT_FOUND',
              `unknown service ${serviceName}; ${names.length ? `the configuration defines ${names.join(', ')}` : 'the configuration defines no services'} (add it under "services:")`,
            );
          }
          const binding = await store.appServers.attachService(appServer, serviceName, { weight, targetUri: o.target ?? null });
          ctx.print(
            `application server ${appServer} provides ${serviceName} (weight ${binding.weight}${binding.targetUri ? `, target ${binding.targetUri}` : ''})`,
            binding,
          );
        }),
      ),
  );
  service.addCommand(
    leaf('rm', 'record that an application server no longer provides a service')
      .argument('<appserver>')
      .argument('<service>')
      .action(
        commandAction(io, async (ctx, _o: AppServerOptions, appServer: string, serviceName: string) => {
          await (await ctx.openStore()).appServers.detachService(appServer, serviceName);
          ctx.print(`application server ${appServer} no longer provides ${serviceName}`, { appServer, service: serviceName, removed: true });
        }),
      ),
  );
  service.addCommand(
    leaf('list', 'list which application servers provide which services')
      .argument('[appserver]', 'only this application server')
      .action(
        commandAction(io, async (ctx, _o: AppServerOptions, appServer?: string) => {
          const list = await (await ctx.openStore()).appServers.listServices(appServer ? { appServer } : {});
          ctx.print(
            formatTable<AppServerService>(list, [
              { header: 'APPSERVER', value: (b) => b.appServer },
              { header: 'SERVICE', value: (b) => b.service },
              { header: 'WEIGHT', value: (b) => b.weight },
              { header: 'TARGET', value: (b) => b.targetUri },
              { header: 'STATUS', value: (b) => (b.disabled ? 'disabled' : 'enabled') },
            ]),
            list,
          );
        }),
      ),
  );
  appserver.addCommand(service);
  return appserver;
}
