import { z } from 'zod';
import { BillingError, billingError, type BillingErrorCode } from './billing-error.js';
import { isCurrencyCode, type CurrencyCode } from './currency.js';
import { CurrencyTotals } from './currency-totals.js';
import { fieldError, formatJsonPath, issueMessage, issuePath } from './json-path.js';
import type { Money } from './money.js';
import { checkedAdd } from './safe-integer.js';

/** The media type of an application charge body (design brief, wire contracts). */
export const CHARGE_MEDIA_TYPE = 'application/vnd.siprelay.charge+json';

/** One thing sold: `quantity` units at `unitPrice` minor units of `currency`. */
export interface ChargeItem {
  /** The application's own article number. */
  readonly sku: string;
  /** What the user sees on the bill and in the portal. */
  readonly description: string;
  /** Integer minor units; ≥ 0 in a charge, < 0 in a refund. */
  readonly unitPrice: number;
  /** A positive integer. */
  readonly quantity: number;
  readonly currency: CurrencyCode;
}

/**
 * An application charge, the body `application/vnd.siprelay.charge+json`
 * that an application server sends in an INFO, in its 2xx to BYE, or to
 * `POST /api/v1/sessions/{id}/charges`.
 *
 * A refund is a charge with `refundOf` naming an earlier charge of the same
 * application server, and negative unit prices.
 *
 * @example
 * ```json
 * { "id": "order-7731",
 *   "items": [{ "sku": "BDX-2015", "description": "Bordeaux 2015, 75 cl",
 *               "unitPrice": 2450, "quantity": 2, "currency": "EUR" }] }
 * ```
 * ```json
 * { "id": "order-7731-r1", "refundOf": "order-7731",
 *   "items": [{ "sku": "BDX-2015", "description": "Bordeaux 2015, 75 cl (broken)",
 *               "unitPrice": -2450, "quantity": 1, "currency": "EUR" }] }
 * ```
 */
export interface Charge {
  /** Idempotency key: a charge is stored once per id; a repeat returns the first result. */
  readonly id: string;
  readonly items: readonly ChargeItem[];
  /** Present in a refund: the id of the charge it refunds. */
  readonly refundOf?: string;
}

/**
 * Limits on one charge. Every limit has a default; operators set them per
 * relay (configuration key `billing.charges`).
 */
export interface ChargeLimits {
  /** Largest body in bytes (UTF-8) that {@link parseChargeBody} reads. Default 65 536. */
  readonly maxBodyBytes?: number;
  /** Most items in one charge. Default 50. */
  readonly maxItems?: number;
  /** Longest `id` and `refundOf`, in characters. Default 128. */
  readonly maxIdLength?: number;
  /** Longest `sku`, in characters. Default 64. */
  readonly maxSkuLength?: number;
  /** Longest `description`, in characters. Default 200. */
  readonly maxDescriptionLength?: number;
  /** Largest `quantity` of one item. Default 10 000. */
  readonly maxQuantity?: number;
  /** Largest |total| of one charge in minor units, whatever the currency. Default 100 000 000 (1 000 000.00 in a 2-decimal currency). */
  readonly maxTotal?: number;
  /** Per-currency overrides of `maxTotal` (e.g. `{ JPY: 150000000 }`). */
  readonly maxTotalByCurrency?: Readonly<Partial<Record<CurrencyCode, number>>>;
}

/** The defaults of {@link ChargeLimits}. */
export const DEFAULT_CHARGE_LIMITS: Readonly<Required<ChargeLimits>> = Object.freeze({
  maxBodyBytes: 65_536,
  maxItems: 50,
  maxIdLength: 128,
  maxSkuLength: 64,
  maxDescriptionLength: 200,
  maxQuantity: 10_000,
  maxTotal: 100_000_000,
  maxTotalByCurrency: Object.freeze({}),
});

type ResolvedLimits = Readonly<Required<ChargeLimits>>;

/** The outcome of validating a charge: the charge and its total, or why it is refused. */
export type ChargeValidation =
  | { readonly ok: true; readonly charge: Charge; readonly total: Money }
  | { readonly ok: false; readonly error: BillingError };

