import { isSipParseError } from '../errors.js';
import { parseMessage, type ParseOptions } from '../message/parser.js';
import { systemClock, type Clock, type TimerHandle } from '../util/clock.js';
import { noopLogger, type SipLogger } from '../util/logger.js';
import { randomToken } from '../util/random.js';
import { TransportError, type Endpoint, type Flow, type Transport, type TransportListener, type TransportProtocol } from './transport.js';

/**
 * The part of the WHATWG WebSocket this transport uses. The browser's
 * `WebSocket` fits, and so does the `ws` package's, which Node tests pass in.
 */
export interface WebSocketLike {
  readonly readyState: number;
  /** The subprotocol the server selected. */
  readonly protocol: string;
  binaryType: string;
  send(data: string | ArrayBufferView): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: { handleEvent(event: never): void }): void;
  removeEventListener(type: 'open' | 'message' | 'close' | 'error', listener: { handleEvent(event: never): void }): void;
}

/** A WebSocket constructor: `globalThis.WebSocket` by default. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** How the transport reconnects after losing the server. */
export interface ReconnectOptions {
  /** Wait before the first retry. Default 1 000 ms. */
  initialDelayMs?: number;
  /** Longest wait between retries. Default 30 000 ms. */
  maxDelayMs?: number;
  /** Growth of the wait per failed attempt. Default 2. */
  factor?: number;
  /** Fraction of each wait drawn at random, so clients do not return in step. Default 0.2. */
  jitter?: number;
  /** Attempts before giving up (state `closed`). Default unlimited. */
  maxAttempts?: number;
}

/** Options of a {@link WebSocketTransport}. */
export interface WebSocketTransportOptions {
  /** The relay's SIP WebSocket, `wss://relay.example/sip`; the scheme decides WS or WSS in Via. */
  url: string;
  /** The WebSocket constructor; default `globalThis.WebSocket`. */
  WebSocket?: WebSocketConstructor;
  /** Reconnect with exponential backoff when the connection drops; `false` to stay down. Default on. */
  reconnect?: boolean | ReconnectOptions;
  /**
   * Send a CRLF CRLF keep-alive frame after this long without sending
   * anything (RFC 5626 §4.4.1 suggests 95–120 s for connection-oriented
   * transports; browsers cannot send WebSocket ping frames). 0 disables.
   * Default 100 000 ms.
   */
  keepAliveIntervalMs?: number;
  /**
   * After a keep-alive, the connection is considered dead if nothing at all
   * arrives within this time (the relay answers CRLF) and is dropped, which
   * starts a reconnect (RFC 5626 §4.4.1 uses 10 s). 0 never. Default 10 000 ms.
   */
  keepAliveTimeoutMs?: number;
  /** Largest message accepted and sent. Default 65535 bytes. */
  maxMessageSize?: number;
  /** Bytes queued while the socket opens before sends are refused. Default 1 048 576. */
  maxQueuedBytes?: number;
  /** The Via sent-by host; default a random `<token>.invalid` (RFC 7118 §5.2). */
  viaHost?: string;
  clock?: Clock;
  logger?: SipLogger;
  /** Random numbers in [0, 1) for backoff jitter; default `Math.random`. */
  random?: () => number;
}

/** The events a UI can show. */
export interface WebSocketTransportEvents {
  /** A connection to the relay is open; `flow` is the new flow (a new one each time). */
  connected: { flow: Flow };
  /** The connection closed. `willReconnect` says whether a retry is scheduled. */
  disconnected: { flow: Flow; code: number; reason: string; willReconnect: boolean };
  /** A retry is scheduled in `delayMs`; `attempt` counts from 1 since the last good connection. */
  reconnecting: { attempt: number; delayMs: number };
}

/**
 * `idle`: before `connect()`; `connecting`: a socket is opening;
 * `connected`; `waiting`: down, a retry is scheduled; `closed`: `close()`
 * was called or retries ran out.
 */
export type WebSocketTransportState = 'idle' | 'connecting' | 'connected' | 'waiting' | 'closed';

const LEGAL: Record<WebSocketTransportState, readonly WebSocketTransportState[]> = {
  idle: ['connecting', 'closed'],
  connecting: ['connected', 'waiting', 'closed'],
  connected: ['waiting', 'closed'],
  waiting: ['connecting', 'closed'],
  closed: [],
};

