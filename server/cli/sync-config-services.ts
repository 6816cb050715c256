import type { RelayConfig } from '../config/relay-config-schema.js';
import type { Service } from '../store/service-repository.js';
import type { Store } from '../store/store.js';

/**
 * Writes the configuration's services into the store, so that bindings of
 * application servers and session records can refer to them. Only new or
 * changed services are written. Services that left the configuration stay
 * in the store (records may refer to them); they are listed in the result.
 */
export async function syncConfigServices(
  config: Pick<RelayConfig, 'services'>,
  store: Store,
): Promise<{ written: string[]; notConfigured: string[] }> {
  const stored = new Map((await store.services.list()).map((s) => [s.name, s]));
  const written: string[] = [];
  for (const s of config.services) {
    const def = {
      name: s.name,
      description: s.description,
      forkMode: s.fork,
      allowNoCancel: s.allowNoCancel,
      maxDurationSeconds: s.maxDurationSeconds,
      maxSessions: s.maxSessions,
      sessionTimerSeconds: s.sessionTimerSeconds,
      tariff: s.tariff,
    };
    const current = stored.get(s.name);
    if (current && same(current, def)) continue;
    await store.services.upsert(def);
    written.push(s.name);
  }
  const configured = new Set(config.services.map((s) => s.name));
  return { written, notConfigured: [...stored.keys()].filter((n) => !configured.has(n)) };
}

function same(stored: Service, def: Omit<Service, 'id' | 'createdAt' | 'updatedAt'>): boolean {
  return (
    stored.description === def.description &&
    stored.forkMode === def.forkMode &&
    stored.allowNoCancel === def.allowNoCancel &&
    stored.maxDurationSeconds === def.maxDurationSeconds &&
    stored.maxSessions === def.maxSessions &&
    stored.sessionTimerSeconds === def.sessionTimerSeconds &&
    JSON.stringify(stored.tariff) === JSON.stringify(def.tariff)
  );
}
