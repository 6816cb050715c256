import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Options of {@link RelayMetrics}. */
export interface RelayMetricsOptions {
  /** Also collect Node's process metrics (CPU, memory, event loop lag, GC). Default true. */
  collectDefault?: boolean;
}

/**
 * The relay's Prometheus registry, served at `GET /metrics`. This class
 * creates the registry and the metrics of the HTTP server, authentication
 * and identity assertion; the relay's other parts register theirs on
 * `registry` (names start with `siprelay_`).
 */
export class RelayMetrics {
  readonly registry = new Registry();
  /** HTTP requests answered, by method, route pattern (not the raw path) and status. */
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  /** Time to answer HTTP requests. */
  readonly httpRequestSeconds: Histogram<'method' | 'route'>;
  /** Digest authentications by outcome (`AuthOutcomeLabel`). */
  readonly authOutcomes: Counter<'outcome'>;
  /** Tokens signed for application servers. */
  readonly tokensSigned: Counter;
  /**
   * How long each accounting write (session milestone, charge) waited from
   * being queued until it was durable: what the message acknowledging it
   * waits for. It follows the disk's fsync latency (docs/performance.md).
   */
  readonly accountingWriteSeconds: Histogram;

  constructor(options: RelayMetricsOptions = {}) {
    if (options.collectDefault ?? true) collectDefaultMetrics({ register: this.registry });
    this.httpRequests = new Counter({
      name: 'siprelay_http_requests_total',
      help: 'HTTP requests answered, by method, route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
    });
    this.httpRequestSeconds = new Histogram({
      name: 'siprelay_http_request_duration_seconds',
      help: 'Time to answer an HTTP request',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [this.registry],
    });
    this.authOutcomes = new Counter({
      name: 'siprelay_auth_outcomes_total',
      help: 'Digest authentications by outcome (authenticated, challenged, failed, stale, malformed, blocked, error)',
      labelNames: ['outcome'],
      registers: [this.registry],
    });
    this.tokensSigned = new Counter({
      name: 'siprelay_tokens_signed_total',
      help: 'Identity tokens signed for application servers',
      registers: [this.registry],
    });
    this.accountingWriteSeconds = new Histogram({
      name: 'siprelay_accounting_write_seconds',
      help: 'Time from queuing an accounting write (session milestone or charge) to its being durable (an answer: committed)',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
  }
}
