/**
 * Wire text of the requests the tests send to a layer, as a UAC at
 * 192.0.2.1 would write them (RFC 3261 §24 examples, trimmed).
 */
import { createResponse, type CreateResponseOptions } from '../../../sip/message/create-response.js';
import { parseMessage } from '../../../sip/message/parser.js';
import type { SipRequest } from '../../../sip/message/sip-request.js';
import type { SipResponse } from '../../../sip/message/sip-response.js';
import { serializeMessage } from '../../../sip/message/serializer.js';
import { crlf } from './fakes.js';

export interface RequestText {
  method?: string;
  uri?: string;
  /** The whole top Via value. */
  via?: string;
  /** More Via values below the top one. */
  lowerVias?: string[];
  cseq?: number;
  callId?: string;
  fromTag?: string | null;
  toTag?: string;
  extra?: string[];
}

/** A request as text with CRLF line ends. */
export function requestText(o: RequestText = {}): string {
  const method = o.method ?? 'INVITE';
  const lines = [
    `${method} ${o.uri ?? 'sip:bob@example.com'} SIP/2.0`,
    `Via: ${o.via ?? 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKnashds8'}`,
    ...(o.lowerVias ?? []).map((v) => `Via: ${v}`),
    'Max-Forwards: 70',
    `To: Bob <sip:bob@example.com>${o.toTag ? ';tag=' + o.toTag : ''}`,
    `From: Alice <sip:alice@example.org>${o.fromTag === null ? '' : ';tag=' + (o.fromTag ?? '1928301774')}`,
    `Call-ID: ${o.callId ?? 'a84b4c76e66710@pc33.example.org'}`,
    `CSeq: ${o.cseq ?? 314159} ${method === 'ACK' || method === 'CANCEL' ? method : method}`,
    ...(o.extra ?? []),
    'Content-Length: 0',
    '',
    '',
  ];
  return crlf(lines.join('\n'));
}

/** A parsed request built from {@link requestText}. */
export function request(o: RequestText = {}): SipRequest {
  return parseMessage(requestText(o)) as SipRequest;
}

/** A response to `req` as it would arrive on the wire (serialised and parsed again). */
export function responseTo(req: SipRequest, status: number, options?: CreateResponseOptions): SipResponse {
  const toTag = status > 100 ? (options?.toTag ?? 'as83kd9bs') : undefined;
  return parseMessage(serializeMessage(createResponse(req, status, { ...options, toTag }))) as SipResponse;
}

/** A request the TU hands to the layer to send: no Via yet. */
export function outgoing(method = 'INVITE', extra: string[] = []): SipRequest {
  const text = requestText({ method, extra });
  const req = parseMessage(text) as SipRequest;
  req.removeHeader('via');
  return req;
}
