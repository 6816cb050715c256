import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../../sip/message/parser.js';
import { serializeMessage } from '../../../sip/message/serializer.js';
import type { SipRequest } from '../../../sip/message/sip-request.js';
import { createNon2xxAck } from '../../../sip/transaction/create-non-2xx-ack.js';
import { request, responseTo } from './messages.js';

describe('createNon2xxAck (§17.1.1.3)', () => {
  const invite = request({
    via: 'SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bKtop',
    lowerVias: ['SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKbelow'],
    extra: ['Route: <sip:p1.example.com;lr>', 'Route: <sip:p2.example.com;lr>', 'Contact: <sip:alice@192.0.2.1>'],
  });
  const busy = responseTo(invite, 486, { toTag: 'callee' });
  const ack = createNon2xxAck(invite, busy);

  it('keeps the Request-URI, Call-ID and From of the INVITE', () => {
    expect(ack.startLine()).toBe('ACK sip:bob@example.com SIP/2.0');
    expect(ack.callId).toBe(invite.callId);
    expect(ack.header('from')).toBe(invite.header('from'));
  });

  it('takes To from the response, with its tag', () => {
    expect(ack.header('to')).toBe(busy.header('to'));
    expect(ack.to.tag).toBe('callee');
  });

  it("has only the INVITE's top Via and its CSeq number with method ACK", () => {
    expect(ack.via.map((v) => v.toString())).toEqual(['SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bKtop']);
    expect(ack.cseq).toEqual({ seq: 314159, method: 'ACK' });
  });

  it("carries the INVITE's Route header fields in order, and no Contact", () => {
    expect(ack.headerList('route')).toEqual(['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    expect(ack.hasHeader('contact')).toBe(false);
  });

  it('parses back as a valid request', () => {
    const back = parseMessage(serializeMessage(ack)) as SipRequest;
    expect(back.method).toBe('ACK');
    expect(back.maxForwards).toBe(70);
  });
});