const SIP_SUBPROTOCOL = 'sip';
const WS_OPEN = 1;
const PING = '\r\n\r\n';
const PONG = '\r\n';
/** Close code for a connection the transport gives up on (4000–4999 are free for applications, RFC 6455 §7.4.2). */
const CLOSE_DEAD = 4000;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

type Handler<K extends keyof WebSocketTransportEvents> = (event: WebSocketTransportEvents[K]) => void;

/**
 * The browser's transport (RFC 7118): one WebSocket to the relay, with
 * subprotocol `sip`, that carries everything — `flowTo` returns that one
 * flow whatever the destination, because a browser reaches the world only
 * through the relay. Via carries `WS` or `WSS` by the URL scheme and a
 * random `.invalid` host (RFC 7118 §5.2), since a browser has no address
 * that anyone could reach. Each connection is a new flow; when one drops,
 * `onFlowClosed` fires and, unless disabled, the transport reconnects with
 * exponential backoff, reporting `disconnected`, `reconnecting` and
 * `connected` to whoever shows the user the connection state.
 *
 * ```ts
 * const transport = new WebSocketTransport({ url: 'wss://relay.example/sip' });
 * transport.on('disconnected', ({ willReconnect }) => banner.show(willReconnect ? 'Reconnecting…' : 'Offline'));
 * await transport.connect();
 * ```
 */
