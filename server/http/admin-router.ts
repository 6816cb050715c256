import { Router, type Request } from 'express';
import type { SipLogger } from '../../sip/util/logger.js';
import { syncConfigServices } from '../cli/sync-config-services.js';
import type { RelayConfig } from '../config/relay-config-schema.js';
import type { ApiKey } from '../store/api-key-repository.js';
import type { AppServer, AppServerService } from '../store/app-server-repository.js';
import type { SigningAlgorithm, SigningKey } from '../store/signing-key-repository.js';
import { isStoreError, type StoreErrorCode } from '../store/store-error.js';
import type { Store } from '../store/store.js';
import type { Subscriber } from '../store/subscriber-repository.js';
import {
  apiKeyListQuerySchema,
  appServerChangesSchema,
  appServerNameSchema,
  attachServiceSchema,
  newApiKeySchema,
  newAppServerSchema,
  newSubscriberSchema,
  passwordBodySchema,
  rotateKeySchema,
  serviceNameSchema,
  subscriberChangesSchema,
  subscriberListQuerySchema,
  usernameSchema,
  domainSchema,
} from './admin-schemas.js';
import { httpApiError } from './http-api-error.js';
import { route } from './method-not-allowed.js';
import { parseInput } from './parse-input.js';

/** A change made through the admin API, for parts of the relay that keep copies (caches, the directory). */
export interface AdminChange {
  entity: 'subscriber' | 'app-server' | 'app-server-service' | 'api-key' | 'signing-key';
  action: 'created' | 'updated' | 'password-changed' | 'disabled' | 'enabled' | 'removed' | 'attached' | 'detached' | 'revoked' | 'rotated';
  /** Username, application-server name, key id or kid. */
  name: string;
  /** Domain of a subscriber or application server. */
  domain?: string;
  /** Service of an attach or detach. */
  service?: string;
}

/** Options of {@link adminRouter}. */
export interface AdminRouterOptions {
  store: Store;
  config: Pick<RelayConfig, 'domains' | 'services' | 'tokens'>;
  /** Forgets a principal after its password or state changed, so the change applies to SIP at once. */
  credentialCache?: { invalidate(username: string, realm: string): void };
  /** Rotates through the running relay's key ring so it signs with the new key at once. */
  keyRing?: { rotate(algorithm?: SigningAlgorithm): Promise<SigningKey> };
  /** Told about every change (after it is stored). */
  onChange?: (change: AdminChange) => void;
  logger: SipLogger;
}

/**
 * The admin API under `/admin/v1` (docs/api.md): the operations of
 * `siprelay user|appserver|apikey|keys` over HTTP. Authentication is done
 * before this router by {@link adminAuth}.
 */
