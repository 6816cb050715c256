import { z } from 'zod';
import { billingError } from './billing-error.js';
import { isCurrencyCode, type CurrencyCode } from './currency.js';
import { fieldError, formatJsonPath, issueMessage, issuePath } from './json-path.js';

/**
 * How measured time is rounded up to billable time, in whole seconds: the
 * first increment is billed as soon as chargeable time starts, each `next`
 * increment as soon as the previous one is used up. `{ first: 60, next: 60 }`
 * bills whole minutes, `{ first: 30, next: 6 }` bills 30 s then 6 s steps,
 * `{ first: 1, next: 1 }` bills per second.
 */
export interface BillingIncrements {
  /** Length of the first increment of a session, in seconds (≥ 1). */
  readonly first: number;
  /** Length of every later increment, in seconds (≥ 1). */
  readonly next: number;
}

/**
 * The price of a service's time. Amounts are integer minor units of
 * `currency`. How each field applies is in docs/billing.md ("Rating") and
 * {@link rateSession}.
 *
 * @example
 * ```ts
 * const lesson: Tariff = parseTariff({
 *   id: 'lesson-standard', currency: 'EUR',
 *   setupFee: 50, pricePerMinute: 120,
 *   increments: { first: 60, next: 60 },
 *   minimumBillableSeconds: 0, freeSeconds: 30,
 * });
 * ```
 */
export interface Tariff {
  /** Stable name, stored with every rated session so a bill can say which tariff applied. */
  readonly id: string;
  readonly currency: CurrencyCode;
  /** Charged once per established session (even one of 0 ms). Default 0. */
  readonly setupFee: number;
  /** Price of 60 billable seconds, in minor units. */
  readonly pricePerMinute: number;
  /** Rounding of time; default `{ first: 1, next: 1 }` (per second). */
  readonly increments: BillingIncrements;
  /** A session is billed for at least this many seconds of chargeable time. Default 0. */
  readonly minimumBillableSeconds: number;
  /** The first seconds of a session are not charged. Default 0. */
  readonly freeSeconds: number;
  /** Shown to people (bills, the portal); not used in rating. */
  readonly description?: string;
}

/** Longest increment, minimum or free time a tariff may state: 31 days. */
export const MAX_TARIFF_SECONDS = 31 * 86_400;

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

const seconds = (min: number) =>
  z
    .int({ error: fieldError('must be a whole number of seconds') })
    .min(min, { error: `must be at least ${min}` })
    .max(MAX_TARIFF_SECONDS, { error: `must be at most ${MAX_TARIFF_SECONDS} (31 days)` });

const minorUnits = () => z.int({ error: fieldError('must be an integer count of minor units') }).min(0, { error: 'must not be negative' });

const tariffShape = z.strictObject({
  id: z.string({ error: fieldError('must be a string') }).regex(ID, {
    error: 'must be 1-64 characters of letters, digits, ".", "_", ":" or "-"',
  }),
  currency: z.custom<CurrencyCode>(isCurrencyCode, { error: fieldError('must be an ISO 4217 code such as "EUR"') }),
  setupFee: minorUnits().default(0),
  pricePerMinute: minorUnits(),
  increments: z
    .strictObject({ first: seconds(1), next: seconds(1) }, { error: 'must be an object { first, next }' })
    .default({ first: 1, next: 1 }),
  minimumBillableSeconds: seconds(0).default(0),
  freeSeconds: seconds(0).default(0),
  description: z.string({ error: 'must be a string' }).max(200, { error: 'must be at most 200 characters' }).optional(),
}, { error: fieldError('must be an object') });

/** A tariff as written in configuration: the fields with defaults may be left out. */
export type TariffInput = z.input<typeof tariffShape>;

/**
 * Zod schema of a {@link Tariff}, for embedding in the relay's configuration
 * schema. Unknown keys are refused so that a misspelt field is reported, not
 * ignored. Defaults: `setupFee` 0, `increments` 1/1, `minimumBillableSeconds`
 * 0, `freeSeconds` 0.
 */
export const tariffSchema: z.ZodType<Tariff, TariffInput> = tariffShape;

const PLAN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/**
 * The tariffs of one service: its default tariff and, optionally, a tariff
 * per user plan. The relay's service configuration embeds this. A `null`
 * tariff means the service's time is not charged (its sessions are not
 * rated; application charges still are).
 *
 * @example
 * ```yaml
 * services:
 *   lesson:
 *     tariff:   { id: lesson, currency: EUR, pricePerMinute: 120, increments: { first: 60, next: 60 } }
 *     plans:
 *       student: { id: lesson-student, currency: EUR, pricePerMinute: 60 }
 *   wine:
 *     tariff: null        # the shop charges for wine, not for time
 * ```
 */
export interface ServiceTariffs {
  readonly tariff: Tariff | null;
  readonly plans?: Readonly<Record<string, Tariff>>;
}

const serviceTariffsShape = z.strictObject({
  tariff: tariffSchema.nullable().default(null),
  plans: z
    .record(z.string().regex(PLAN, { error: 'plan names are 1-64 letters, digits, ".", "_", ":" or "-"' }), tariffSchema)
    .optional(),
}, { error: fieldError('must be an object') });

/** A service's tariffs as written in configuration. */
export type ServiceTariffsInput = z.input<typeof serviceTariffsShape>;

/** Zod schema of {@link ServiceTariffs}. */
export const serviceTariffsSchema: z.ZodType<ServiceTariffs, ServiceTariffsInput> = serviceTariffsShape;

/**
 * Validates a tariff from untrusted input (a config file, the admin API).
 *
 * @throws BillingError `BILLING_ERR_TARIFF` whose `field` names the first bad field.
 * @example
 * ```ts
 * parseTariff({ id: 't', currency: 'EUR', pricePerMinute: 120 });
 * // { id: 't', currency: 'EUR', pricePerMinute: 120, setupFee: 0,
 * //   increments: { first: 1, next: 1 }, minimumBillableSeconds: 0, freeSeconds: 0 }
 * ```
 */
export function parseTariff(input: unknown): Tariff {
  const r = tariffSchema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = formatJsonPath(issuePath(issue));
  throw billingError('BILLING_ERR_TARIFF', field ? `${field}: ${issueMessage(issue)}` : issueMessage(issue), field);
}

/**
 * The tariff that applies to a session of `service` for a user on `plan`: the
 * plan's own tariff when the service has one for that plan, else the
 * service's default. A plan tariff replaces the default as a whole (no field
 * is inherited), so that the tariff id stored with a rated session names
 * every term that was applied. `null` when the session's time is not charged.
 *
 * @example
 * ```ts
 * resolveTariff(lesson, 'student')?.id; // 'lesson-student'
 * resolveTariff(lesson, 'gold')?.id;    // 'lesson' (no gold tariff: the default)
 * resolveTariff(lesson)?.id;            // 'lesson'
 * resolveTariff(wine);                  // null: not time-rated
 * ```
 */
export function resolveTariff(service: ServiceTariffs, plan?: string | null): Tariff | null {
  if (plan != null && service.plans && Object.prototype.hasOwnProperty.call(service.plans, plan)) {
    return service.plans[plan];
  }
  return service.tariff;
}
