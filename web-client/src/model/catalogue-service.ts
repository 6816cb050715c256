import { timeTariffOf, type TimeTariff } from '../billing/time-tariff.js';

/** A service of the relay's catalogue (`GET /api/v1/services`). */
export interface CatalogueService {
  readonly name: string;
  readonly description: string;
  /** Its time tariff; `undefined` when its time is free. */
  readonly tariff: TimeTariff | undefined;
}

/**
 * Reads the catalogue's JSON (`{ "services": [ { name, description, tariff } ] }`),
 * keeping services with a usable name.
 *
 * @example
 * ```ts
 * const services = catalogueFromJson(await (await fetch('/api/v1/services')).json());
 * ```
 */
export function catalogueFromJson(body: unknown): CatalogueService[] {
  const list = (body as { services?: unknown } | null)?.services;
  if (!Array.isArray(list)) return [];
  const out: CatalogueService[] = [];
  for (const raw of list as unknown[]) {
    const s = raw as Record<string, unknown> | null;
    if (!s || typeof s.name !== 'string' || !/^[A-Za-z0-9._~!$&'()*+,;=-]+$/.test(s.name)) continue;
    out.push({ name: s.name, description: typeof s.description === 'string' ? s.description : '', tariff: timeTariffOf(s.tariff) });
  }
  return out;
}
