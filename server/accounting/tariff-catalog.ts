import { isBillingError } from '../billing/billing-error.js';
import { NO_RELAY_FEE, relayFeeSchema, type RelayFee } from '../billing/ledger.js';
import { parseTariff, resolveTariff, type Tariff } from '../billing/tariff.js';
import { formatJsonPath } from '../billing/json-path.js';
import { ConfigError } from '../config/config-error.js';

/** What accounting needs to know of one configured service. */
export interface ServiceBilling {
  readonly service: string;
  /** The default tariff; null when the service's time is not charged. */
  readonly tariff: Tariff | null;
  /** Tariffs per user plan, replacing the default as a whole (docs/billing.md, "Plans"). */
  readonly plans: Readonly<Record<string, Tariff>>;
  /** The relay operator's fee on the service's sessions and charges. */
  readonly relayFee: RelayFee;
}

/** A configured service as the catalogue reads it (`services[]` of the relay configuration). */
export interface ServiceTariffConfig {
  readonly name: string;
  /** The free `tariff` mapping of the service configuration, or null. */
  readonly tariff?: Readonly<Record<string, unknown>> | null;
}

/** Options of {@link TariffCatalog.fromConfig}. */
export interface TariffCatalogOptions {
  /** Fee for services whose tariff mapping names no `relayFee`. Default none (0). */
  readonly defaultRelayFee?: RelayFee;
}

/** Keys of a service's `tariff` mapping that are accounting's, not the tariff's. */
const EXTRA_KEYS = ['plans', 'relayFee'] as const;

/**
 * The tariffs and relay fees of the configured services.
 *
 * A service's `tariff` mapping in the configuration is the billing core's
 * tariff (`tariffSchema`) with two optional extra keys:
 *
 * ```yaml
 * services:
 *   - name: lesson
 *     tariff:
 *       id: lesson-standard
 *       currency: EUR
 *       pricePerMinute: 120
 *       increments: { first: 60, next: 60 }
 *       plans:                      # per user plan, replacing the default whole
 *         student: { id: lesson-student, currency: EUR, pricePerMinute: 60 }
 *       relayFee: { basisPoints: 1000, fixedPerSession: { amount: 5, currency: EUR } }
 *   - name: wine
 *     tariff: { relayFee: { basisPoints: 250 } }   # time free, 2.5 % of the charges
 *   - name: beer                                    # tariff: null — free, no fee
 * ```
 *
 * A mapping with no tariff keys (only `plans` and/or `relayFee`) means the
 * time is free by default.
 */
export class TariffCatalog {
  private constructor(
    private readonly byService: ReadonlyMap<string, ServiceBilling>,
    private readonly defaultRelayFee: RelayFee,
  ) {}

  /**
   * Reads the services of the configuration.
   *
   * @throws ConfigError `CONFIG_ERR_INVALID` naming the bad key, e.g.
   *   `services[3].tariff.pricePerMinute: is required`, so start-up stops
   *   with a clear message.
   */
  static fromConfig(services: readonly ServiceTariffConfig[], options: TariffCatalogOptions = {}): TariffCatalog {
    const fallbackFee = options.defaultRelayFee ?? NO_RELAY_FEE;
    const parsedDefault = relayFeeSchema.safeParse(fallbackFee);
    if (!parsedDefault.success) throw new TypeError('defaultRelayFee does not follow relayFeeSchema');
    const map = new Map<string, ServiceBilling>();
    services.forEach((s, i) => {
      map.set(s.name, parseServiceBilling(s, `services[${i}].tariff`, parsedDefault.data));
    });
    return new TariffCatalog(map, parsedDefault.data);
  }

  /** A catalogue from already parsed entries (tests, tools). */
  static of(entries: readonly ServiceBilling[], defaultRelayFee: RelayFee = NO_RELAY_FEE): TariffCatalog {
    return new TariffCatalog(new Map(entries.map((e) => [e.service, e])), defaultRelayFee);
  }

  /** Whether the service is configured. */
  has(service: string): boolean {
    return this.byService.has(service);
  }

  /** The service's billing terms, or undefined for an unknown service. */
  get(service: string): ServiceBilling | undefined {
    return this.byService.get(service);
  }

  /**
   * The tariff of `service` for a user on `plan` (the plan's own, else the
   * default). Null when the time is free, and for an unknown service.
   */
  tariff(service: string, plan?: string | null): Tariff | null {
    const b = this.byService.get(service);
    if (!b) return null;
    return resolveTariff({ tariff: b.tariff, plans: b.plans }, plan);
  }

  /** The relay fee of `service` (the default fee for an unknown service). */
  relayFee(service: string): RelayFee {
    return this.byService.get(service)?.relayFee ?? this.defaultRelayFee;
  }

  /** Configured service names, sorted. */
  services(): string[] {
    return [...this.byService.keys()].sort();
  }
}

function invalid(path: string, message: string): ConfigError {
  return new ConfigError('CONFIG_ERR_INVALID', [{ path, message, source: 'configuration' }]);
}

function parseServiceBilling(s: ServiceTariffConfig, path: string, defaultFee: RelayFee): ServiceBilling {
  const raw = s.tariff;
  if (raw === undefined || raw === null) return { service: s.name, tariff: null, plans: {}, relayFee: defaultFee };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalid(path, 'expected a mapping or null');
  const tariffFields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!(EXTRA_KEYS as readonly string[]).includes(k)) tariffFields[k] = v;
  }
  const tariff = Object.keys(tariffFields).length === 0 ? null : tariffAt(tariffFields, path);

  const plans: Record<string, Tariff> = {};
  if (raw.plans !== undefined) {
    if (typeof raw.plans !== 'object' || raw.plans === null || Array.isArray(raw.plans)) {
      throw invalid(`${path}.plans`, 'expected a mapping of plan names to tariffs');
    }
    for (const [plan, t] of Object.entries(raw.plans as Record<string, unknown>)) {
      if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/.test(plan)) {
        throw invalid(`${path}.plans${formatJsonPath([plan])}`, 'plan names are 1-64 letters, digits, ".", "_", ":" or "-"');
      }
      plans[plan] = tariffAt(t, `${path}.plans.${plan}`);
    }
  }

  let relayFee = defaultFee;
  if (raw.relayFee !== undefined) {
    const r = relayFeeSchema.safeParse(raw.relayFee);
    if (!r.success) {
      const issue = r.error.issues[0];
      const sub = formatJsonPath(issue.path as PropertyKey[]);
      throw invalid(`${path}.relayFee${sub ? (sub.startsWith('[') ? sub : '.' + sub) : ''}`, issue.message);
    }
    relayFee = r.data;
  }

  // A fixed fee per session must be in the currency of the sessions it applies to.
  const fixed = relayFee.fixedPerSession;
  if (fixed && fixed.amount > 0) {
    for (const t of [tariff, ...Object.values(plans)]) {
      if (t && t.currency !== fixed.currency) {
        throw invalid(`${path}.relayFee.fixedPerSession.currency`, `must be ${t.currency}, the currency of tariff ${t.id}`);
      }
    }
  }
  return { service: s.name, tariff, plans, relayFee };
}

function tariffAt(input: unknown, path: string): Tariff {
  try {
    return parseTariff(input);
  } catch (e) {
    if (isBillingError(e)) {
      // The billing message starts with the field path; re-root it at the configuration key.
      const field = e.field ?? '';
      const message = field && e.message.startsWith(`${field}: `) ? e.message.slice(field.length + 2) : e.message;
      throw invalid(field ? `${path}${field.startsWith('[') ? '' : '.'}${field}` : path, message);
    }
    throw e;
  }
}
