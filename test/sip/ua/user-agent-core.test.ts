import { describe, expect, it } from 'vitest';
import type { SipRequest } from '../../../sip/message/sip-request.js';
import type { SipResponse } from '../../../sip/message/sip-response.js';
import { serializeMessage } from '../../../sip/message/serializer.js';
import type { IncomingRequest } from '../../../sip/ua/incoming-request.js';
import type { Session } from '../../../sip/ua/session.js';
import { UserAgentCore } from '../../../sip/ua/user-agent-core.js';
import { UserAgentError } from '../../../sip/ua/user-agent-error.js';
import { DigestFixture } from './digest-fixture.js';
import { InMemoryNetwork } from './in-memory-network.js';

function setup() {
  const net = new InMemoryNetwork();
  const alice = net.core('alice', '10.0.0.1');
  const bob = net.core('bob', '10.0.0.2');
  return { net, alice, bob };
}

async function settled<T>(net: InMemoryNetwork, p: Promise<T>): Promise<T> {
  await net.settle();
  return p;
}

describe('UserAgentCore', () => {
  describe('options', () => {
    const net = new InMemoryNetwork();
    const transport = net.node('x', '10.0.0.99');
    it.each([
      ['a bad AOR', { aor: 'not a uri' }],
      ['a bad Allow token', { aor: 'sip:a@b', allow: ['IN VITE'] }],
      ['a negative glare retry count', { aor: 'sip:a@b', maxGlareRetries: -1 }],
      ['a tel outbound proxy', { aor: 'sip:a@b', outboundProxy: 'tel:+1555' }],
      ['an onInvite that is not a function', { aor: 'sip:a@b', onInvite: 'yes' }],
    ])('throw TypeError for %s', (_what, options) => {
      expect(() => new UserAgentCore({ transport, ...(options as { aor: string }) })).toThrow(TypeError);
    });
  });

  describe('requests outside a dialog, unhandled', () => {
    it('answers OPTIONS 200 with Allow and Supported (§11.2)', async () => {
      const { net, alice } = setup();
      const r = await settled(net, alice.request('OPTIONS', 'sip:bob@10.0.0.2'));
      expect(r.status).toBe(200);
      expect(r.header('allow')).toBe('INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY');
      expect(r.header('supported')).toBe('replaces, norefersub');
      expect(r.to.tag).toBeTruthy();
    });

    it('answers an unknown method 501 and a known one 405, both with Allow (§8.2.1)', async () => {
      const { net, alice } = setup();
      const foo = await settled(net, alice.request('FOO', 'sip:bob@10.0.0.2'));
      expect(foo.status).toBe(501);
      expect(foo.header('allow')).toContain('BYE');
      const msg = await settled(net, alice.request('MESSAGE', 'sip:bob@10.0.0.2', { body: 'hi', contentType: 'text/plain' }));
      expect(msg.status).toBe(405);
      expect(msg.header('allow')).toContain('BYE');
    });

    it('absorbs a stray ACK without answering', async () => {
      const { net, alice, bob } = setup();
      const ack = alice.createRequest('ACK', 'sip:bob@10.0.0.2', undefined);
      alice.transactions.prependVia(ack, alice.transport.flowTo({ protocol: 'UDP', host: '10.0.0.2', port: 5060 }));
      alice.transactions.sendStateless(ack, alice.transport.flowTo({ protocol: 'UDP', host: '10.0.0.2', port: 5060 }));
      await net.settle();
      expect(net.lines()).toEqual(['ACK']);
      expect(bob.sessionCount).toBe(0);
    });
  });

  describe('onRequest', () => {
    it('hands other requests to the application, which answers (a To tag is added)', async () => {
      const { net, alice, bob } = setup();
      const got: IncomingRequest[] = [];
      bob.onRequest = (r) => {
        got.push(r);
        r.respond(202, { body: 'queued', contentType: 'text/plain' });
      };
      const r = await settled(net, alice.request('MESSAGE', 'sip:bob@10.0.0.2', { body: 'hello bob', contentType: 'text/plain' }));
      expect(got.map((g) => [g.method, g.request.bodyText])).toEqual([['MESSAGE', 'hello bob']]);
      expect(r.status).toBe(202);
      expect(r.bodyText).toBe('queued');
      expect(r.to.tag).toBeTruthy();
    });

    it('answers 500 when the hook throws', async () => {
      const { net, alice, bob } = setup();
      bob.onRequest = () => {
        throw new Error('bug');
      };
      expect((await settled(net, alice.request('MESSAGE', 'sip:bob@10.0.0.2'))).status).toBe(500);
    });
  });

  describe('request()', () => {
    it('answers a 401 with credentials and resolves with the final response', async () => {
      const net = new InMemoryNetwork();
      const alice = net.core('alice', '10.0.0.1', { aor: 'sip:alice@portal.test', credentials: { username: 'alice', password: 'alice-secret' } });
      const relay = net.core('relay', '10.0.0.5');
      const digest = new DigestFixture(net.clock);
      relay.onRequest = async (r) => {
        const v = await digest.check(r.request);
        if (v.ok) r.accept();
        else r.reject(401, { headers: v.headers });
      };
      const response = await settled(net, alice.request('MESSAGE', 'sip:bob@10.0.0.5', { body: 'hi', contentType: 'text/plain' }));
      expect(response.status).toBe(200);
      const sent = net.find('alice', 'relay', 'MESSAGE') as SipRequest[];
      expect(sent.map((m) => m.cseq.seq - sent[0].cseq.seq)).toEqual([0, 1]);
      expect(sent[1].callId).toBe(sent[0].callId);
      expect(sent[1].from.tag).toBe(sent[0].from.tag);
    });

    it('rejects with SIP_ERR_REQUEST_TIMEOUT after timer F when nobody answers', async () => {
      const { net, alice } = setup();
      const p = alice.request('OPTIONS', 'sip:nobody@10.0.0.66');
      const outcome = p.then(
        () => undefined,
        (e: unknown) => e,
      );
      await net.advance(32_000, 500);
      const error = (await outcome) as UserAgentError;
      expect(error).toBeInstanceOf(UserAgentError);
      expect(error.code).toBe('SIP_ERR_REQUEST_TIMEOUT');
    });

    it('rejects with SIP_ERR_TRANSPORT when the next hop cannot be resolved', async () => {
      const { alice } = setup();
      await expect(alice.request('OPTIONS', 'sip:bob@example.com;transport=sctp')).rejects.toMatchObject({ code: 'SIP_ERR_TRANSPORT' });
    });

    it('throws TypeError for INVITE, ACK or a bad target', () => {
      const { alice } = setup();
      expect(() => alice.request('INVITE', 'sip:bob@10.0.0.2')).toThrow(TypeError);
      expect(() => alice.request('OPTIONS', 'no uri')).toThrow(TypeError);
    });
  });

  describe('routing', () => {
    it('sends everything outside a dialog to the outbound proxy with a loose Route (§8.1.2)', async () => {
      const net = new InMemoryNetwork();
      const alice = net.core('alice', '10.0.0.1', { outboundProxy: 'sip:10.0.0.5' });
      const relay = net.core('relay', '10.0.0.5');
      const seen: SipRequest[] = [];
      relay.onRequest = (r) => {
        seen.push(r.request);
        r.accept();
      };
      await settled(net, alice.request('OPTIONS', 'sip:wine@portal.test'));
      expect(seen[0].rawUri).toBe('sip:wine@portal.test');
      expect(seen[0].header('route')).toBe('<sip:10.0.0.5;lr>');
    });

    it('takes an asynchronous resolver (DNS) into account', async () => {
      const net = new InMemoryNetwork();
      const alice = net.core('alice', '10.0.0.1', {
        // A stand-in for DNS: only bob.example needs a lookup.
        resolveTarget: async (uri) => {
          const host = uri.kind === 'sip' ? uri.hostname : '';
          return { protocol: 'UDP', host: host === 'bob.example' ? '10.0.0.2' : host, port: 5060 };
        },
      });
      const bob = net.core('bob', '10.0.0.2');
      bob.onInvite = (i) => void i.accept();
      const call = alice.invite('sip:bob@bob.example');
      await net.settle();
      const session = await call.session;
      const bye = await settled(net, session.bye());
      expect(bye.status).toBe(200);
    });
  });

  describe('as a browser over WebSocket (RFC 7118)', () => {
    it('writes a .invalid Via without port and a transport=ws Contact, and talks through the relay', async () => {
      const net = new InMemoryNetwork();
      const browserNode = net.node('browser', 'df7jal23ls0d.invalid', 0, ['WS']);
      const browser = new UserAgentCore({ transport: browserNode, clock: net.clock, aor: 'sip:alice@portal.test', outboundProxy: 'sip:10.0.0.5;transport=ws' });
      const relayNode = net.node('relay', '10.0.0.5', 5060, ['WS', 'UDP']);
      const relay = new UserAgentCore({ transport: relayNode, clock: net.clock, aor: 'sip:relay@portal.test' });
      let uas: Session | undefined;
      relay.onInvite = (i) => (uas = i.accept());
      const call = browser.invite('sip:wine@portal.test');
      await net.settle();
      const invite = net.find('browser', 'relay', 'INVITE')[0] as SipRequest;
      expect(invite.topVia.toString()).toMatch(/^SIP\/2\.0\/WS df7jal23ls0d\.invalid;branch=z9hG4bK\w+;rport/);
      expect(invite.header('contact')).toMatch(/^<sip:[a-z0-9]+@df7jal23ls0d\.invalid;transport=ws>$/);
      const session = await call.session;
      // The relay reaches the browser only over its connection.
      const bye = await settled(net, (uas as Session).bye());
      expect(bye.status).toBe(200);
      expect(session.termination).toMatchObject({ by: 'remote', reason: 'bye' });
    });
  });

  describe('stray responses (§13.2.2.4)', () => {
    it('ACKs a 2xx retransmission that arrives after the INVITE transaction ended', async () => {
      const { net, alice, bob } = setup();
      bob.onInvite = (i) => void i.accept();
      const call = alice.invite('sip:bob@10.0.0.2');
      await net.settle();
      await call.session;
      await net.advance(33_000, 1000); // timer M ends the client transaction
      const ok = net.find('bob', 'alice', '200 INVITE')[0] as SipResponse;
      net.clear();
      bob.transport.flowTo({ protocol: 'UDP', host: '10.0.0.1', port: 5060 }).send(serializeMessage(ok));
      await net.settle();
      expect(net.lines('alice', 'bob')).toEqual(['ACK']);
    });
  });

  describe('close()', () => {
    it('ends sessions without signalling and refuses new requests', async () => {
      const { net, alice, bob } = setup();
      bob.onInvite = (i) => void i.accept();
      const call = alice.invite('sip:bob@10.0.0.2');
      await net.settle();
      const session = await call.session;
      net.clear();
      await alice.close();
      expect(session.termination).toEqual({ by: 'local', reason: 'closed' });
      expect(alice.sessionCount).toBe(0);
      expect(net.lines()).toEqual([]);
      expect(() => alice.invite('sip:bob@10.0.0.2')).toThrow(expect.objectContaining({ code: 'SIP_ERR_CLOSED' }));
    });
  });
});
