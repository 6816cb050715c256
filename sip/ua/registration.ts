import { parseNameAddress } from '../grammar/name-address.js';
import { uriEquals } from '../grammar/uri.js';
import type { HeaderInit } from '../message/sip-message.js';
import type { SipResponse } from '../message/sip-response.js';
import type { Flow } from '../transport/transport.js';
import type { TimerHandle } from '../util/clock.js';
import { initialCSeq } from '../dialog/dialog.js';
import { newCallId } from '../util/random.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { applyHeaders } from './message-options.js';
import { OutgoingRequest } from './outgoing-request.js';
import { toNameAddress } from './session.js';
import type { UserAgentCore } from './user-agent-core.js';
import { UserAgentError } from './user-agent-error.js';

/** Options of {@link UserAgentCore.register}. */
export interface RegistrationOptions {
  /**
   * The address of record to bind, written in To (a SIP URI or name-addr).
   * Default the core's own `aor`. Another AOR makes this a third-party
   * registration (RFC 3261 §10.2: From names who registers, To the AOR):
   * an application server registers each service it provides this way,
   * `sip:wine@portal.test`, under its own account.
   */
  aor?: string;
  /** The registrar's Request-URI. Default `sip:<domain of the AOR>` (RFC 3261 §10.2). */
  registrar?: string;
  /** Seconds asked for in Expires. Default 600. */
  expires?: number;
  /**
   * `+sip.instance` Contact parameter (RFC 5626 §4.1), a URN such as
   * `urn:uuid:00000000-0000-1000-8000-000A95A0E128`, stable per device.
   */
  instanceId?: string;
  /** `reg-id` Contact parameter (RFC 5626 §4.2); needs `instanceId`. Adds `Supported: outbound, path`. */
  regId?: number;
  /** Re-register before the binding expires. Default true. */
  refresh?: boolean;
  headers?: HeaderInit;
}

/** `'registering'` and `'unregistering'` while a REGISTER of that kind is in flight. */
export type RegistrationState = 'unregistered' | 'registering' | 'registered' | 'unregistering';

export interface RegistrationEvents {
  /** A 2xx to a REGISTER that binds our Contact; `expires` is what the registrar granted, in seconds. */
  registered: { expires: number; response: SipResponse };
  /** A 2xx to the REGISTER with Expires 0. */
  unregistered: { response: SipResponse };
  /** A REGISTER failed: a final non-2xx (`response`), or no response (`error`). The binding is then assumed gone. */
  failed: { response?: SipResponse; error?: UserAgentError };
}

export const DEFAULT_REGISTER_EXPIRES = 600;

/**
 * The binding of our address of record to our Contact at a registrar
 * (RFC 3261 §10.2): one Call-ID for the life of the object and increasing
 * CSeq (§10.2.4), digest answered by the core, 423 Interval Too Brief
 * retried once with the registrar's Min-Expires (§10.2.8), and a refresh
 * before the granted time runs out — at half of it, or 64*T1 before it,
 * whichever is later, so that a refresh that takes a full timer F still
 * lands in time.
 *
 * ```ts
 * const reg = core.register({ expires: 300 });
 * reg.on('failed', ({ response }) => showOffline(response?.status));
 * await reg.register();
 * // …
 * await reg.unregister();
 * ```
 */
export class Registration extends TypedEmitter<RegistrationEvents> {
  /** The Call-ID of every REGISTER of this registration. */
  readonly callId = newCallId();
  private readonly core: UserAgentCore;
  private readonly registrar: string;
  private readonly aor: string;
  private readonly requested: number;
  private readonly instanceId: string | undefined;
  private readonly regId: number | undefined;
  private readonly autoRefresh: boolean;
  private readonly headers: HeaderInit | undefined;
  private cseq = initialCSeq();
  private _state: RegistrationState = 'unregistered';
  private _expires: number | undefined;
  private contact: string | undefined;
  private flow: Flow | undefined;
  private refreshTimer: TimerHandle | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;
  private readonly refreshFn = (): void => {
    this.refreshTimer = undefined;
    this.register().catch(() => {
      // Reported through the `failed` event.
    });
  };

