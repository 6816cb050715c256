import type { SipRequest } from '../sip/message/sip-request.js';
import type { SipResponse } from '../sip/message/sip-response.js';
import type { IncomingRequest } from '../sip/ua/incoming-request.js';
import type { Session, SessionTermination } from '../sip/ua/session.js';
import { isUserAgentError } from '../sip/ua/user-agent-error.js';
import type { Clock } from '../sip/util/clock.js';
import type { SipLogger } from '../sip/util/logger.js';
import { randomToken } from '../sip/util/random.js';
import { TypedEmitter } from '../sip/util/typed-emitter.js';
import { AppServerError, appServerError } from './app-server-error.js';
import { ChangeRequest, type ChangeAnswer } from './change-request.js';
import { chargeTotal, normalizeCharge, parseChargeReceiptHeader, type ChargeBody, type ChargeInput, type ChargeItemInput, type ChargeReceipt } from './charge.js';
import type { RelayTokenClaims, RelayUser } from './relay-token-verifier.js';
import { buildServiceAnswer, checkServiceDescriptor, type SdpAnswerMode, type ServiceDescriptor } from './service-answer.js';
import { SessionEnding } from './session-ending.js';
import { CHARGE_INFO_PACKAGE, CHARGE_RECEIPT_HEADER, isPlainObject, readSiprelayBody, SiprelayMediaTypes, type ServiceDetails } from './siprelay-media-types.js';

/**
 * `accepted` (2xx sent) → `started` (ACK) → `ending` (BYE on its way) → `ended`.
 *
 * @example
 * ```ts
 * if (session.state === 'started') await session.charge(items);
 * ```
 */
export type AppSessionState = 'accepted' | 'started' | 'ending' | 'ended';

/**
 * Who ended a session and why: `user` (the client's BYE: `bye`), `app`
 * (`session.end()`: its `reason`, default `bye`; `closed` when the app
 * server closed), `relay` (the relay's BYE: `session-timer`,
 * `max-duration`, `credit-exhausted`, `operator`…; or the path failed:
 * `ack-timeout`, `request-timeout`, `dialog-gone`, `transport-error`).
 *
 * @example
 * ```ts
 * session.on('ended', ({ by, reason }) => log.info({ by, reason }, 'session over'));
 * ```
 */
export interface SessionEnd {
  by: 'user' | 'app' | 'relay';
  reason: string;
  /** The final charge put in the 2xx to the other side's BYE, if any. */
  finalCharge?: ChargeBody;
}

/**
 * What a transfer came to: the status the client reported for the new
 * session it opened (the final NOTIFY's sipfrag, RFC 3515 §2.4.5), or
 * undefined when it accepted the REFER without a subscription (RFC 4488).
 *
 * @example
 * ```ts
 * const { status } = await session.transfer('wine'); // 200
 * ```
 */
export interface TransferResult {
  status: number | undefined;
}

/**
 * Options of {@link AppSession.transfer}.
 *
 * @example
 * ```ts
 * await session.transfer('wine', undefined, { endOnSuccess: true, timeoutMs: 10_000 });
 * ```
 */
export interface TransferOptions {
  /** End this session (BYE) once the transfer succeeded. Default false: both go on (design brief flow 8). */
  endOnSuccess?: boolean;
  /** Give up waiting for the outcome after this long, ms. Default the app server's `transferTimeoutMs`. */
  timeoutMs?: number;
}

/**
 * Options of {@link AppSession.end}.
 *
 * @example
 * ```ts
 * await session.end({ charges: [{ sku: 'IPA', description: 'IPA', unitPrice: 450 }], reason: 'checked out' });
 * ```
 */
export interface EndOptions {
  /** Final charges, sent (and stored by the relay) before the BYE. */
  charges?: ChargeInput | readonly ChargeItemInput[];
  /** Why, for the `ended` event and logs. Default `bye`. */
  reason?: string;
}

