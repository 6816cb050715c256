import { isSipParseError, type SipParseError } from '../errors.js';
import { parseMessage, type ParseOptions } from '../message/parser.js';
import type { Flow, TransportListener } from '../transport/transport.js';
import type { Clock } from '../util/clock.js';
import type { SipLogger } from '../util/logger.js';
import { randomToken } from '../util/random.js';
import { FlowTable, type TrackedFlow } from './flow-table.js';
import type { ResolvedNodeTransportOptions } from './node-transport-options.js';

/** At most this many bytes of an unparsable message are handed up for logs. */
const MAX_ERROR_BYTES = 4096;

/**
 * What every listener and connection of one NodeTransport shares: the
 * limits, the clock and logger, the connection table, and the one path by
 * which bytes become messages for the layer above. Keeping that path here
 * means no listener or connection holds a closure per message.
 */
export class TransportContext {
  /** Set once by `Transport.listen`. */
  listener: TransportListener | undefined;
  /** True once `close()` began: new connections are refused. */
  closing = false;
  readonly clock: Clock;
  readonly logger: SipLogger;
  readonly connections: FlowTable<TrackedFlow>;
  /** Parse options for a UDP datagram or a WebSocket frame: the frame delimits the message. */
  readonly datagramParse: ParseOptions;
  /** Parse options for a message framed out of a TCP/TLS stream by Content-Length. */
  readonly streamParse: ParseOptions;
  /** Distinguishes this transport's connection ids from those of an earlier process. */
  private readonly boot = randomToken(8);
  private seq = 0;

  constructor(readonly options: ResolvedNodeTransportOptions) {
    this.clock = options.clock;
    this.logger = options.logger;
    this.connections = new FlowTable(options.maxConnections, options.maxConnectionsPerAddress);
    this.datagramParse = { datagram: true, maxMessageSize: options.maxMessageSize };
    this.streamParse = { datagram: false, maxMessageSize: options.maxMessageSize };
  }

  /** A new connection id, `tcp/<boot>.<n>`: unique in this process and unlike any before a restart. */
  connectionId(protocol: string): string {
    return protocol.toLowerCase() + '/' + this.boot + '.' + ++this.seq;
  }

  /**
   * Parses `bytes` that arrived on `flow` and hands the message up, or
   * reports why it did not parse. Never throws: it runs inside socket
   * callbacks.
   */
  deliver(flow: Flow, bytes: Uint8Array, parse: ParseOptions): void {
    let message;
    try {
      message = parseMessage(bytes, parse);
    } catch (e) {
      if (isSipParseError(e)) this.reportParseError(e, flow, bytes);
      // The parser promises SipParseError only; anything else is a bug in it.
      else this.logger.error({ err: e, flow: flow.id }, 'SIP parser threw a non-SIP error');
      return;
    }
    const listener = this.listener;
    if (!listener) {
      this.logger.debug({ flow: flow.id }, 'SIP message dropped: no listener yet');
      return;
    }
    try {
      listener.onMessage({ message, flow });
    } catch (e) {
      this.logger.error({ err: e, flow: flow.id }, 'transport listener threw from onMessage');
    }
  }

  /** Tells the layer above about bytes that are not a SIP message (it may answer 400, §18.1.2 / §16.3). */
  reportParseError(error: SipParseError, flow: Flow, bytes: Uint8Array): void {
    this.logger.debug({ flow: flow.id, remote: flow.remote, code: error.code, detail: error.message }, 'unparsable SIP message');
    const onParseError = this.listener?.onParseError;
    if (!onParseError) return;
    try {
      onParseError.call(this.listener, {
        error,
        flow,
        bytes: bytes.length > MAX_ERROR_BYTES ? bytes.subarray(0, MAX_ERROR_BYTES) : bytes,
      });
    } catch (e) {
      this.logger.error({ err: e, flow: flow.id }, 'transport listener threw from onParseError');
    }
  }

  /** Tells the layer above that a connection is gone. */
  flowClosed(flow: Flow): void {
    const onFlowClosed = this.listener?.onFlowClosed;
    if (!onFlowClosed) return;
    try {
      onFlowClosed.call(this.listener, flow);
    } catch (e) {
      this.logger.error({ err: e, flow: flow.id }, 'transport listener threw from onFlowClosed');
    }
  }
}
