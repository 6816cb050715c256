import { describe, expect, it } from 'vitest';
import {
  applySessionTimerToRequest,
  checkSessionTimerRequest,
  parseMinSe,
  parseSessionExpires,
  sessionTimerTermsOf2xx,
} from '../../../server/core/session-timer.js';
import { createResponse } from '../../../sip/message/create-response.js';
import { SipRequest } from '../../../sip/message/sip-request.js';

function invite(headers: Array<[string, string]> = []): SipRequest {
  const r = new SipRequest('INVITE', 'sip:wine@portal.test');
  for (const [n, v] of [
    ['Via', 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1'],
    ['From', '<sip:alice@portal.test>;tag=a'],
    ['To', '<sip:wine@portal.test>'],
    ['Call-ID', 'c1'],
    ['CSeq', '1 INVITE'],
    ...headers,
  ] as Array<[string, string]>)
    r.addHeader(n, v);
  return r;
}

describe('Session-Expires and Min-SE (RFC 4028 §4, §5)', () => {
  it('reads delta-seconds and the refresher, case-insensitively, with other parameters', () => {
    expect(parseSessionExpires('1800')).toEqual({ seconds: 1800, refresher: undefined });
    expect(parseSessionExpires(' 90 ; refresher=UAC')).toEqual({ seconds: 90, refresher: 'uac' });
    expect(parseSessionExpires('120;x=y;refresher=uas')).toEqual({ seconds: 120, refresher: 'uas' });
  });

  it('refuses what is not delta-seconds or names another refresher', () => {
    expect(parseSessionExpires('')).toBeUndefined();
    expect(parseSessionExpires('-5')).toBeUndefined();
    expect(parseSessionExpires('1800;refresher=proxy')).toBeUndefined();
    expect(parseSessionExpires('12a')).toBeUndefined();
    expect(parseMinSe('90;foo')).toBe(90);
    expect(parseMinSe('ninety')).toBeUndefined();
  });

  it('reads the compact form x', () => {
    const r = invite([['x', '300;refresher=uac']]);
    expect(checkSessionTimerRequest(r, 90)).toEqual({ action: 'forward' });
    expect(parseSessionExpires(r.header('session-expires')!)?.seconds).toBe(300);
  });
});

describe('a proxy forwarding a session refresh request (RFC 4028 §8.1)', () => {
  it('refuses an interval below its minimum with 422 and a Min-SE naming it (or the larger Min-SE of the request)', () => {
    expect(checkSessionTimerRequest(invite([['Session-Expires', '60']]), 90)).toEqual({ action: 'too-small', minSe: 90 });
    expect(checkSessionTimerRequest(invite([['Session-Expires', '100'], ['Min-SE', '100']]), 120)).toEqual({ action: 'too-small', minSe: 120 });
    expect(checkSessionTimerRequest(invite([['Session-Expires', '90']]), 90)).toEqual({ action: 'forward' });
    expect(checkSessionTimerRequest(invite([['Session-Expires', 'soon']]), 90)).toEqual({ action: 'malformed' });
    expect(checkSessionTimerRequest(invite(), 90)).toEqual({ action: 'forward' });
  });

  it('inserts the service interval and the relay Min-SE when the request has none', () => {
    const r = invite();
    expect(applySessionTimerToRequest(r, 1800, 90)).toBe(1800);
    expect(r.header('session-expires')).toBe('1800');
    expect(r.header('min-se')).toBe('90');
  });

  it('lowers a longer interval to the service one, keeping the refresher, but never below the request Min-SE', () => {
    const r = invite([['Session-Expires', '7200;refresher=uac'], ['Min-SE', '600']]);
    expect(applySessionTimerToRequest(r, 300, 90)).toBe(600);
    expect(r.header('session-expires')).toBe('600;refresher=uac');
    expect(r.header('min-se')).toBe('600');
  });

  it('keeps a shorter interval the client asked for, and raises a Min-SE below its own', () => {
    const r = invite([['Session-Expires', '120'], ['Min-SE', '60']]);
    expect(applySessionTimerToRequest(r, 1800, 90)).toBe(120);
    expect(r.header('session-expires')).toBe('120');
    expect(r.header('min-se')).toBe('90');
  });
});

describe('a proxy relaying the 2xx (RFC 4028 §8.2)', () => {
  it('takes the terms of a 2xx that has Session-Expires (no refresher means the UAS refreshes)', () => {
    const r = invite();
    expect(sessionTimerTermsOf2xx(r, createResponse(r, 200, { toTag: 'b', headers: [['Session-Expires', '600;refresher=uac']] }), 1800, 90)).toEqual({
      intervalSeconds: 600,
      refresher: 'uac',
    });
    expect(sessionTimerTermsOf2xx(r, createResponse(r, 200, { toTag: 'b', headers: [['Session-Expires', '600']] }), 1800, 90)).toEqual({
      intervalSeconds: 600,
      refresher: 'uas',
    });
  });

  it('asks a UAC that supports timers to refresh when the UAS did not take them: Session-Expires with refresher=uac and Require: timer', () => {
    const r = invite([['Supported', 'timer, replaces']]);
    const ok = createResponse(r, 200, { toTag: 'b' });
    expect(sessionTimerTermsOf2xx(r, ok, 1800, 90)).toEqual({ intervalSeconds: 1800, refresher: 'uac' });
    expect(ok.header('session-expires')).toBe('1800;refresher=uac');
    expect(ok.optionTags('require')).toEqual(['timer']);
  });

  it('supervises with its own interval when neither UA supports timers, changing nothing', () => {
    const r = invite();
    const ok = createResponse(r, 200, { toTag: 'b' });
    expect(sessionTimerTermsOf2xx(r, ok, 1800, 90)).toEqual({ intervalSeconds: 1800, refresher: undefined });
    expect(ok.hasHeader('session-expires')).toBe(false);
  });

  it('never supervises with less than its minimum, whatever the UAS says', () => {
    const r = invite();
    expect(sessionTimerTermsOf2xx(r, createResponse(r, 200, { toTag: 'b', headers: [['Session-Expires', '30;refresher=uas']] }), 1800, 90).intervalSeconds).toBe(90);
  });
});