/**
 * Events of an {@link AppSession}.
 *
 * @example
 * ```ts
 * session.on('started', ({ at }) => log.info({ at }, 'ACK'));
 * session.on('ended', ({ by, reason }) => log.info({ by, reason }, 'ended'));
 * ```
 */
export interface AppSessionEvents {
  /** The client's ACK arrived: the relay starts measuring the session now. */
  started: { at: number };
  /** The client asks to change the service details; answer with `accept()` or `refuse()`. Without a listener: 488. */
  changed: ChangeRequest;
  /** The other side sent BYE; give final charges with `ending.charge()`. */
  ending: SessionEnding;
  /** The relay stored a charge of this session. */
  charged: ChargeReceipt;
  /** The session is over. Emitted once. */
  ended: SessionEnd;
}

/**
 * @internal What a session needs from its app server.
 *
 * @example
 * ```ts
 * // Built by AppServer; a test may pass its own:
 * new AppSession(ctx, init);
 * ```
 */
export interface AppSessionContext {
  readonly domain: string;
  readonly defaultCurrency: string | undefined;
  readonly sdpAnswer: SdpAnswerMode;
  readonly chargeTimeoutMs: number;
  readonly chargeRetries: number;
  readonly endingTimeoutMs: number;
  readonly changeTimeoutMs: number;
  readonly transferTimeoutMs: number;
  readonly clock: Clock;
  readonly logger: SipLogger;
  /** Resolves once the link to the relay is up (at once when it is), rejects after `timeoutMs`. */
  relayReady(timeoutMs: number): Promise<void>;
  /** The session ended: the app server releases its admission slot and forgets it. */
  sessionEnded(session: AppSession): void;
}

/**
 * @internal What the app server knows when it makes a session.
 *
 * @example
 * ```ts
 * new AppSession(ctx, { sip, claims, user, token, details, descriptor });
 * ```
 */
export interface AppSessionInit {
  sip: Session;
  claims: RelayTokenClaims;
  user: RelayUser;
  token: string;
  details: ServiceDetails;
  descriptor: ServiceDescriptor;
}

/**
 * How the relay says why it ends a session itself, in the `text` of the
 * Reason header of its BYE (RFC 3326): the cause's name first
 * (`SIP;cause=402;text="credit-exhausted: the user's credit ran out"`), or
 * in older forms words that name it (`text="credit exhausted"`); the reason
 * the SDK reports for each (the relay's end causes, docs/sessions.md).
 */
const RELAY_CAUSES: ReadonlySet<string> = new Set(['session-timer', 'max-duration', 'credit-exhausted', 'operator', 'shutdown', 'interrupted', 'replaced']);
const RELAY_REASONS: ReadonlyArray<readonly [RegExp, string]> = [
  [/credit/, 'credit-exhausted'],
  [/max(imum)?[-\s]*duration/, 'max-duration'],
  [/session[-\s]*(timer|expired|refresh)/, 'session-timer'],
  [/operator/, 'operator'],
  [/shut(ting)?[-\s]*down/, 'shutdown'],
  [/interrupted/, 'interrupted'],
  [/replaced/, 'replaced'],
];

/** Statuses of a charge INFO worth another try with the same key. */
const TRANSIENT = new Set([408, 500, 503, 504]);

/**
 * One session between a user and this application server, made by
 * `res.accept()`: who the user is, what they asked for, typed events, and
 * what the app can do in it — charge, end, transfer.
 *
 * @example
 * ```ts
 * app.invite('wine', async (req, res) => {
 *   const session = res.accept({ url: `${base}/?token=${req.token}` });
 *   session.on('started', () => log.info('user is in'));
 *   session.on('ending', (e) => cart.size && e.charge(cart.items()));
 *   session.on('ended', ({ by, reason }) => log.info({ by, reason }));
 * });
 * // later, from a page handler:
 * const receipt = await session.charge([{ sku: 'BDX-2015', description: 'Bordeaux 2015', unitPrice: 2450 }]);
 * ```
 */
