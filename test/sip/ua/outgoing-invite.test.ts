import { describe, expect, it } from 'vitest';
import type { SipRequest } from '../../../sip/message/sip-request.js';
import type { SipResponse } from '../../../sip/message/sip-response.js';
import type { IncomingInvite } from '../../../sip/ua/incoming-invite.js';
import type { Session } from '../../../sip/ua/session.js';
import { UserAgentError } from '../../../sip/ua/user-agent-error.js';
import { DigestFixture } from './digest-fixture.js';
import { ForkingProxy } from './forking-proxy.js';
import { InMemoryNetwork } from './in-memory-network.js';

const JSON_TYPE = 'application/vnd.siprelay.request+json';

function setup() {
  const net = new InMemoryNetwork();
  const alice = net.core('alice', '10.0.0.1');
  const bob = net.core('bob', '10.0.0.2');
  return { net, alice, bob };
}

describe('OutgoingInvite (UAC)', () => {
  describe('a call answered 200', () => {
    it('reports 180, creates the session on 200, ACKs it, and the session ends with BYE', async () => {
      const { net, alice, bob } = setup();
      let bobSession: Session | undefined;
      bob.onInvite = (invite) => {
        invite.progress(180);
        bobSession = invite.accept({ body: '{"url":"https://wine.example/"}', contentType: 'application/vnd.siprelay.service+json' });
      };
      const call = alice.invite('sip:bob@10.0.0.2', { body: '{"service":"wine"}', contentType: JSON_TYPE });
      const seen: string[] = [];
      call.on('progress', (r) => seen.push('progress ' + r.status));
      call.on('early', (s) => seen.push('early ' + s.state));
      call.on('accepted', (s) => seen.push('accepted ' + s.state));
      await net.settle();
      expect(seen).toEqual(['progress 180', 'early early', 'accepted confirmed']);
      expect(net.lines('alice', 'bob')).toEqual(['INVITE', 'ACK']);
      expect(net.lines('bob', 'alice')).toEqual(['180 INVITE', '200 INVITE']);

      const session = await call.session;
      expect(call.state).toBe('accepted');
      expect(session.inviteResponse?.bodyText).toBe('{"url":"https://wine.example/"}');
      expect(bobSession?.inviteRequest.bodyText).toBe('{"service":"wine"}');
      expect(bobSession?.inviteRequest.header('content-type')).toBe(JSON_TYPE);

      const ended: string[] = [];
      session.on('terminated', ({ by, reason }) => ended.push(`alice ${by} ${reason}`));
      bobSession?.on('terminated', ({ by, reason }) => ended.push(`bob ${by} ${reason}`));
      const bye = session.bye();
      await net.settle();
      expect((await bye).status).toBe(200);
      expect(ended).toEqual(['alice local bye', 'bob remote bye']);
      expect(alice.sessionCount).toBe(0);
      expect(bob.sessionCount).toBe(0);
    });

    it('keeps the early session of a 180 with tag and confirms the same object on 200', async () => {
      const { net, alice, bob } = setup();
      let pending: IncomingInvite | undefined;
      bob.onInvite = (invite) => {
        pending = invite;
        invite.progress(183);
      };
      const call = alice.invite('sip:bob@10.0.0.2');
      let early: Session | undefined;
      call.on('early', (s) => (early = s));
      await net.settle();
      expect(early?.state).toBe('early');
      pending?.accept();
      await net.settle();
      expect(await call.session).toBe(early);
      expect(early?.state).toBe('confirmed');
    });

    it('answers a retransmitted 2xx with the ACK again (§13.2.2.4)', async () => {
      const { net, alice, bob } = setup();
      bob.onInvite = (invite) => void invite.accept();
      // The first ACK is lost, so bob retransmits its 200.
      let dropped = 0;
      net.drop = (d) => d.from === 'alice' && d.message.isRequest && d.message.method === 'ACK' && dropped++ === 0;
      const call = alice.invite('sip:bob@10.0.0.2');
      await net.settle();
      expect(net.lines('alice', 'bob')).toEqual(['INVITE']);
      await net.advance(500);
      expect(net.lines('bob', 'alice')).toEqual(['200 INVITE', '200 INVITE']);
      expect(net.lines('alice', 'bob')).toEqual(['INVITE', 'ACK']);
      const acks = [...net.dropped, ...net.deliveries].filter((d) => d.from === 'alice' && (d.message as SipRequest).method === 'ACK');
      expect(acks.map((d) => (d.message as SipRequest).topVia.branch)).toHaveLength(2);
      expect((await call.session).state).toBe('confirmed');
    });
  });

  describe('forked answers (design brief, flow 3)', () => {
    it('keeps one session per 2xx To tag, ACKs each, and each ends with its own BYE', async () => {
      const net = new InMemoryNetwork();
      const alice = net.core('alice', '10.0.0.1');
      const b1 = net.core('b1', '10.0.0.21');
      const b2 = net.core('b2', '10.0.0.22');
      new ForkingProxy(net, 'proxy', '10.0.0.9', ['sip:shop@10.0.0.21', 'sip:shop@10.0.0.22'], true);
      const uas: Record<string, Session> = {};
      b1.onInvite = (invite) => (uas.b1 = invite.accept({ body: '{"url":"https://a.example/"}', contentType: 'application/json' }));
      b2.onInvite = (invite) => {
        invite.progress(180);
        // Bookstore B answers a little later.
        alice.clock.setTimeout(() => (uas.b2 = invite.accept({ body: '{"url":"https://b.example/"}', contentType: 'application/json' })), 300);
      };
      const call = alice.invite('sip:fork@10.0.0.9', { headers: [['Request-Disposition', 'no-cancel']] });
      const accepted: Session[] = [];
      call.on('accepted', (s) => accepted.push(s));
      await net.settle();
      await net.advance(400);
      expect(accepted).toHaveLength(2);
      expect(accepted[0]).not.toBe(accepted[1]);
      expect(accepted[0].dialog.remoteTag).not.toBe(accepted[1].dialog.remoteTag);
      expect(accepted.map((s) => s.inviteResponse?.bodyText)).toEqual(['{"url":"https://a.example/"}', '{"url":"https://b.example/"}']);
      expect(call.sessions).toEqual(accepted);
      // Each 2xx ACKed once, through the record-routing proxy, reaching its own UAS.
      expect(net.find('proxy', 'b1', 'ACK')).toHaveLength(1);
      expect(net.find('proxy', 'b2', 'ACK')).toHaveLength(1);
      expect(net.find('alice', 'proxy', 'ACK')[0].header('route')).toBe('<sip:10.0.0.9;lr>');
      expect(uas.b1.awaitingAck).toBe(false);
      expect(uas.b2.awaitingAck).toBe(false);

      // The INVITE transaction ends 64*T1 after the first 2xx; both sessions stay.
      let completed = false;
      call.on('completed', () => (completed = true));
      await net.advance(32_000, 1000);
      expect(completed).toBe(true);
      expect(accepted.map((s) => s.state)).toEqual(['confirmed', 'confirmed']);
      expect(alice.sessionCount).toBe(2);

      net.clear();
      await Promise.all([accepted[0].bye(), net.settle()]);
      expect(net.find('proxy', 'b1', 'BYE')).toHaveLength(1);
      expect(net.find('proxy', 'b2', 'BYE')).toHaveLength(0);
      expect(uas.b1.state).toBe('terminated');
      expect(uas.b2.state).toBe('confirmed');
      await Promise.all([accepted[1].bye(), net.settle()]);
      expect(net.find('proxy', 'b2', 'BYE')).toHaveLength(1);
      expect(uas.b2.state).toBe('terminated');
      expect(alice.sessionCount).toBe(0);
    });
  });

  describe('rejected', () => {
    it('reports 486 as rejected; the session promise fails with SIP_ERR_REJECTED and the response', async () => {
      const { net, alice, bob } = setup();
      bob.onInvite = (invite) => invite.reject(486);
      const call = alice.invite('sip:bob@10.0.0.2');
      const rejected: SipResponse[] = [];
      call.on('rejected', (r) => rejected.push(r));
      const session = call.session.then(
        () => 'resolved',
        (e: unknown) => e,
      );
      await net.settle();
      expect(rejected.map((r) => r.status)).toEqual([486]);
      expect(call.state).toBe('rejected');
      expect((await call.finalResponse).status).toBe(486);
      const error = (await session) as UserAgentError;
      expect(error).toBeInstanceOf(UserAgentError);
      expect(error.code).toBe('SIP_ERR_REJECTED');
      expect(error.response?.status).toBe(486);
      // The transaction ACKed the 486 hop by hop.
      expect(net.lines('alice', 'bob')).toEqual(['INVITE', 'ACK']);
    });

    it('ends early dialogs when the final answer is not 2xx (§12.3)', async () => {
      const { net, alice, bob } = setup();
      let invite: IncomingInvite | undefined;
      bob.onInvite = (i) => {
        invite = i;
        i.progress(180);
      };
      const call = alice.invite('sip:bob@10.0.0.2');
      let early: Session | undefined;
      call.on('early', (s) => (early = s));
      await net.settle();
      invite?.reject(603);
      await net.settle();
      expect(early?.state).toBe('terminated');
      expect(early?.termination).toMatchObject({ by: 'remote', reason: 'rejected' });
    });
  });

  describe('cancel (§9.1)', () => {
    it('sends CANCEL after the 180; the UAS answers 200 and 487; the caller sees 487', async () => {
      const { net, alice, bob } = setup();
      let incoming: IncomingInvite | undefined;
      const cancelled: string[] = [];
      bob.onInvite = (invite) => {
        incoming = invite;
        invite.on('cancelled', ({ request }) => cancelled.push(request.method));
        invite.progress(180);
      };
      const call = alice.invite('sip:bob@10.0.0.2');
      await net.settle();
      expect(call.cancel({ reason: 'SIP;cause=487;text="hung up"' })).toBe(true);
      const rejected: number[] = [];
      call.on('rejected', (r) => rejected.push(r.status));
      await net.settle();
      expect(net.lines('alice', 'bob')).toEqual(['INVITE', 'CANCEL', 'ACK']);
      expect(net.lines('bob', 'alice')).toEqual(['180 INVITE', '200 CANCEL', '487 INVITE']);
      expect(net.find('alice', 'bob', 'CANCEL')[0].header('reason')).toBe('SIP;cause=487;text="hung up"');
      // §9.2: the 200 to the CANCEL carries the To tag of the INVITE's responses.
      expect((net.find('bob', 'alice', '200 CANCEL')[0] as SipResponse).to.tag).toBe(incoming?.localTag);
      expect((net.find('bob', 'alice', '487 INVITE')[0] as SipResponse).to.tag).toBe(incoming?.localTag);
      expect(rejected).toEqual([487]);
      expect(cancelled).toEqual(['CANCEL']);
      expect(incoming?.state).toBe('cancelled');
      expect(() => incoming?.accept()).toThrow(expect.objectContaining({ code: 'SIP_ERR_CANCELLED' }));
      expect(call.cancel()).toBe(false);
    });

    it('waits for a provisional response before sending the CANCEL', async () => {
      const { net, alice, bob } = setup();
      // Bob does not answer; his transaction sends 100 Trying after 200 ms.
      bob.onInvite = () => {};
      const call = alice.invite('sip:bob@10.0.0.2');
      call.cancel();
      await net.settle();
      expect(net.lines('alice', 'bob')).toEqual(['INVITE']);
      await net.advance(250);
      expect(net.lines('bob', 'alice').slice(0, 3)).toEqual(['100 INVITE', '200 CANCEL', '487 INVITE']);
      expect(call.state).toBe('rejected');
    });

    it('hangs up a 2xx that crosses the CANCEL with ACK and BYE, and reports no session', async () => {
      const { net, alice, bob } = setup();
      let bobSession: Session | undefined;
      bob.onInvite = (invite) => {
        invite.progress(180);
        alice.clock.setTimeout(() => (bobSession = invite.accept()), 100);
      };
      const call = alice.invite('sip:bob@10.0.0.2');
      const accepted: Session[] = [];
      call.on('accepted', (s) => accepted.push(s));
      await net.settle();
      // The CANCEL and the 200 cross: bob accepts before the CANCEL arrives.
      net.drop = (d) => d.message.isRequest && d.message.method === 'CANCEL' && d.to === 'bob' && net.clock.now() < 100;
      call.cancel();
      await net.settle();
      await net.advance(200);
      expect(accepted).toEqual([]);
      expect(net.lines('alice', 'bob')).toContain('ACK');
      expect(net.lines('alice', 'bob')).toContain('BYE');
      expect(bobSession?.termination).toMatchObject({ by: 'remote', reason: 'bye' });
      await expect(call.session).rejects.toMatchObject({ code: 'SIP_ERR_CANCELLED' });
    });
  });

  describe('digest authentication (RFC 3261 §22.2)', () => {
    it('answers a 401 once with credentials, same Call-ID and From tag, next CSeq', async () => {
      const net = new InMemoryNetwork();
      const alice = net.core('alice', '10.0.0.1', { aor: 'sip:alice@portal.test', credentials: { username: 'alice', password: 'alice-secret' } });
      const relay = net.core('relay', '10.0.0.5');
      const digest = new DigestFixture(net.clock);
      let user: string | undefined;
      relay.onInvite = async (invite) => {
        const verdict = await digest.check(invite.request);
        if (!verdict.ok) return invite.reject(401, { headers: verdict.headers });
        user = verdict.username;
        invite.accept();
      };
      const call = alice.invite('sip:wine@10.0.0.5');
      await net.settle();
      const invites = net.find('alice', 'relay', 'INVITE') as SipRequest[];
      expect(invites).toHaveLength(2);
      expect(invites[1].callId).toBe(invites[0].callId);
      expect(invites[1].from.tag).toBe(invites[0].from.tag);
      expect(invites[1].cseq.seq).toBe(invites[0].cseq.seq + 1);
      expect(invites[0].hasHeader('authorization')).toBe(false);
      expect(invites[1].header('authorization')).toMatch(/^Digest .*username="alice"/);
      expect(user).toBe('alice');
      const session = await call.session;
      expect(session.state).toBe('confirmed');
      // The ACK for the 2xx carries the INVITE's credentials and CSeq.
      const ack = net.find('alice', 'relay', 'ACK').at(-1) as SipRequest;
      expect(ack.header('authorization')).toBe(invites[1].header('authorization'));
      expect(ack.cseq.seq).toBe(invites[1].cseq.seq);
    });

    it('gives up when the retry is refused too (wrong password)', async () => {
      const net = new InMemoryNetwork();
      const alice = net.core('alice', '10.0.0.1', { aor: 'sip:alice@portal.test', credentials: { username: 'alice', password: 'wrong' } });
      const relay = net.core('relay', '10.0.0.5');
      const digest = new DigestFixture(net.clock);
      relay.onInvite = async (invite) => {
        const verdict = await digest.check(invite.request);
        if (!verdict.ok) invite.reject(401, { headers: verdict.headers });
        else invite.accept();
      };
      const call = alice.invite('sip:wine@10.0.0.5');
      await net.settle();
      expect(net.find('alice', 'relay', 'INVITE')).toHaveLength(2);
      expect((await call.finalResponse).status).toBe(401);
      expect(call.state).toBe('rejected');
    });
  });

  describe('no answer', () => {
    it('retransmits over UDP (timer A) and fails with SIP_ERR_REQUEST_TIMEOUT after 64*T1 (timer B)', async () => {
      const { net, alice } = setup();
      const call = alice.invite('sip:nobody@10.0.0.77');
      const failures: string[] = [];
      call.on('failed', (e) => failures.push(e.code));
      await net.advance(32_000, 250);
      expect(failures).toEqual(['SIP_ERR_REQUEST_TIMEOUT']);
      expect(net.dropped.filter((d) => d.from === 'alice').length).toBe(7); // 0, .5, 1.5, 3.5, 7.5, 15.5, 31.5 s
      await expect(call.finalResponse).rejects.toMatchObject({ code: 'SIP_ERR_REQUEST_TIMEOUT', status: 408 });
    });
  });
});
