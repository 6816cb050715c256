import { beforeEach, describe, expect, it } from 'vitest';
import { AppServerDirectory, probeAnswerMeansAlive, type AppServerDirectoryOptions, type DirectoryEvents } from '../../../server/directory/app-server-directory.js';
import { staticTargetsFromStore } from '../../../server/directory/static-target.js';
import { serviceConfigSchema, type ServiceConfig } from '../../../server/config/service-config.js';
import { parseSipUriStrict } from '../../../sip/grammar/uri.js';
import { createResponse } from '../../../sip/message/create-response.js';
import type { SipRequest } from '../../../sip/message/sip-request.js';
import type { ClientTransaction, ClientTransactionUser } from '../../../sip/transaction/transaction-user.js';
import { TransportError, type Endpoint, type Flow, type Transport } from '../../../sip/transport/transport.js';
import { ManualClock } from '../../../sip/util/clock.js';

const services: ServiceConfig[] = ['wine', 'beer', 'bookstore'].map((name) => serviceConfigSchema.parse({ name }));

function flow(id: string, open = true): Flow {
  return { id, protocol: 'UDP', reliable: false, local: { host: '127.0.0.1', port: 5060 }, remote: { host: '192.0.2.1', port: 5060 }, isOpen: open, send: () => true, close() {} };
}

/** A transaction layer that records the probes and lets the test answer them. */
class FakeLayer {
  readonly sent: Array<{ request: SipRequest; flow: Flow; user: ClientTransactionUser; tx: ClientTransaction }> = [];
  readonly flows = new Map<string, Flow>();
  failFlowTo = false;
  readonly transport: Transport = {
    protocols: ['UDP', 'TCP'],
    listen() {},
    flowTo: (dest: Endpoint) => {
      if (this.failFlowTo) throw new TransportError('SIP_ERR_TRANSPORT_UNAVAILABLE', 'no route');
      return flow(`udp/to/${dest.host}:${dest.port}`);
    },
    flowById: (id: string) => this.flows.get(id),
    localAddress: () => ({ host: '127.0.0.1', port: 5060 }),
    close: async () => {},
  };
  sendRequest(request: SipRequest, f: Flow, user: ClientTransactionUser): ClientTransaction {
    const tx = { request, flow: f } as unknown as ClientTransaction;
    this.sent.push({ request, flow: f, user, tx });
    return tx;
  }
  /** Answers probe `i` with `status`, then ends its transaction. */
  answer(i: number, status: number): void {
    const p = this.sent[i];
    p.user.onResponse(createResponse(p.request, status), p.tx);
    p.user.onTerminated?.(p.tx);
  }
  timeout(i: number): void {
    const p = this.sent[i];
    p.user.onTimeout?.(p.tx);
    p.user.onTerminated?.(p.tx);
  }
}

let clock: ManualClock;
let layer: FakeLayer;
let events: Array<[keyof DirectoryEvents, string, string?]>;

function makeDirectory(options: Partial<AppServerDirectoryOptions> = {}): AppServerDirectory {
  const d = new AppServerDirectory({
    services,
    transactions: layer as unknown as AppServerDirectoryOptions['transactions'],
    clock,
    probeIntervalMs: 30_000,
    probeRetryIntervalMs: 5_000,
    probeTimeoutMs: 4_000,
    probeFrom: 'sip:siprelay@portal.test',
    ...options,
  });
  for (const type of ['up', 'down', 'added', 'removed'] as const) {
    d.on(type, (e) => events.push([type, e.uri, 'reason' in e ? e.reason : undefined]));
  }
  return d;
}

beforeEach(() => {
  clock = new ManualClock();
  layer = new FakeLayer();
  events = [];
});