export class WebSocketTransport implements Transport {
  readonly protocols: readonly TransportProtocol[];
  /** The Via sent-by host: stable for the life of this transport. */
  readonly viaHost: string;
  private readonly url: string;
  private readonly protocol: 'WS' | 'WSS';
  private readonly remote: { host: string; port: number };
  private readonly WebSocketImpl: WebSocketConstructor;
  private readonly reconnect: Required<ReconnectOptions> | undefined;
  private readonly keepAliveIntervalMs: number;
  private readonly keepAliveTimeoutMs: number;
  private readonly maxQueuedBytes: number;
  private readonly parseOptions: ParseOptions;
  private readonly clock: Clock;
  private readonly logger: SipLogger;
  private readonly random: () => number;
  private readonly handlers: { [K in keyof WebSocketTransportEvents]: Set<Handler<K>> } = {
    connected: new Set(),
    disconnected: new Set(),
    reconnecting: new Set(),
  };
  private listener: TransportListener | undefined;
  private _state: WebSocketTransportState = 'idle';
  private current: BrowserWebSocketFlow | undefined;
  private attempts = 0;
  private retryTimer: TimerHandle | undefined;
  private seq = 0;
  private readonly boot = randomToken(8);
  private connectWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];

  constructor(options: WebSocketTransportOptions) {
    if (!options || typeof options.url !== 'string') throw new TypeError('WebSocketTransport: options.url is required');
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new TypeError(`WebSocketTransport: url ${JSON.stringify(options.url)} is not a URL`);
    }
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new TypeError('WebSocketTransport: url must start with ws: or wss:');
    this.url = options.url;
    this.protocol = url.protocol === 'wss:' ? 'WSS' : 'WS';
    this.protocols = Object.freeze([this.protocol]);
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    this.remote = Object.freeze({ host, port: url.port ? Number(url.port) : this.protocol === 'WSS' ? 443 : 80 });
    const impl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (typeof impl !== 'function') throw new TypeError('WebSocketTransport: no WebSocket available; pass options.WebSocket');
    this.WebSocketImpl = impl;
    this.reconnect = resolveReconnect(options.reconnect);
    this.keepAliveIntervalMs = nonNegative(options.keepAliveIntervalMs, 100_000, 'keepAliveIntervalMs');
    this.keepAliveTimeoutMs = nonNegative(options.keepAliveTimeoutMs, 10_000, 'keepAliveTimeoutMs');
    this.maxQueuedBytes = nonNegative(options.maxQueuedBytes, 1_048_576, 'maxQueuedBytes');
    this.parseOptions = { datagram: true, maxMessageSize: nonNegative(options.maxMessageSize, 65535, 'maxMessageSize') };
    this.viaHost = options.viaHost ?? randomToken(12).toLowerCase() + '.invalid';
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? noopLogger;
    this.random = options.random ?? Math.random;
  }

  get state(): WebSocketTransportState {
    return this._state;
  }

  /** The flow of the current (or last) connection. */
  get flow(): Flow | undefined {
    return this.current;
  }

  /** Subscribes to an event; returns the function that unsubscribes. */
  on<K extends keyof WebSocketTransportEvents>(type: K, handler: Handler<K>): () => void {
    this.handlers[type].add(handler);
    return () => this.off(type, handler);
  }

  off<K extends keyof WebSocketTransportEvents>(type: K, handler: Handler<K>): void {
    this.handlers[type].delete(handler);
  }

  listen(listener: TransportListener): void {
    this.listener = listener;
  }

  /**
   * Opens the connection. Resolves once connected; rejects with a
   * TransportError (`SIP_ERR_TRANSPORT_CONNECT`) when the attempt fails and
   * reconnecting is off or has given up, or `SIP_ERR_TRANSPORT_CLOSED`
   * when `close()` comes first. Calling it again while connecting or
   * connected waits for (or returns) the same connection.
   */
  connect(): Promise<void> {
    if (this._state === 'closed') return Promise.reject(new TransportError('SIP_ERR_TRANSPORT_CLOSED', 'transport is closed'));
    if (this._state === 'connected') return Promise.resolve();
    const p = new Promise<void>((resolve, reject) => this.connectWaiters.push({ resolve, reject }));
    if (this._state === 'idle') this.openSocket();
    return p;
  }

  /** The one flow to the relay, whatever `dest` says. Throws TransportError before `connect()` and after `close()`. */
  flowTo(_dest: Endpoint): Flow {
    if (this._state === 'closed') throw new TransportError('SIP_ERR_TRANSPORT_CLOSED', 'transport is closed');
    if (!this.current) throw new TransportError('SIP_ERR_TRANSPORT_CLOSED', 'not connected: call connect() first');
    return this.current;
  }

  flowById(id: string): Flow | undefined {
    const f = this.current;
    return f && f.id === id && f.isOpen ? f : undefined;
  }

  /** The `.invalid` sent-by. Port 0: a browser has no port to name, so Via carries none. */
  localAddress(protocol: TransportProtocol): { host: string; port: number } | undefined {
    return protocol === this.protocol ? { host: this.viaHost, port: 0 } : undefined;
  }

  /** Closes the connection (code 1000) and stops reconnecting. Resolves once the socket is closed. */
  async close(): Promise<void> {
    if (this._state === 'closed') return;
    const flow = this.current;
    this.transition('closed');
    this.clearRetry();
    this.settleConnect(new TransportError('SIP_ERR_TRANSPORT_CLOSED', 'transport closed'));
    if (flow && flow.isOpen) {
      const done = flow.whenClosed();
      flow.close();
      await done;
    }
  }

  // ---- called by the flow ---------------------------------------------------

  /** @internal */
  flowOpened(flow: BrowserWebSocketFlow): void {
    if (flow !== this.current || this._state !== 'connecting') return;
    this.attempts = 0;
    this.transition('connected');
    this.emit('connected', { flow });
    this.settleConnect(undefined);
  }

  /** @internal */
  flowClosed(flow: BrowserWebSocketFlow, code: number, reason: string, wasOpen: boolean): void {
    if (flow !== this.current) return;
    const stopping = this._state === 'closed';
    let willReconnect = false;
    if (!stopping) {
      const canRetry = this.reconnect !== undefined && this.attempts < this.reconnect.maxAttempts;
      if (canRetry) {
        willReconnect = true;
        this.transition('waiting');
      } else {
        this.transition('closed');
      }
    }
    if (wasOpen) {
      try {
        this.listener?.onFlowClosed?.(flow);
      } catch (e) {
        this.logger.error({ err: e, flow: flow.id }, 'transport listener threw from onFlowClosed');
      }
    }
    this.emit('disconnected', { flow, code, reason, willReconnect });
    if (willReconnect) this.scheduleRetry();
    else if (!stopping) this.settleConnect(new TransportError('SIP_ERR_TRANSPORT_CONNECT', `connection to ${this.url} closed (${code})`));
  }

  /** @internal */
  receive(flow: BrowserWebSocketFlow, data: string | Uint8Array): void {
    let message;
    try {
      message = parseMessage(data, this.parseOptions);
    } catch (e) {
      if (!isSipParseError(e)) {
        this.logger.error({ err: e, flow: flow.id }, 'SIP parser threw a non-SIP error');
        return;
      }
      this.logger.debug({ flow: flow.id, code: e.code, detail: e.message }, 'unparsable SIP message');
      const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
      try {
        this.listener?.onParseError?.({ error: e, flow, bytes });
      } catch (err) {
        this.logger.error({ err, flow: flow.id }, 'transport listener threw from onParseError');
      }
      return;
    }
    if (!this.listener) return;
    try {
      this.listener.onMessage({ message, flow });
    } catch (e) {
      this.logger.error({ err: e, flow: flow.id }, 'transport listener threw from onMessage');
    }
  }

  /** @internal */
  get settings(): FlowSettings {
    return {
      clock: this.clock,
      logger: this.logger,
      keepAliveIntervalMs: this.keepAliveIntervalMs,
      keepAliveTimeoutMs: this.keepAliveTimeoutMs,
      maxQueuedBytes: this.maxQueuedBytes,
      maxMessageSize: this.parseOptions.maxMessageSize ?? 65535,
    };
  }

  // ---- internals ------------------------------------------------------------

  private openSocket(): void {
    this.transition('connecting');
    let socket: WebSocketLike;
    const id = 'ws/' + this.boot + '.' + ++this.seq;
    try {
      socket = new this.WebSocketImpl(this.url, SIP_SUBPROTOCOL);
    } catch (e) {
      // The constructor throws for a bad URL or a blocked port: no retry can help.
      this.logger.error({ err: e, url: this.url }, 'WebSocket could not be created');
      this.transition('closed');
      this.settleConnect(new TransportError('SIP_ERR_TRANSPORT_CONNECT', e instanceof Error ? e.message : String(e)));
      return;
    }
    this.current = new BrowserWebSocketFlow(this, id, socket, this.protocol, { host: this.viaHost, port: 0 }, this.remote);
  }

  private scheduleRetry(): void {
    const r = this.reconnect!;
    this.attempts++;
    const base = Math.min(r.maxDelayMs, r.initialDelayMs * Math.pow(r.factor, this.attempts - 1));
    const delayMs = Math.round(base * (1 - r.jitter * this.random()));
    this.emit('reconnecting', { attempt: this.attempts, delayMs });
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined;
      if (this._state === 'waiting') this.openSocket();
    }, delayMs);
  }

  private clearRetry(): void {
    if (this.retryTimer) this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private settleConnect(error: Error | undefined): void {
    const waiters = this.connectWaiters;
    this.connectWaiters = [];
    for (const w of waiters) {
      if (error) w.reject(error);
      else w.resolve();
    }
  }

  private transition(to: WebSocketTransportState): void {
    if (!LEGAL[this._state].includes(to)) throw new Error(`WebSocketTransport: illegal transition ${this._state} -> ${to}`);
    this._state = to;
  }

  private emit<K extends keyof WebSocketTransportEvents>(type: K, event: WebSocketTransportEvents[K]): void {
    for (const h of this.handlers[type]) {
      try {
        h(event);
      } catch (e) {
        this.logger.error({ err: e, event: type }, 'WebSocketTransport event handler threw');
      }
    }
  }
}

