import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../../sip/message/parser.js';
import type { SipRequest } from '../../../sip/message/sip-request.js';
import type { SipResponse } from '../../../sip/message/sip-response.js';
import { serializeMessage } from '../../../sip/message/serializer.js';
import type { IncomingInvite } from '../../../sip/ua/incoming-invite.js';
import type { Session, SessionTermination } from '../../../sip/ua/session.js';
import { InMemoryNetwork } from './in-memory-network.js';

function setup() {
  const net = new InMemoryNetwork();
  const alice = net.core('alice', '10.0.0.1');
  const bob = net.core('bob', '10.0.0.2');
  return { net, alice, bob };
}

/** Sends raw request text from a bare node (no core), as a simple peer would. */
function rawPeer(net: InMemoryNetwork) {
  const node = net.node('raw', '10.0.0.3');
  const received: SipResponse[] = [];
  node.listen({ onMessage: ({ message }) => void (message.isRequest ? undefined : received.push(message)) });
  return {
    received,
    send(text: string): void {
      const req = parseMessage(text.replace(/\n/g, '\r\n')) as SipRequest;
      node.flowTo({ protocol: 'UDP', host: '10.0.0.2', port: 5060 }).send(serializeMessage(req));
    },
  };
}

function inviteText(opts: { branch?: string; contact?: boolean; extra?: string[] } = {}): string {
  return [
    'INVITE sip:bob@10.0.0.2 SIP/2.0',
    `Via: SIP/2.0/UDP 10.0.0.3:5060;branch=${opts.branch ?? 'z9hG4bK-one'}`,
    'Max-Forwards: 70',
    'To: <sip:bob@10.0.0.2>',
    'From: <sip:raw@10.0.0.3>;tag=r1',
    'Call-ID: raw-call-1',
    'CSeq: 1 INVITE',
    ...(opts.contact === false ? [] : ['Contact: <sip:raw@10.0.0.3>']),
    ...(opts.extra ?? []),
    'Content-Length: 0',
    '',
    '',
  ].join('\n');
}