export function adminRouter(options: AdminRouterOptions): Router {
  const { store, config } = options;
  const defaultDomain = config.domains[0].toLowerCase();
  const served = new Set(config.domains.map((d) => d.toLowerCase()));
  const router = Router();

  const changed = (req: Request, change: AdminChange) => {
    options.logger.info({ ...change, actor: req.res?.locals.adminActor }, 'admin change');
    try {
      options.onChange?.(change);
    } catch (e) {
      options.logger.error({ err: e, change }, 'admin change listener failed');
    }
  };
  const forget = (username: string, domain: string) => options.credentialCache?.invalidate(username, domain);

  /** `alice` or `alice@portal.test` → username and domain (the default domain when none). */
  const userAddress = (param: unknown): { username: string; domain: string } => {
    const text = String(param);
    const at = text.lastIndexOf('@');
    const username = parseInput(usernameSchema, at > 0 ? text.slice(0, at) : text, 'path');
    const domain = at > 0 ? parseInput(domainSchema, text.slice(at + 1), 'path') : defaultDomain;
    return { username, domain };
  };
  const servedDomain = (domain: string | undefined): string => {
    const d = domain ?? defaultDomain;
    if (!served.has(d)) throw httpApiError('HTTP_ERR_VALIDATION', `domain: not a domain of this relay (${[...served].join(', ')})`, 'domain');
    return d;
  };

  // ---- subscribers -------------------------------------------------------

  route(router, '/subscribers', {
    get: async (req, res) => {
      const q = parseInput(subscriberListQuerySchema, req.query, 'query');
      const list = await store.subscribers.list(q.domain ? { domain: q.domain } : {});
      res.json({ subscribers: list.map(subscriberJson) });
    },
    post: async (req, res) => {
      const body = parseInput(newSubscriberSchema, req.body ?? {});
      const domain = servedDomain(body.domain);
      const added = await withFields(store.subscribers.add({ ...body, domain }), { STORE_ERR_DUPLICATE: 'username' });
      changed(req, { entity: 'subscriber', action: 'created', name: added.username, domain: added.domain });
      res.status(201).location(`${req.baseUrl}/subscribers/${added.username}@${added.domain}`).json(subscriberJson(added));
    },
  });

  route(router, '/subscribers/:user', {
    get: async (req, res) => {
      const { username, domain } = userAddress(req.params.user);
      const found = await store.subscribers.find(username, domain);
      if (!found) throw httpApiError('HTTP_ERR_NOT_FOUND', `no user ${username}@${domain}`, 'user');
      res.json(subscriberJson(found));
    },
    patch: async (req, res) => {
      const { username, domain } = userAddress(req.params.user);
      const body = parseInput(subscriberChangesSchema, req.body ?? {});
      const notFound = { STORE_ERR_NOT_FOUND: 'user' } as const;
      if (body.disabled !== undefined) {
        await withFields(body.disabled ? store.subscribers.disable(username, domain) : store.subscribers.enable(username, domain), notFound);
        forget(username, domain);
        changed(req, { entity: 'subscriber', action: body.disabled ? 'disabled' : 'enabled', name: username, domain });
      }
      let updated: Subscriber | undefined;
      if (body.displayName !== undefined || body.plan !== undefined) {
        updated = await withFields(store.subscribers.update(username, domain, { displayName: body.displayName, plan: body.plan }), notFound);
        // The party reported by authentication carries display name and plan.
        forget(username, domain);
        changed(req, { entity: 'subscriber', action: 'updated', name: username, domain });
      }
      updated ??= await store.subscribers.find(username, domain);
      if (!updated) throw httpApiError('HTTP_ERR_NOT_FOUND', `no user ${username}@${domain}`, 'user');
      res.json(subscriberJson(updated));
    },
    delete: async (req, res) => {
      const { username, domain } = userAddress(req.params.user);
      await withFields(store.subscribers.remove(username, domain), { STORE_ERR_NOT_FOUND: 'user' });
      forget(username, domain);
      changed(req, { entity: 'subscriber', action: 'removed', name: username, domain });
      res.status(204).end();
    },
  });

  route(router, '/subscribers/:user/password', {
    put: async (req, res) => {
      const { username, domain } = userAddress(req.params.user);
      const { password } = parseInput(passwordBodySchema, req.body ?? {});
      await withFields(store.subscribers.setPassword(username, domain, password), { STORE_ERR_NOT_FOUND: 'user' });
      forget(username, domain);
      changed(req, { entity: 'subscriber', action: 'password-changed', name: username, domain });
      res.status(204).end();
    },
  });

  // ---- application servers ----------------------------------------------

  const appServerOf = async (param: unknown): Promise<AppServer> => {
    const name = parseInput(appServerNameSchema, String(param), 'path');
    const found = await store.appServers.find(name);
    if (!found) throw httpApiError('HTTP_ERR_NOT_FOUND', `no application server ${name}`, 'name');
    return found;
  };

  route(router, '/app-servers', {
    get: async (_req, res) => {
      const [servers, bindings] = await Promise.all([store.appServers.list(), store.appServers.listServices()]);
      res.json({ appServers: servers.map((a) => appServerJson(a, bindings.filter((b) => b.appServer === a.name))) });
    },
    post: async (req, res) => {
      const body = parseInput(newAppServerSchema, req.body ?? {});
      const domain = servedDomain(body.domain);
      const added = await withFields(store.appServers.add({ ...body, domain }), { STORE_ERR_DUPLICATE: 'name' });
      changed(req, { entity: 'app-server', action: 'created', name: added.name, domain: added.domain });
      res.status(201).location(`${req.baseUrl}/app-servers/${added.name}`).json(appServerJson(added, []));
    },
  });

  route(router, '/app-servers/:name', {
    get: async (req, res) => {
      const server = await appServerOf(req.params.name);
      res.json(appServerJson(server, await store.appServers.listServices({ appServer: server.name })));
    },
    patch: async (req, res) => {
      const server = await appServerOf(req.params.name);
      const { disabled } = parseInput(appServerChangesSchema, req.body ?? {});
      await (disabled ? store.appServers.disable(server.name) : store.appServers.enable(server.name));
      forget(server.name, server.domain);
      changed(req, { entity: 'app-server', action: disabled ? 'disabled' : 'enabled', name: server.name, domain: server.domain });
      const now = await appServerOf(server.name);
      res.json(appServerJson(now, await store.appServers.listServices({ appServer: server.name })));
    },
    delete: async (req, res) => {
      const server = await appServerOf(req.params.name);
      await withFields(store.appServers.remove(server.name), { STORE_ERR_NOT_FOUND: 'name' });
      forget(server.name, server.domain);
      changed(req, { entity: 'app-server', action: 'removed', name: server.name, domain: server.domain });
      res.status(204).end();
    },
  });

  route(router, '/app-servers/:name/password', {
    put: async (req, res) => {
      const server = await appServerOf(req.params.name);
      const { password } = parseInput(passwordBodySchema, req.body ?? {});
      await store.appServers.setPassword(server.name, password);
      forget(server.name, server.domain);
      changed(req, { entity: 'app-server', action: 'password-changed', name: server.name, domain: server.domain });
      res.status(204).end();
    },
  });

  route(router, '/app-servers/:name/services', {
    get: async (req, res) => {
      const server = await appServerOf(req.params.name);
      res.json({ services: (await store.appServers.listServices({ appServer: server.name })).map(bindingJson) });
    },
  });

  route(router, '/app-servers/:name/services/:service', {
    put: async (req, res) => {
      const server = await appServerOf(req.params.name);
      const service = parseInput(serviceNameSchema, String(req.params.service), 'path');
      const body = parseInput(attachServiceSchema, req.body ?? {});
      if (!config.services.some((s) => s.name === service)) {
        const names = config.services.map((s) => s.name);
        throw httpApiError(
          'HTTP_ERR_NOT_FOUND',
          `unknown service ${service}; ${names.length ? `the configuration defines ${names.join(', ')}` : 'the configuration defines no services'}`,
          'service',
        );
      }
      // The configuration's services are written into the store at start; make sure of it.
      if (!(await store.services.find(service))) await syncConfigServices(config, store);
      const binding = await withFields(
        store.appServers.attachService(server.name, service, { weight: body.weight, targetUri: body.targetUri ?? null }),
        { STORE_ERR_INVALID: 'targetUri' },
      );
      changed(req, { entity: 'app-server-service', action: 'attached', name: server.name, service });
      res.json(bindingJson(binding));
    },
    delete: async (req, res) => {
      const server = await appServerOf(req.params.name);
      const service = parseInput(serviceNameSchema, String(req.params.service), 'path');
      await withFields(store.appServers.detachService(server.name, service), { STORE_ERR_NOT_FOUND: 'service' });
      changed(req, { entity: 'app-server-service', action: 'detached', name: server.name, service });
      res.status(204).end();
    },
  });

  // ---- API keys -----------------------------------------------------------

  route(router, '/api-keys', {
    get: async (req, res) => {
      const q = parseInput(apiKeyListQuerySchema, req.query, 'query');
      const keys = await store.apiKeys.list({ includeRevoked: q.includeRevoked === 'true', appServer: q.appServer });
      res.json({ apiKeys: keys.map(apiKeyJson) });
    },
    post: async (req, res) => {
      const body = parseInput(newApiKeySchema, req.body ?? {});
      const owner = body.owner === 'admin' ? { kind: 'admin' as const } : { kind: 'app-server' as const, appServer: body.appServer! };
      const { key, apiKey } = await withFields(store.apiKeys.create(owner, { label: body.label ?? null }), {
        STORE_ERR_NOT_FOUND: 'appServer',
      });
      changed(req, { entity: 'api-key', action: 'created', name: String(apiKey.id) });
      res.status(201).location(`${req.baseUrl}/api-keys/${apiKey.id}`).json({ key, ...apiKeyJson(apiKey) });
    },
  });

  route(router, '/api-keys/:id', {
    delete: async (req, res) => {
      const revoked = await withFields(store.apiKeys.revoke(String(req.params.id)), { STORE_ERR_NOT_FOUND: 'id', STORE_ERR_AMBIGUOUS: 'id' });
      changed(req, { entity: 'api-key', action: 'revoked', name: String(revoked.id) });
      res.json(apiKeyJson(revoked));
    },
  });

  // ---- signing keys ---------------------------------------------------------

  route(router, '/signing-keys', {
    get: async (_req, res) => {
      const [all, active] = await Promise.all([store.signingKeys.all(), store.signingKeys.active()]);
      res.json({ signingKeys: all.map((k) => signingKeyJson(k, active?.kid)) });
    },
  });

  route(router, '/signing-keys/rotate', {
    post: async (req, res) => {
      const { algorithm = config.tokens.algorithm } = parseInput(rotateKeySchema, req.body ?? {});
      const key = options.keyRing ? await options.keyRing.rotate(algorithm) : await store.signingKeys.rotate({ algorithm });
      changed(req, { entity: 'signing-key', action: 'rotated', name: key.kid });
      res.status(201).json(signingKeyJson(key, key.kid));
    },
  });

  // Unknown paths fall through: routers mounted later under /admin/v1 (sessions, bills) come after this one.
  return router;
}

