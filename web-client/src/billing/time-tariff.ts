/**
 * The price of a service's time as the portal needs it to show a running
 * charge: the catalogue's tariff (`GET /api/v1/services`) with its
 * defaults filled in (docs/billing.md, "Tariffs"). Amounts are integer
 * minor units of `currency`.
 */
export interface TimeTariff {
  readonly id: string;
  readonly currency: string;
  readonly setupFee: number;
  readonly pricePerMinute: number;
  readonly increments: { readonly first: number; readonly next: number };
  readonly minimumBillableSeconds: number;
  readonly freeSeconds: number;
  readonly description?: string;
}

const isInt = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;

/**
 * Reads a catalogue tariff. `null`, a tariff without `pricePerMinute` (only
 * `plans` or `relayFee`), or one that breaks the tariff schema means the
 * time is free by default: `undefined`. Plan tariffs are not applied — the
 * portal does not know the user's plan; the bill is what counts.
 *
 * @example
 * ```ts
 * timeTariffOf({ id: 'lesson', currency: 'EUR', pricePerMinute: 120, increments: { first: 60, next: 60 } });
 * ```
 */
export function timeTariffOf(raw: unknown): TimeTariff | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const t = raw as Record<string, unknown>;
  if (!isInt(t.pricePerMinute, 0) || typeof t.currency !== 'string' || !/^[A-Z]{3}$/.test(t.currency)) return undefined;
  const inc = (t.increments ?? { first: 1, next: 1 }) as Record<string, unknown>;
  const setupFee = t.setupFee ?? 0;
  const minimum = t.minimumBillableSeconds ?? 0;
  const free = t.freeSeconds ?? 0;
  if (!isInt(inc.first, 1) || !isInt(inc.next, 1) || !isInt(setupFee, 0) || !isInt(minimum, 0) || !isInt(free, 0)) return undefined;
  return {
    id: typeof t.id === 'string' ? t.id : 'tariff',
    currency: t.currency,
    setupFee,
    pricePerMinute: t.pricePerMinute,
    increments: { first: inc.first, next: inc.next },
    minimumBillableSeconds: minimum,
    freeSeconds: free,
    ...(typeof t.description === 'string' ? { description: t.description } : {}),
  };
}
