import type { ApiMoney, UserBill, UserSessionRecord } from './user-records.js';
import type { RelayHttp } from './relay-http.js';

/** A session as the admin API lists it: the user's view plus who and where. */
export interface AdminSessionRecord extends UserSessionRecord {
  readonly user: string;
  readonly operator: string | null;
  readonly answeredAt: string | null;
  readonly callId?: string;
  readonly nodeId?: string;
  readonly lastAliveAt?: string | null;
}

/** A stored charge as the admin API shows it. */
export interface AdminChargeRecord {
  readonly ref: string;
  readonly id: string;
  readonly sessionId: string;
  readonly appServer: string;
  readonly service: string | null;
  readonly route: string;
  readonly refundOf: string | null;
  readonly items: ReadonlyArray<{ sku: string; description: string; unitPrice: number; quantity: number; currency: string }>;
  readonly total: ApiMoney;
  readonly acceptedAt: string;
}

/** An application-server account (`GET /admin/v1/app-servers`). */
export interface AdminAppServer {
  readonly name: string;
  readonly displayName: string | null;
  readonly operator: string | null;
  readonly disabled: boolean;
  readonly services: ReadonlyArray<{ service: string; weight: number; targetUri: string | null }>;
}

/** A target of the directory (`GET /admin/v1/targets`). */
export interface AdminTarget {
  readonly service: string;
  readonly appServer: string;
  readonly uri: string;
  readonly source: 'registered' | 'static';
  readonly up: boolean;
  readonly load: number;
  readonly weight: number;
  readonly lastStatus: number;
  readonly expiresAt: string | null;
}

/** An operator's settlement (`GET /admin/v1/settlements`). */
export interface AdminSettlement {
  readonly operatorId: string;
  readonly period: { readonly label: string };
  readonly lines: ReadonlyArray<{ reference: { type: string; id: string } | string; at: string; gross: ApiMoney; fee: ApiMoney; net: ApiMoney }>;
  readonly totals: ReadonlyArray<{ currency: string; gross: ApiMoney; fee: ApiMoney; net: ApiMoney; sessions: number; charges: number }>;
}

/** A user's account (`GET /admin/v1/accounts?kind=user`). */
export interface AdminAccount {
  readonly account: string;
  readonly kind: string;
  readonly owner: string;
  readonly mode: string | null;
  readonly currency: string;
  readonly balance: ApiMoney | null;
  readonly available: ApiMoney | null;
}

/**
 * The relay's admin API (docs/api.md, docs/billing.md) as the operator
 * console reads it, with the admin token the operator typed in — kept in
 * this object only, never stored.
 *
 * @example
 * ```ts
 * const api = new AdminApi(new RelayHttp(''), token);
 * const live = await api.liveSessions();
 * ```
 */
export class AdminApi {
  constructor(
    private readonly http: RelayHttp,
    private readonly token: string,
  ) {}

  /** Live sessions (attempt, answered, established), newest first. */
  async liveSessions(signal?: AbortSignal): Promise<AdminSessionRecord[]> {
    return (await this.http.getJson<{ sessions: AdminSessionRecord[] }>('/admin/v1/sessions?live=true&limit=200', this.token, signal)).sessions;
  }

  /** The latest sessions of any state. */
  async recentSessions(limit = 50, signal?: AbortSignal): Promise<AdminSessionRecord[]> {
    return (await this.http.getJson<{ sessions: AdminSessionRecord[] }>(`/admin/v1/sessions?limit=${limit}`, this.token, signal)).sessions;
  }

  async sessionCharges(id: string, signal?: AbortSignal): Promise<AdminChargeRecord[]> {
    return (await this.http.getJson<{ charges: AdminChargeRecord[] }>(`/admin/v1/sessions/${encodeURIComponent(id)}/charges`, this.token, signal)).charges;
  }

  async appServers(signal?: AbortSignal): Promise<AdminAppServer[]> {
    return (await this.http.getJson<{ appServers: AdminAppServer[] }>('/admin/v1/app-servers', this.token, signal)).appServers;
  }

  async targets(signal?: AbortSignal): Promise<AdminTarget[]> {
    return (await this.http.getJson<{ targets: AdminTarget[] }>('/admin/v1/targets', this.token, signal)).targets;
  }

  async accounts(signal?: AbortSignal): Promise<AdminAccount[]> {
    return (await this.http.getJson<{ accounts: AdminAccount[] }>('/admin/v1/accounts?kind=user', this.token, signal)).accounts;
  }

  bill(user: string, period: string, signal?: AbortSignal): Promise<UserBill> {
    return this.http.getJson<UserBill>(`/admin/v1/bills?user=${encodeURIComponent(user)}&period=${encodeURIComponent(period)}`, this.token, signal);
  }

  settlement(operator: string, period: string, signal?: AbortSignal): Promise<AdminSettlement> {
    return this.http.getJson<AdminSettlement>(`/admin/v1/settlements?operator=${encodeURIComponent(operator)}&period=${encodeURIComponent(period)}`, this.token, signal);
  }
}