  /** @internal Made by `core.register()`. */
  constructor(core: UserAgentCore, options: RegistrationOptions) {
    super((error, type) => core.logger.error({ err: error, event: type }, 'Registration listener threw'));
    this.core = core;
    const expires = options.expires ?? DEFAULT_REGISTER_EXPIRES;
    if (!Number.isInteger(expires) || expires < 1) throw new TypeError(`RegistrationOptions.expires must be a positive integer, got ${String(expires)}`);
    if (options.regId !== undefined && (!Number.isInteger(options.regId) || options.regId < 1 || options.instanceId === undefined)) {
      throw new TypeError('RegistrationOptions.regId must be a positive integer and needs instanceId');
    }
    if (options.instanceId !== undefined && (typeof options.instanceId !== 'string' || /[">]/.test(options.instanceId) || !options.instanceId)) {
      throw new TypeError('RegistrationOptions.instanceId must be a URN without quotes or >');
    }
    this.requested = expires;
    this.instanceId = options.instanceId;
    this.regId = options.regId;
    this.autoRefresh = options.refresh ?? true;
    this.headers = options.headers;
    let identity = core.identity;
    if (options.aor !== undefined) {
      try {
        identity = toNameAddress(options.aor);
      } catch (e) {
        throw new TypeError(`RegistrationOptions.aor: ${e instanceof Error ? e.message : String(e)}`);
      }
      identity.tag = undefined;
    }
    const uri = identity.uri;
    this.aor = identity.toString();
    if (options.registrar !== undefined) this.registrar = options.registrar;
    else if (uri.kind === 'sip') this.registrar = `${uri.scheme}:${uri.host}${uri.port === undefined ? '' : ':' + uri.port}`;
    else throw new TypeError('RegistrationOptions.registrar is required when the AOR is not a SIP URI');
  }

  get state(): RegistrationState {
    return this._state;
  }

  /** Seconds the registrar granted in its last 2xx; undefined when not registered. */
  get expires(): number | undefined {
    return this._expires;
  }

  /**
   * Sends a REGISTER binding our Contact and resolves with its final
   * response (2xx: `registered` was emitted; otherwise `failed`). Rejects,
   * after emitting `failed`, with `SIP_ERR_REQUEST_TIMEOUT` or
   * `SIP_ERR_TRANSPORT`. Calls made while one is in flight run after it.
   */
  register(): Promise<SipResponse> {
    return this.enqueue(() => this.send(this.requested, true));
  }

  /** Removes our binding (Expires 0) and stops refreshing. */
  unregister(): Promise<SipResponse> {
    this.stopRefresh();
    return this.enqueue(() => this.send(0, true));
  }

  /** Stops refreshing without unregistering (the binding expires at the registrar). */
  dispose(): void {
    this.disposed = true;
    this.stopRefresh();
    this.core.forgetRegistration(this);
  }

  private enqueue(task: () => Promise<SipResponse>): Promise<SipResponse> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async send(expires: number, may423: boolean): Promise<SipResponse> {
    if (this.disposed) throw new UserAgentError('SIP_ERR_CLOSED', 'the registration was disposed');
    const binding = expires > 0;
    if (this._state !== 'registered' || !binding) this._state = binding ? 'registering' : 'unregistering';
    const template = this.core.createRequest('REGISTER', this.registrar, this.aor, this.callId, ++this.cseq);
    template.addHeader('Expires', String(expires));
    if (this.regId !== undefined) template.addHeader('Supported', [...new Set([...this.core.supported, 'outbound', 'path'])].join(', '));
    applyHeaders(template, this.headers);
    this.core.decorateRequest(template);
    const out = new OutgoingRequest(this.core, template, this.flow, {
      prepare: (request, flow) => {
        if (this.flow !== flow || this.contact === undefined) this.contact = this.contactFor(flow);
        this.flow = flow;
        request.setHeader('Contact', this.contact);
      },
    });
    let response: SipResponse;
    try {
      response = await out.start().response;
    } catch (e) {
      this.cseq = template.cseq.seq;
      this.lost();
      const error = e instanceof UserAgentError ? e : new UserAgentError('SIP_ERR_TRANSPORT', String(e));
      this.emit('failed', { error });
      throw error;
    }
    this.cseq = template.cseq.seq;
    const status = response.status;
    if (status === 423 && may423 && binding) {
      // §10.2.8: retry once with the registrar's minimum.
      const min = Number(response.header('min-expires'));
      if (Number.isInteger(min) && min > expires) return this.send(min, false);
    }
    if (status >= 200 && status < 300) {
      if (binding) {
        const granted = this.grantedExpires(response, expires);
        this._state = 'registered';
        this._expires = granted;
        this.scheduleRefresh(granted);
        this.emit('registered', { expires: granted, response });
      } else {
        this.lost();
        this.emit('unregistered', { response });
      }
    } else {
      this.lost();
      this.emit('failed', { response });
    }
    return response;
  }

  /** The expiry the registrar gave our Contact (§10.2.4): its `expires` parameter, else Expires, else what we asked. */
  private grantedExpires(response: SipResponse, asked: number): number {
    try {
      const ours = this.contact ? parseNameAddress(this.contact, 'contact').uri : undefined;
      const contacts = response.contacts;
      if (ours && contacts !== '*') {
        for (const c of contacts) {
          if (!uriEquals(c.uri, ours)) continue;
          const e = Number(c.params.get('expires'));
          if (Number.isInteger(e) && e >= 0) return e;
        }
      }
    } catch {
      // A malformed Contact in the 2xx: fall back to Expires.
    }
    const header = Number(response.header('expires'));
    return Number.isInteger(header) && header >= 0 ? header : asked;
  }

  private scheduleRefresh(expires: number): void {
    this.stopRefresh();
    if (!this.autoRefresh || this.disposed || expires <= 0) return;
    const marginS = (64 * this.core.transactions.timers.t1) / 1000;
    const delayS = Math.max(expires / 2, expires - marginS);
    this.refreshTimer = this.core.clock.setTimeout(this.refreshFn, delayS * 1000);
  }

  private stopRefresh(): void {
    if (this.refreshTimer !== undefined) {
      this.core.clock.clearTimeout(this.refreshTimer);
      this.refreshTimer = undefined;
    }
  }

  private lost(): void {
    this._state = 'unregistered';
    this._expires = undefined;
    this.stopRefresh();
  }

  private contactFor(flow: Flow): string {
    let contact = this.core.contactFor(flow);
    if (this.instanceId !== undefined) contact += `;+sip.instance="<${this.instanceId}>"`;
    if (this.regId !== undefined) contact += `;reg-id=${this.regId}`;
    return contact;
  }
}
