import { describe, expect, it } from 'vitest';
import { parseUri } from '../../../sip/grammar/uri.js';
import type { Transport, TransportProtocol } from '../../../sip/transport/transport.js';
import { defaultTargetResolver } from '../../../sip/ua/target-resolver.js';

function transport(protocols: TransportProtocol[]): Transport {
  return { protocols } as unknown as Transport;
}

const all = transport(['UDP', 'TCP', 'TLS', 'WS', 'WSS']);

describe('defaultTargetResolver (RFC 3263 without DNS)', () => {
  it('takes UDP and port 5060 for a plain SIP URI', () => {
    expect(defaultTargetResolver(parseUri('sip:bob@192.0.2.4'), all)).toEqual({ protocol: 'UDP', host: '192.0.2.4', port: 5060 });
  });

  it('follows the transport parameter and the port', () => {
    expect(defaultTargetResolver(parseUri('sip:bob@example.com:5080;transport=tcp'), all)).toEqual({ protocol: 'TCP', host: 'example.com', port: 5080 });
    expect(defaultTargetResolver(parseUri('sip:relay.example;transport=ws'), all)).toEqual({ protocol: 'WS', host: 'relay.example', port: 5060 });
  });

  it('takes TLS on 5061 for SIPS, and WSS for sips with transport=ws', () => {
    expect(defaultTargetResolver(parseUri('sips:bob@example.com'), all)).toEqual({ protocol: 'TLS', host: 'example.com', port: 5061 });
    expect(defaultTargetResolver(parseUri('sips:relay.example;transport=ws'), all)).toEqual({ protocol: 'WSS', host: 'relay.example', port: 5061 });
  });

  it('falls back to the only protocol a browser transport has', () => {
    expect(defaultTargetResolver(parseUri('sip:wine@portal.test'), transport(['WSS']))).toMatchObject({ protocol: 'WSS' });
  });

  it('uses maddr and strips IPv6 brackets', () => {
    expect(defaultTargetResolver(parseUri('sip:bob@example.com;maddr=192.0.2.9'), all)).toMatchObject({ host: '192.0.2.9' });
    expect(defaultTargetResolver(parseUri('sip:bob@[2001:db8::1]:5070'), all)).toEqual({ protocol: 'UDP', host: '2001:db8::1', port: 5070 });
  });

  it('throws a TransportError for a tel URI or an unknown transport', () => {
    expect(() => defaultTargetResolver(parseUri('tel:+15551234'), all)).toThrow(expect.objectContaining({ code: 'SIP_ERR_TRANSPORT_UNAVAILABLE' }));
    expect(() => defaultTargetResolver(parseUri('sip:bob@example.com;transport=sctp'), all)).toThrow(expect.objectContaining({ code: 'SIP_ERR_TRANSPORT_UNAVAILABLE' }));
  });
});
