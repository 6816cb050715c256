/**
 * SIPp as UAC against our user-agent core as UAS, over real UDP and TCP
 * on loopback (issue 2, item 8).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SipRequest } from '../../sip/message/sip-request.js';
import type { IncomingInvite } from '../../sip/ua/incoming-invite.js';
import type { Session, SessionTermination } from '../../sip/ua/session.js';
import { coreOnLoopback, type CoreOnLoopback } from './core-fixture.js';
import { SIPP, SIPP_SKIP_REASON, SippProcess, type SippProtocol, describeRun, startLines } from './sipp.js';

const requireSipp = process.env.CI !== undefined;
if (!SIPP && requireSipp) throw new Error(`SIPp tests cannot run in CI: ${SIPP_SKIP_REASON}`);
if (!SIPP) console.warn(`SIPp peer tests skipped: ${SIPP_SKIP_REASON}`);
const suite = SIPP ? describe : describe.skip;
const title = 'SIPp as UAC against our UAS' + (SIPP ? '' : ` — SKIPPED: ${SIPP_SKIP_REASON}`);

let fixture: CoreOnLoopback | undefined;
let sipp: SippProcess | undefined;
afterEach(async () => {
  sipp?.kill();
  sipp = undefined;
  await fixture?.close();
  fixture = undefined;
});

async function startSipp(scenario: string, protocol: SippProtocol, noRetransmission = false): Promise<SippProcess> {
  sipp = await SippProcess.start({
    scenario,
    protocol,
    remote: { host: '127.0.0.1', port: (fixture as CoreOnLoopback).port(protocol) },
    service: 'wine',
    port: 0,
    noRetransmission,
  });
  return sipp;
}

suite(title, () => {
  describe.each(['UDP', 'TCP'] as const)('over %s', (protocol) => {
    it('INVITE with a JSON body, 180, 200, ACK, BYE, 200', async () => {
      fixture = await coreOnLoopback();
      const observed: string[] = [];
      let request: SipRequest | undefined;
      const ended = new Promise<SessionTermination>((resolve) => {
        fixture!.core.onInvite = (invite) => {
          request = invite.request;
          invite.progress(180);
          const session = invite.accept({ body: '{"url":"https://wine.example/"}', contentType: 'application/vnd.siprelay.service+json' });
          session.on('ack', () => observed.push('ack'));
          session.on('terminated', resolve);
        };
      });
      const run = await (await startSipp('uac-basic', protocol)).done;
      expect(run.code, describeRun(run)).toBe(0);
      expect(run.stats['SuccessfulCall(C)']).toBe('1');
      expect(run.stats['FailedCall(C)']).toBe('0');
      expect(startLines(run, 'received')).toEqual(['SIP/2.0 180 Ringing', 'SIP/2.0 200 OK', 'SIP/2.0 200 OK']);
      expect(run.messages.find((m) => m.startLine === 'SIP/2.0 200 OK')?.text).toContain('{"url":"https://wine.example/"}');
      expect(JSON.parse(request?.bodyText ?? '')).toEqual({ service: 'wine' });
      expect(request?.header('content-type')).toBe('application/vnd.siprelay.request+json');
      expect(await ended).toMatchObject({ by: 'remote', reason: 'bye' });
      expect(observed).toEqual(['ack']);
      expect(fixture.core.sessionCount).toBe(0);
    });

    it('INVITE cancelled before the answer: 200 to the CANCEL, 487 to the INVITE', async () => {
      fixture = await coreOnLoopback();
      let invite: IncomingInvite | undefined;
      const cancelled = new Promise<string>((resolve) => {
        fixture!.core.onInvite = (i) => {
          invite = i;
          i.on('cancelled', ({ request }) => resolve(request.method));
          i.progress(180); // and no answer: the application is still thinking
        };
      });
      const run = await (await startSipp('uac-cancel', protocol)).done;
      expect(run.code, describeRun(run)).toBe(0);
      expect(startLines(run, 'sent').map((l) => l.split(' ')[0])).toEqual(['INVITE', 'CANCEL', 'ACK']);
      expect(startLines(run, 'received')).toContain('SIP/2.0 487 Request Terminated');
      const okToCancel = run.messages.find((m) => m.direction === 'received' && m.startLine === 'SIP/2.0 200 OK');
      expect(okToCancel?.text).toMatch(/CSeq:\s*1 CANCEL/);
      expect(await cancelled).toBe('CANCEL');
      expect(invite?.state).toBe('cancelled');
    });

    it('no ACK for the first 200: our UAS retransmits the 2xx until the ACK (§13.3.1.4)', async () => {
      fixture = await coreOnLoopback();
      let session: Session | undefined;
      const acks: SipRequest[] = [];
      const ended = new Promise<SessionTermination>((resolve) => {
        fixture!.core.onInvite = (invite) => {
          session = invite.accept();
          session.on('ack', (ack) => acks.push(ack));
          session.on('terminated', resolve);
        };
      });
      const run = await (await startSipp('uac-late-ack', protocol, true)).done;
      expect(run.code, describeRun(run)).toBe(0);
      const oks = run.messages.filter((m) => m.direction === 'received' && m.startLine === 'SIP/2.0 200 OK' && /CSeq:\s*1 INVITE/.test(m.text));
      expect(oks.length).toBeGreaterThanOrEqual(2);
      // T1 = 500 ms between the first 200 and its retransmission.
      expect(oks[1].at - oks[0].at).toBeGreaterThanOrEqual(400);
      expect(acks).toHaveLength(1);
      expect((await ended).reason).toBe('bye');
      expect(session?.termination?.by).toBe('remote');
    });
  });
});