export class AppSession extends TypedEmitter<AppSessionEvents> {
  /** The relay's session id (`sid`, as in Session-ID): the key pages use to find this session. */
  readonly id: string;
  /** The service the session is for. */
  readonly service: string;
  /** The user, as the relay's token says. */
  readonly user: RelayUser;
  /** Client facts the relay's routing rules found. */
  readonly facts: Readonly<Record<string, string | number | boolean>>;
  /** The relay's token of this session (the app may put it in its service URL). */
  readonly token: string;
  /** The token's claims. */
  readonly claims: RelayTokenClaims;
  /** The user-agent core's session (dialog) underneath, for what the SDK does not cover. */
  readonly sip: Session;
  /** Wall-clock ms of the 2xx. */
  readonly acceptedAt: number;
  private _details: ServiceDetails;
  private _descriptor: ServiceDescriptor;
  private _state: AppSessionState = 'accepted';
  private _startedAt: number | undefined;
  private _outcome: SessionEnd | undefined;
  private readonly _receipts: ChargeReceipt[] = [];
  private readonly ctx: AppSessionContext;
  private endPromise: Promise<void> | undefined;
  private appEndReason: string | undefined;
  /** The BYE being answered, while listeners of `ending` work. */
  private answeringBye: { ending: SessionEnding } | undefined;
  private listenerFailed = false;
  private endedWaiters: Array<(end: SessionEnd) => void> = [];

  /** @internal Made by `res.accept()`. */
  constructor(ctx: AppSessionContext, init: AppSessionInit) {
    super();
    this.ctx = ctx;
    this.sip = init.sip;
    this.claims = init.claims;
    this.id = init.claims.sid;
    this.service = init.claims.svc;
    this.user = init.user;
    this.facts = init.claims.facts;
    this.token = init.token;
    this._details = init.details;
    this._descriptor = init.descriptor;
    this.acceptedAt = ctx.clock.wallNow();
    const s = init.sip;
    s.on('ack', () => this.receiveAck());
    s.on('reinvite', (r) => this.receiveChange(r, 'INVITE'));
    s.on('update', (r) => this.receiveChange(r, 'UPDATE'));
    s.on('bye', (r) => this.receiveBye(r));
    s.on('terminated', (t) => this.receiveTermination(t));
    // INFO and REFER from the client are not for the app server: the core's defaults (200, 603) apply.
  }

  get state(): AppSessionState {
    return this._state;
  }

  /** The service details in force (the INVITE's, or the last accepted change's). */
  get details(): ServiceDetails {
    return this._details;
  }

  /** The descriptor in force. */
  get descriptor(): ServiceDescriptor {
    return this._descriptor;
  }

  /** Wall-clock ms of the ACK, once started. */
  get startedAt(): number | undefined {
    return this._startedAt;
  }

  /** Who ended the session and why, once ended. */
  get outcome(): SessionEnd | undefined {
    return this._outcome;
  }

  /** Receipts of the charges the relay stored, in order. */
  get receipts(): readonly ChargeReceipt[] {
    return this._receipts;
  }

  /**
   * Resolves when the session has ended, with who ended it and why.
   *
   * @example
   * ```ts
   * const { by } = await session.ended();
   * ```
   */
  ended(): Promise<SessionEnd> {
    if (this._outcome) return Promise.resolve(this._outcome);
    return new Promise((resolve) => this.endedWaiters.push(resolve));
  }

  // ---- charge -----------------------------------------------------------------------

