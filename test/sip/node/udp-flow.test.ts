import { describe, expect, it } from 'vitest';
import { parseUdpFlowId, UdpFlow, udpFlowId } from '../../../sip/node/udp-flow.js';

describe('UDP flow', () => {
  it('is named by its 5-tuple, which parses back, IPv6 included', () => {
    const id = udpFlowId('::', 5060, '2001:db8::1', 5070);
    expect(id).toBe('udp/:::5060/2001:db8::1:5070');
    expect(parseUdpFlowId(id)).toEqual({ localHost: '::', localPort: 5060, remoteHost: '2001:db8::1', remotePort: 5070 });
    expect(parseUdpFlowId(udpFlowId('10.0.0.1', 5060, '10.0.0.2', 1))).toEqual({ localHost: '10.0.0.1', localPort: 5060, remoteHost: '10.0.0.2', remotePort: 1 });
  });

  it.each(['tcp/abc.1', 'udp/', 'udp/10.0.0.1:5060', 'udp/10.0.0.1:5060/10.0.0.2', 'udp/10.0.0.1:5060/10.0.0.2:0', 'udp/10.0.0.1:x/10.0.0.2:5060'])(
    'rejects %j as a UDP flow id',
    (id) => {
      expect(parseUdpFlowId(id)).toBeUndefined();
    },
  );

  it('sends through its socket to the remote address, in the form the socket needs', () => {
    const sent: unknown[] = [];
    const owner = { isOpen: true, sendTo: (b: Uint8Array, port: number, host: string) => (sent.push([b.length, port, host]), true) };
    const f = new UdpFlow('udp/x', owner, { host: '::', port: 5060 }, { host: '10.0.0.2', port: 5070 }, '::ffff:10.0.0.2');
    expect(f.reliable).toBe(false);
    expect(f.send(new Uint8Array(3))).toBe(true);
    expect(sent).toEqual([[3, 5070, '::ffff:10.0.0.2']]);
    owner.isOpen = false;
    expect(f.isOpen).toBe(false);
  });
});
