/**
 * Application charges as the SDK takes them from an application and sends
 * them to the relay (`application/vnd.siprelay.charge+json`,
 * docs/wire-contracts.md): money is an integer count of the currency's
 * minor unit plus an ISO 4217 code, never a float.
 */

/**
 * One thing sold. `quantity` defaults to 1, `currency` to the app server's
 * `defaultCurrency`.
 *
 * @example
 * ```ts
 * const item: ChargeItemInput = { sku: 'BDX-2015', description: 'Bordeaux 2015, 75 cl', unitPrice: 2450, quantity: 2, currency: 'EUR' };
 * ```
 */
export interface ChargeItemInput {
  /** The application's article number (1–64 characters). */
  sku: string;
  /** What the user sees on the bill. */
  description: string;
  /** Integer minor units (2450 = 24.50 EUR); negative only in a refund. */
  unitPrice: number;
  /** A positive integer. Default 1. */
  quantity?: number;
  /** ISO 4217 code. Default the app server's `defaultCurrency`. */
  currency?: string;
}

/**
 * A charge: its items, and optionally its idempotency key (`id`, generated
 * when absent) and, for a refund, the id of the charge it refunds.
 *
 * @example
 * ```ts
 * await session.charge({ id: 'order-7731', items: [{ sku: 'BDX-2015', description: 'Bordeaux 2015', unitPrice: 2450 }] });
 * await session.charge({ refundOf: 'order-7731', items: [{ sku: 'BDX-2015', description: 'Broken bottle', unitPrice: -2450 }] });
 * ```
 */
export interface ChargeInput {
  /** Idempotency key, 1–128 visible ASCII characters: a charge is stored once per id. */
  id?: string;
  items: readonly ChargeItemInput[];
  refundOf?: string;
}

/**
 * The body sent to the relay, every default filled in.
 *
 * @example
 * ```ts
 * const body: ChargeBody = { id: '3f2a…-k81x', items: [{ sku: 'IPA', description: 'IPA 33 cl', unitPrice: 450, quantity: 1, currency: 'EUR' }] };
 * ```
 */
export interface ChargeBody {
  id: string;
  items: Array<Required<ChargeItemInput>>;
  refundOf?: string;
}

/**
 * The relay's word that a charge is stored: it answered `200` with
 * `Siprelay-Charge: stored;id=<id>`.
 *
 * @example
 * ```ts
 * const receipt = await session.charge(items);
 * console.log(receipt.id, receipt.total); // 'order-7731' { amount: 4900, currency: 'EUR' }
 * ```
 */
export interface ChargeReceipt {
  /** The charge id the relay reported. */
  id: string;
  /** The idempotency key the SDK sent (the body's `id`). */
  key: string;
  /** What was charged. */
  charge: ChargeBody;
  /** Sum of the items, in minor units of their currency. */
  total: { amount: number; currency: string };
  /** Wall-clock ms when the receipt arrived. */
  receivedAt: number;
}

const ID = /^[\x21-\x7e]{1,128}$/;
const CURRENCY = /^[A-Z]{3}$/;

/**
 * Checks a charge given by the application and fills in the defaults:
 * quantity 1, `defaultCurrency`, a new idempotency key. Throws TypeError
 * naming the field at fault (misuse: the application's data is wrong).
 *
 * @example
 * ```ts
 * normalizeCharge([{ sku: 'IPA', description: 'IPA', unitPrice: 450 }], 'EUR', () => 'k1');
 * // { id: 'k1', items: [{ sku: 'IPA', description: 'IPA', unitPrice: 450, quantity: 1, currency: 'EUR' }] }
 * ```
 */
export function normalizeCharge(input: ChargeInput | readonly ChargeItemInput[], defaultCurrency: string | undefined, newId: () => string): ChargeBody {
  const charge: ChargeInput = Array.isArray(input) ? { items: input as readonly ChargeItemInput[] } : (input as ChargeInput);
  if (charge === null || typeof charge !== 'object') throw new TypeError('a charge must be an array of items or { id?, items, refundOf? }');
  const id = charge.id ?? newId();
  if (typeof id !== 'string' || !ID.test(id)) throw new TypeError('charge.id must be 1–128 visible ASCII characters');
  if (!Array.isArray(charge.items) || charge.items.length === 0) throw new TypeError('charge.items must list at least one item');
  const items = charge.items.map((item, i): Required<ChargeItemInput> => {
    const at = `charge.items[${i}]`;
    if (item === null || typeof item !== 'object') throw new TypeError(`${at} must be an object`);
    if (typeof item.sku !== 'string' || item.sku.length === 0) throw new TypeError(`${at}.sku must be a non-empty string`);
    if (typeof item.description !== 'string' || item.description.length === 0) throw new TypeError(`${at}.description must be a non-empty string`);
    if (!Number.isSafeInteger(item.unitPrice)) throw new TypeError(`${at}.unitPrice must be an integer count of minor units (2450 for 24.50), got ${String(item.unitPrice)}`);
    const quantity = item.quantity ?? 1;
    if (!Number.isSafeInteger(quantity) || quantity < 1) throw new TypeError(`${at}.quantity must be a positive integer, got ${String(quantity)}`);
    const currency = item.currency ?? defaultCurrency;
    if (typeof currency !== 'string' || !CURRENCY.test(currency)) {
      throw new TypeError(`${at}.currency must be an ISO 4217 code${defaultCurrency === undefined ? ' (or set defaultCurrency)' : ''}, got ${String(currency)}`);
    }
    return { sku: item.sku, description: item.description, unitPrice: item.unitPrice, quantity, currency };
  });
  const currencies = new Set(items.map((i) => i.currency));
  if (currencies.size > 1) throw new TypeError(`one charge has one currency; got ${[...currencies].join(', ')}`);
  const body: ChargeBody = { id, items };
  if (charge.refundOf !== undefined) {
    if (typeof charge.refundOf !== 'string' || !ID.test(charge.refundOf)) throw new TypeError('charge.refundOf must be the id of an earlier charge');
    body.refundOf = charge.refundOf;
  }
  return body;
}

/**
 * The total of a charge body.
 *
 * @example
 * ```ts
 * chargeTotal(body); // { amount: 4900, currency: 'EUR' }
 * ```
 */
export function chargeTotal(body: ChargeBody): { amount: number; currency: string } {
  let amount = 0;
  for (const i of body.items) amount += i.unitPrice * i.quantity;
  return { amount, currency: body.items[0].currency };
}

/**
 * Reads `Siprelay-Charge: stored;id=<charge-id>` (the id may be quoted).
 * Undefined when the header is absent or does not say `stored`.
 *
 * @example
 * ```ts
 * parseChargeReceiptHeader('stored;id=order-7731'); // { id: 'order-7731' }
 * ```
 */
export function parseChargeReceiptHeader(value: string | undefined): { id: string } | undefined {
  if (value === undefined) return undefined;
  const semi = value.indexOf(';');
  if ((semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase() !== 'stored') return undefined;
  const m = /;\s*id\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(value);
  if (!m) return undefined;
  const id = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2];
  return id === '' ? undefined : { id };
}
