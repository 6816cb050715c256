import { describe, expect, it } from 'vitest';
import { NextHopResolver } from '../../../server/proxy/next-hop-resolver.js';
import { isProxyError } from '../../../server/proxy/proxy-error.js';
import { parseUri } from '../../../sip/grammar/uri.js';
import { ManualClock } from '../../../sip/util/clock.js';

const all = ['UDP', 'TCP', 'TLS', 'WS', 'WSS'] as const;

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isProxyError(e) ? e.code : 'other';
  }
  return undefined;
}

describe('next-hop resolution', () => {
  const resolver = new NextHopResolver({ protocols: all, resolveHost: async () => '192.0.2.7' });

  it('resolves an IP literal synchronously with the default port of its transport', () => {
    expect(resolver.resolve(parseUri('sip:wine@127.0.0.1'))).toEqual({ protocol: 'UDP', host: '127.0.0.1', port: 5060 });
    expect(resolver.resolve(parseUri('sip:wine@127.0.0.1:5070;transport=tcp'))).toEqual({ protocol: 'TCP', host: '127.0.0.1', port: 5070 });
    expect(resolver.resolve(parseUri('sips:wine@127.0.0.1'))).toEqual({ protocol: 'TLS', host: '127.0.0.1', port: 5061 });
    expect(resolver.resolve(parseUri('sip:x@[::1]:5080;transport=ws'))).toEqual({ protocol: 'WS', host: '::1', port: 5080 });
    expect(resolver.resolve(parseUri('sips:x@127.0.0.1;transport=ws'))).toEqual({ protocol: 'WSS', host: '127.0.0.1', port: 5061 });
  });

  it('sends to maddr when the URI has one (§19.1.1)', () => {
    expect(resolver.resolve(parseUri('sip:wine@portal.test;maddr=10.1.2.3'))).toEqual({ protocol: 'UDP', host: '10.1.2.3', port: 5060 });
  });

  it('falls back to TCP when the relay has no UDP listener', () => {
    const tcpOnly = new NextHopResolver({ protocols: ['TCP'] });
    expect(tcpOnly.resolve(parseUri('sip:wine@127.0.0.1'))).toEqual({ protocol: 'TCP', host: '127.0.0.1', port: 5060 });
  });

  it('refuses transports it has no listener for, tel URIs, and .invalid hosts', () => {
    const udpOnly = new NextHopResolver({ protocols: ['UDP'] });
    expect(codeOf(() => udpOnly.resolve(parseUri('sip:x@127.0.0.1;transport=tcp')))).toBe('PROXY_ERR_NO_TRANSPORT');
    expect(codeOf(() => udpOnly.resolve(parseUri('sip:x@127.0.0.1;transport=sctp')))).toBe('PROXY_ERR_NO_TRANSPORT');
    expect(codeOf(() => resolver.resolve(parseUri('tel:+15551234')))).toBe('PROXY_ERR_NOT_SIP');
    expect(codeOf(() => resolver.resolve(parseUri('sip:x@df7jal23ls0d.invalid;transport=ws')))).toBe('PROXY_ERR_UNRESOLVABLE');
  });

  it('resolves a name through the injected resolver, then from its cache until the TTL passes', async () => {
    const clock = new ManualClock();
    let lookups = 0;
    const r = new NextHopResolver({ protocols: all, clock, cacheTtlMs: 1000, resolveHost: async () => (lookups++, '192.0.2.7') });
    const first = r.resolve(parseUri('sip:wine@apps.example:5070'));
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toEqual({ protocol: 'UDP', host: '192.0.2.7', port: 5070 });
    expect(r.resolve(parseUri('sip:wine@APPS.example'))).toEqual({ protocol: 'UDP', host: '192.0.2.7', port: 5060 });
    clock.advance(1001);
    await r.resolve(parseUri('sip:wine@apps.example'));
    expect(lookups).toBe(2);
  });

  it('rejects with PROXY_ERR_UNRESOLVABLE when the name does not resolve', async () => {
    const r = new NextHopResolver({ protocols: all, resolveHost: async () => Promise.reject(new Error('ENOTFOUND')) });
    await expect(r.resolve(parseUri('sip:wine@nowhere.example'))).rejects.toMatchObject({ code: 'PROXY_ERR_UNRESOLVABLE', status: 503 });
  });

  it('throws TypeError for bad options', () => {
    expect(() => new NextHopResolver({ protocols: all, cacheTtlMs: -1 })).toThrow(TypeError);
    expect(() => new NextHopResolver({} as never)).toThrow(TypeError);
  });
});