// Visible ASCII: ids travel in headers, URLs and logs.
const ID = /^[\x21-\x7e]+$/;
// No C0 controls or DEL: text reaches bills, CSV files and SIP reason phrases.
const TEXT = /^[^\x00-\x1f\x7f]+$/;

function resolveLimits(limits: ChargeLimits | undefined): ResolvedLimits {
  const r: Required<ChargeLimits> = { ...DEFAULT_CHARGE_LIMITS };
  // An option given as undefined keeps its default.
  for (const [k, v] of Object.entries(limits ?? {})) {
    if (!Object.prototype.hasOwnProperty.call(DEFAULT_CHARGE_LIMITS, k)) throw new TypeError(`unknown ChargeLimits option ${k}`);
    if (v !== undefined) (r as Record<string, unknown>)[k] = v;
  }
  for (const key of ['maxBodyBytes', 'maxItems', 'maxIdLength', 'maxSkuLength', 'maxDescriptionLength', 'maxQuantity', 'maxTotal'] as const) {
    const v = r[key];
    if (!Number.isSafeInteger(v) || v < 1) throw new TypeError(`ChargeLimits.${key} must be a positive integer, got ${String(v)}`);
  }
  for (const [code, v] of Object.entries(r.maxTotalByCurrency)) {
    if (!isCurrencyCode(code)) throw new TypeError(`ChargeLimits.maxTotalByCurrency: unknown currency ${code}`);
    if (!Number.isSafeInteger(v) || (v as number) < 1) {
      throw new TypeError(`ChargeLimits.maxTotalByCurrency.${code} must be a positive integer`);
    }
  }
  return r;
}

/** Tags a custom issue with the billing code it should be reported as. */
type Tagged = { code: BillingErrorCode };

/**
 * Zod schema of a {@link Charge} under `limits`. Unknown keys are refused (a
 * misspelt `unit_price` is named, not ignored). Beyond the shape it checks:
 * unit prices ≥ 0 in a charge and < 0 in a refund, one currency for all items,
 * `refundOf` ≠ `id`, and the total within `maxTotal`.
 *
 * Prefer {@link createChargeValidator}, which also maps each failure to a
 * billing error code and the path of the first bad field.
 */
export function chargeSchema(limits?: ChargeLimits): z.ZodType<Charge> {
  return buildSchema(resolveLimits(limits));
}

