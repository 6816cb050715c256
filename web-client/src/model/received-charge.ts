import { sumByCurrency, type Money } from '../billing/format-money.js';

/** One item of a charge (docs/wire-contracts.md). */
export interface ChargeItem {
  readonly sku: string;
  readonly description: string;
  /** Integer minor units (negative in a refund). */
  readonly unitPrice: number;
  readonly quantity: number;
  readonly currency: string;
}

/**
 * An application charge as the portal received it: by INFO during the
 * session (the relay stored it first, then forwarded it), or in the 2xx to
 * the portal's BYE (the final charges).
 */
export interface ReceivedCharge {
  /** The idempotency key the application server gave it. */
  readonly id: string;
  readonly items: readonly ChargeItem[];
  readonly refundOf?: string;
  /** Per currency; a charge has one currency, but nothing here relies on it. */
  readonly totals: readonly Money[];
  /** `Date.now()` when it arrived. */
  readonly receivedAt: number;
  /** How it came: `info` during the session, `bye` with the end. */
  readonly route: 'info' | 'bye';
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/**
 * Reads an `application/vnd.siprelay.charge+json` body. The relay has
 * validated and stored the charge before forwarding it, so this only
 * refuses what it could not show (not JSON, no items): `undefined`.
 *
 * @example
 * ```ts
 * session.on('info', (info) => { const c = chargeFromBody(info.request.bodyText, 'info', Date.now()); info.accept(); });
 * ```
 */
export function chargeFromBody(text: string, route: 'info' | 'bye', receivedAt: number): ReceivedCharge | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (!Array.isArray(v.items) || v.items.length === 0) return undefined;
  const items: ChargeItem[] = [];
  for (const raw of v.items as unknown[]) {
    if (raw === null || typeof raw !== 'object') return undefined;
    const i = raw as Record<string, unknown>;
    if (!isInt(i.unitPrice) || !isInt(i.quantity) || typeof i.currency !== 'string') return undefined;
    items.push({
      sku: typeof i.sku === 'string' ? i.sku : '',
      description: typeof i.description === 'string' ? i.description : typeof i.sku === 'string' ? i.sku : 'item',
      unitPrice: i.unitPrice,
      quantity: i.quantity,
      currency: i.currency,
    });
  }
  return {
    id: typeof v.id === 'string' ? v.id : '',
    items,
    ...(typeof v.refundOf === 'string' ? { refundOf: v.refundOf } : {}),
    totals: sumByCurrency(items.map((i) => ({ amount: i.unitPrice * i.quantity, currency: i.currency }))),
    receivedAt,
    route,
  };
}
