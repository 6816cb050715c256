import { parseMessage } from '../../../sip/message/parser.js';
import type { SipRequest } from '../../../sip/message/sip-request.js';
import type { AuthenticatedParty } from '../../../server/relay-ports.js';

let seq = 0;

/**
 * A real SipRequest from the lines that matter to routing: the missing
 * mandatory headers (Via, Max-Forwards, From, To, Call-ID, CSeq) are added,
 * lines end in CRLF, and Content-Length is computed. Everything after the
 * first empty line is the body.
 */
export function routingRequest(text: string): SipRequest {
  const normalized = text.replace(/\r?\n/g, '\n').replace(/\n$/, '');
  const blank = normalized.indexOf('\n\n');
  const head = (blank < 0 ? normalized : normalized.slice(0, blank)).split('\n');
  let body = blank < 0 ? '' : normalized.slice(blank + 2);
  if (body && !body.endsWith('\n')) body += '\n';
  body = body.replace(/\n/g, '\r\n');
  const [requestLine, ...headers] = head;
  const method = requestLine.split(' ')[0];
  const has = (name: string) => headers.some((h) => h.toLowerCase().startsWith(name.toLowerCase() + ':'));
  const n = ++seq;
  const add: string[] = [];
  if (!has('Via')) add.push(`Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-route-${n}`);
  if (!has('Max-Forwards')) add.push('Max-Forwards: 70');
  if (!has('From')) add.push(`From: <sip:alice@portal.test>;tag=f${n}`);
  if (!has('To')) add.push('To: <sip:service@portal.test>');
  if (!has('Call-ID')) add.push(`Call-ID: route-${n}@192.0.2.10`);
  if (!has('CSeq')) add.push(`CSeq: 1 ${method}`);
  const bytes = Buffer.byteLength(body);
  const wire = [requestLine, ...add, ...headers, `Content-Length: ${bytes}`].join('\r\n') + '\r\n\r\n' + body;
  const message = parseMessage(wire);
  if (!message.isRequest) throw new Error('expected a request');
  return message;
}

/** The authenticated party a request's From names (the tests make them agree). */
export function partyOf(request: SipRequest): AuthenticatedParty {
  const uri = request.from.uri;
  if (uri.kind !== 'sip' || uri.user === undefined) throw new Error('From must be a SIP URI with a user');
  return { kind: 'subscriber', id: 1, username: uri.user, domain: uri.host.toLowerCase() };
}
