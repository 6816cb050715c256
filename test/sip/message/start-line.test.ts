import { describe, expect, it } from 'vitest';
import { isSipParseError } from '../../../sip/errors.js';
import { parseMessage } from '../../../sip/message/parser.js';
import type { SipRequest } from '../../../sip/message/sip-request.js';
import type { SipResponse } from '../../../sip/message/sip-response.js';

/**
 * The start line (RFC 3261 §7.1, §7.2): the common spelling is read on a
 * fast path and everything else by the full reader; both must agree.
 */
const HEADERS = 'Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n';
const response = (line: string) => parseMessage(Buffer.from(`${line}\r\n${HEADERS}`), { validate: false }) as SipResponse;
const request = (line: string) => parseMessage(Buffer.from(`${line}\r\n${HEADERS}`), { validate: false }) as SipRequest;

describe('Status-Line', () => {
  it.each([
    ['SIP/2.0 200 OK', 200, 'OK'],
    ['SIP/2.0 180 Ringing', 180, 'Ringing'],
    ['SIP/2.0 486 Busy Here', 486, 'Busy Here'],
    ['SIP/2.0 200 ', 200, ''],
    ['SIP/2.0 200', 200, ''],
    ['SIP/2.0 200  OK', 200, ' OK'],
    ['SIP/2.0 200 OK\tthen a tab', 200, 'OK\tthen a tab'],
    ['SIP/2.0  200 OK', 200, 'OK'],
    ['SIP/2.0 699 Whatever', 699, 'Whatever'],
  ])('%j → %d %j', (line, status, reason) => {
    const r = response(line);
    expect(r.isRequest).toBe(false);
    expect([r.status, r.reason, r.version]).toEqual([status, reason, 'SIP/2.0']);
  });

  it.each(['SIP/2.0 2000 OK', 'SIP/2.0 099 Low', 'SIP/2.0 700 High', 'SIP/2.0 2x0 OK', 'SIP/2.0 20 OK'])('refuses %j', (line) => {
    let error: unknown;
    try {
      response(line);
    } catch (e) {
      error = e;
    }
    expect(isSipParseError(error)).toBe(true);
  });

  it('keeps another version for the 505 check', () => {
    expect(response('SIP/7.0 200 OK').version).toBe('SIP/7.0');
  });
});

describe('Request-Line', () => {
  it.each([
    ['INVITE sip:wine@portal.test SIP/2.0', 'INVITE', 'sip:wine@portal.test', 'SIP/2.0'],
    ['OPTIONS sip:127.0.0.1:5060;transport=udp SIP/2.0', 'OPTIONS', 'sip:127.0.0.1:5060;transport=udp', 'SIP/2.0'],
    ['INVITE  sip:wine@portal.test   SIP/2.0 ', 'INVITE', 'sip:wine@portal.test', 'SIP/2.0'],
    ['INVITE\tsip:wine@portal.test\tSIP/2.0', 'INVITE', 'sip:wine@portal.test', 'SIP/2.0'],
    ['INVITE sip:wine@portal.test sip/2.0', 'INVITE', 'sip:wine@portal.test', 'SIP/2.0'],
    ['NEWMETHOD sip:wine@portal.test SIP/3.0', 'NEWMETHOD', 'sip:wine@portal.test', 'SIP/3.0'],
  ])('%j', (line, method, uri, version) => {
    const r = request(line);
    expect([r.method, r.rawUri, r.version]).toEqual([method, uri, version]);
  });

  it.each([
    ['INV<ITE sip:wine@portal.test SIP/2.0', 'SIP_ERR_METHOD'],
    ['INVITE sip:wine@portal.test', 'SIP_ERR_START_LINE'],
    ['INVITE sip:wine @portal.test SIP/2.0', 'SIP_ERR_START_LINE'],
    [' sip:wine@portal.test SIP/2.0', 'SIP_ERR_START_LINE'],
  ])('refuses %j with %s', (line, code) => {
    let error: unknown;
    try {
      request(line);
    } catch (e) {
      error = e;
    }
    expect(isSipParseError(error) && error.code).toBe(code);
  });
});
