import { z } from 'zod';
import { filePathSchema, hostSchema, nonEmptyString, portSchema } from './config-values.js';

/**
 * Where the relay takes SIP (issue 3, item 1). `udp`, `tcp` and `tls`
 * listen on their own sockets; `ws` is served by the HTTP server (see
 * `http`) at `path`; `wss` has its own TLS server.
 *
 * `advertise` is the `host[:port]` written into Via and Record-Route when
 * the socket is bound to a wildcard or sits behind NAT; default: the bound
 * address.
 */
const advertise = nonEmptyString.optional();
const wsPath = z
  .string({ error: 'expected a URL path' })
  .regex(/^\/[^\s?#]*$/, { error: 'expected a URL path starting with "/"' })
  .default('/sip');

export const udpListenerSchema = z.strictObject({
  transport: z.literal('udp'),
  host: hostSchema.default('127.0.0.1'),
  port: portSchema.default(5060),
  advertise,
});

export const tcpListenerSchema = z.strictObject({
  transport: z.literal('tcp'),
  host: hostSchema.default('127.0.0.1'),
  port: portSchema.default(5060),
  advertise,
});

export const tlsListenerSchema = z.strictObject({
  transport: z.literal('tls'),
  host: hostSchema.default('127.0.0.1'),
  port: portSchema.default(5061),
  /** PEM certificate chain. */
  cert: filePathSchema,
  /** PEM private key. */
  key: filePathSchema,
  advertise,
});

export const wsListenerSchema = z.strictObject({
  transport: z.literal('ws'),
  /** Path on the HTTP server (RFC 7118 leaves it to the server). */
  path: wsPath,
  advertise,
});

export const wssListenerSchema = z.strictObject({
  transport: z.literal('wss'),
  host: hostSchema.default('127.0.0.1'),
  port: portSchema.default(8443),
  path: wsPath,
  cert: filePathSchema,
  key: filePathSchema,
  advertise,
});

export const listenerConfigSchema = z.discriminatedUnion('transport', [
  udpListenerSchema,
  tcpListenerSchema,
  tlsListenerSchema,
  wsListenerSchema,
  wssListenerSchema,
]);

/** One SIP listener, as validated. */
export type ListenerConfig = z.infer<typeof listenerConfigSchema>;
/** The transports a listener can have. */
export type ListenerTransport = ListenerConfig['transport'];
