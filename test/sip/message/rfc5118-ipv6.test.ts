import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isSipParseError } from '../../../sip/errors.js';
import { parseMessage } from '../../../sip/message/parser.js';
import type { SipRequest } from '../../../sip/message/sip-request.js';
import type { SipUri } from '../../../sip/grammar/uri.js';

/**
 * RFC 5118 IPv6 torture messages. The archive stores them with bare LF and
 * some with Content-Lengths that match neither form (SOURCE.md), so the
 * test converts to CRLF, ends the header block, and recomputes the length.
 */
const dir = new URL('../../fixtures/rfc5118/', import.meta.url);
function wire(name: string): Buffer {
  const text = readFileSync(new URL(name, dir), 'latin1').replace(/\r?\n/g, '\r\n');
  const split = text.indexOf('\r\n\r\n');
  const head = split < 0 ? text.replace(/(\r\n)*$/, '\r\n') : text.slice(0, split + 2);
  const body = split < 0 ? '' : text.slice(split + 4);
  const fixed = head.replace(/^Content-Length: *\d+/im, `Content-Length: ${Buffer.byteLength(body, 'latin1')}`);
  return Buffer.from(fixed + '\r\n' + body, 'latin1');
}
const req = (name: string) => parseMessage(wire(name)) as SipRequest;

describe('RFC 5118 IPv6 messages', () => {
  it('ipv6-good: IPv6 references in Request-URI, Via and Contact', () => {
    const m = req('ipv6-good');
    expect((m.uri as SipUri).host).toBe('[2001:db8::10]');
    expect((m.uri as SipUri).hostname).toBe('2001:db8::10');
    expect(m.topVia.host).toBe('[2001:db8::9:1]');
  });

  it('ipv6-bad: an IPv6 address without brackets is a 400', () => {
    try {
      parseMessage(wire('ipv6-bad'));
      throw new Error('parsed');
    } catch (e) {
      expect(isSipParseError(e) && e.code).toBe('SIP_ERR_URI');
    }
  });

  it('port-ambiguous: the port written inside the brackets is part of the address', () => {
    const uri = req('port-ambiguous').uri as SipUri;
    expect(uri.host).toBe('[2001:db8::10:5070]');
    expect(uri.port).toBeUndefined();
  });

  it('port-unambiguous: host plus port 5070', () => {
    const uri = req('port-unambiguous').uri as SipUri;
    expect(uri.host).toBe('[2001:db8::10]');
    expect(uri.port).toBe(5070);
  });

  it('via received with and without brackets both parse', () => {
    expect(req('via-received-param-with-delim').topVia.received).toBe('[2001:db8::9:255]');
    expect(req('via-received-param-no-delim').topVia.received).toBe('2001:db8::9:255');
  });

  it('mult-ip-in-header: Vias mixing IPv4 and IPv6', () => {
    const vias = req('mult-ip-in-header').via;
    expect(vias.map((v) => [v.host, v.port])).toEqual([
      ['[2001:db8::9:1]', 6050],
      ['192.0.2.1', undefined],
      ['[2001:db8::9:255]', undefined],
    ]);
    expect(vias[2].received).toBe('192.0.2.200');
  });

  it.each(['ipv6-in-sdp', 'mult-ip-in-sdp', 'ipv4-mapped-ipv6', 'ipv6-correct-abnf-2-colons', 'ipv6-bug-abnf-3-colons'])(
    '%s parses',
    (name) => {
      const m = req(name);
      expect(m.callId.length).toBeGreaterThan(0);
    },
  );
});
