import { describe, expect, it } from 'vitest';
import { parseMultipart } from '../../../sip/message/multipart.js';
import type { SipRequest } from '../../../sip/message/sip-request.js';
import type { SipResponse } from '../../../sip/message/sip-response.js';
import type { ClientTransactionUser } from '../../../sip/transaction/transaction-user.js';
import type { IncomingRequest } from '../../../sip/ua/incoming-request.js';
import type { ReferNotification } from '../../../sip/ua/outgoing-refer.js';
import type { Session, SessionTermination } from '../../../sip/ua/session.js';
import type { UserAgentCoreOptions } from '../../../sip/ua/user-agent-core.js';
import { ForkingProxy } from './forking-proxy.js';
import { InMemoryNetwork } from './in-memory-network.js';

const CHARGE = 'application/vnd.siprelay.charge+json';

/** Alice calls Bob; returns both confirmed sessions. */
async function call(options: { alice?: Partial<UserAgentCoreOptions>; bob?: Partial<UserAgentCoreOptions> } = {}) {
  const net = new InMemoryNetwork();
  const alice = net.core('alice', '10.0.0.1', options.alice);
  const bob = net.core('bob', '10.0.0.2', options.bob);
  let uas: Session | undefined;
  bob.onInvite = (invite) => (uas = invite.accept());
  const outgoing = alice.invite('sip:bob@10.0.0.2');
  await net.settle();
  const uac = await outgoing.session;
  net.clear();
  return { net, alice, bob, uac, uas: uas as Session };
}

/** Runs `fn` and settles the network, then gives what `fn` returned. */
async function settled<T>(net: InMemoryNetwork, promise: Promise<T>): Promise<T> {
  await net.settle();
  return promise;
}