describe('AppServerDirectory', () => {
  describe('lookup', () => {
    it('knows only configured services', () => {
      const d = makeDirectory();
      expect(d.lookup('cinema')).toEqual({ known: false, service: undefined, targets: [], unavailable: 0 });
      expect(d.lookup('wine')).toMatchObject({ known: true, service: { name: 'wine', fork: 'race' }, targets: [], unavailable: 0 });
    });

    it('merges static targets and registered contacts', () => {
      const d = makeDirectory({
        staticTargets: [
          { service: 'wine', uri: 'sip:wine@10.0.0.1:5070', weight: 2, appServer: 'cellar' },
          { service: 'wine', uri: 'sip:wine@10.0.0.2' },
        ],
      });
      d.setRegistrations('vineyard', 'wine', 3, [
        { uri: parseSipUriStrict('sip:wine@10.0.0.3;transport=tcp'), flowId: 'tcp/1', flowBound: false, expiresAt: clock.wallNow() + 60_000 },
      ]);
      const { targets } = d.lookup('wine');
      expect(targets.map((t) => ({ appServer: t.appServer, uri: t.uri.toString(), flowId: t.flowId, weight: t.weight, source: t.source, load: t.load }))).toEqual([
        { appServer: 'cellar', uri: 'sip:wine@10.0.0.1:5070', flowId: undefined, weight: 2, source: 'static', load: 0 },
        { appServer: '10.0.0.2', uri: 'sip:wine@10.0.0.2', flowId: undefined, weight: 1, source: 'static', load: 0 },
        { appServer: 'vineyard', uri: 'sip:wine@10.0.0.3;transport=tcp', flowId: 'tcp/1', weight: 3, source: 'registered', load: 0 },
      ]);
    });

    it('takes store targets with a fixed URI and leaves out disabled application servers', () => {
      const row = { appServerId: 1, createdAt: 0, weight: 1, disabled: false };
      const d = makeDirectory({
        staticTargets: staticTargetsFromStore([
          { ...row, appServer: 'shelf', service: 'bookstore', targetUri: 'sip:books@10.0.0.9' },
          { ...row, appServer: 'attic', service: 'bookstore', targetUri: null },
          { ...row, appServer: 'cellar', service: 'bookstore', targetUri: 'sip:books@10.0.0.8', disabled: true },
        ]),
      });
      expect(d.lookup('bookstore').targets.map((t) => t.appServer)).toEqual(['shelf']);
    });

    it('strips URI headers from a registered Contact, so they never become request headers', () => {
      const d = makeDirectory();
      d.setRegistrations('cellar', 'wine', 1, [
        { uri: parseSipUriStrict('sip:wine@10.0.0.3?Route=%3Csip:evil.test%3E'), flowId: undefined, flowBound: false, expiresAt: clock.wallNow() + 60_000 },
      ]);
      expect(d.lookup('wine').targets[0].uri.toString()).toBe('sip:wine@10.0.0.3');
    });

    it('counts load per target and never below zero', () => {
      const d = makeDirectory({ staticTargets: [{ service: 'wine', uri: 'sip:wine@10.0.0.1' }] });
      const [t] = d.lookup('wine').targets;
      d.adjustLoad(t, 1);
      d.adjustLoad(t, 1);
      d.adjustLoad(t, -1);
      expect(d.lookup('wine').targets[0].load).toBe(1);
      d.adjustLoad(t, -1);
      d.adjustLoad(t, -1);
      expect(t.load).toBe(0);
    });

    it('refuses bad options and unknown services with TypeError', () => {
      expect(() => makeDirectory({ staticTargets: [{ service: 'cinema', uri: 'sip:x@10.0.0.1' }] })).toThrow(/unknown service "cinema"/);
      expect(() => makeDirectory({ staticTargets: [{ service: 'wine', uri: 'http://x' }] })).toThrow(/staticTargets\[0\]\.uri/);
      expect(() => makeDirectory({ probeIntervalMs: 0 })).toThrow(/probeIntervalMs/);
      expect(() => new AppServerDirectory({} as AppServerDirectoryOptions)).toThrow(/services/);
    });

    it('keeps health and load of static targets that stay when they are set again', () => {
      const d = makeDirectory({ staticTargets: [{ service: 'wine', uri: 'sip:wine@10.0.0.1' }, { service: 'wine', uri: 'sip:wine@10.0.0.2' }] });
      const [first] = d.lookup('wine').targets;
      d.adjustLoad(first, 1);
      d.setStaticTargets([{ service: 'wine', uri: 'sip:wine@10.0.0.1', weight: 5 }]);
      expect(d.lookup('wine').targets).toEqual([first]);
      expect(first).toMatchObject({ load: 1, weight: 5 });
      expect(events.at(-1)).toEqual(['removed', 'sip:wine@10.0.0.2', 'removed']);
    });
  });

  describe('registered targets', () => {
    const contact = (host: string, o: { flowId?: string; flowBound?: boolean; ttl?: number } = {}) => ({
      uri: parseSipUriStrict(`sip:wine@${host}`),
      flowId: o.flowId,
      flowBound: o.flowBound ?? false,
      expiresAt: clock.wallNow() + (o.ttl ?? 60_000),
    });

    it('go down and leave when their registration expires, leaving no timer', () => {
      const d = makeDirectory();
      d.setRegistrations('cellar', 'wine', 1, [contact('10.0.0.3', { ttl: 10_000 })]);
      clock.advance(9_999);
      expect(d.lookup('wine').targets).toHaveLength(1);
      clock.advance(1);
      expect(d.lookup('wine')).toMatchObject({ targets: [], unavailable: 0 });
      expect(events).toEqual([
        ['added', 'sip:wine@10.0.0.3', undefined],
        ['down', 'sip:wine@10.0.0.3', 'expired'],
        ['removed', 'sip:wine@10.0.0.3', 'expired'],
      ]);
      expect(clock.pending).toBe(0);
    });

    it('are refreshed by a new registration and removed by one that leaves them out', () => {
      const d = makeDirectory();
      d.setRegistrations('cellar', 'wine', 1, [contact('10.0.0.3', { ttl: 10_000 }), contact('10.0.0.4', { ttl: 10_000 })]);
      clock.advance(9_000);
      d.setRegistrations('cellar', 'wine', 2, [contact('10.0.0.3', { ttl: 10_000 })]);
      clock.advance(5_000);
      expect(d.lookup('wine').targets.map((t) => [t.uri.host, t.weight])).toEqual([['10.0.0.3', 2]]);
      expect(events.filter(([e]) => e === 'removed')).toEqual([['removed', 'sip:wine@10.0.0.4', 'removed']]);
    });

    it('of one application server do not touch another’s', () => {
      const d = makeDirectory();
      d.setRegistrations('cellar', 'wine', 1, [contact('10.0.0.3')]);
      d.setRegistrations('vineyard', 'wine', 1, [contact('10.0.0.4')]);
      d.setRegistrations('vineyard', 'wine', 1, []);
      expect(d.lookup('wine').targets.map((t) => t.appServer)).toEqual(['cellar']);
      d.removeAppServer('cellar');
      expect(d.lookup('wine').targets).toEqual([]);
    });

    it('leave when the connection they need closes; others only forget it', () => {
      const d = makeDirectory();
      d.setRegistrations('cellar', 'wine', 1, [contact('abc.invalid', { flowId: 'ws/1', flowBound: true }), contact('10.0.0.5', { flowId: 'ws/1' })]);
      d.flowClosed('ws/1');
      expect(d.lookup('wine').targets.map((t) => [t.uri.host, t.flowId])).toEqual([['10.0.0.5', undefined]]);
      expect(events).toContainEqual(['down', 'sip:wine@abc.invalid', 'flow-closed']);
    });

    it('for a service the configuration does not define are ignored', () => {
      const d = makeDirectory();
      d.setRegistrations('cellar', 'cinema', 1, [contact('10.0.0.3')]);
      expect(d.list()).toEqual([]);
    });
  });

  describe('probing', () => {
    it('probes static targets at start, then every interval, with one OPTIONS in flight', () => {
      const d = makeDirectory({ staticTargets: [{ service: 'wine', uri: 'sip:wine@10.0.0.1:5070;transport=tcp' }] });
      expect(layer.sent).toHaveLength(0);
      d.start();
      clock.advance(0);
      expect(layer.sent).toHaveLength(1);
      const probe = layer.sent[0];
      expect(probe.request.method).toBe('OPTIONS');
      expect(probe.request.rawUri).toBe('sip:wine@10.0.0.1:5070;transport=tcp');
      expect(probe.request.from.uri.toString()).toBe('sip:siprelay@portal.test');
      expect(probe.flow.id).toBe('udp/to/10.0.0.1:5070');
      layer.answer(0, 200);
      clock.advance(29_999);
      expect(layer.sent).toHaveLength(1);
      clock.advance(1);
      expect(layer.sent).toHaveLength(2);
      // Unanswered: past the deadline it is down, and the next probe waits for this one to end.
      clock.advance(4_000);
      expect(d.lookup('wine')).toMatchObject({ targets: [], unavailable: 1 });
      clock.advance(5_000);
      expect(layer.sent).toHaveLength(2);
      // A late answer brings it back at once.
      layer.answer(1, 200);
      expect(d.lookup('wine').targets).toHaveLength(1);
      expect(events.filter(([e]) => e === 'up' || e === 'down')).toEqual([
        ['down', 'sip:wine@10.0.0.1:5070;transport=tcp', 'timeout'],
        ['up', 'sip:wine@10.0.0.1:5070;transport=tcp', undefined],
      ]);
      d.close();
      expect(clock.pending).toBe(0);
    });

    it('probes again after the interval even while the answered probe still absorbs retransmissions (timer K)', () => {
      const d = makeDirectory({ probeIntervalMs: 1_000, staticTargets: [{ service: 'wine', uri: 'sip:wine@10.0.0.1' }] });
      d.start();
      clock.advance(0);
      const p = layer.sent[0];
      // A final answer, but the UDP transaction ends only 5 s later (T4).
      p.user.onResponse(createResponse(p.request, 200), p.tx);
      clock.advance(1_000);
      expect(layer.sent).toHaveLength(2);
      p.user.onTerminated?.(p.tx);
      layer.answer(1, 200);
      clock.advance(1_000);
      expect(layer.sent).toHaveLength(3);
      d.close();
    });

    it.each([
      [200, true],
      [404, true],
      [405, true],
      [486, true],
      [603, true],
      [408, false],
      [500, false],
      [503, false],
    ])('counts a %i answer as alive: %s', (status, alive) => {
      expect(probeAnswerMeansAlive(status)).toBe(alive);
      const d = makeDirectory({ staticTargets: [{ service: 'wine', uri: 'sip:wine@10.0.0.1' }] });
      d.start();
      clock.advance(0);
      layer.answer(0, status);
      expect(d.lookup('wine').targets.length).toBe(alive ? 1 : 0);
    });

    it('probes a failed target faster, and routes to it again on its first good answer', () => {
      const d = makeDirectory({ staticTargets: [{ service: 'wine', uri: 'sip:wine@10.0.0.1' }] });
      d.start();
      clock.advance(0);
      layer.answer(0, 503);
      expect(d.lookup('wine').unavailable).toBe(1);
      expect(d.retryAfterSeconds('wine')).toBe(5);
      clock.advance(2_500);
      expect(d.retryAfterSeconds('wine')).toBe(3);
      clock.advance(2_500);
      expect(layer.sent).toHaveLength(2);
      layer.timeout(1);
      clock.advance(5_000);
      layer.answer(2, 200);
      expect(d.lookup('wine')).toMatchObject({ unavailable: 0 });
      expect(d.lookup('wine').targets).toHaveLength(1);
    });

    it('marks a target it cannot reach down, and keeps trying', () => {
      layer.failFlowTo = true;
      const d = makeDirectory({ staticTargets: [{ service: 'wine', uri: 'sip:wine@10.0.0.1' }] });
      d.start();
      clock.advance(0);
      expect(events).toContainEqual(['down', 'sip:wine@10.0.0.1', 'unreachable']);
      layer.failFlowTo = false;
      clock.advance(5_000);
      layer.answer(0, 200);
      expect(d.lookup('wine').targets).toHaveLength(1);
    });

    it('probes a registered target over the flow it registered on', () => {
      layer.flows.set('udp/nat', flow('udp/nat'));
      const d = makeDirectory();
      d.start();
      d.setRegistrations('cellar', 'wine', 1, [
        { uri: parseSipUriStrict('sip:wine@10.9.9.9'), flowId: 'udp/nat', flowBound: false, expiresAt: clock.wallNow() + 3_600_000 },
      ]);
      clock.advance(30_000);
      expect(layer.sent.map((p) => p.flow.id)).toEqual(['udp/nat']);
    });

    it('removes a registered target whose only flow is gone when its probe is due', () => {
      layer.flows.set('ws/1', flow('ws/1', false));
      const d = makeDirectory();
      d.start();
      d.setRegistrations('cellar', 'wine', 1, [
        { uri: parseSipUriStrict('sip:wine@abc.invalid'), flowId: 'ws/1', flowBound: true, expiresAt: clock.wallNow() + 3_600_000 },
      ]);
      clock.advance(30_000);
      expect(layer.sent).toHaveLength(0);
      expect(d.lookup('wine').targets).toEqual([]);
      expect(events).toContainEqual(['removed', 'sip:wine@abc.invalid', 'flow-closed']);
    });

    it('counts every target as up when it has no transaction layer to probe with', () => {
      const d = makeDirectory({ transactions: undefined, staticTargets: [{ service: 'wine', uri: 'sip:wine@10.0.0.1' }] });
      d.start();
      clock.advance(100_000);
      expect(d.lookup('wine').targets).toHaveLength(1);
      expect(clock.pending).toBe(0);
    });

    it('gives noTargetRetryAfterSeconds for a service without targets', () => {
      expect(makeDirectory({ noTargetRetryAfterSeconds: 17 }).retryAfterSeconds('wine')).toBe(17);
    });
  });
});
