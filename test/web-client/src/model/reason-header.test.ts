import { describe, expect, it } from 'vitest';
import { parseReason } from '../../../../web-client/src/model/reason-header.js';

describe('Reason header (RFC 3326)', () => {
  it('reads protocol, cause and the quoted text', () => {
    expect(parseReason('SIP;cause=402;text="credit exhausted"')).toEqual({ protocol: 'SIP', cause: 402, text: 'credit exhausted' });
    expect(parseReason('Q.850 ; cause=16 ; text="Terminated"')).toEqual({ protocol: 'Q.850', cause: 16, text: 'Terminated' });
  });
  it('unescapes the quoted text and keeps semicolons inside it', () => {
    expect(parseReason('SIP;text="a \\"b\\"; c";cause=200')).toEqual({ protocol: 'SIP', cause: 200, text: 'a "b"; c' });
  });
  it('is undefined for what does not follow the grammar', () => {
    expect(parseReason('')).toBeUndefined();
    expect(parseReason('SIP;text="unterminated')).toBeUndefined();
  });
});
