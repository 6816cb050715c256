import type { SipUri } from '../../sip/grammar/uri.js';
import { SipRequest } from '../../sip/message/sip-request.js';
import type { SipResponse } from '../../sip/message/sip-response.js';
import type { TransactionLayer } from '../../sip/transaction/transaction-layer.js';
import type { ClientTransaction, ClientTransactionUser } from '../../sip/transaction/transaction-user.js';
import type { Flow } from '../../sip/transport/transport.js';
import { defaultTargetResolver, type TargetResolver } from '../../sip/ua/target-resolver.js';
import { systemClock, type Clock } from '../../sip/util/clock.js';
import { noopLogger, type SipLogger } from '../../sip/util/logger.js';
import { newCallId, newTag } from '../../sip/util/random.js';
import { TypedEmitter } from '../../sip/util/typed-emitter.js';
import type { ServiceConfig } from '../config/service-config.js';
import type { ServiceDirectory, ServiceLookup, ServiceTarget } from '../relay-ports.js';
import { DirectoryTarget } from './directory-target.js';
import type { RegisteredContact, RegisteredTargetSink } from './registered-target-sink.js';
import { defaultAppServerName, staticTargetUri, type StaticTarget } from './static-target.js';

/** Why a target stopped being routable. */
export type TargetDownReason =
  /** No final answer to an OPTIONS probe within `probeTimeoutMs` (or the transaction timed out). */
  | 'timeout'
  /** It answered the probe with 408 or 5xx. */
  | 'status'
  /** The probe could not be sent: no route, connection refused or closed. */
  | 'unreachable'
  /** Its registration ran out. */
  | 'expired'
  /** The connection it was reachable over closed. */
  | 'flow-closed'
  /** Its application server unregistered it, or the target was taken out of the configuration. */
  | 'removed';

/** A target, as events and {@link AppServerDirectory.list} describe it. */
export interface TargetStatus {
  service: string;
  appServer: string;
  uri: string;
  source: 'registered' | 'static';
  up: boolean;
  load: number;
  weight: number;
  /** Status of the last final answer to a probe; 0 before any, -1 after a timeout or a transport error. */
  lastStatus: number;
  /** For a registered target: wall-clock ms when its registration runs out. */
  expiresAt: number | undefined;
}

/** Events of {@link AppServerDirectory}, for logs and the operator console. */
export interface DirectoryEvents {
  /** A target answers its probes again (routable again). */
  up: TargetStatus;
  /** A target stopped being routable. */
  down: TargetStatus & { reason: TargetDownReason };
  /** A target joined (configured, or registered). */
  added: TargetStatus;
  /** A target left (registration gone, configuration changed); `down` came first if it was up. */
  removed: TargetStatus & { reason: TargetDownReason };
}

/** Options of {@link AppServerDirectory}. Every limit has a default. */
export interface AppServerDirectoryOptions {
  /** The configured services: the only ones `lookup` knows. */
  services: readonly ServiceConfig[];
  /** Targets at fixed addresses (configuration `staticTargets`, store targets); more can be set with `setStaticTargets`. */
  staticTargets?: readonly StaticTarget[];
  /**
   * The transaction layer that sends the OPTIONS probes (and whose
   * transport gives flows). Without it nothing is probed and every target
   * counts as up.
   */
  transactions?: Pick<TransactionLayer, 'sendRequest' | 'transport'>;
  /** Probe period of a target that answers. Default 30 000 ms. */
  probeIntervalMs?: number;
  /** Probe period of a target that does not (the faster probe after a failure). Default 5 000 ms. */
  probeRetryIntervalMs?: number;
  /**
   * A probe without final answer after this long marks its target down
   * (the transaction itself runs on to timer F, and a late answer still
   * brings the target back). Default 5 000 ms.
   */
  probeTimeoutMs?: number;
  /** From of the probes. Default `sip:siprelay@siprelay.invalid`; give `sip:siprelay@<domain>`. */
  probeFrom?: string;
  /** How a target URI becomes a destination when it has no flow to use. Default RFC 3263 without DNS. */
  resolveTarget?: TargetResolver;
  /** Retry-After (seconds) for a service that has no target at all. Default 30. */
  noTargetRetryAfterSeconds?: number;
  clock?: Clock;
  logger?: SipLogger;
}

interface ServiceEntry {
  config: ServiceConfig;
  targets: DirectoryTarget[];
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`AppServerDirectoryOptions.${name} must be a positive integer, got ${String(value)}`);
  return value;
}