describe('IncomingInvite (UAS)', () => {
  describe('accept', () => {
    it('answers 200 with our tag and Contact, copies Record-Route, and the ACK reaches the session', async () => {
      const { net, alice, bob } = setup();
      let session: Session | undefined;
      const acks: SipRequest[] = [];
      bob.onInvite = (invite) => {
        session = invite.accept({ body: 'hello', contentType: 'text/plain' });
        session.on('ack', (ack) => acks.push(ack));
      };
      alice.invite('sip:bob@10.0.0.2');
      await net.settle();
      const ok = net.find('bob', 'alice', '200 INVITE')[0] as SipResponse;
      expect(ok.to.tag).toBe(session?.dialog.localTag);
      expect(ok.header('contact')).toBe('<sip:bob@10.0.0.2:5060>');
      expect(ok.header('allow')).toContain('INVITE');
      expect(ok.bodyText).toBe('hello');
      expect(acks).toHaveLength(1);
      expect(session?.awaitingAck).toBe(false);
    });

    it('retransmits the 2xx at T1, 2T1, 4T1 … capped at T2 until the ACK, and then stops (§13.3.1.4)', async () => {
      const { net, alice, bob } = setup();
      bob.onInvite = (invite) => void invite.accept();
      let ackDropped = 0;
      net.drop = (d) => d.message.isRequest && d.message.method === 'ACK' && ackDropped++ < 5;
      const times: number[] = [];
      const { clock } = net;
      const origin = clock.now();
      alice.invite('sip:bob@10.0.0.2');
      await net.settle();
      const watch = (): void => {
        for (const d of net.deliveries.splice(0)) if (!d.message.isRequest && d.message.status === 200) times.push(clock.now() - origin);
      };
      watch();
      for (let t = 0; t < 20_000; t += 50) {
        await net.advance(50);
        watch();
      }
      // Five ACKs lost: 200 at 0, 0.5, 1.5, 3.5, 7.5, then the sixth ACK arrives after the 200 at 11.5 s.
      expect(times).toEqual([0, 500, 1500, 3500, 7500, 11500]);
    });

    it('ends the session with BYE when no ACK comes within 64*T1', async () => {
      const { net, alice, bob } = setup();
      let uas: Session | undefined;
      bob.onInvite = (invite) => (uas = invite.accept());
      net.drop = (d) => d.message.isRequest && d.message.method === 'ACK';
      const call = alice.invite('sip:bob@10.0.0.2');
      await net.settle();
      const uac = await call.session;
      const endings: SessionTermination[] = [];
      uac.on('terminated', (t) => endings.push(t));
      await net.advance(31_900, 500);
      expect(uas?.state).toBe('confirmed');
      expect(net.lines('bob', 'alice').filter((l) => l === '200 INVITE')).toHaveLength(11); // 0, .5, 1.5, 3.5, 7.5, then every T2: 11.5 … 31.5 s
      await net.advance(200);
      expect(uas?.termination).toMatchObject({ by: 'local', reason: 'ack-timeout' });
      expect(net.lines('bob', 'alice')).toContain('BYE');
      expect(endings).toMatchObject([{ by: 'remote', reason: 'bye' }]);
    });

    it('sends a BYE asked for before the ACK only once the ACK has come (§15)', async () => {
      const { net, alice, bob } = setup();
      let bye: Promise<SipResponse> | undefined;
      bob.onInvite = (invite) => {
        const s = invite.accept();
        bye = s.bye();
      };
      alice.invite('sip:bob@10.0.0.2');
      await net.settle();
      expect(net.lines()).toEqual(['INVITE', '200 INVITE', 'ACK', 'BYE', '200 BYE']);
      expect((await bye)?.status).toBe(200);
    });

    it('sends 100 Trying itself when the application takes more than 200 ms', async () => {
      const { net, alice, bob } = setup();
      let invite: IncomingInvite | undefined;
      bob.onInvite = (i) => (invite = i);
      alice.invite('sip:bob@10.0.0.2');
      await net.advance(250);
      expect(net.lines('bob', 'alice')).toEqual(['100 INVITE']);
      invite?.accept();
      await net.settle();
      expect(net.lines('bob', 'alice')).toEqual(['100 INVITE', '200 INVITE']);
    });
  });

  describe('cancel', () => {
    it('a BYE from the caller on the early dialog gets 200 and the INVITE 487 (§15.1.2)', async () => {
      const { net, alice, bob } = setup();
      const events: string[] = [];
      bob.onInvite = (invite) => {
        invite.on('cancelled', ({ request }) => events.push('cancelled by ' + request.method));
        invite.progress(180);
      };
      const call = alice.invite('sip:bob@10.0.0.2');
      let early: Session | undefined;
      call.on('early', (s) => (early = s));
      await net.settle();
      const bye = early?.bye();
      await net.settle();
      expect((await bye)?.status).toBe(200);
      expect(events).toEqual(['cancelled by BYE']);
      expect(net.lines('bob', 'alice')).toEqual(['180 INVITE', '487 INVITE', '200 BYE']);
      expect(call.state).toBe('rejected');
    });

    it('answers 481 to a CANCEL that matches no INVITE (§9.2)', async () => {
      const { net, bob } = setup();
      bob.onInvite = () => {};
      const peer = rawPeer(net);
      peer.send(inviteText().replace('INVITE sip', 'CANCEL sip').replace('1 INVITE', '1 CANCEL').replace('branch=z9hG4bK-one', 'branch=z9hG4bK-other'));
      await net.settle();
      expect(peer.received.map((r) => r.status)).toEqual([481]);
    });
  });

  describe('refusals by the core', () => {
    it('answers 405 with Allow when nobody handles INVITE', async () => {
      const { net, alice } = setup();
      const call = alice.invite('sip:bob@10.0.0.2');
      await net.settle();
      const r = await call.finalResponse;
      expect(r.status).toBe(405);
      expect(r.header('allow')).toBe('INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY');
    });

    it('answers 400 to an INVITE without Contact (§8.1.1.8)', async () => {
      const { net, bob } = setup();
      bob.onInvite = () => {
        throw new Error('must not be called');
      };
      const peer = rawPeer(net);
      peer.send(inviteText({ contact: false }));
      await net.settle();
      expect(peer.received.map((r) => r.status)).toEqual([400]);
    });

    it('answers 482 to the same INVITE arriving by a second path (§8.2.2.2)', async () => {
      const { net, bob } = setup();
      const invites: IncomingInvite[] = [];
      bob.onInvite = (i) => invites.push(i);
      const peer = rawPeer(net);
      peer.send(inviteText({ branch: 'z9hG4bK-path1' }));
      peer.send(inviteText({ branch: 'z9hG4bK-path2' }));
      await net.settle();
      expect(invites).toHaveLength(1);
      expect(peer.received.map((r) => r.status)).toEqual([482]);
    });

    it('answers 420 with Unsupported to Require: 100rel (RFC 3262 is not implemented)', async () => {
      const { net, bob } = setup();
      bob.onInvite = () => {
        throw new Error('must not be called');
      };
      const peer = rawPeer(net);
      peer.send(inviteText({ extra: ['Require: 100rel'] }));
      await net.settle();
      expect(peer.received.map((r) => r.status)).toEqual([420]);
      expect(peer.received[0].header('unsupported')).toBe('100rel');
    });

    it('answers 500 when onInvite throws', async () => {
      const { net, alice, bob } = setup();
      bob.onInvite = () => {
        throw new Error('bug');
      };
      const call = alice.invite('sip:bob@10.0.0.2');
      await net.settle();
      expect((await call.finalResponse).status).toBe(500);
    });
  });

  describe('Replaces (RFC 3891)', () => {
    it('names the session it replaces, and answers 481 when there is none', async () => {
      const { net, alice, bob } = setup();
      const carol = net.core('carol', '10.0.0.4');
      let first: Session | undefined;
      bob.onInvite = (i) => (first = i.accept());
      const call = alice.invite('sip:bob@10.0.0.2');
      await net.settle();
      await call.session;
      // Carol takes over Alice's call with Bob: the dialog as Bob knows it.
      let replaced: Session | undefined;
      bob.onInvite = (i) => {
        replaced = i.replacedSession;
        i.accept();
      };
      const d = (first as Session).dialog;
      carol.invite('sip:bob@10.0.0.2', { replaces: { callId: d.callId, toTag: d.localTag, fromTag: d.remoteTag, earlyOnly: false } });
      await net.settle();
      expect(replaced).toBe(first);
      const bad = carol.invite('sip:bob@10.0.0.2', { replaces: { callId: 'nope', toTag: 'x', fromTag: 'y', earlyOnly: false } });
      await net.settle();
      expect((await bad.finalResponse).status).toBe(481);
    });
  });
});
