import { type RequestListener, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type SipLogger, noopLogger } from '../../sip/util/logger.js';

/** Options of {@link startHttpServer}. */
export interface StartHttpServerOptions {
  /** The request handler: `createHttpApp(…).app`. */
  app: RequestListener;
  /** Default `127.0.0.1` (config `http.host`). */
  host?: string;
  /** Default 8080 (config `http.port`); 0 picks a free port (tests). */
  port?: number;
  /**
   * On close, how long requests in progress may take before their
   * connections are cut. Default 5000 ms.
   */
  closeGraceMs?: number;
  logger?: SipLogger;
}

/** A listening HTTP server. */
export interface RunningHttpServer {
  /** The Node server: give it to the WebSocket listener for `/sip`. */
  readonly server: Server;
  /** The address and port bound (the real port when 0 was asked for). */
  readonly host: string;
  readonly port: number;
  /** `http://host:port`, IPv6 in brackets. */
  readonly url: string;
  /**
   * Stops accepting, closes idle keep-alive connections at once, lets
   * requests in progress finish for `closeGraceMs`, then cuts what is
   * left. WebSocket connections taken over by the SIP listener are not the
   * HTTP server's: close the transport first. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Starts the relay's one HTTP server. Rejects with the listen error
 * (`EADDRINUSE`, `EACCES`) after closing what it opened.
 */
export async function startHttpServer(options: StartHttpServerOptions): Promise<RunningHttpServer> {
  if (options === null || typeof options !== 'object' || typeof options.app !== 'function') {
    throw new TypeError('startHttpServer: `app` (a request handler) is required');
  }
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`startHttpServer: port must be an integer 0..65535, got ${String(port)}`);
  const graceMs = options.closeGraceMs ?? 5000;
  if (!Number.isInteger(graceMs) || graceMs < 0) throw new TypeError(`startHttpServer: closeGraceMs must be an integer >= 0, got ${String(graceMs)}`);
  const logger = options.logger ?? noopLogger;

  const server = createServer(options.app);
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error) => {
      server.close();
      reject(e);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (e) => logger.error({ err: e }, 'HTTP server error'));
  // A client that sends nothing must not hold a socket for ever.
  server.on('clientError', (err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
    logger.debug({ err }, 'HTTP client error');
  });

  const address = server.address() as AddressInfo;
  const urlHost = address.address.includes(':') ? `[${address.address}]` : address.address;
  logger.info({ host: address.address, port: address.port }, 'HTTP server listening');

  let closing: Promise<void> | undefined;
  return {
    server,
    host: address.address,
    port: address.port,
    url: `http://${urlHost}:${address.port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        const cut = setTimeout(() => server.closeAllConnections(), graceMs);
        cut.unref();
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