  /**
   * Charges the user (design brief flow 6): an INFO in the session with
   * `Info-Package: siprelay-charge` and the charge as
   * `application/vnd.siprelay.charge+json`. Resolves with the relay's
   * receipt once it has stored the charge (`200` with `Siprelay-Charge:
   * stored;id=…`). The idempotency key (`id`) is generated when absent;
   * when the relay does not answer in `chargeTimeoutMs`, answers 408/500/503/504,
   * or the connection drops, the same charge with the same key is sent
   * again (up to `chargeRetries` times): the relay stores it once.
   *
   * Rejects with `APPSERVER_ERR_CHARGE_REFUSED` (the relay's `status` and
   * `reason`: 400, 402 no credit, 403, 413, 481…),
   * `APPSERVER_ERR_CHARGE_UNCONFIRMED`, `APPSERVER_ERR_CHARGE_TIMEOUT`,
   * `APPSERVER_ERR_SESSION_ENDED`; with TypeError for a malformed charge.
   */
  async charge(input: ChargeInput | readonly ChargeItemInput[]): Promise<ChargeReceipt> {
    const body = normalizeCharge(input, this.ctx.defaultCurrency, () => this.newChargeId());
    if (this._state === 'ended' || this.dialogEnded) throw this.endedError('charge');
    const text = JSON.stringify(body);
    let lastProblem = 'no answer';
    for (let attempt = 0; attempt <= this.ctx.chargeRetries; attempt++) {
      let response: SipResponse | 'timeout';
      try {
        response = await this.within(
          this.sip.info({ package: CHARGE_INFO_PACKAGE, body: text, contentType: SiprelayMediaTypes.charge, ignoreRecvInfo: true }),
          this.ctx.chargeTimeoutMs,
        );
      } catch (e) {
        if (isUserAgentError(e) && e.code === 'SIP_ERR_SESSION_TERMINATED') throw this.endedError('charge');
        if (isUserAgentError(e) && e.code === 'SIP_ERR_TRANSPORT' && !this.dialogEnded) {
          // The connection dropped: wait for the link to come back, then send the same charge again.
          lastProblem = e.message;
          await this.ctx.relayReady(this.ctx.chargeTimeoutMs).catch(() => undefined);
          continue;
        }
        if (isUserAgentError(e)) {
          throw appServerError('APPSERVER_ERR_CHARGE_TIMEOUT', `charge ${body.id}: ${e.message}; it may be stored — retry with the same id`, { cause: e });
        }
        throw e;
      }
      if (response === 'timeout') {
        lastProblem = `no answer within ${this.ctx.chargeTimeoutMs} ms`;
        if (this.dialogEnded) break;
        continue;
      }
      const status = response.status;
      if (status >= 200 && status < 300) {
        const stored = parseChargeReceiptHeader(response.header(CHARGE_RECEIPT_HEADER));
        if (!stored) {
          throw appServerError('APPSERVER_ERR_CHARGE_UNCONFIRMED', `the relay answered charge ${body.id} with ${status} but without ${CHARGE_RECEIPT_HEADER}: stored`, {
            status,
            reason: response.reason,
          });
        }
        const receipt: ChargeReceipt = { id: stored.id, key: body.id, charge: body, total: chargeTotal(body), receivedAt: this.ctx.clock.wallNow() };
        this._receipts.push(receipt);
        this.emit('charged', receipt);
        return receipt;
      }
      if (TRANSIENT.has(status) && attempt < this.ctx.chargeRetries && !this.dialogEnded) {
        lastProblem = `${status} ${response.reason}`;
        await this.sleep(retryAfterMs(response));
        continue;
      }
      if (status === 481) throw appServerError('APPSERVER_ERR_SESSION_ENDED', `the relay no longer knows session ${this.id}: ${response.reason}`, { status, reason: response.reason });
      throw appServerError('APPSERVER_ERR_CHARGE_REFUSED', `the relay refused charge ${body.id}: ${status} ${response.reason}`, { status, reason: response.reason });
    }
    if (this.dialogEnded && this._outcome) throw this.endedError('charge');
    throw appServerError('APPSERVER_ERR_CHARGE_TIMEOUT', `charge ${body.id}: ${lastProblem} after ${this.ctx.chargeRetries + 1} attempts; it may be stored — retry with the same id`);
  }

