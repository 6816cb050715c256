import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { RegisteredContact } from '../../../server/directory/registered-target-sink.js';
import { MemoryLocationService } from '../../../server/registrar/memory-location-service.js';
import { RelayRegistrar, type RelayRegistrarOptions } from '../../../server/registrar/relay-registrar.js';
import type { AppServerService } from '../../../server/store/app-server-repository.js';
import { SipRequest } from '../../../sip/message/sip-request.js';
import { ManualClock } from '../../../sip/util/clock.js';
import { appServer, fakeFlow, registerRequest, subscriber, torture } from './registrar-fixtures.js';

const HOUR = 3600;

function serviceRow(appServer: string, service: string, weight = 1, disabled = false): AppServerService {
  return { appServerId: 7, appServer, service, weight, targetUri: null, disabled, createdAt: 0 };
}

let clock: ManualClock;
let location: MemoryLocationService;
let directory: {
  setRegistrations: ReturnType<typeof vi.fn<(appServer: string, service: string, weight: number, contacts: readonly RegisteredContact[]) => void>>;
  flowClosed: ReturnType<typeof vi.fn<(flowId: string) => void>>;
};
let services: AppServerService[];

function makeRegistrar(options: Partial<RelayRegistrarOptions> = {}): RelayRegistrar {
  return new RelayRegistrar({
    location,
    domains: ['portal.test', 'example.com'],
    isLocalHost: (h) => h === '127.0.0.1',
    appServerServices: { listServices: async ({ appServer }) => services.filter((s) => s.appServer === appServer) },
    directory,
    clock,
    ...options,
  });
}

beforeEach(() => {
  clock = new ManualClock();
  location = new MemoryLocationService({ clock, nodeId: 'node-a' });
  directory = { setRegistrations: vi.fn(), flowClosed: vi.fn() };
  services = [serviceRow('cellar', 'wine', 3), serviceRow('cellar', 'beer', 1, true)];
});

const contactsOf = (res: { headerLines(n: string): string[] }) => res.headerLines('contact');