/**
 * RFC 3261 §11 leaves the meaning of an OPTIONS answer open; for health we
 * count any final response as alive (the server parsed and answered), as
 * most proxies' dispatchers do, except 408 (something on the way could
 * not reach it) and 5xx (it is there but refuses service: overloaded,
 * shutting down, or failing — routing a session to it would fail too).
 */
export function probeAnswerMeansAlive(status: number): boolean {
  return status >= 200 && status !== 408 && !(status >= 500 && status < 600);
}

/**
 * The application-server directory behind the `ServiceDirectory` port: for
 * each configured service, the targets that can take its requests —
 * **static** ones (configuration, store) and **registered** ones (the
 * Contacts application servers register, fed by the registrar) — with their
 * health and current load.
 *
 * **Health.** After `start()`, every target is probed with OPTIONS (RFC
 * 3261 §11) through the transaction layer: over the flow it registered on
 * when it has one, else to its URI (`resolveTarget`). One probe is in
 * flight per target at most. A target that does not answer within
 * `probeTimeoutMs`, answers 408 or 5xx, or cannot be reached is marked
 * down and left out of `lookup()`; it is probed again every
 * `probeRetryIntervalMs` and is routable again on its first good answer.
 * Healthy targets are probed every `probeIntervalMs`. Registered targets
 * also leave when their registration expires or the connection they need
 * closes. `up`, `down`, `added` and `removed` events report every change.
 *
 * ```ts
 * const directory = new AppServerDirectory({ services: config.services, staticTargets, transactions, probeFrom: 'sip:siprelay@portal.test' });
 * directory.on('down', (t) => log.warn(t, 'application server down'));
 * directory.start();
 * const { known, targets, unavailable } = directory.lookup('wine');
 * ```
 */
export class AppServerDirectory extends TypedEmitter<DirectoryEvents> implements ServiceDirectory, RegisteredTargetSink, ClientTransactionUser {
  private readonly services = new Map<string, ServiceEntry>();
  private readonly transactions: AppServerDirectoryOptions['transactions'];
  private readonly clock: Clock;
  private readonly logger: SipLogger;
  private readonly intervalMs: number;
  private readonly retryIntervalMs: number;
  private readonly timeoutMs: number;
  private readonly probeFrom: string;
  private readonly resolveTarget: TargetResolver;
  private readonly noTargetRetryAfter: number;
  /** Which target each probe transaction is for. */
  private readonly probes = new Map<ClientTransaction, DirectoryTarget>();
  private started = false;
  private closed = false;

  constructor(options: AppServerDirectoryOptions) {
    super((error, type) => (options?.logger ?? noopLogger).error({ err: error, event: type }, 'directory listener threw'));
    if (options === null || typeof options !== 'object' || !Array.isArray(options.services)) {
      throw new TypeError('AppServerDirectoryOptions.services must list the configured services');
    }
    if (options.transactions !== undefined && typeof options.transactions.sendRequest !== 'function') {
      throw new TypeError('AppServerDirectoryOptions.transactions must be a TransactionLayer');
    }
    this.transactions = options.transactions;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? noopLogger;
    this.intervalMs = positiveInt(options.probeIntervalMs, 30_000, 'probeIntervalMs');
    this.retryIntervalMs = positiveInt(options.probeRetryIntervalMs, 5_000, 'probeRetryIntervalMs');
    this.timeoutMs = positiveInt(options.probeTimeoutMs, 5_000, 'probeTimeoutMs');
    this.noTargetRetryAfter = positiveInt(options.noTargetRetryAfterSeconds, 30, 'noTargetRetryAfterSeconds');
    this.probeFrom = options.probeFrom ?? 'sip:siprelay@siprelay.invalid';
    this.resolveTarget = options.resolveTarget ?? defaultTargetResolver;
    for (const s of options.services) {
      if (this.services.has(s.name)) throw new TypeError(`AppServerDirectoryOptions.services names ${s.name} twice`);
      this.services.set(s.name, { config: s, targets: [] });
    }
    this.setStaticTargets(options.staticTargets ?? []);
  }

  // ---- the ServiceDirectory port ---------------------------------------------

  lookup(service: string): ServiceLookup {
    const entry = this.services.get(service);
    if (entry === undefined) return { known: false, service: undefined, targets: [], unavailable: 0 };
    const targets: ServiceTarget[] = [];
    let unavailable = 0;
    for (const t of entry.targets) {
      if (t.up) targets.push(t);
      else unavailable++;
    }
    return { known: true, service: entry.config, targets, unavailable };
  }

