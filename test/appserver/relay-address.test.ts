import { describe, expect, it } from 'vitest';
import { parseRelayAddress } from '../../appserver/relay-address.js';

describe('parseRelayAddress', () => {
  it('reads SIP URIs with and without transport, and WebSocket URLs', () => {
    expect(parseRelayAddress('sip:127.0.0.1:5060;transport=tcp')).toMatchObject({ protocol: 'TCP', host: '127.0.0.1', port: 5060, outboundProxy: 'sip:127.0.0.1:5060;transport=tcp;lr' });
    expect(parseRelayAddress('sip:relay.example.com')).toMatchObject({ protocol: 'UDP', host: 'relay.example.com', port: 5060 });
    expect(parseRelayAddress('sips:relay.example.com')).toMatchObject({ protocol: 'TLS', port: 5061 });
    expect(parseRelayAddress('ws://localhost:8080/sip')).toEqual({
      protocol: 'WS',
      host: 'localhost',
      port: 8080,
      path: '/sip',
      outboundProxy: 'sip:localhost:8080;transport=ws;lr',
      httpOrigin: 'http://localhost:8080',
    });
    expect(parseRelayAddress('wss://relay.example.com/sip')).toMatchObject({ protocol: 'WSS', port: 443, httpOrigin: 'https://relay.example.com' });
  });

  it('throws TypeError for what is not a relay address', () => {
    expect(() => parseRelayAddress('http://x')).toThrow(TypeError);
    expect(() => parseRelayAddress('sip:alice@relay')).toThrow(TypeError);
    expect(() => parseRelayAddress('sip:relay;transport=ws')).toThrow(TypeError);
    expect(() => parseRelayAddress('sip:relay;transport=carrier-pigeon')).toThrow(TypeError);
  });
});