function buildSchema(l: ResolvedLimits): z.ZodType<Charge> {
  const id = z
    .string({ error: fieldError('must be a string') })
    .min(1, { error: 'must not be empty' })
    .max(l.maxIdLength, { error: `must be at most ${l.maxIdLength} characters` })
    .regex(ID, { error: 'must be visible ASCII characters without spaces' });
  const text = (max: number) =>
    z
      .string({ error: fieldError('must be a string') })
      .min(1, { error: 'must not be empty' })
      .max(max, { error: `must be at most ${max} characters` })
      .regex(TEXT, { error: 'must not contain control characters' });
  const item = z.strictObject(
    {
      sku: text(l.maxSkuLength),
      description: text(l.maxDescriptionLength),
      unitPrice: z.int({ error: fieldError('must be an integer count of minor units') }),
      quantity: z
        .int({ error: fieldError('must be a positive integer') })
        .min(1, { error: 'must be a positive integer' })
        .max(l.maxQuantity, { error: `must be at most ${l.maxQuantity}` }),
      currency: z
        .string({ error: fieldError('must be a string') })
        .refine(isCurrencyCode, {
          error: 'must be an ISO 4217 currency code such as "EUR"',
          params: { code: 'BILLING_ERR_CURRENCY' } satisfies Tagged,
        }),
    },
    { error: fieldError('must be an object') },
  );
  return z
    .strictObject(
      {
        id,
        items: z
          .array(item, { error: fieldError('must be an array') })
          .min(1, { error: 'must hold at least one item' })
          .max(l.maxItems, { error: `must hold at most ${l.maxItems} items` }),
        refundOf: id.optional(),
      },
      { error: fieldError('must be a JSON object') },
    )
    .superRefine((c, ctx) => {
      // Zod runs this even when a non-aborting check (like items.min) failed.
      if (c.items.length === 0) return;
      const refund = c.refundOf !== undefined;
      if (refund && c.refundOf === c.id) {
        ctx.addIssue({ code: 'custom', path: ['refundOf'], message: 'must name another charge than this one', params: { code: 'BILLING_ERR_CHARGE_INVALID' } satisfies Tagged });
        return;
      }
      const currency = c.items[0].currency;
      let total = 0;
      for (let i = 0; i < c.items.length; i++) {
        const it = c.items[i];
        if (refund ? it.unitPrice >= 0 : it.unitPrice < 0) {
          ctx.addIssue({
            code: 'custom',
            path: ['items', i, 'unitPrice'],
            message: refund ? 'must be negative in a refund' : 'must not be negative (a refund names its charge in refundOf)',
            params: { code: 'BILLING_ERR_CHARGE_INVALID' } satisfies Tagged,
          });
          return;
        }
        if (it.currency !== currency) {
          ctx.addIssue({
            code: 'custom',
            path: ['items', i, 'currency'],
            message: `must be ${currency} like items[0]: one charge has one currency`,
            params: { code: 'BILLING_ERR_CURRENCY_MISMATCH' } satisfies Tagged,
          });
          return;
        }
        const line = it.unitPrice * it.quantity;
        total += line;
        if (!Number.isSafeInteger(line) || !Number.isSafeInteger(total)) {
          ctx.addIssue({ code: 'custom', path: ['items', i], message: 'total is out of range', params: { code: 'BILLING_ERR_CHARGE_LIMIT' } satisfies Tagged });
          return;
        }
      }
      const max = l.maxTotalByCurrency[currency] ?? l.maxTotal;
      if (Math.abs(total) > max) {
        ctx.addIssue({
          code: 'custom',
          path: ['items'],
          message: `total ${Math.abs(total)} exceeds the limit of ${max} ${currency} minor units per charge`,
          params: { code: 'BILLING_ERR_CHARGE_LIMIT' } satisfies Tagged,
        });
      }
    }) as z.ZodType<Charge>;
}

interface ZodIssueLike {
  readonly code: string;
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly keys?: readonly string[];
  readonly origin?: string;
  readonly params?: Record<string, unknown>;
}

function issueCode(issue: ZodIssueLike): BillingErrorCode {
  const tagged = issue.params?.code;
  if (typeof tagged === 'string') return tagged as BillingErrorCode;
  // A configured maximum (items, lengths, quantity) is a limit; the safe-integer
  // bound of z.int() (origin "int") is a malformed number.
  if (issue.code === 'too_big' && issue.origin !== 'int') return 'BILLING_ERR_CHARGE_LIMIT';
  return 'BILLING_ERR_CHARGE_INVALID';
}

function refusal(code: BillingErrorCode, field: string, message: string): { ok: false; error: BillingError } {
  return { ok: false, error: billingError(code, field ? `${field}: ${message}` : message, field) };
}

/** A charge validator built once from its limits; see {@link createChargeValidator}. */
export interface ChargeValidator {
  /** The limits in force, defaults filled in. */
  readonly limits: Readonly<Required<ChargeLimits>>;
  /** Validates a parsed JSON value. */
  validate(input: unknown): ChargeValidation;
  /** Checks the size, parses the JSON and validates it. */
  parse(body: string | Uint8Array): ChargeValidation;
}

/**
 * Builds a validator for charge bodies. Limits are checked here, once: a
 * limit that is not a positive integer throws `TypeError`.
 *
 * A refusal carries the billing error code (and so the status: 400, or 413
 * for a body over `maxBodyBytes`), the path of the first bad field (`field`,
 * e.g. `items[2].quantity`), and a message starting with that path, fit for
 * an HTTP JSON error and, being one line of ASCII-safe text, a SIP reason
 * phrase.
 *
 * @example
 * ```ts
 * const charges = createChargeValidator({ maxItems: 20 });
 * const r = charges.parse(info.body);
 * if (!r.ok) return reply(r.error.status, r.error.message); // 400 "items[0].quantity: must be a positive integer"
 * store(r.charge, r.total);
 * ```
 */