  adjustLoad(target: ServiceTarget, delta: 1 | -1): void {
    // A target that left meanwhile keeps counting on its own object, harmlessly.
    target.load = Math.max(0, target.load + delta);
  }

  /**
   * Seconds until the earliest probe that could bring one of the service's
   * targets back (at least 1), or `noTargetRetryAfterSeconds` when it has
   * no target at all.
   */
  retryAfterSeconds(service: string): number {
    const entry = this.services.get(service);
    let next = Infinity;
    for (const t of entry?.targets ?? []) {
      if (!t.up && t.nextProbeAt !== undefined && t.nextProbeAt < next) next = t.nextProbeAt;
    }
    if (next === Infinity) return entry !== undefined && entry.targets.length > 0 ? Math.ceil(this.retryIntervalMs / 1000) : this.noTargetRetryAfter;
    return Math.max(1, Math.ceil((next - this.clock.now()) / 1000));
  }

  // ---- feeding the directory ---------------------------------------------------

  /**
   * Replaces the static targets. Targets that stay (same service and URI)
   * keep their health and load; new ones start up and are probed at once
   * when the directory runs. Throws TypeError for an unknown service or a
   * URI that is not SIP.
   */
  setStaticTargets(targets: readonly StaticTarget[]): void {
    const wanted = new Map<string, { service: string; uri: SipUri; weight: number; appServer: string }>();
    targets.forEach((t, i) => {
      const where = `staticTargets[${i}]`;
      if (!this.services.has(t.service)) throw new TypeError(`${where}.service: unknown service "${t.service}"`);
      const uri = withoutHeaders(staticTargetUri(t, where));
      const weight = t.weight ?? 1;
      if (!Number.isSafeInteger(weight) || weight < 1) throw new TypeError(`${where}.weight must be a positive integer`);
      wanted.set(`static|${t.service}|${uri.toString()}`, { service: t.service, uri, weight, appServer: t.appServer ?? defaultAppServerName(uri) });
    });
    for (const entry of this.services.values()) {
      for (const t of [...entry.targets]) if (t.source === 'static' && !wanted.has(t.key)) this.removeTarget(t, 'removed');
    }
    for (const [key, w] of wanted) {
      const entry = this.services.get(w.service)!;
      const existing = entry.targets.find((t) => t.key === key);
      if (existing !== undefined) {
        existing.weight = w.weight;
        continue;
      }
      this.addTarget(new DirectoryTarget(w.service, w.appServer, w.uri, undefined, w.weight, 'static', key), 0);
    }
  }

  setRegistrations(appServer: string, service: string, weight: number, contacts: readonly RegisteredContact[]): void {
    if (this.closed) return;
    const entry = this.services.get(service);
    if (entry === undefined) {
      this.logger.warn({ appServer, service }, 'application server registered for a service the configuration does not define');
      return;
    }
    const now = this.clock.wallNow();
    const keep = new Set<string>();
    for (const c of contacts) {
      if (c.expiresAt <= now) continue;
      const uri = withoutHeaders(c.uri);
      const key = `registered|${appServer}|${uri.toString()}`;
      keep.add(key);
      let t = entry.targets.find((x) => x.key === key);
      const isNew = t === undefined;
      if (t === undefined) t = new DirectoryTarget(service, appServer, uri, c.flowId, weight, 'registered', key);
      t.flowId = c.flowId;
      t.flowBound = c.flowBound;
      t.weight = weight;
      t.expiresAt = c.expiresAt;
      this.armExpiry(t);
      // It has just talked to us: no need to probe it before the interval.
      if (isNew) this.addTarget(t, this.intervalMs);
    }
    for (const t of [...entry.targets]) {
      if (t.source === 'registered' && t.appServer === appServer && !keep.has(t.key)) this.removeTarget(t, 'removed');
    }
  }

  /** A connection closed: registered targets that need it leave; others forget it. */
  flowClosed(flowId: string): void {
    for (const entry of this.services.values()) {
      for (const t of [...entry.targets]) {
        if (t.flowId !== flowId) continue;
        if (t.flowBound) this.removeTarget(t, 'flow-closed');
        else t.flowId = undefined;
      }
    }
  }

  /** Removes every registered target of an application server (its account was disabled or deleted). */
  removeAppServer(appServer: string): void {
    for (const entry of this.services.values()) {
      for (const t of [...entry.targets]) if (t.source === 'registered' && t.appServer === appServer) this.removeTarget(t, 'removed');
    }
  }

