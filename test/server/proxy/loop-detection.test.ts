import { describe, expect, it } from 'vitest';
import { isLooped, loopToken, RELAY_BRANCH_PREFIX, relayBranch } from '../../../server/proxy/loop-detection.js';
import type { Via } from '../../../sip/grammar/via.js';
import { SipRequest } from '../../../sip/message/sip-request.js';

const own = (via: Via) => via.sentBy === '10.0.0.1:5060';

function request(uri: string, vias: string[]): SipRequest {
  return new SipRequest('INVITE', uri, [
    ...vias.map((v) => ['Via', v] as [string, string]),
    ['Max-Forwards', '70'],
    ['From', '<sip:alice@portal.test>;tag=1'],
    ['To', '<sip:wine@portal.test>'],
    ['Call-ID', 'loop-1'],
    ['CSeq', '1 INVITE'],
  ]);
}

describe('loop detection (RFC 3261 §16.3 step 4, §16.6 step 8)', () => {
  it('writes branches with the magic cookie, the relay prefix, the loop token and a unique part', () => {
    const token = loopToken(request('sip:wine@portal.test', ['SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa']));
    const a = relayBranch(token);
    const b = relayBranch(token);
    expect(a.startsWith(RELAY_BRANCH_PREFIX + token)).toBe(true);
    expect(a).not.toBe(b);
  });

  it('finds a loop when the request comes back through the relay unchanged', () => {
    const first = request('sip:wine@portal.test', ['SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa']);
    const branch = relayBranch(loopToken(first));
    const back = request('sip:wine@portal.test', ['SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKother', `SIP/2.0/UDP 10.0.0.1:5060;branch=${branch}`, 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa']);
    expect(isLooped(back, loopToken(back), own)).toBe(true);
  });

  it('lets a spiral through: the request comes back with another Request-URI', () => {
    const first = request('sip:wine@portal.test', ['SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa']);
    const branch = relayBranch(loopToken(first));
    const back = request('sip:beer@portal.test', [`SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKo`, `SIP/2.0/UDP 10.0.0.1:5060;branch=${branch}`]);
    expect(isLooped(back, loopToken(back), own)).toBe(false);
  });

  it("ignores another element's Via that merely looks like the relay's", () => {
    const first = request('sip:wine@portal.test', []);
    const branch = relayBranch(loopToken(first));
    const back = request('sip:wine@portal.test', [`SIP/2.0/UDP 10.9.9.9:5060;branch=${branch}`]);
    expect(isLooped(back, loopToken(back), own)).toBe(false);
  });
});
