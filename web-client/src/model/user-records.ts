import type { Money } from '../billing/format-money.js';
import type { ChargeItem } from './received-charge.js';

/** Money as the relay's API writes it: minor units, code, and the exact decimal. */
export interface ApiMoney extends Money {
  readonly decimal: string;
}

/** A session as `GET /api/v1/me/sessions` lists it (docs/billing.md, "HTTP API"). */
export interface UserSessionRecord {
  readonly id: string;
  readonly state: 'attempt' | 'answered' | 'established' | 'ended' | 'failed' | 'cancelled' | 'interrupted' | string;
  readonly service: string;
  readonly appServer: string | null;
  readonly forkGroup: string | null;
  readonly linkedFrom: string | null;
  readonly requestedAt: string | null;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly durationMs: number | null;
  readonly endedBy: string | null;
  readonly endReason: string | null;
  readonly sipStatus: number | null;
  readonly billableSeconds: number | null;
  readonly amount: ApiMoney | null;
}

/** A line of the user's bill. */
export type UserBillLine =
  | {
      readonly kind: 'session';
      readonly at: string;
      readonly sessionId: string;
      readonly service: string;
      readonly startedAt: string;
      readonly durationMs: number;
      readonly billableSeconds: number;
      readonly tariffId: string;
      readonly description: string;
      readonly amount: ApiMoney;
    }
  | {
      readonly kind: 'charge';
      readonly at: string;
      readonly chargeId: string;
      readonly refundOf?: string;
      readonly sessionId: string;
      readonly service?: string;
      readonly description: string;
      readonly items: readonly ChargeItem[];
      readonly amount: ApiMoney;
    };

/** `GET /api/v1/me/bill?period=YYYY-MM`. */
export interface UserBill {
  readonly userId: string;
  readonly period: { readonly kind: string; readonly label: string; readonly start: string; readonly end: string };
  readonly lines: readonly UserBillLine[];
  readonly totals: readonly ApiMoney[];
}

/**
 * The UTC month label of an instant, as bill periods are named (`2026-01`).
 *
 * @example
 * ```ts
 * monthLabel(Date.UTC(2026, 0, 31, 23, 59)); // "2026-01"
 * ```
 */
export function monthLabel(epochMs: number): string {
  const d = new Date(epochMs);
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}