  /** Every target of every service, for the console. */
  list(): TargetStatus[] {
    const out: TargetStatus[] = [];
    for (const entry of this.services.values()) for (const t of entry.targets) out.push(status(t));
    return out;
  }

  // ---- probing -------------------------------------------------------------------

  /** Starts probing: every static target at once, registered ones after an interval. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    for (const entry of this.services.values()) {
      for (const t of entry.targets) this.scheduleProbe(t, t.source === 'static' ? 0 : this.intervalMs);
    }
  }

  /** Stops every timer. Probes in flight end on their own; their answers are ignored. */
  close(): void {
    this.closed = true;
    for (const entry of this.services.values()) for (const t of entry.targets) this.stopTimers(t);
    this.probes.clear();
  }

  onResponse(response: SipResponse, transaction: ClientTransaction): void {
    if (response.status < 200) return;
    const t = this.probes.get(transaction);
    if (t === undefined || t.removed || this.closed) return;
    this.clearDeadline(t);
    // Answered: no longer in flight, though the transaction lingers to absorb
    // retransmissions (timer K, T4 = 5 s over UDP, §17.1.2.2); waiting for its
    // end would stretch a probe interval shorter than that to timer K.
    if (t.inFlight === transaction) t.inFlight = undefined;
    t.lastStatus = response.status;
    if (probeAnswerMeansAlive(response.status)) {
      this.markUp(t);
      this.scheduleProbe(t, this.intervalMs);
    } else {
      this.markDown(t, 'status');
      this.scheduleProbe(t, this.retryIntervalMs);
    }
  }

  onTimeout(transaction: ClientTransaction): void {
    this.probeFailed(this.probes.get(transaction), transaction, 'timeout');
  }

  onTransportError(transaction: ClientTransaction): void {
    this.probeFailed(this.probes.get(transaction), transaction, 'unreachable');
  }

  onTerminated(transaction: ClientTransaction): void {
    const t = this.probes.get(transaction);
    this.probes.delete(transaction);
    if (t !== undefined && t.inFlight === transaction) {
      t.inFlight = undefined;
      this.clearDeadline(t);
    }
  }

  private probeFailed(t: DirectoryTarget | undefined, transaction: ClientTransaction, reason: 'timeout' | 'unreachable'): void {
    if (t === undefined || t.removed || this.closed || t.inFlight !== transaction) return;
    this.clearDeadline(t);
    t.lastStatus = -1;
    this.markDown(t, reason);
    this.scheduleProbe(t, this.retryIntervalMs);
  }

  private scheduleProbe(t: DirectoryTarget, delayMs: number): void {
    if (!this.started || this.closed || t.removed || this.transactions === undefined) return;
    if (t.probeTimer !== undefined) this.clock.clearTimeout(t.probeTimer);
    t.nextProbeAt = this.clock.now() + delayMs;
    t.probeTimer = this.clock.setTimeout(() => this.probe(t), delayMs);
  }

  private probe(t: DirectoryTarget): void {
    t.probeTimer = undefined;
    t.nextProbeAt = undefined;
    const layer = this.transactions;
    if (layer === undefined || t.removed || this.closed) return;
    if (t.inFlight !== undefined) {
      // Keep probes light: the previous one is still retransmitting.
      this.scheduleProbe(t, this.retryIntervalMs);
      return;
    }
    let flow: Flow | undefined;
    try {
      flow = this.flowFor(t, layer.transport);
    } catch (e) {
      this.unreachable(t, e);
      return;
    }
    if (flow === undefined) {
      // RFC 7118 §5.2: a target reachable only over a connection that is gone.
      this.removeTarget(t, 'flow-closed');
      return;
    }
    let tx: ClientTransaction;
    try {
      tx = layer.sendRequest(this.optionsFor(t), flow, this);
    } catch (e) {
      this.unreachable(t, e);
      return;
    }
    // The layer reports even an immediate send failure from a timer, so the
    // transaction is known here before any callback names it.
    t.inFlight = tx;
    this.probes.set(tx, t);
    t.deadline = this.clock.setTimeout(() => {
      t.deadline = undefined;
      this.probeFailed(t, tx, 'timeout');
    }, this.timeoutMs);
  }

  private unreachable(t: DirectoryTarget, error: unknown): void {
    this.logger.debug({ err: error, service: t.service, uri: t.uri.toString() }, 'cannot probe application server');
    t.lastStatus = -1;
    this.markDown(t, 'unreachable');
    this.scheduleProbe(t, this.retryIntervalMs);
  }