/** Names the field a store error is about, by its code, for this call. */
async function withFields<T>(p: Promise<T>, fields: Partial<Record<StoreErrorCode, string>>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (isStoreError(e) && fields[e.code] !== undefined) Object.assign(e, { field: fields[e.code] });
    throw e;
  }
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function subscriberJson(s: Subscriber) {
  return {
    id: s.id,
    username: s.username,
    domain: s.domain,
    aor: `sip:${s.username}@${s.domain}`,
    displayName: s.displayName,
    plan: s.plan,
    disabled: s.disabled,
    createdAt: iso(s.createdAt),
    updatedAt: iso(s.updatedAt),
  };
}

function bindingJson(b: AppServerService) {
  return { appServer: b.appServer, service: b.service, weight: b.weight, targetUri: b.targetUri, createdAt: iso(b.createdAt) };
}

function appServerJson(a: AppServer, bindings: AppServerService[]) {
  return {
    id: a.id,
    name: a.name,
    domain: a.domain,
    displayName: a.displayName,
    operator: a.operator,
    disabled: a.disabled,
    services: bindings.map(bindingJson),
    createdAt: iso(a.createdAt),
    updatedAt: iso(a.updatedAt),
  };
}

function apiKeyJson(k: ApiKey) {
  return {
    id: k.id,
    prefix: k.prefix,
    owner: k.ownerKind,
    appServer: k.appServer,
    label: k.label,
    createdAt: iso(k.createdAt),
    revokedAt: iso(k.revokedAt),
  };
}

function signingKeyJson(k: SigningKey, activeKid: string | undefined) {
  const status = k.kid === activeKid ? 'active' : k.retiredAt !== null ? 'retired' : k.activatedAt === null ? 'pending' : 'superseded';
  return {
    kid: k.kid,
    algorithm: k.algorithm,
    status,
    publicJwk: k.publicJwk,
    createdAt: iso(k.createdAt),
    activatedAt: iso(k.activatedAt),
    retiredAt: iso(k.retiredAt),
  };
}
