import type { HeaderEntry } from '../message/sip-message.js';
import { SipRequest } from '../message/sip-request.js';
import type { SipResponse } from '../message/sip-response.js';

/**
 * The ACK a client INVITE transaction sends for a non-2xx final response
 * (RFC 3261 §17.1.1.3): Request-URI, Call-ID and From of the INVITE; To of
 * the response (with its tag); the INVITE's top Via alone, so that the ACK
 * matches the server transaction (§17.2.3); CSeq number of the INVITE with
 * method ACK; the INVITE's Route header fields. Header lines copied from
 * the INVITE keep their raw text. Max-Forwards is 70 (§8.1.1.6).
 */
export function createNon2xxAck(invite: SipRequest, response: SipResponse): SipRequest {
  const ack = new SipRequest('ACK', invite.rawUri);
  const out = ack.headers;
  let viaDone = false;
  for (const h of invite.headers) {
    switch (h.key) {
      case 'via':
        if (!viaDone) {
          out.push({ name: h.name, key: 'via', value: invite.topVia.toString(), raw: undefined });
          viaDone = true;
        }
        break;
      case 'route':
      case 'from':
      case 'call-id':
        out.push(copy(h));
        break;
      case 'to': {
        const to = responseTo(response);
        if (to) out.push(copy(to));
        break;
      }
      case 'cseq':
        out.push({ name: h.name, key: 'cseq', value: invite.cseq.seq + ' ACK', raw: undefined });
        break;
      case 'max-forwards':
        out.push({ name: h.name, key: 'max-forwards', value: '70', raw: undefined });
        break;
    }
  }
  if (!ack.hasHeader('max-forwards')) ack.addHeader('Max-Forwards', '70');
  return ack;
}

function responseTo(response: SipResponse): HeaderEntry | undefined {
  for (const h of response.headers) if (h.key === 'to') return h;
  return undefined;
}

function copy(h: HeaderEntry): HeaderEntry {
  return { name: h.name, key: h.key, value: h.value, raw: h.raw };
}