export function createChargeValidator(limits?: ChargeLimits): ChargeValidator {
  const resolved = resolveLimits(limits);
  const schema = buildSchema(resolved);
  const encoder = new TextEncoder();

  function validate(input: unknown): ChargeValidation {
    const r = schema.safeParse(input);
    if (!r.success) {
      const issue = r.error.issues[0] as ZodIssueLike;
      return refusal(issueCode(issue), formatJsonPath(issuePath(issue)), issueMessage(issue));
    }
    const charge = r.data;
    return { ok: true, charge, total: chargeTotal(charge) };
  }

  function parse(body: string | Uint8Array): ChargeValidation {
    let text: string;
    if (typeof body === 'string') {
      // A UTF-16 unit is at most 3 UTF-8 bytes: encode only when that could matter.
      if (body.length * 3 > resolved.maxBodyBytes && encoder.encode(body).length > resolved.maxBodyBytes) {
        return refusal('BILLING_ERR_CHARGE_TOO_LARGE', '', `body exceeds ${resolved.maxBodyBytes} bytes`);
      }
      text = body;
    } else {
      if (body.length > resolved.maxBodyBytes) {
        return refusal('BILLING_ERR_CHARGE_TOO_LARGE', '', `body exceeds ${resolved.maxBodyBytes} bytes`);
      }
      const decoded = decodeUtf8(body);
      if (decoded === undefined) return refusal('BILLING_ERR_CHARGE_INVALID', '', 'body is not UTF-8');
      text = decoded;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return refusal('BILLING_ERR_CHARGE_INVALID', '', 'body is not valid JSON');
    }
    return validate(value);
  }

  return { limits: resolved, validate, parse };
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

let defaultValidator: ChargeValidator | undefined;

/**
 * Validates a parsed charge under the default limits (or `limits`; to
 * validate many charges build a validator once with {@link createChargeValidator}).
 *
 * @example
 * ```ts
 * const r = validateCharge({ id: 'o1', items: [{ sku: 'A', description: 'Apple', unitPrice: 50, quantity: 0, currency: 'EUR' }] });
 * // r.ok === false; r.error.code === 'BILLING_ERR_CHARGE_INVALID'; r.error.field === 'items[0].quantity'
 * ```
 */
export function validateCharge(input: unknown, limits?: ChargeLimits): ChargeValidation {
  if (limits) return createChargeValidator(limits).validate(input);
  defaultValidator ??= createChargeValidator();
  return defaultValidator.validate(input);
}

/** Parses and validates a charge body (JSON text or bytes) under the default limits or `limits`. */
export function parseChargeBody(body: string | Uint8Array, limits?: ChargeLimits): ChargeValidation {
  if (limits) return createChargeValidator(limits).parse(body);
  defaultValidator ??= createChargeValidator();
  return defaultValidator.parse(body);
}

/**
 * The total of one valid charge: Σ unitPrice × quantity in its one currency
 * (negative for a refund).
 *
 * @throws BillingError `BILLING_ERR_OVERFLOW`, `BILLING_ERR_CURRENCY_MISMATCH`
 *   (only for a charge that did not pass validation).
 * @example
 * ```ts
 * chargeTotal({ id: 'o1', items: [{ sku: 'A', description: 'Apple', unitPrice: 50, quantity: 3, currency: 'EUR' }] });
 * // { amount: 150, currency: 'EUR' }
 * ```
 */
export function chargeTotal(charge: Charge): Money {
  const currency = charge.items[0].currency;
  let total = 0;
  for (const it of charge.items) {
    if (it.currency !== currency) throw billingError('BILLING_ERR_CURRENCY_MISMATCH', `charge ${charge.id} mixes ${currency} and ${it.currency}`);
    const line = it.unitPrice * it.quantity;
    if (!Number.isSafeInteger(line)) throw billingError('BILLING_ERR_OVERFLOW', `charge ${charge.id}: item total out of range`);
    total = checkedAdd(total, line);
  }
  return { amount: total === 0 ? 0 : total, currency };
}

/**
 * Totals of many charges (refunds subtract), one per currency, sorted by code.
 *
 * @example
 * ```ts
 * chargeTotals([order, refund]); // [{ amount: 2450, currency: 'EUR' }]
 * ```
 */
export function chargeTotals(charges: Iterable<Charge>): Money[] {
  const totals = new CurrencyTotals();
  for (const c of charges) totals.add(chargeTotal(c));
  return totals.toArray();
}

/** A charge already stored, with the application server that made it. */
export interface ChargeRecord {
  readonly charge: Charge;
  /** Id of the application server that sent the charge. */
  readonly applicationServer: string;
}

/** The outcome of {@link checkRefund}. */
export type RefundCheck =
  | {
      readonly ok: true;
      /** The charge being refunded. */
      readonly original: ChargeRecord;
      /** What of the original remains unrefunded after this refund (≥ 0). */
      readonly remaining: Money;
    }
  | { readonly ok: false; readonly error: BillingError };

/**
 * Checks that a valid refund may be accepted given the earlier charges: it
 * names a charge (not a refund) of the same application server, in the same
 * currency, and together with the earlier refunds of that charge it returns
 * at most the charge's total. Earlier records with the refund's own id are
 * ignored, so a retransmitted refund is not counted against itself.
 *
 * @param earlier the stored charges and refunds the refund may refer to
 *   (for instance those of the session, or of the application server).
 * @example
 * ```ts
 * const r = checkRefund(refund, storedCharges, 'wine-shop-1');
 * if (!r.ok) return reply(r.error.status, r.error.message); // 400 BILLING_ERR_REFUND_EXCEEDS, 403 …_FORBIDDEN
 * ```
 */
export function checkRefund(refund: Charge, earlier: readonly ChargeRecord[], applicationServer: string): RefundCheck {
  const target = refund.refundOf;
  if (target === undefined) return refusal('BILLING_ERR_CHARGE_INVALID', 'refundOf', 'is required in a refund');
  let original: ChargeRecord | undefined;
  let foreign = false;
  for (const rec of earlier) {
    if (rec.charge.id !== target) continue;
    if (rec.applicationServer === applicationServer) original = rec;
    else foreign = true;
  }
  if (!original) {
    return foreign
      ? refusal('BILLING_ERR_REFUND_FORBIDDEN', 'refundOf', 'names a charge of another application server')
      : refusal('BILLING_ERR_REFUND_UNKNOWN', 'refundOf', 'names no earlier charge');
  }
  if (original.charge.refundOf !== undefined) {
    return refusal('BILLING_ERR_REFUND_UNKNOWN', 'refundOf', 'names a refund, not a charge');
  }
  const charged = chargeTotal(original.charge);
  const asked = chargeTotal(refund);
  if (asked.currency !== charged.currency) {
    return refusal('BILLING_ERR_CURRENCY_MISMATCH', 'items[0].currency', `must be ${charged.currency}, the currency of the refunded charge`);
  }
  let remaining = charged.amount;
  for (const rec of earlier) {
    const c = rec.charge;
    if (c.refundOf === target && c.id !== refund.id && rec.applicationServer === applicationServer) {
      remaining = checkedAdd(remaining, chargeTotal(c).amount);
    }
  }
  const after = checkedAdd(remaining, asked.amount);
  if (after < 0) {
    return refusal(
      'BILLING_ERR_REFUND_EXCEEDS',
      'items',
      `refund of ${-asked.amount} exceeds the ${Math.max(0, remaining)} ${charged.currency} minor units left to refund of charge ${target}`,
    );
  }
  return { ok: true, original, remaining: { amount: after, currency: charged.currency } };
}