/** What a flow needs from its transport's options. */
interface FlowSettings {
  clock: Clock;
  logger: SipLogger;
  keepAliveIntervalMs: number;
  keepAliveTimeoutMs: number;
  maxQueuedBytes: number;
  maxMessageSize: number;
}

/**
 * One WebSocket connection to the relay. It listens to its socket as an
 * EventListener object (`handleEvent`), so no closure is made per event.
 */
class BrowserWebSocketFlow implements Flow {
  readonly reliable = true;
  private queue: Uint8Array[] | undefined = [];
  private queuedBytes = 0;
  /** The socket is open (subprotocol checked). */
  private open = false;
  /** `close()` was called, or the connection was given up. */
  private closing = false;
  /** The close was reported to the transport. */
  private ended = false;
  private lastSent: number;
  private keepAliveTimer: TimerHandle | undefined;
  private deadline: TimerHandle | undefined;
  private closedWaiters: Array<() => void> = [];
  private readonly settings: FlowSettings;
  private readonly onKeepAliveTimer = (): void => this.keepAliveDue();
  private readonly onDeadline = (): void => this.dead();

  constructor(
    private readonly transport: WebSocketTransport,
    readonly id: string,
    private readonly socket: WebSocketLike,
    readonly protocol: 'WS' | 'WSS',
    readonly local: { host: string; port: number },
    readonly remote: { host: string; port: number },
  ) {
    this.settings = transport.settings;
    this.lastSent = this.settings.clock.now();
    socket.binaryType = 'arraybuffer';
    socket.addEventListener('open', this);
    socket.addEventListener('message', this);
    socket.addEventListener('close', this);
    socket.addEventListener('error', this);
  }

