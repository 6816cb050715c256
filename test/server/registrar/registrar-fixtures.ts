import { readFileSync } from 'node:fs';
import { parseMessage } from '../../../sip/message/parser.js';
import type { SipRequest } from '../../../sip/message/sip-request.js';
import type { Flow, TransportProtocol } from '../../../sip/transport/transport.js';
import type { AuthenticatedParty } from '../../../server/relay-ports.js';

let seq = 0;

/** A flow that is only an id and a protocol: the registrar never sends on it. */
export function fakeFlow(protocol: TransportProtocol, id = `${protocol.toLowerCase()}/test.${++seq}`): Flow {
  return {
    id,
    protocol,
    reliable: protocol !== 'UDP',
    local: { host: '127.0.0.1', port: 5060 },
    remote: { host: '192.0.2.7', port: 40000 + seq },
    isOpen: true,
    send: () => true,
    close() {},
  };
}

export interface RegisterOptions {
  /** To and From: `sip:alice@portal.test`. */
  aor?: string;
  ruri?: string;
  /** Contact header values, one line each. */
  contacts?: string[];
  expires?: string;
  callId?: string;
  cseq?: number;
  /** Further header lines. */
  headers?: string[];
}

/** A REGISTER as a parsed SipRequest. */
export function registerRequest(o: RegisterOptions = {}): SipRequest {
  const aor = o.aor ?? 'sip:alice@portal.test';
  const n = ++seq;
  const lines = [
    `REGISTER ${o.ruri ?? 'sip:portal.test'} SIP/2.0`,
    `Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK-reg-${n}`,
    'Max-Forwards: 70',
    `From: <${aor}>;tag=reg${n}`,
    `To: <${aor}>`,
    `Call-ID: ${o.callId ?? 'reg-call-1'}`,
    `CSeq: ${o.cseq ?? n} REGISTER`,
    ...(o.contacts ?? []).map((c) => `Contact: ${c}`),
    ...(o.expires === undefined ? [] : [`Expires: ${o.expires}`]),
    ...(o.headers ?? []),
    'Content-Length: 0',
  ];
  const m = parseMessage(lines.join('\r\n') + '\r\n\r\n');
  if (!m.isRequest) throw new Error('expected a request');
  return m;
}

/** An RFC 4475 torture message from test/fixtures, parsed as a UDP datagram. */
export function torture(name: string): SipRequest {
  const m = parseMessage(readFileSync(new URL(`../../fixtures/rfc4475/${name}.dat`, import.meta.url)));
  if (!m.isRequest) throw new Error('expected a request');
  return m;
}

export function subscriber(username: string, domain = 'portal.test'): AuthenticatedParty {
  return { kind: 'subscriber', id: 1, username, domain };
}

export function appServer(username: string, domain = 'portal.test'): AuthenticatedParty {
  return { kind: 'app-server', id: 7, username, domain };
}
