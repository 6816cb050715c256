import { describe, expect, it } from 'vitest';
import { escapeReplacesForUri, formatReplaces, parseReplaces, replacesFromUriHeaders } from '../../../sip/dialog/replaces.js';
import { parseUri } from '../../../sip/grammar/uri.js';

describe('Replaces (RFC 3891)', () => {
  it('parses Call-ID, tags and early-only', () => {
    expect(parseReplaces('98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff;early-only')).toEqual({
      callId: '98732@sip.example.com',
      fromTag: 'r33th4x0r',
      toTag: 'ff87ff',
      earlyOnly: true,
    });
  });

  it('refuses a value without both tags', () => {
    expect(parseReplaces('98732@sip.example.com;from-tag=r33th4x0r')).toBeUndefined();
    expect(parseReplaces(';to-tag=a;from-tag=b')).toBeUndefined();
  });

  it('round-trips through a Refer-To URI header, escaped', () => {
    const v = { callId: 'abc@host', toTag: 't1', fromTag: 'f1', earlyOnly: false };
    const escaped = escapeReplacesForUri(v);
    expect(escaped).toBe('abc%40host%3Bto-tag%3Dt1%3Bfrom-tag%3Df1');
    const uri = parseUri(`sip:carol@example.com?Replaces=${escaped}`);
    expect(uri.kind === 'sip' && replacesFromUriHeaders(uri.headers)).toEqual(v);
    expect(formatReplaces(v)).toBe('abc@host;to-tag=t1;from-tag=f1');
  });
});