  /** Open for sending: connected, or connecting with sends queued. */
  get isOpen(): boolean {
    return !this.closing && !this.ended;
  }

  send(bytes: Uint8Array): boolean {
    if (!this.isOpen) return false;
    if (bytes.length > this.settings.maxMessageSize) return false;
    if (this.queue) {
      if (this.queuedBytes + bytes.length > this.settings.maxQueuedBytes) return false;
      this.queue.push(bytes);
      this.queuedBytes += bytes.length;
      return true;
    }
    return this.write(bytes);
  }

  close(): void {
    if (!this.isOpen) return;
    this.closing = true;
    this.queue = undefined;
    this.socket.close(1000);
  }

  /** Resolves once the close has been reported. */
  whenClosed(): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise((resolve) => this.closedWaiters.push(resolve));
  }

  handleEvent(event: Event): void {
    switch (event.type) {
      case 'open':
        this.onOpen();
        return;
      case 'message':
        this.onMessage((event as MessageEvent).data);
        return;
      case 'close': {
        const e = event as CloseEvent;
        this.onClose(e.code ?? 1006, e.reason ?? '');
        return;
      }
      case 'error':
        // A 'close' event always follows; the browser gives no detail here anyway.
        this.settings.logger.debug({ flow: this.id }, 'WebSocket error');
        return;
    }
  }

  private onOpen(): void {
    if (!this.isOpen) return;
    // RFC 7118 §4: a server that did not agree to "sip" does not speak it.
    if (this.socket.protocol !== SIP_SUBPROTOCOL) {
      this.settings.logger.warn({ flow: this.id, protocol: this.socket.protocol }, 'server did not accept subprotocol sip');
      this.closing = true;
      this.socket.close(1000, 'subprotocol sip required');
      return;
    }
    this.open = true;
    const queue = this.queue ?? [];
    this.queue = undefined;
    this.queuedBytes = 0;
    for (const bytes of queue) this.write(bytes);
    this.armKeepAlive(this.settings.keepAliveIntervalMs);
    this.transport.flowOpened(this);
  }

  private onMessage(data: unknown): void {
    // Any frame proves the connection alive.
    if (this.deadline) {
      this.settings.clock.clearTimeout(this.deadline);
      this.deadline = undefined;
    }
    let payload: string | Uint8Array;
    if (typeof data === 'string') payload = data;
    else if (data instanceof ArrayBuffer) payload = new Uint8Array(data);
    else if (ArrayBuffer.isView(data)) payload = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    else return;
    if (isKeepAlive(payload)) {
      // A server's CRLF CRLF ping gets the CRLF pong (RFC 5626 §3.5.1), as JsSIP does.
      if (payload.length === 4 && this.socket.readyState === WS_OPEN) this.socket.send(PONG);
      return;
    }
    this.transport.receive(this, payload);
  }

  private onClose(code: number, reason: string): void {
    if (this.ended) return;
    const wasOpen = this.open;
    this.ended = true;
    this.open = false;
    this.queue = undefined;
    this.clearTimers();
    this.socket.removeEventListener('open', this);
    this.socket.removeEventListener('message', this);
    this.socket.removeEventListener('close', this);
    this.socket.removeEventListener('error', this);
    this.transport.flowClosed(this, code, reason, wasOpen);
    const waiters = this.closedWaiters;
    this.closedWaiters = [];
    for (const w of waiters) w();
  }

  private write(bytes: Uint8Array): boolean {
    if (this.socket.readyState !== WS_OPEN) return false;
    let text: string | undefined;
    try {
      text = strictUtf8.decode(bytes);
    } catch {
      text = undefined; // not UTF-8 (a raw body): send as a binary frame (RFC 7118 §5.1 allows both)
    }
    try {
      this.socket.send(text ?? bytes);
    } catch (e) {
      this.settings.logger.warn({ err: e, flow: this.id }, 'WebSocket send failed');
      return false;
    }
    this.lastSent = this.settings.clock.now();
    return true;
  }

  private armKeepAlive(ms: number): void {
    if (this.keepAliveTimer) this.settings.clock.clearTimeout(this.keepAliveTimer);
    this.keepAliveTimer = this.settings.keepAliveIntervalMs > 0 ? this.settings.clock.setTimeout(this.onKeepAliveTimer, ms) : undefined;
  }

  /** Sends CRLF CRLF when nothing was sent for a whole interval; waits for any answer (RFC 5626 §4.4.1). */
  private keepAliveDue(): void {
    this.keepAliveTimer = undefined;
    if (!this.open) return;
    const interval = this.settings.keepAliveIntervalMs;
    const quiet = this.settings.clock.now() - this.lastSent;
    if (quiet < interval) {
      this.armKeepAlive(interval - quiet);
      return;
    }
    try {
      this.socket.send(PING);
    } catch (e) {
      this.settings.logger.debug({ err: e, flow: this.id }, 'keep-alive send failed');
    }
    this.lastSent = this.settings.clock.now();
    if (this.settings.keepAliveTimeoutMs > 0 && !this.deadline) {
      this.deadline = this.settings.clock.setTimeout(this.onDeadline, this.settings.keepAliveTimeoutMs);
    }
    this.armKeepAlive(interval);
  }

  /** No answer to a keep-alive: the connection is dead even if the socket does not know yet. */
  private dead(): void {
    this.deadline = undefined;
    if (!this.open) return;
    this.settings.logger.info({ flow: this.id }, 'no answer to keep-alive; dropping the connection');
    this.closing = true;
    this.socket.close(CLOSE_DEAD, 'keep-alive timeout');
    // The close handshake may never complete on a dead path: report now.
    this.onClose(1006, 'keep-alive timeout');
  }

  private clearTimers(): void {
    if (this.keepAliveTimer) this.settings.clock.clearTimeout(this.keepAliveTimer);
    if (this.deadline) this.settings.clock.clearTimeout(this.deadline);
    this.keepAliveTimer = undefined;
    this.deadline = undefined;
  }
}