describe('Session', () => {
  describe('BYE (§15)', () => {
    it('from the callee ends both sides, each told who ended it', async () => {
      const { net, uac, uas, alice, bob } = await call();
      const seen: SessionTermination[] = [];
      uac.on('terminated', (t) => seen.push(t));
      const r = await settled(net, uas.bye());
      expect(r.status).toBe(200);
      expect(net.lines()).toEqual(['BYE', '200 BYE']);
      expect(seen).toMatchObject([{ by: 'remote', reason: 'bye' }]);
      expect(uas.termination).toMatchObject({ by: 'local', reason: 'bye' });
      expect(alice.sessionCount + bob.sessionCount).toBe(0);
    });

    it('lets the answering side put a body in the 2xx to BYE (final charges)', async () => {
      const { net, uac, uas } = await call();
      uas.on('bye', (bye) => bye.accept({ body: '{"id":"c1","items":[]}', contentType: CHARGE }));
      const r = await settled(net, uac.bye());
      expect(r.bodyText).toBe('{"id":"c1","items":[]}');
      expect(r.header('content-type')).toBe(CHARGE);
    });

    it('refuses requests on an ended session with SIP_ERR_SESSION_TERMINATED', async () => {
      const { net, uac } = await call();
      await settled(net, uac.bye());
      await expect(uac.info({ body: 'x', contentType: 'text/plain' })).rejects.toMatchObject({ code: 'SIP_ERR_SESSION_TERMINATED' });
      await expect(uac.bye()).rejects.toMatchObject({ code: 'SIP_ERR_SESSION_TERMINATED' });
    });
  });

  describe('re-INVITE (§14)', () => {
    it('accepted: the peer sees the new body, answers with its own, and the ACK follows', async () => {
      const { net, uac, uas } = await call();
      const acks: SipRequest[] = [];
      uas.on('ack', (a) => acks.push(a));
      uas.on('reinvite', (r) => r.accept({ body: JSON.stringify({ url: 'https://beer.example/' }), contentType: 'application/json', headers: [] }));
      const r = await settled(net, uac.reinvite({ body: '{"service":"beer"}', contentType: 'application/json' }));
      expect(r.status).toBe(200);
      expect(r.bodyText).toBe('{"url":"https://beer.example/"}');
      expect(net.lines()).toEqual(['INVITE', '200 INVITE', 'ACK']);
      expect((net.find('alice', 'bob', 'INVITE')[0] as SipRequest).bodyText).toBe('{"service":"beer"}');
      expect(acks).toHaveLength(1);
    });

    it('refused: the final response is returned and the session stays as it was', async () => {
      const { net, uac, uas } = await call();
      uas.on('reinvite', (r) => r.reject(488));
      const r = await settled(net, uac.reinvite({ body: 'x', contentType: 'text/plain' }));
      expect(r.status).toBe(488);
      expect(uac.state).toBe('confirmed');
      expect(net.lines()).toEqual(['INVITE', '488 INVITE', 'ACK']);
    });

    it('is accepted without body when nobody listens', async () => {
      const { net, uac } = await call();
      const r = await settled(net, uac.reinvite());
      expect(r.status).toBe(200);
      expect(r.body.length).toBe(0);
    });

    it('refreshes the remote target from the Contact of the accepted request', async () => {
      const { net, uac, uas } = await call();
      const target = await settled(net, uas.reinvite());
      expect(target.status).toBe(200);
      expect(uac.dialog.remoteTarget.toString()).toBe('sip:bob@10.0.0.2:5060');
      expect(uas.dialog.remoteTarget.toString()).toBe('sip:alice@10.0.0.1:5060');
    });

    it('glare: both sides get 491 (§14.2), retry after the §14.1 timer, and both succeed', async () => {
      const { net, uac, uas } = await call();
      const a = uac.reinvite({ body: 'from alice', contentType: 'text/plain' });
      const b = uas.reinvite({ body: 'from bob', contentType: 'text/plain' });
      await net.settle();
      expect(net.lines().filter((l) => l === '491 INVITE')).toHaveLength(2);
      await net.advance(8_000, 10);
      expect((await a).status).toBe(200);
      expect((await b).status).toBe(200);
    });

    it('refuses to start while another INVITE transaction is in progress (§14.1)', async () => {
      const { net, uac } = await call();
      const first = uac.reinvite();
      await expect(uac.reinvite()).rejects.toMatchObject({ code: 'SIP_ERR_REQUEST_PENDING' });
      await net.settle();
      expect((await first).status).toBe(200);
    });
  });

  describe('UPDATE (RFC 3311)', () => {
    it('accepted with a body, without ACK', async () => {
      const { net, uac, uas } = await call();
      const bodies: string[] = [];
      uas.on('update', (u) => {
        bodies.push(u.request.bodyText);
        u.accept({ body: 'ok', contentType: 'text/plain' });
      });
      const r = await settled(net, uac.update({ body: '{"service":"beer"}', contentType: 'application/json' }));
      expect(r.status).toBe(200);
      expect(r.bodyText).toBe('ok');
      expect(bodies).toEqual(['{"service":"beer"}']);
      expect(net.lines()).toEqual(['UPDATE', '200 UPDATE']);
    });

    it('refused', async () => {
      const { net, uac, uas } = await call();
      uas.on('update', (u) => u.reject(403));
      expect((await settled(net, uac.update())).status).toBe(403);
      expect(uac.state).toBe('confirmed');
    });

    it('works in an early dialog', async () => {
      const net = new InMemoryNetwork();
      const alice = net.core('alice', '10.0.0.1');
      const bob = net.core('bob', '10.0.0.2');
      const updates: string[] = [];
      bob.onInvite = (invite) => {
        invite.progress(183);
        invite.session?.on('update', (u) => {
          updates.push(u.request.bodyText);
          u.accept();
        });
      };
      const out = alice.invite('sip:bob@10.0.0.2');
      let early: Session | undefined;
      out.on('early', (s) => (early = s));
      await net.settle();
      const r = await settled(net, (early as Session).update({ body: 'early change', contentType: 'text/plain' }));
      expect(r.status).toBe(200);
      expect(updates).toEqual(['early change']);
    });
  });

  describe('INFO (RFC 6086)', () => {
    const packages = { alice: {}, bob: { recvInfo: ['siprelay-charge'] } };

    it('with a package the peer announced: delivered with its package name', async () => {
      const { net, uac, uas } = await call(packages);
      expect(uac.remoteRecvInfo).toEqual(['siprelay-charge']);
      const infos: Array<string | undefined> = [];
      uas.on('info', (i) => {
        infos.push(i.package);
        i.accept();
      });
      const r = await settled(net, uac.info({ package: 'siprelay-charge', body: '{"id":"1"}', contentType: CHARGE }));
      expect(r.status).toBe(200);
      expect(infos).toEqual(['siprelay-charge']);
      expect(net.find('alice', 'bob', 'INFO')[0].header('info-package')).toBe('siprelay-charge');
    });

    it('with a package we did not announce: 469 Bad Info Package with our Recv-Info (§4.2.2)', async () => {
      const { net, uac, uas } = await call(packages);
      let delivered = 0;
      uas.on('info', () => delivered++);
      const r = await settled(net, uac.info({ package: 'dtmf', body: 'Signal=1', contentType: 'application/dtmf', ignoreRecvInfo: true }));
      expect(r.status).toBe(469);
      expect(r.header('recv-info')).toBe('siprelay-charge');
      expect(delivered).toBe(0);
    });

    it('refuses to send a package the peer did not announce (§4.2.1)', async () => {
      const { uac } = await call(packages);
      await expect(uac.info({ package: 'dtmf', body: '1', contentType: 'application/dtmf' })).rejects.toMatchObject({ code: 'SIP_ERR_INFO_PACKAGE' });
    });

    it('legacy INFO without Info-Package is delivered with no package and answered 200 by default', async () => {
      const { net, uac } = await call(packages);
      expect((await settled(net, uac.info({ body: 'hi', contentType: 'text/plain' }))).status).toBe(200);
    });
  });

  describe('REFER (RFC 3515)', () => {
    it('accepted: 202, then NOTIFYs with message/sipfrag until the final one', async () => {
      const { net, uac, uas } = await call();
      let referTo = '';
      uas.on('refer', (r) => {
        referTo = r.referTo.uri.toString();
        const notifier = r.accept();
        net.clock.setTimeout(() => void notifier.notify(180), 100);
        net.clock.setTimeout(() => void notifier.notify(200), 200);
      });
      const refer = uac.refer('sip:beer@portal.test');
      const notes: ReferNotification[] = [];
      refer.on('notify', (n) => notes.push(n));
      await net.settle();
      expect((await refer.response).status).toBe(202);
      await net.advance(300);
      expect(referTo).toBe('sip:beer@portal.test');
      expect(notes.map((n) => [n.status, n.final])).toEqual([
        [100, false],
        [180, false],
        [200, true],
      ]);
      expect(refer.state).toBe('done');
      expect((await refer.completion)?.status).toBe(200);
      const notify = net.find('bob', 'alice', 'NOTIFY')[0];
      expect(notify.header('event')).toBe('refer;id=' + (net.find('alice', 'bob', 'REFER')[0] as SipRequest).cseq.seq);
      expect(notify.header('content-type')).toBe('message/sipfrag;version=2.0');
      expect(notify.header('subscription-state')).toBe('active;expires=60');
      expect(net.find('bob', 'alice', 'NOTIFY')[2].header('subscription-state')).toBe('terminated;reason=noresource');
      expect(net.find('alice', 'bob', 'REFER')[0].header('referred-by')).toBe('<sip:alice@10.0.0.1>');
    });

    it('carries a body when given one (the details of the service to ask for)', async () => {
      const { net, uac, uas } = await call();
      let body = '';
      let type: string | undefined;
      uas.on('refer', (r) => {
        body = r.request.bodyText;
        type = r.request.contentType;
        r.accept();
      });
      const refer = uac.refer('sip:beer@portal.test', { body: '{"category":"stout"}', contentType: 'application/vnd.siprelay.request+json' });
      await net.settle();
      expect((await refer.response).status).toBe(202);
      expect(body).toBe('{"category":"stout"}');
      expect(type).toBe('application/vnd.siprelay.request+json');
    });

    it('declined with 603 when nobody listens', async () => {
      const { net, uac } = await call();
      const refer = uac.refer('sip:beer@portal.test');
      await net.settle();
      expect((await refer.response).status).toBe(603);
      expect(refer.state).toBe('rejected');
      await expect(refer.completion).rejects.toMatchObject({ code: 'SIP_ERR_REJECTED' });
    });

    it('carries Replaces for an attended transfer', async () => {
      const { net, uac, uas } = await call();
      let replaces: unknown;
      uas.on('refer', (r) => {
        replaces = r.replaces;
        r.accept();
      });
      uac.refer('sip:carol@10.0.0.4', { replaces: uac });
      await net.settle();
      expect(replaces).toEqual({ callId: uac.dialog.callId, toTag: uac.dialog.remoteTag, fromTag: uac.dialog.localTag, earlyOnly: false });
    });
  });

  describe('transfer (design brief, flow 8)', () => {
    it('attended: the transferee invites the Refer-To URI; Replaces travels as a header and names the target\'s dialog', async () => {
      const { net, alice, bob, uac, uas } = await call();
      const carol = net.core('carol', '10.0.0.4');
      // Bob (the application server) first has his own session with Carol.
      let carolWithBob: Session | undefined;
      carol.onInvite = (invite) => (carolWithBob = invite.accept());
      const consult = bob.invite('sip:carol@10.0.0.4');
      await net.settle();
      const bobWithCarol = await consult.session;
      let requestUri = '';
      let replaced: Session | undefined;
      carol.onInvite = (invite) => {
        requestUri = invite.request.rawUri;
        replaced = invite.replacedSession;
        invite.accept();
      };
      // Alice follows the REFER that Bob sends her.
      uac.on('refer', (refer) => {
        const notifier = refer.accept();
        const next = alice.invite(refer.referTo.uri);
        next.on('accepted', () => void notifier.notify(200));
        next.on('rejected', (r) => void notifier.notify(r.status));
      });
      const refer = uas.refer('sip:carol@10.0.0.4', { replaces: bobWithCarol });
      await net.settle();
      expect(requestUri).toBe('sip:carol@10.0.0.4');
      expect(replaced).toBe(carolWithBob);
      expect((await refer.completion)?.status).toBe(200);
    });
  });

  describe('routing through a strict router (§12.2.1.1)', () => {
    it('puts the router in the Request-URI and the remote target last in Route, both ways', async () => {
      const net = new InMemoryNetwork();
      const alice = net.core('alice', '10.0.0.1');
      const bob = net.core('bob', '10.0.0.2');
      new ForkingProxy(net, 'proxy', '10.0.0.9', ['sip:bob@10.0.0.2'], true, true);
      let uas: Session | undefined;
      bob.onInvite = (invite) => (uas = invite.accept());
      const out = alice.invite('sip:fork@10.0.0.9');
      await net.settle();
      const uac = await out.session;
      expect(uac.dialog.routeSet.map((r) => r.toString())).toEqual(['<sip:10.0.0.9>']);
      const ack = net.find('alice', 'proxy', 'ACK')[0] as SipRequest;
      expect(ack.rawUri).toBe('sip:10.0.0.9');
      expect(ack.headerList('route')).toEqual(['<sip:bob@10.0.0.2:5060>']);
      expect(uas?.awaitingAck).toBe(false);
      const bye = await settled(net, (uas as Session).bye());
      expect(bye.status).toBe(200);
      const sent = net.find('bob', 'proxy', 'BYE')[0] as SipRequest;
      expect(sent.rawUri).toBe('sip:10.0.0.9');
      expect(sent.headerList('route')).toEqual(['<sip:alice@10.0.0.1:5060>']);
      expect(uac.termination).toMatchObject({ by: 'remote', reason: 'bye' });
    });
  });

  describe('in-dialog request checks (§12.2.2)', () => {
    it('answers 500 to a request with a CSeq lower than the last one', async () => {
      const { net, bob, uas } = await call();
      await settled(net, uas.info({ body: 'first', contentType: 'text/plain' }));
      // A stale request: CSeq one below the INFO just sent.
      const stale = uas.dialog.createRequest('INFO', { cseq: (uas.dialog.localSeq as number) - 1 });
      const responses: number[] = [];
      const user: ClientTransactionUser = { onResponse: (r) => void responses.push(r.status) };
      bob.transactions.sendRequest(stale, bob.transport.flowTo({ protocol: 'UDP', host: '10.0.0.1', port: 5060 }), user);
      await net.settle();
      expect(responses).toEqual([500]);
    });

    it('answers 481 to a request for a dialog that does not exist', async () => {
      const { net, uac, uas } = await call();
      net.drop = (d) => d.message.isRequest && d.message.method === 'BYE';
      void uas.bye().catch(() => undefined); // Bob forgets the dialog; his BYE is lost.
      const ended: SessionTermination[] = [];
      uac.on('terminated', (t) => ended.push(t));
      const r = await settled(net, uac.info({ body: 'x', contentType: 'text/plain' }));
      expect(r.status).toBe(481);
      // §12.2.1.2: a 481 ends the dialog.
      expect(ended).toMatchObject([{ by: 'remote', reason: 'dialog-gone' }]);
    });

    it('answers 501 with Allow to an unknown method, 405 to a known unhandled one, 200 to OPTIONS', async () => {
      const { net, uac } = await call();
      const foo = await settled(net, uac.sendRequest('FOO'));
      expect(foo.status).toBe(501);
      expect(foo.header('allow')).toContain('INVITE');
      expect((await settled(net, uac.sendRequest('MESSAGE', { body: 'hi', contentType: 'text/plain' }))).status).toBe(405);
      expect((await settled(net, uac.sendRequest('OPTIONS'))).status).toBe(200);
    });

    it('answers 500 when a listener throws without answering', async () => {
      const { net, uac, uas } = await call();
      uas.on('request', () => {
        throw new Error('bug');
      });
      expect((await settled(net, uac.sendRequest('MESSAGE', { body: 'hi', contentType: 'text/plain' }))).status).toBe(500);
    });

    it('a request can be answered later, after the listener returned', async () => {
      const { net, uac, uas } = await call();
      let held: IncomingRequest | undefined;
      uas.on('request', (r) => (held = r));
      const pending = uac.sendRequest('MESSAGE', { body: 'hi', contentType: 'text/plain' });
      await net.settle();
      held?.accept({ body: 'later', contentType: 'text/plain' });
      const r = await settled(net, pending);
      expect(r.bodyText).toBe('later');
      expect(() => held?.accept()).toThrow(expect.objectContaining({ code: 'SIP_ERR_INVALID_STATE' }));
    });
  });

  describe('bodies', () => {
    it('carries multipart/mixed both ways, byte for byte', async () => {
      const net = new InMemoryNetwork();
      const alice = net.core('alice', '10.0.0.1');
      const bob = net.core('bob', '10.0.0.2');
      const sdp = 'v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\n';
      const binary = Uint8Array.of(0, 1, 2, 255, 13, 10, 45, 45);
      let parts: Array<{ type: string; body: Uint8Array }> = [];
      bob.onInvite = (invite) => {
        const req = invite.request;
        parts = parseMultipart(req.header('content-type') as string, req.body).map((p) => ({ type: p.contentType, body: p.body }));
        invite.accept({ multipart: [{ contentType: 'application/vnd.siprelay.service+json', body: '{"url":"u"}' }, { contentType: 'application/octet-stream', body: binary }] });
      };
      const out = alice.invite('sip:bob@10.0.0.2', {
        multipart: [
          { contentType: 'application/sdp', body: sdp },
          { contentType: 'application/vnd.siprelay.request+json', body: '{"service":"wine"}' },
        ],
      });
      await net.settle();
      expect(parts.map((p) => p.type)).toEqual(['application/sdp', 'application/vnd.siprelay.request+json']);
      expect(new TextDecoder().decode(parts[0].body)).toBe(sdp);
      const answer = (await out.session).inviteResponse as SipResponse;
      expect(answer.contentType).toBe('multipart/mixed');
      const back = parseMultipart(answer.header('content-type') as string, answer.body);
      expect(back[1].body).toEqual(binary);
    });
  });
});
