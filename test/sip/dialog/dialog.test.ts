import { describe, expect, it } from 'vitest';
import { Dialog, dialogKey } from '../../../sip/dialog/dialog.js';
import { parseMessage } from '../../../sip/message/parser.js';
import type { SipRequest } from '../../../sip/message/sip-request.js';
import type { SipResponse } from '../../../sip/message/sip-response.js';

function crlf(lines: string[]): string {
  return lines.join('\r\n') + '\r\n\r\n';
}

/** An INVITE from alice (tag a1, CSeq 7) that went through two record-routing proxies. */
function invite(extra: string[] = []): SipRequest {
  return parseMessage(
    crlf([
      'INVITE sip:bob@biloxi.example SIP/2.0',
      'Via: SIP/2.0/UDP p2.example;branch=z9hG4bK2',
      'Via: SIP/2.0/UDP pc33.atlanta.example;branch=z9hG4bK1',
      'Record-Route: <sip:p2.example;lr>',
      'Record-Route: <sip:p1.example;lr>',
      'Max-Forwards: 68',
      'To: Bob <sip:bob@biloxi.example>',
      'From: Alice <sip:alice@atlanta.example>;tag=a1',
      'Call-ID: call-1@atlanta.example',
      'CSeq: 7 INVITE',
      'Contact: <sip:alice@pc33.atlanta.example>',
      ...extra,
      'Content-Length: 0',
    ]),
  ) as SipRequest;
}

function responseTo(status: number, lines: string[]): SipResponse {
  return parseMessage(
    crlf([
      `SIP/2.0 ${status} Whatever`,
      'Via: SIP/2.0/UDP pc33.atlanta.example;branch=z9hG4bK1',
      'To: Bob <sip:bob@biloxi.example>;tag=b1',
      'From: Alice <sip:alice@atlanta.example>;tag=a1',
      'Call-ID: call-1@atlanta.example',
      'CSeq: 7 INVITE',
      ...lines,
      'Content-Length: 0',
    ]),
  ) as SipResponse;
}

const RR = ['Record-Route: <sip:p2.example;lr>', 'Record-Route: <sip:p1.example;lr>'];

