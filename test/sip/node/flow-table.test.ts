import { describe, expect, it } from 'vitest';
import { FlowTable, reuseKey, type TrackedFlow } from '../../../sip/node/flow-table.js';
import type { TransportProtocol } from '../../../sip/transport/transport.js';

let n = 0;
function flow(protocol: TransportProtocol, host: string, port: number, inbound = true): TrackedFlow & { isOpen: boolean } {
  return {
    id: 'f' + ++n,
    protocol,
    reliable: true,
    local: { host: '127.0.0.1', port: 5060 },
    remote: { host, port },
    isOpen: true,
    send: () => true,
    close: () => {},
    reuseKey: reuseKey(protocol, host, port),
    address: host,
    inbound,
  };
}

describe('connection table', () => {
  it('finds an open connection by protocol, host and port for reuse (RFC 3261 §18.1.1)', () => {
    const t = new FlowTable(10, 10);
    const f = flow('TCP', '10.0.0.1', 5060, false);
    t.add(f);
    expect(t.findOpen('TCP', '10.0.0.1', 5060)).toBe(f);
    expect(t.findOpen('TLS', '10.0.0.1', 5060)).toBeUndefined();
    expect(t.findOpen('TCP', '10.0.0.1', 5061)).toBeUndefined();
    f.isOpen = false;
    expect(t.findOpen('TCP', '10.0.0.1', 5060)).toBeUndefined();
  });

  it('admits inbound connections up to the per-address and total limits', () => {
    const t = new FlowTable(3, 2);
    t.add(flow('TCP', '10.0.0.1', 40000));
    expect(t.admit('10.0.0.1')).toBeUndefined();
    t.add(flow('WS', '10.0.0.1', 40001));
    expect(t.admit('10.0.0.1')).toBe('max-connections-per-address');
    expect(t.admit('10.0.0.2')).toBeUndefined();
    t.add(flow('TCP', '10.0.0.2', 40000));
    expect(t.admit('10.0.0.3')).toBe('max-connections');
    expect(t.hasRoom()).toBe(false);
  });

  it('does not count outbound connections against the per-address limit', () => {
    const t = new FlowTable(10, 1);
    t.add(flow('TCP', '10.0.0.1', 5060, false));
    expect(t.inboundFrom('10.0.0.1')).toBe(0);
    expect(t.admit('10.0.0.1')).toBeUndefined();
  });

  it('frees the slots of a removed connection, and ignores a second removal', () => {
    const t = new FlowTable(10, 1);
    const f = flow('TCP', '10.0.0.1', 40000);
    t.add(f);
    t.remove(f);
    t.remove(f);
    expect(t.size).toBe(0);
    expect(t.inboundFrom('10.0.0.1')).toBe(0);
    expect(t.get(f.id)).toBeUndefined();
  });

  it('keeps the newer connection findable when an older one to the same address goes', () => {
    const t = new FlowTable(10, 10);
    const older = flow('TCP', '10.0.0.1', 5060, false);
    const newer = flow('TCP', '10.0.0.1', 5060, false);
    t.add(older);
    t.add(newer);
    t.remove(older);
    expect(t.findOpen('TCP', '10.0.0.1', 5060)).toBe(newer);
    expect(t.snapshot()).toEqual([newer]);
  });
});