  // ---- end ------------------------------------------------------------------------------

  /**
   * Ends the session: sends `charges` first if given (waiting for the
   * relay's receipt), then BYE. Resolves once the BYE is answered. If the
   * user's BYE is being answered at that moment, the charges go into the
   * 2xx to it instead, and it resolves at once. A charge refused by the relay still ends the session,
   * and `end()` then rejects with the charge's error. Calling it on an
   * ended session resolves (without charges) or rejects
   * `APPSERVER_ERR_SESSION_ENDED` (with charges).
   */
  end(options: EndOptions = {}): Promise<void> {
    if (this.answeringBye) {
      // Resolve at once: an `ending` listener may await this, and the 2xx waits for that listener.
      if (options.charges) this.answeringBye.ending.charge(options.charges);
      return Promise.resolve();
    }
    if (this._state === 'ended' || this.dialogEnded) {
      return options.charges ? Promise.reject(this.endedError('end with charges')) : Promise.resolve();
    }
    this.endPromise ??= this.endNow(options);
    return this.endPromise;
  }

  private async endNow(options: EndOptions): Promise<void> {
    this.appEndReason = options.reason ?? 'bye';
    let chargeError: unknown;
    if (options.charges) {
      try {
        await this.charge(options.charges);
      } catch (e) {
        chargeError = e;
      }
    }
    if (!this.dialogEnded) {
      this._state = 'ending';
      try {
        await this.sip.bye();
      } catch (e) {
        if (!(isUserAgentError(e) && e.code === 'SIP_ERR_SESSION_TERMINATED')) this.ctx.logger.debug({ err: e, session: this.id }, 'BYE got no answer');
      }
    }
    if (chargeError !== undefined) throw chargeError;
  }

  // ---- transfer -------------------------------------------------------------------------