describe('Dialog', () => {
  describe('created by a UAC from a response (§12.1.2)', () => {
    it('takes the id from Call-ID, From tag and To tag', () => {
      const d = Dialog.createUac(invite(), responseTo(200, ['Contact: <sip:bob@192.0.2.4>', ...RR]), false);
      expect(d.id).toBe(dialogKey('call-1@atlanta.example', 'a1', 'b1'));
      expect(d.role).toBe('uac');
      expect(d.localTag).toBe('a1');
      expect(d.remoteTag).toBe('b1');
    });

    it('reverses the Record-Route of the response into the route set', () => {
      const d = Dialog.createUac(invite(), responseTo(200, ['Contact: <sip:bob@192.0.2.4>', ...RR]), false);
      expect(d.routeSet.map((r) => r.uri.toString())).toEqual(['sip:p1.example;lr', 'sip:p2.example;lr']);
    });

    it('uses the Contact as remote target and the INVITE CSeq as local sequence number', () => {
      const d = Dialog.createUac(invite(), responseTo(200, ['Contact: <sip:bob@192.0.2.4>']), false);
      expect(d.remoteTarget.toString()).toBe('sip:bob@192.0.2.4');
      expect(d.localSeq).toBe(7);
      expect(d.remoteSeq).toBeUndefined();
    });

    it('is early for a 1xx and confirmed for a 2xx', () => {
      expect(Dialog.createUac(invite(), responseTo(180, ['Contact: <sip:bob@192.0.2.4>']), false).state).toBe('early');
      expect(Dialog.createUac(invite(), responseTo(200, ['Contact: <sip:bob@192.0.2.4>']), false).state).toBe('confirmed');
    });

    it('refuses a response without To tag or Contact', () => {
      const noContact = responseTo(200, []);
      expect(() => Dialog.createUac(invite(), noContact, false)).toThrow(TypeError);
    });

    it('recomputes the route set and target when the early dialog is confirmed (§13.2.2.4)', () => {
      const d = Dialog.createUac(invite(), responseTo(180, ['Contact: <sip:bob@192.0.2.4>']), false);
      expect(d.routeSet).toEqual([]);
      d.updateFromResponse(responseTo(200, ['Contact: <sip:bob@192.0.2.5>', ...RR]));
      expect(d.state).toBe('confirmed');
      expect(d.remoteTarget.toString()).toBe('sip:bob@192.0.2.5');
      expect(d.routeSet.map((r) => r.uri.toString())).toEqual(['sip:p1.example;lr', 'sip:p2.example;lr']);
    });
  });

  describe('created by a UAS from the request (§12.1.1)', () => {
    it('keeps the Record-Route order, the caller Contact as target, and the INVITE CSeq as remote sequence', () => {
      const d = Dialog.createUas(invite(), 'b1', 'confirmed', false);
      expect(d.id).toBe(dialogKey('call-1@atlanta.example', 'b1', 'a1'));
      expect(d.routeSet.map((r) => r.uri.toString())).toEqual(['sip:p2.example;lr', 'sip:p1.example;lr']);
      expect(d.remoteTarget.toString()).toBe('sip:alice@pc33.atlanta.example');
      expect(d.remoteSeq).toBe(7);
      expect(d.localSeq).toBeUndefined();
    });
  });

  describe('state', () => {
    it('moves early → confirmed → terminated and refuses anything else', () => {
      const d = Dialog.createUas(invite(), 'b1', 'early', false);
      d.stateTransition('confirmed');
      expect(() => d.stateTransition('early')).toThrow(TypeError);
      d.stateTransition('terminated');
      expect(() => d.stateTransition('confirmed')).toThrow(TypeError);
      expect(d.state).toBe('terminated');
    });
  });

  describe('building requests (§12.2.1.1)', () => {
    it('writes To, From, Call-ID and the next CSeq, without Via', () => {
      const d = Dialog.createUac(invite(), responseTo(200, ['Contact: <sip:bob@192.0.2.4>']), false);
      const bye = d.createRequest('BYE');
      expect(bye.to.tag).toBe('b1');
      expect(bye.to.displayName).toBe('Bob');
      expect(bye.from.tag).toBe('a1');
      expect(bye.callId).toBe('call-1@atlanta.example');
      expect(bye.cseq).toEqual({ seq: 8, method: 'BYE' });
      expect(bye.hasHeader('via')).toBe(false);
      expect(d.localSeq).toBe(8);
    });

    it('sends to the remote target when the route set is empty', () => {
      const d = Dialog.createUac(invite(), responseTo(200, ['Contact: <sip:bob@192.0.2.4>']), false);
      const r = d.createRequest('INFO');
      expect(r.rawUri).toBe('sip:bob@192.0.2.4');
      expect(r.hasHeader('route')).toBe(false);
      expect(d.nextHop().toString()).toBe('sip:bob@192.0.2.4');
    });

    it('puts a loose route set in Route and the remote target in the Request-URI', () => {
      const d = Dialog.createUac(invite(), responseTo(200, ['Contact: <sip:bob@192.0.2.4>', ...RR]), false);
      const r = d.createRequest('BYE');
      expect(r.rawUri).toBe('sip:bob@192.0.2.4');
      expect(r.headerList('route')).toEqual(['<sip:p1.example;lr>', '<sip:p2.example;lr>']);
      expect(d.nextHop().toString()).toBe('sip:p1.example;lr');
    });

    it('for a strict router first: its URI (stripped) in the Request-URI, the rest and the target in Route', () => {
      const strict = ['Record-Route: <sip:p2.example;lr>', 'Record-Route: <sip:p1.example;method=INVITE?Subject=x>'];
      const d = Dialog.createUac(invite(), responseTo(200, ['Contact: <sip:bob@192.0.2.4>', ...strict]), false);
      const r = d.createRequest('BYE');
      expect(r.rawUri).toBe('sip:p1.example');
      expect(r.headerList('route')).toEqual(['<sip:p2.example;lr>', '<sip:bob@192.0.2.4>']);
    });

    it('takes the CSeq given for ACK and refuses ACK without one', () => {
      const d = Dialog.createUac(invite(), responseTo(200, ['Contact: <sip:bob@192.0.2.4>']), false);
      expect(d.createRequest('ACK', { cseq: 7 }).cseq).toEqual({ seq: 7, method: 'ACK' });
      expect(d.localSeq).toBe(7);
      expect(() => d.createRequest('ACK')).toThrow(TypeError);
    });

    it('starts an empty local sequence number at a random value below 2**31', () => {
      const d = Dialog.createUas(invite(), 'b1', 'confirmed', false);
      const seq = d.createRequest('BYE').cseq.seq;
      expect(seq).toBeGreaterThan(0);
      expect(seq).toBeLessThan(2 ** 31);
      expect(d.createRequest('INFO').cseq.seq).toBe(seq + 1);
    });

    it('refuses to build on a terminated dialog', () => {
      const d = Dialog.createUas(invite(), 'b1', 'confirmed', false);
      d.stateTransition('terminated');
      expect(() => d.createRequest('BYE')).toThrow(TypeError);
    });
  });

  describe('requests from the peer (§12.2.2)', () => {
    function inDialog(method: string, seq: number): SipRequest {
      return parseMessage(
        crlf([
          `${method} sip:bob@192.0.2.4 SIP/2.0`,
          'Via: SIP/2.0/UDP pc33.atlanta.example;branch=z9hG4bKx' + seq,
          'Max-Forwards: 70',
          'To: Bob <sip:bob@biloxi.example>;tag=b1',
          'From: Alice <sip:alice@atlanta.example>;tag=a1',
          'Call-ID: call-1@atlanta.example',
          `CSeq: ${seq} ${method}`,
          'Contact: <sip:alice@192.0.2.99>',
          'Content-Length: 0',
        ]),
      ) as SipRequest;
    }

    it('accepts a higher CSeq and records it', () => {
      const d = Dialog.createUas(invite(), 'b1', 'confirmed', false);
      expect(d.receiveRequestSeq(inDialog('INFO', 9))).toBe(true);
      expect(d.remoteSeq).toBe(9);
    });

    it('refuses a lower CSeq (answered 500) and keeps the remote sequence number', () => {
      const d = Dialog.createUas(invite(), 'b1', 'confirmed', false);
      d.receiveRequestSeq(inDialog('INFO', 9));
      expect(d.receiveRequestSeq(inDialog('INFO', 8))).toBe(false);
      expect(d.remoteSeq).toBe(9);
    });

    it('does not check ACK, which carries the INVITE number', () => {
      const d = Dialog.createUas(invite(), 'b1', 'confirmed', false);
      d.receiveRequestSeq(inDialog('INFO', 9));
      expect(d.receiveRequestSeq(inDialog('ACK', 7))).toBe(true);
    });

    it('refreshes the remote target from a target refresh request', () => {
      const d = Dialog.createUas(invite(), 'b1', 'confirmed', false);
      expect(d.refreshRemoteTarget(inDialog('INVITE', 9))).toBe(true);
      expect(d.remoteTarget.toString()).toBe('sip:alice@192.0.2.99');
    });
  });
});