/** A frame of nothing but CR and LF: a keep-alive or its answer. */
function isKeepAlive(payload: string | Uint8Array): boolean {
  for (let i = 0; i < payload.length; i++) {
    const c = typeof payload === 'string' ? payload.charCodeAt(i) : payload[i];
    if (c !== 13 && c !== 10) return false;
  }
  return true;
}

function resolveReconnect(option: boolean | ReconnectOptions | undefined): Required<ReconnectOptions> | undefined {
  if (option === false) return undefined;
  const o = option === true || option === undefined ? {} : option;
  const r = {
    initialDelayMs: nonNegative(o.initialDelayMs, 1_000, 'reconnect.initialDelayMs'),
    maxDelayMs: nonNegative(o.maxDelayMs, 30_000, 'reconnect.maxDelayMs'),
    factor: o.factor ?? 2,
    jitter: o.jitter ?? 0.2,
    maxAttempts: o.maxAttempts ?? Infinity,
  };
  if (!(r.factor >= 1)) throw new TypeError('WebSocketTransport: reconnect.factor must be >= 1');
  if (!(r.jitter >= 0 && r.jitter < 1)) throw new TypeError('WebSocketTransport: reconnect.jitter must be in [0, 1)');
  if (!(r.maxAttempts >= 0)) throw new TypeError('WebSocketTransport: reconnect.maxAttempts must be >= 0');
  return r;
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`WebSocketTransport: ${name} must be an integer >= 0`);
  return value;
}