  /**
   * Hands the user over to another service (design brief flow 8): a REFER
   * to the client with `Refer-To: sip:<service>@<domain>`, and `details`
   * (if any) as `application/vnd.siprelay.request+json` in its body for the
   * client to send in its new INVITE. Resolves when the client reports the
   * new session's outcome (its final NOTIFY) with a 2xx, or at once when it
   * accepted without a subscription. Rejects with
   * `APPSERVER_ERR_TRANSFER_FAILED` (the REFER refused, or the new session
   * failed: `status`), `APPSERVER_ERR_TRANSFER_TIMEOUT`,
   * `APPSERVER_ERR_SESSION_ENDED`.
   */
  async transfer(service: string, details?: ServiceDetails, options: TransferOptions = {}): Promise<TransferResult> {
    if (typeof service !== 'string' || !/^[A-Za-z0-9._~!$&'()*+,;=-]+$/.test(service)) throw new TypeError(`transfer needs a service name, got ${JSON.stringify(service)}`);
    if (details !== undefined && !isPlainObject(details)) throw new TypeError('transfer details must be a JSON object');
    if (this._state === 'ended' || this.dialogEnded) throw this.endedError('transfer');
    const timeoutMs = options.timeoutMs ?? this.ctx.transferTimeoutMs;
    const refer = this.sip.refer(`sip:${service}@${this.ctx.domain}`, details === undefined ? {} : { body: JSON.stringify(details), contentType: SiprelayMediaTypes.request });
    const outcome = (async (): Promise<TransferResult> => {
      let response: SipResponse;
      try {
        response = await refer.response;
      } catch (e) {
        if (this.dialogEnded) throw this.endedError('transfer');
        throw appServerError('APPSERVER_ERR_TRANSFER_FAILED', `the REFER to ${service} got no answer`, { cause: e });
      }
      if (response.status >= 300) {
        throw appServerError('APPSERVER_ERR_TRANSFER_FAILED', `the client refused the transfer to ${service}: ${response.status} ${response.reason}`, {
          status: response.status,
          reason: response.reason,
        });
      }
      let final;
      try {
        final = await refer.completion;
      } catch (e) {
        throw appServerError('APPSERVER_ERR_TRANSFER_FAILED', `the session ended before the transfer to ${service} reported its outcome`, { cause: e });
      }
      const status = final?.status;
      if (status !== undefined && status >= 300) {
        throw appServerError('APPSERVER_ERR_TRANSFER_FAILED', `the new session for ${service} failed: ${status} ${final?.reason ?? ''}`.trim(), { status, reason: final?.reason });
      }
      return { status };
    })();
    const result = await this.within(outcome, timeoutMs);
    if (result === 'timeout') throw appServerError('APPSERVER_ERR_TRANSFER_TIMEOUT', `the transfer to ${service} did not complete within ${timeoutMs} ms`);
    if (options.endOnSuccess) await this.end({ reason: 'transferred' });
    return result;
  }

  // ---- from the dialog ------------------------------------------------------------

  private receiveAck(): void {
    if (this._state !== 'accepted') return;
    this._state = 'started';
    this._startedAt = this.ctx.clock.wallNow();
    this.emit('started', { at: this._startedAt });
  }

  private receiveChange(incoming: IncomingRequest, method: 'INVITE' | 'UPDATE'): void {
    const body = readSiprelayBody(incoming.request, SiprelayMediaTypes.request);
    if (body.malformed || (body.json !== undefined && !isPlainObject(body.json))) {
      incoming.reject(400, { reason: 'Bad Service Details' });
      return;
    }
    if (body.json === undefined) {
      // A refresh (session timer) or an SDP-only re-offer: nothing changes; answer with what is in force.
      incoming.accept(buildServiceAnswer(this._descriptor, body, this.ctx.sdpAnswer));
      return;
    }
    const details = body.json as ServiceDetails;
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    const change = new ChangeRequest(method, details, this._details, incoming.request, (answer: ChangeAnswer) => {
      if (timer !== undefined) this.ctx.clock.clearTimeout(timer);
      if (incoming.answered) return; // the core answered first (487 after a BYE or CANCEL)
      if (answer.accepted) {
        if (answer.descriptor !== undefined) checkServiceDescriptor(answer.descriptor);
        const descriptor = answer.descriptor ?? this._descriptor;
        incoming.accept(buildServiceAnswer(descriptor, body, this.ctx.sdpAnswer));
        this._descriptor = descriptor;
        this._details = details;
      } else {
        incoming.reject(answer.status, { reason: answer.reason });
      }
    });
    if (this.listenerCount('changed') === 0) {
      change.refuse(488, 'Changes Not Supported');
      return;
    }
    timer = this.ctx.clock.setTimeout(() => {
      if (!change.answered) {
        this.ctx.logger.warn({ session: this.id }, 'change request not answered in time; refused with 500');
        change.refuse(500, 'Change Not Answered');
      }
    }, this.ctx.changeTimeoutMs);
    this.listenerFailed = false;
    this.emit('changed', change);
    if (this.listenerFailed && !change.answered) change.refuse(500);
  }

  private receiveBye(incoming: IncomingRequest): void {
    const origin = byeOrigin(incoming.request);
    const ending = new SessionEnding(origin.by, origin.reason);
    this.answeringBye = { ending };
    this._state = 'ending';
    this.emit('ending', ending);
    void this.within(ending.collect().settled, this.ctx.endingTimeoutMs).then(() => {
      const final = this.finalCharge(ending.collect().charges);
      try {
        incoming.accept(final ? { body: JSON.stringify(final), contentType: SiprelayMediaTypes.charge } : undefined);
      } catch (e) {
        this.ctx.logger.warn({ err: e, session: this.id }, 'could not answer the BYE');
      }
      this.answeringBye = undefined;
      this.finish({ by: origin.by, reason: origin.reason, ...(final ? { finalCharge: final } : {}) });
    });
  }

  private receiveTermination(t: SessionTermination): void {
    // The core ends the dialog as soon as the BYE arrives; `ended` waits until the BYE is answered.
    if (this.answeringBye) return;
    if (t.by === 'local') {
      if (t.reason === 'bye') return this.finish({ by: 'app', reason: this.appEndReason ?? 'bye' });
      if (t.reason === 'closed') return this.finish({ by: 'app', reason: 'closed' });
      return this.finish({ by: 'relay', reason: t.reason });
    }
    this.finish({ by: t.reason === 'bye' ? 'user' : 'relay', reason: t.reason });
  }

  private finish(end: SessionEnd): void {
    if (this._outcome) return;
    this._outcome = end;
    this._state = 'ended';
    this.ctx.sessionEnded(this);
    this.emit('ended', end);
    const waiters = this.endedWaiters;
    this.endedWaiters = [];
    for (const w of waiters) w(end);
  }

  // ---- helpers --------------------------------------------------------------------

  /** True once the dialog is over (read afresh each time: it changes while we await). */
  private get dialogEnded(): boolean {
    return this.sip.state === 'terminated';
  }

  private finalCharge(inputs: ReadonlyArray<ChargeInput | readonly ChargeItemInput[]>): ChargeBody | undefined {
    if (inputs.length === 0) return undefined;
    const items: ChargeItemInput[] = [];
    let id: string | undefined;
    for (const input of inputs) {
      if (Array.isArray(input)) items.push(...(input as readonly ChargeItemInput[]));
      else {
        const c = input as ChargeInput;
        items.push(...c.items);
        id ??= c.id;
      }
    }
    try {
      return normalizeCharge({ id, items }, this.ctx.defaultCurrency, () => this.newChargeId());
    } catch (e) {
      this.ctx.logger.error({ err: e, session: this.id }, 'final charge left out of the 2xx to BYE: it is malformed');
      return undefined;
    }
  }

  private newChargeId(): string {
    return `${this.id}-${randomToken(12).toLowerCase()}`;
  }

  private endedError(what: string): AppServerError {
    return appServerError('APPSERVER_ERR_SESSION_ENDED', `session ${this.id} has ended; cannot ${what}`);
  }

  /** `p`'s value, or `'timeout'` after `ms`. */
  private within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
    return new Promise((resolve, reject) => {
      const timer = this.ctx.clock.setTimeout(() => resolve('timeout'), ms);
      p.then(
        (v) => {
          this.ctx.clock.clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          this.ctx.clock.clearTimeout(timer);
          reject(e);
        },
      );
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.ctx.clock.setTimeout(resolve, ms));
  }

  protected override listenerError(error: unknown, type: string): void {
    this.listenerFailed = true;
    this.ctx.logger.error({ err: error, event: type, session: this.id }, 'session listener threw');
  }
}

/** Who sent a BYE: the relay says so with a Reason header naming why (RFC 3326); anyone else is the user. */
function byeOrigin(bye: SipRequest): { by: 'user' | 'relay'; reason: string } {
  for (const value of bye.headerList('reason')) {
    const quoted = /;\s*text\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(value)?.[1]?.replace(/\\(.)/g, '$1');
    const text = (quoted ?? value).toLowerCase().trim();
    // The relay's text starts with the cause's name (`max-duration: …`); older forms are matched loosely.
    const named = /^([a-z-]+):/.exec(text)?.[1];
    if (named !== undefined && RELAY_CAUSES.has(named)) return { by: 'relay', reason: named };
    const known = RELAY_REASONS.find(([pattern]) => pattern.test(text));
    if (known) return { by: 'relay', reason: known[1] };
  }
  return { by: 'user', reason: 'bye' };
}

/** Delay before retrying a charge after a transient refusal: Retry-After (capped at 10 s), else 500 ms. */
function retryAfterMs(response: SipResponse): number {
  const v = Number.parseInt(response.header('retry-after') ?? '', 10);
  return Number.isFinite(v) && v >= 0 ? Math.min(v, 10) * 1000 : 500;
}
