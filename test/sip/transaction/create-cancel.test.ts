import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../../sip/message/parser.js';
import { serializeMessage } from '../../../sip/message/serializer.js';
import type { SipRequest } from '../../../sip/message/sip-request.js';
import { createCancel } from '../../../sip/transaction/create-cancel.js';
import { request } from './messages.js';

const invite = () =>
  request({
    via: 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKtop;rport',
    lowerVias: ['SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKbelow;received=192.0.2.1'],
    extra: ['Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>', 'Contact: <sip:alice@192.0.2.1>', 'Content-Type: application/sdp'],
  });

describe('createCancel (§9.1)', () => {
  it('keeps the Request-URI, Call-ID, To, From and CSeq number, with method CANCEL', () => {
    const inv = invite();
    const cancel = createCancel(inv);
    expect(cancel.startLine()).toBe('CANCEL sip:bob@example.com SIP/2.0');
    expect(cancel.callId).toBe(inv.callId);
    expect(cancel.header('to')).toBe(inv.header('to'));
    expect(cancel.header('from')).toBe(inv.header('from'));
    expect(cancel.cseq).toEqual({ seq: 314159, method: 'CANCEL' });
  });

  it("has the INVITE's top Via alone, so it shares the branch", () => {
    const cancel = createCancel(invite());
    expect(cancel.via.map((v) => v.toString())).toEqual(['SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKtop;rport']);
  });

  it("copies the INVITE's Route header fields and nothing of its body or Contact", () => {
    const cancel = createCancel(invite());
    expect(cancel.headerList('route')).toEqual(['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    expect(cancel.hasHeader('contact')).toBe(false);
    expect(cancel.hasHeader('content-type')).toBe(false);
    expect(cancel.body.length).toBe(0);
  });

  it('adds the extra header lines it is given, and parses back as a valid request', () => {
    const cancel = createCancel(invite(), { headers: [['Reason', 'SIP;cause=487']] });
    const back = parseMessage(serializeMessage(cancel)) as SipRequest;
    expect(back.header('reason')).toBe('SIP;cause=487');
    expect(back.maxForwards).toBe(70);
  });

  it('refuses a request that is not an INVITE (TypeError)', () => {
    expect(() => createCancel(request({ method: 'OPTIONS' }))).toThrow(TypeError);
  });
});
