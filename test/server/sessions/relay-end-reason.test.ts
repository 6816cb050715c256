import { describe, expect, it } from 'vitest';
import { relayEndReason } from '../../../server/sessions/relay-end-reason.js';

describe('the Reason of the relay own BYEs (RFC 3326)', () => {
  it('names the cause first in its text, which the SDK and the portal look for', () => {
    expect(relayEndReason('session-timer').header).toBe('SIP;cause=408;text="session-timer: the session was not refreshed in time"');
    expect(relayEndReason('max-duration').header).toMatch(/^SIP;cause=200;text="max-duration: /);
    expect(relayEndReason('credit-exhausted').header).toMatch(/^SIP;cause=402;text="credit-exhausted: /);
    expect(relayEndReason('shutdown').header).toMatch(/^SIP;cause=503;text="shutdown: /);
    expect(relayEndReason('interrupted').text).toBe('the relay restarted and the session sent nothing since');
  });

  it("takes an operator's reason as the text, cut to printable ASCII and escaped for a quoted-string", () => {
    const r = relayEndReason('operator', 'said "stop"\\now\n\u00e9');
    expect(r.text).toBe('said "stop"\\now');
    expect(r.header).toBe('SIP;cause=200;text="operator: said \\"stop\\"\\\\now"');
    expect(relayEndReason('operator', 'x'.repeat(500)).text).toHaveLength(200);
    expect(relayEndReason('operator', '   ').text).toBe('ended by the operator');
  });
});