describe('RelayRegistrar', () => {
  describe('RFC 4475 REGISTER messages', () => {
    const watson = subscriber('watson', 'example.com');

    it('cparam01: a Contact without <> keeps ;unknownparam as a contact parameter, never in the URI', async () => {
      const res = await makeRegistrar().register(torture('cparam01'), fakeFlow('UDP'), watson);
      expect(res.status).toBe(200);
      expect(contactsOf(res)).toEqual(['<sip:+19725552222@gw1.example.net>;unknownparam;expires=3600']);
      const [binding] = await location.lookup('watson@example.com');
      expect(binding.contact.toString()).toBe('sip:+19725552222@gw1.example.net');
      expect(binding.contact.params.has('unknownparam')).toBe(false);
    });

    it('cparam02: a Contact in <> keeps ;unknownparam in the bound URI', async () => {
      const res = await makeRegistrar().register(torture('cparam02'), fakeFlow('UDP'), watson);
      expect(res.status).toBe(200);
      expect(contactsOf(res)).toEqual(['<sip:+19725552222@gw1.example.net;unknownparam>;expires=3600']);
      const [binding] = await location.lookup('watson@example.com');
      expect(binding.contact.params.has('unknownparam')).toBe(true);
    });

    it('regescrt: the escaped ?Route= stays in the binding’s Contact URI, not a header', async () => {
      const res = await makeRegistrar().register(torture('regescrt'), fakeFlow('UDP'), subscriber('user', 'example.com'));
      expect(res.status).toBe(200);
      const [binding] = await location.lookup('user@example.com');
      expect(binding.contact.toString()).toBe('sip:user@example.com?Route=%3Csip:sip.example.com%3E');
      expect(binding.contact.headers).toEqual([['Route', '%3Csip:sip.example.com%3E']]);
      expect(contactsOf(res)).toEqual(['<sip:user@example.com?Route=%3Csip:sip.example.com%3E>;expires=3600']);
    });

    it('unksm2: 400, because the address of record must be a SIP or SIPS URI', async () => {
      const res = await makeRegistrar().register(torture('unksm2'), fakeFlow('UDP'), watson);
      expect(res.status).toBe(400);
      expect(location.size).toBe(0);
    });

    it('escnull: %00 does not cut the user name, and the two Contacts are two bindings', async () => {
      const res = await makeRegistrar().register(torture('escnull'), fakeFlow('UDP'), subscriber('null-\u0000-null', 'example.com'));
      expect(res.status).toBe(200);
      const bindings = await location.lookup('null-\u0000-null@example.com');
      expect(bindings.map((b) => b.contact.toString()).sort()).toEqual(['sip:%00%00@host5.example.com', 'sip:%00@host5.example.com']);
      expect(contactsOf(res)).toHaveLength(2);
    });

    it('dblreq: the REGISTER is handled and the INVITE bytes after it are ignored', async () => {
      const request = torture('dblreq');
      expect(request.method).toBe('REGISTER');
      expect(request.body.length).toBe(0);
      const res = await makeRegistrar().register(request, fakeFlow('UDP'), subscriber('j.user', 'example.com'));
      expect(res.status).toBe(200);
      expect(contactsOf(res)).toEqual(['<sip:j.user@host.example.com>;expires=3600']);
    });
  });

  describe('expiry (RFC 3261 §10.3 step 6 and 7)', () => {
    const alice = subscriber('alice');

    it('takes the Contact’s expires parameter over the Expires header, the header over the default', async () => {
      const r = makeRegistrar();
      const res = await r.register(
        registerRequest({ contacts: ['<sip:alice@192.0.2.1>;expires=120', '<sip:alice@192.0.2.2>'], expires: '300' }),
        fakeFlow('UDP'),
        alice,
      );
      expect(contactsOf(res).sort()).toEqual(['<sip:alice@192.0.2.1>;expires=120', '<sip:alice@192.0.2.2>;expires=300']);
      const res2 = await r.register(registerRequest({ contacts: ['<sip:alice@192.0.2.3>'], callId: 'other' }), fakeFlow('UDP'), alice);
      expect(contactsOf(res2)).toContain('<sip:alice@192.0.2.3>;expires=3600');
    });

    it('shortens an expiry above the maximum, and treats a malformed one as absent', async () => {
      const r = makeRegistrar({ maxExpiresSeconds: 600 });
      const res = await r.register(
        registerRequest({ contacts: ['<sip:alice@192.0.2.1>;expires=99999999999999', '<sip:alice@192.0.2.2>;expires=soon'], expires: 'never' }),
        fakeFlow('UDP'),
        alice,
      );
      expect(contactsOf(res).sort()).toEqual(['<sip:alice@192.0.2.1>;expires=600', '<sip:alice@192.0.2.2>;expires=600']);
    });

    it('refuses an expiry under the minimum with 423 and Min-Expires, changing nothing', async () => {
      const res = await makeRegistrar({ minExpiresSeconds: 90 }).register(
        registerRequest({ contacts: ['<sip:alice@192.0.2.1>;expires=3600', '<sip:alice@192.0.2.2>;expires=30'] }),
        fakeFlow('UDP'),
        alice,
      );
      expect(res.status).toBe(423);
      expect(res.header('min-expires')).toBe('90');
      expect(location.size).toBe(0);
    });

    it('lists every binding with the seconds it has left', async () => {
      const r = makeRegistrar();
      await r.register(registerRequest({ contacts: ['<sip:alice@192.0.2.1>'], expires: '3600', cseq: 1 }), fakeFlow('UDP'), alice);
      clock.advance(1000_000);
      const res = await r.register(registerRequest({ contacts: ['<sip:alice@192.0.2.2>'], expires: '600', cseq: 2 }), fakeFlow('UDP'), alice);
      expect(res.status).toBe(200);
      expect(contactsOf(res).sort()).toEqual(['<sip:alice@192.0.2.1>;expires=2600', '<sip:alice@192.0.2.2>;expires=600']);
      expect(res.to.tag).toBeDefined();
      expect(new Date(res.header('date')!).getTime()).toBe(clock.wallNow());
    });

    it('forgets a binding when it expires, and leaves no timer behind', async () => {
      await makeRegistrar().register(registerRequest({ contacts: ['<sip:alice@192.0.2.1>'], expires: '120' }), fakeFlow('UDP'), alice);
      expect(await location.lookup('alice@portal.test')).toHaveLength(1);
      clock.advance(119_999);
      expect(await location.lookup('alice@portal.test')).toHaveLength(1);
      clock.advance(1);
      expect(await location.lookup('alice@portal.test')).toEqual([]);
      expect(location.size).toBe(0);
      expect(clock.pending).toBe(0);
    });

    it('removes a binding with expires=0 and answers with the rest', async () => {
      const r = makeRegistrar();
      await r.register(registerRequest({ contacts: ['<sip:alice@192.0.2.1>', '<sip:alice@192.0.2.2>'], cseq: 1 }), fakeFlow('UDP'), alice);
      const res = await r.register(registerRequest({ contacts: ['<sip:alice@192.0.2.1>;expires=0'], cseq: 2 }), fakeFlow('UDP'), alice);
      expect(contactsOf(res)).toEqual(['<sip:alice@192.0.2.2>;expires=3600']);
    });

    it('answers a REGISTER without Contact with the current bindings and changes nothing', async () => {
      const r = makeRegistrar();
      await r.register(registerRequest({ contacts: ['<sip:alice@192.0.2.1>'], cseq: 5 }), fakeFlow('UDP'), alice);
      const res = await r.register(registerRequest({ cseq: 1 }), fakeFlow('UDP'), alice);
      expect(res.status).toBe(200);
      expect(contactsOf(res)).toEqual(['<sip:alice@192.0.2.1>;expires=3600']);
    });
  });

  describe('Contact: * (RFC 3261 §10.2.2)', () => {
    const alice = subscriber('alice');

    it('removes every binding when sent with Expires: 0', async () => {
      const r = makeRegistrar();
      await r.register(registerRequest({ contacts: ['<sip:alice@192.0.2.1>', '<sip:alice@192.0.2.2>'], cseq: 1 }), fakeFlow('UDP'), alice);
      const res = await r.register(registerRequest({ contacts: ['*'], expires: '0', cseq: 2 }), fakeFlow('UDP'), alice);
      expect(res.status).toBe(200);
      expect(contactsOf(res)).toEqual([]);
      expect(location.size).toBe(0);
      expect(clock.pending).toBe(0);
    });

    it.each([
      ['without Expires', { contacts: ['*'] }],
      ['with Expires: 10', { contacts: ['*'], expires: '10' }],
      ['beside another Contact', { contacts: ['*', '<sip:alice@192.0.2.1>'], expires: '0' }],
    ])('is refused with 400 %s', async (_what, o) => {
      const r = makeRegistrar();
      await r.register(registerRequest({ contacts: ['<sip:alice@192.0.2.1>'], cseq: 1 }), fakeFlow('UDP'), alice);
      const res = await r.register(registerRequest({ ...o, cseq: 2 }), fakeFlow('UDP'), alice);
      expect(res.status).toBe(400);
      expect(await location.lookup('alice@portal.test')).toHaveLength(1);
    });
  });

  describe('Call-ID and CSeq ordering (RFC 3261 §10.3 step 7)', () => {
    const alice = subscriber('alice');

    it.each([
      ['an equal', 10],
      ['a lower', 9],
    ])('answers 500 to %s CSeq under the same Call-ID and keeps the binding', async (_what, cseq) => {
      const r = makeRegistrar();
      await r.register(registerRequest({ contacts: ['<sip:alice@192.0.2.1>'], expires: '600', cseq: 10 }), fakeFlow('UDP'), alice);
      const res = await r.register(registerRequest({ contacts: ['<sip:alice@192.0.2.1>'], expires: '0', cseq }), fakeFlow('UDP'), alice);
      expect(res.status).toBe(500);
      expect(await location.lookup('alice@portal.test')).toHaveLength(1);
    });

    it('accepts any CSeq under another Call-ID', async () => {
      const r = makeRegistrar();
      await r.register(registerRequest({ contacts: ['<sip:alice@192.0.2.1>'], cseq: 10, callId: 'a' }), fakeFlow('UDP'), alice);
      const res = await r.register(registerRequest({ contacts: ['<sip:alice@192.0.2.1>'], expires: '0', cseq: 1, callId: 'b' }), fakeFlow('UDP'), alice);
      expect(res.status).toBe(200);
      expect(location.size).toBe(0);
    });

    it('commits all Contacts of a REGISTER or none', async () => {
      const r = makeRegistrar();
      await r.register(registerRequest({ contacts: ['<sip:alice@192.0.2.1>'], cseq: 10 }), fakeFlow('UDP'), alice);
      const res = await r.register(
        registerRequest({ contacts: ['<sip:alice@192.0.2.9>', '<sip:alice@192.0.2.1>;expires=0'], cseq: 10 }),
        fakeFlow('UDP'),
        alice,
      );
      expect(res.status).toBe(500);
      expect((await location.lookup('alice@portal.test')).map((b) => b.contact.host)).toEqual(['192.0.2.1']);
    });

    it('refuses Contact: * with a stale CSeq', async () => {
      const r = makeRegistrar();
      await r.register(registerRequest({ contacts: ['<sip:alice@192.0.2.1>'], cseq: 10 }), fakeFlow('UDP'), alice);
      const res = await r.register(registerRequest({ contacts: ['*'], expires: '0', cseq: 3 }), fakeFlow('UDP'), alice);
      expect(res.status).toBe(500);
      expect(location.size).toBe(1);
    });

    it('compares Contacts as URIs (§19.1.4): an escaped user and a host in upper case are the same binding', async () => {
      const r = makeRegistrar();
      await r.register(registerRequest({ contacts: ['<sip:alice@Host.Example>'], cseq: 1 }), fakeFlow('UDP'), alice);
      await r.register(registerRequest({ contacts: ['<sip:%61lice@host.example>;expires=0'], cseq: 2 }), fakeFlow('UDP'), alice);
      expect(location.size).toBe(0);
    });
  });

  describe('request checks', () => {
    const alice = subscriber('alice');

    it('answers 404 for a Request-URI outside the relay’s domains, and accepts the relay’s own address', async () => {
      const r = makeRegistrar();
      expect((await r.register(registerRequest({ ruri: 'sip:elsewhere.test', contacts: ['<sip:a@192.0.2.1>'] }), fakeFlow('UDP'), alice)).status).toBe(404);
      const res = await r.register(
        registerRequest({ ruri: 'sip:127.0.0.1:5060', aor: 'sip:alice@127.0.0.1', contacts: ['<sip:a@192.0.2.1>'] }),
        fakeFlow('UDP'),
        alice,
      );
      expect(res.status).toBe(200);
      expect(await location.lookup('alice@portal.test')).toHaveLength(1);
    });

    it('answers 420 listing the Require option tags it does not support, and accepts outbound', async () => {
      const r = makeRegistrar();
      const res = await r.register(registerRequest({ contacts: ['<sip:a@192.0.2.1>'], headers: ['Require: outbound, foo, Bar'] }), fakeFlow('UDP'), alice);
      expect(res.status).toBe(420);
      expect(res.header('unsupported')).toBe('foo, bar');
      expect((await r.register(registerRequest({ contacts: ['<sip:a@192.0.2.1>'], headers: ['Require: outbound'] }), fakeFlow('UDP'), alice)).status).toBe(200);
    });

    it('refuses a Contact that is not a SIP URI with 400', async () => {
      const res = await makeRegistrar().register(registerRequest({ contacts: ['<mailto:alice@portal.test>'] }), fakeFlow('UDP'), alice);
      expect(res.status).toBe(400);
    });

    it('answers 400, not an exception, when To does not parse', async () => {
      const request = registerRequest({ contacts: ['<sip:a@192.0.2.1>'] });
      request.setHeader('To', '<sip:alice@portal.test');
      const res = await makeRegistrar().register(request, fakeFlow('UDP'), alice);
      expect(res.status).toBe(400);
    });

    it('answers 500 when the location service fails, and logs it', async () => {
      const error = vi.fn();
      const r = makeRegistrar({ logger: { debug() {}, info() {}, warn() {}, error } });
      vi.spyOn(location, 'update').mockRejectedValueOnce(new Error('redis down'));
      const res = await r.register(registerRequest({ contacts: ['<sip:a@192.0.2.1>'] }), fakeFlow('UDP'), alice);
      expect(res.status).toBe(500);
      expect(error).toHaveBeenCalledOnce();
    });

    it('throws TypeError when given another method, and for bad options', async () => {
      await expect(makeRegistrar().register(new SipRequest('INVITE', 'sip:a@b'), fakeFlow('UDP'), alice)).rejects.toThrow(TypeError);
      expect(() => makeRegistrar({ domains: [] })).toThrow(/domains/);
      expect(() => makeRegistrar({ minExpiresSeconds: 0 })).toThrow(/minExpiresSeconds/);
      expect(() => makeRegistrar({ minExpiresSeconds: 600, maxExpiresSeconds: 60 })).toThrow(/maxExpiresSeconds/);
    });

    it('makes the oldest binding give way beyond maxBindingsPerAor, and refuses a REGISTER that alone exceeds it', async () => {
      const r = makeRegistrar({ maxBindingsPerAor: 2 });
      await r.register(registerRequest({ contacts: ['<sip:a@192.0.2.1>'], cseq: 1 }), fakeFlow('UDP'), alice);
      clock.advance(1000);
      await r.register(registerRequest({ contacts: ['<sip:a@192.0.2.2>'], cseq: 2 }), fakeFlow('UDP'), alice);
      clock.advance(1000);
      const res = await r.register(registerRequest({ contacts: ['<sip:a@192.0.2.3>'], cseq: 3 }), fakeFlow('UDP'), alice);
      expect(contactsOf(res).map((c) => c.slice(0, 18)).sort()).toEqual(['<sip:a@192.0.2.2>;', '<sip:a@192.0.2.3>;']);
      const tooMany = await r.register(
        registerRequest({ contacts: ['<sip:a@192.0.2.4>', '<sip:a@192.0.2.5>', '<sip:a@192.0.2.6>'], cseq: 4 }),
        fakeFlow('UDP'),
        alice,
      );
      expect(tooMany.status).toBe(403);
    });
  });

  describe('who may register what', () => {
    it('lets a user register only its own address of record', async () => {
      const r = makeRegistrar();
      const contacts = ['<sip:x@192.0.2.1>'];
      expect((await r.register(registerRequest({ aor: 'sip:bob@portal.test', contacts }), fakeFlow('UDP'), subscriber('alice'))).status).toBe(403);
      expect((await r.register(registerRequest({ aor: 'sip:alice@example.com', contacts }), fakeFlow('UDP'), subscriber('alice'))).status).toBe(403);
      expect((await r.register(registerRequest({ aor: 'sip:alice@elsewhere.test', contacts }), fakeFlow('UDP'), subscriber('alice'))).status).toBe(403);
      expect((await r.register(registerRequest({ aor: 'sip:wine@portal.test', contacts }), fakeFlow('UDP'), subscriber('alice'))).status).toBe(403);
      expect((await r.register(registerRequest({ aor: 'sip:alice@portal.test', contacts }), fakeFlow('UDP'), subscriber('alice'))).status).toBe(200);
      expect(location.size).toBe(1);
    });

    it('compares the user after unescaping (sip:%61lice is alice)', async () => {
      const res = await makeRegistrar().register(
        registerRequest({ aor: 'sip:%61lice@portal.test', contacts: ['<sip:x@192.0.2.1>'] }),
        fakeFlow('UDP'),
        subscriber('alice'),
      );
      expect(res.status).toBe(200);
      expect(await location.lookup('alice@portal.test')).toHaveLength(1);
    });

    it('lets an application server register a service it provides, as a registered target of the directory', async () => {
      const flow = fakeFlow('TCP');
      const res = await makeRegistrar().register(
        registerRequest({ aor: 'sip:wine@portal.test', contacts: ['<sip:wine@10.0.0.5:5070;transport=tcp>'], expires: '300' }),
        flow,
        appServer('cellar'),
      );
      expect(res.status).toBe(200);
      expect(directory.setRegistrations).toHaveBeenCalledOnce();
      const [name, service, weight, contacts] = directory.setRegistrations.mock.calls[0] as [string, string, number, RegisteredContact[]];
      expect([name, service, weight]).toEqual(['cellar', 'wine', 3]);
      expect(contacts.map((c) => ({ ...c, uri: c.uri.toString() }))).toEqual([
        { uri: 'sip:wine@10.0.0.5:5070;transport=tcp', flowId: flow.id, flowBound: false, expiresAt: clock.wallNow() + 300_000 },
      ]);
      // A service's registrations are not bindings of a user called "wine".
      expect(await location.lookup('wine@portal.test')).toEqual([]);
    });

    it('refuses an application server a service it does not provide or is disabled for', async () => {
      const r = makeRegistrar();
      const contacts = ['<sip:x@10.0.0.5>'];
      expect((await r.register(registerRequest({ aor: 'sip:lesson@portal.test', contacts }), fakeFlow('UDP'), appServer('cellar'))).status).toBe(403);
      expect((await r.register(registerRequest({ aor: 'sip:beer@portal.test', contacts }), fakeFlow('UDP'), appServer('cellar'))).status).toBe(403);
      expect((await r.register(registerRequest({ aor: 'sip:wine@portal.test', contacts }), fakeFlow('UDP'), appServer('other'))).status).toBe(403);
      expect(await makeRegistrar({ appServerServices: undefined }).register(registerRequest({ aor: 'sip:wine@portal.test', contacts }), fakeFlow('UDP'), appServer('cellar')))
        .toMatchObject({ status: 403 });
      expect(directory.setRegistrations).not.toHaveBeenCalled();
    });

    it('does not make a registered target of a service the store sends to a fixed URI', async () => {
      services.push({ ...serviceRow('cellar', 'bookstore'), targetUri: 'sip:books@10.0.0.9' });
      const res = await makeRegistrar().register(
        registerRequest({ aor: 'sip:bookstore@portal.test', contacts: ['<sip:books@10.0.0.5>'] }),
        fakeFlow('UDP'),
        appServer('cellar'),
      );
      expect(res.status).toBe(200);
      expect(directory.setRegistrations).not.toHaveBeenCalled();
    });

    it('tells the directory when an application server unregisters', async () => {
      const r = makeRegistrar();
      const aor = 'sip:wine@portal.test';
      await r.register(registerRequest({ aor, contacts: ['<sip:wine@10.0.0.5>'], cseq: 1 }), fakeFlow('UDP'), appServer('cellar'));
      await r.register(registerRequest({ aor, contacts: ['*'], expires: '0', cseq: 2 }), fakeFlow('UDP'), appServer('cellar'));
      expect(directory.setRegistrations).toHaveBeenLastCalledWith('cellar', 'wine', 3, []);
    });

    it('keeps two application servers of one service apart', async () => {
      services.push(serviceRow('vineyard', 'wine', 1));
      const r = makeRegistrar();
      const aor = 'sip:wine@portal.test';
      await r.register(registerRequest({ aor, contacts: ['<sip:wine@10.0.0.5>'], callId: 'c1' }), fakeFlow('UDP'), appServer('cellar'));
      await r.register(registerRequest({ aor, contacts: ['*'], expires: '0', callId: 'c2' }), fakeFlow('UDP'), appServer('vineyard'));
      expect(directory.setRegistrations).toHaveBeenLastCalledWith('vineyard', 'wine', 1, []);
      expect(location.size).toBe(1);
    });
  });

  describe('connection binding (RFC 7118 §5.2, RFC 5626)', () => {
    const alice = subscriber('alice');
    const wsContact = '<sip:k3j2@df7jal23ls0d.invalid;transport=ws>';

    it('binds a browser’s .invalid Contact to its WebSocket flow and drops it when the flow closes', async () => {
      const ws = fakeFlow('WS');
      const r = makeRegistrar();
      await r.register(registerRequest({ contacts: [wsContact] }), ws, alice);
      const [binding] = await location.lookup('alice@portal.test');
      expect(binding).toMatchObject({ flowId: ws.id, flowBound: true, node: 'node-a' });
      r.flowClosed(ws.id);
      expect(await location.lookup('alice@portal.test')).toEqual([]);
      expect(directory.flowClosed).toHaveBeenCalledWith(ws.id);
      expect(clock.pending).toBe(0);
    });

    it('keeps the UDP flow (the received address) of a client behind NAT', async () => {
      const udp = fakeFlow('UDP', 'udp/192.0.2.1:5060/203.0.113.9:61000');
      await makeRegistrar().register(registerRequest({ contacts: ['<sip:alice@10.1.1.1:5060>'] }), udp, alice);
      expect(await location.lookup('alice@portal.test')).toMatchObject([{ flowId: udp.id, flowBound: false }]);
    });

    it('keeps a routable TCP binding when its connection closes, forgetting only the flow', async () => {
      const tcp = fakeFlow('TCP');
      const r = makeRegistrar();
      await r.register(registerRequest({ contacts: ['<sip:alice@198.51.100.4:5060;transport=tcp>'] }), tcp, alice);
      r.flowClosed(tcp.id);
      expect(await location.lookup('alice@portal.test')).toMatchObject([{ flowId: undefined, flowBound: false }]);
    });

    it('drops a binding registered with ;ob when its connection closes', async () => {
      const tcp = fakeFlow('TCP');
      const r = makeRegistrar();
      await r.register(registerRequest({ contacts: ['<sip:alice@198.51.100.4:5060;transport=tcp;ob>'] }), tcp, alice);
      r.flowClosed(tcp.id);
      expect(location.size).toBe(0);
    });

    it('replaces the binding of the same +sip.instance and reg-id registered over a new flow', async () => {
      const instance = ';+sip.instance="<urn:uuid:00000000-0000-1000-8000-000a95a0e128>";reg-id=1';
      const first = fakeFlow('WS');
      const second = fakeFlow('WS');
      const r = makeRegistrar();
      await r.register(registerRequest({ contacts: ['<sip:a@aaaa.invalid;transport=ws>' + instance], cseq: 1 }), first, alice);
      const res = await r.register(registerRequest({ contacts: ['<sip:b@bbbb.invalid;transport=ws>' + instance], cseq: 2 }), second, alice);
      expect(res.status).toBe(200);
      expect(res.header('require')).toBe('outbound');
      expect(contactsOf(res)).toEqual(['<sip:b@bbbb.invalid;transport=ws>' + instance + ';expires=3600']);
      const bindings = await location.lookup('alice@portal.test');
      expect(bindings).toMatchObject([{ flowId: second.id, instanceId: 'urn:uuid:00000000-0000-1000-8000-000a95a0e128', regId: 1 }]);
      // The old connection closing no longer affects the new binding.
      r.flowClosed(first.id);
      expect(await location.lookup('alice@portal.test')).toHaveLength(1);
    });

    it('keeps bindings of one instance with different reg-ids side by side, and ignores reg-id without an instance', async () => {
      const r = makeRegistrar();
      const inst = ';+sip.instance="<urn:uuid:1>"';
      await r.register(registerRequest({ contacts: [`<sip:a@192.0.2.1;transport=tcp>${inst};reg-id=1`], cseq: 1 }), fakeFlow('TCP'), alice);
      await r.register(registerRequest({ contacts: [`<sip:a@192.0.2.1;transport=tcp>${inst};reg-id=2`], cseq: 2 }), fakeFlow('TCP'), alice);
      const res = await r.register(registerRequest({ contacts: ['<sip:a@192.0.2.9>;reg-id=1'], cseq: 3 }), fakeFlow('UDP'), alice);
      expect(res.header('require')).toBeUndefined();
      const bindings = await location.lookup('alice@portal.test');
      expect(bindings.map((b) => b.regId ?? null).sort()).toEqual([1, 2, null]);
    });

    it('refuses an instance’s REGISTER with a stale CSeq under the same Call-ID', async () => {
      const r = makeRegistrar();
      const c = '<sip:a@x.invalid;transport=ws>;+sip.instance="<urn:uuid:1>";reg-id=1';
      await r.register(registerRequest({ contacts: [c], cseq: 5 }), fakeFlow('WS'), alice);
      expect((await r.register(registerRequest({ contacts: [c], cseq: 4 }), fakeFlow('WS'), alice)).status).toBe(500);
    });

    it('refuses a REGISTER with two Contacts carrying reg-id', async () => {
      const inst = ';+sip.instance="<urn:uuid:1>"';
      const res = await makeRegistrar().register(
        registerRequest({ contacts: [`<sip:a@192.0.2.1>${inst};reg-id=1`, `<sip:a@192.0.2.2>${inst};reg-id=2`] }),
        fakeFlow('TCP'),
        alice,
      );
      expect(res.status).toBe(400);
    });
  });
});

describe('RelayRegistrar hour default', () => {
  it('grants the default of one hour when nothing is asked', async () => {
    const c = new ManualClock();
    const loc = new MemoryLocationService({ clock: c });
    const r = new RelayRegistrar({ location: loc, domains: ['portal.test'], clock: c });
    const res = await r.register(registerRequest({ contacts: ['<sip:alice@192.0.2.1>'] }), fakeFlow('UDP'), subscriber('alice'));
    expect(res.header('contact')).toBe(`<sip:alice@192.0.2.1>;expires=${HOUR}`);
    await loc.close();
    expect(c.pending).toBe(0);
  });
});