  /** The flow registered on, if still open; else one to the URI. Undefined: the target needs a flow that is gone. */
  private flowFor(t: DirectoryTarget, transport: TransactionLayer['transport']): Flow | undefined {
    if (t.flowId !== undefined) {
      const f = transport.flowById(t.flowId);
      if (f !== undefined && f.isOpen) return f;
      if (t.flowBound) return undefined;
    }
    const dest = this.resolveTarget(t.uri, transport);
    if (dest instanceof Promise) throw new TypeError('an asynchronous resolveTarget is not supported for probes');
    return 'send' in dest ? dest : transport.flowTo(dest);
  }

  private optionsFor(t: DirectoryTarget): SipRequest {
    const target = t.uri.toString();
    return new SipRequest('OPTIONS', t.uri.clone(), [
      ['Max-Forwards', '70'],
      ['From', `<${this.probeFrom}>;tag=${newTag()}`],
      ['To', `<${target}>`],
      ['Call-ID', newCallId()],
      ['CSeq', '1 OPTIONS'],
      ['Accept', 'application/sdp'],
      ['Content-Length', '0'],
    ]);
  }

  // ---- state changes --------------------------------------------------------------

  private addTarget(t: DirectoryTarget, firstProbeInMs: number): void {
    this.services.get(t.service)!.targets.push(t);
    this.emit('added', status(t));
    this.scheduleProbe(t, firstProbeInMs);
  }

  private removeTarget(t: DirectoryTarget, reason: TargetDownReason): void {
    if (t.removed) return;
    const entry = this.services.get(t.service)!;
    const at = entry.targets.indexOf(t);
    if (at >= 0) entry.targets.splice(at, 1);
    this.stopTimers(t);
    if (t.inFlight !== undefined) this.probes.delete(t.inFlight);
    t.inFlight = undefined;
    this.markDown(t, reason);
    t.removed = true;
    this.emit('removed', { ...status(t), reason });
  }

  private markUp(t: DirectoryTarget): void {
    if (t.up) return;
    t.up = true;
    this.logger.info({ service: t.service, appServer: t.appServer, uri: t.uri.toString() }, 'application server up');
    this.emit('up', status(t));
  }

  private markDown(t: DirectoryTarget, reason: TargetDownReason): void {
    if (!t.up) return;
    t.up = false;
    this.logger.warn({ service: t.service, appServer: t.appServer, uri: t.uri.toString(), reason, status: t.lastStatus }, 'application server down');
    this.emit('down', { ...status(t), reason });
  }

  private armExpiry(t: DirectoryTarget): void {
    if (t.expiryTimer !== undefined) this.clock.clearTimeout(t.expiryTimer);
    t.expiryTimer = undefined;
    if (t.expiresAt === undefined || this.closed) return;
    t.expiryTimer = this.clock.setTimeout(() => {
      t.expiryTimer = undefined;
      this.removeTarget(t, 'expired');
    }, Math.max(0, t.expiresAt - this.clock.wallNow()));
  }

  private clearDeadline(t: DirectoryTarget): void {
    if (t.deadline !== undefined) this.clock.clearTimeout(t.deadline);
    t.deadline = undefined;
  }

  private stopTimers(t: DirectoryTarget): void {
    if (t.probeTimer !== undefined) this.clock.clearTimeout(t.probeTimer);
    if (t.expiryTimer !== undefined) this.clock.clearTimeout(t.expiryTimer);
    this.clearDeadline(t);
    t.probeTimer = undefined;
    t.expiryTimer = undefined;
    t.nextProbeAt = undefined;
  }
}

function status(t: DirectoryTarget): TargetStatus {
  return {
    service: t.service,
    appServer: t.appServer,
    uri: t.uri.toString(),
    source: t.source,
    up: t.up,
    load: t.load,
    weight: t.weight,
    lastStatus: t.lastStatus,
    expiresAt: t.expiresAt,
  };
}

/**
 * A target URI fit to be a Request-URI: URI headers (`?Route=…`, kept in a
 * registered Contact by RFC 4475 §3.3.14) must never become headers of a
 * forwarded request, and a Request-URI carries none (RFC 3261 §19.1.5).
 */
function withoutHeaders(uri: SipUri): SipUri {
  if (uri.headers.length === 0) return uri;
  const u = uri.clone();
  u.headers = [];
  return u;
}
